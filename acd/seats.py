"""Seats as configured (who, which role, which skills), stored in the database and mirrored to
the ACD in Redis, which keeps the live part (state, registration, idle time)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping

from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, select

from acd.model import Agent, AgentState, Role
from acd.store import AcdStore

_SEAT = re.compile(r"^[0-9]{3,8}$")
_SKILL = re.compile(r"^([a-z][a-z0-9_]{0,31}):([1-5])$")
# A seat holding a call keeps its live state on upsert; this placeholder is never written.
_LIVE = frozenset({AgentState.RINGING, AgentState.ON_CALL})

DEMO_SEATS: tuple[tuple[str, Role, str], ...] = (
    ("1001", Role.OPERATOR, "operator:3,wage_arrears:3,work_injury:2,lang_en:1"),
    ("1002", Role.OPERATOR, "operator:3,wage_arrears:2,work_injury:3"),
    ("1003", Role.OPERATOR, "operator:2,wage_arrears:1"),
    ("1004", Role.OPERATOR, "operator:2,work_injury:1"),
    ("2001", Role.LAWYER, "legal:5,labor_contract:4"),
    ("2002", Role.LAWYER, "legal:4,work_injury:3,lang_en:1"),
)


class SeatConfig(SQLModel, table=True):
    __tablename__ = "seat"

    seat: str = Field(primary_key=True, max_length=8)
    name: str = Field(default="", max_length=64)
    role: str = Field(max_length=16)
    skills_json: str = Field(default="{}", max_length=1000)

    @property
    def skills(self) -> dict[str, int]:
        return {str(k): int(v) for k, v in json.loads(self.skills_json).items()}


def parse_skills(text: str) -> dict[str, int]:
    """'wage_arrears:3,legal:5' -> {'wage_arrears': 3, 'legal': 5}; ValueError names the part."""
    skills: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        match = _SKILL.match(part)
        if not match:
            raise ValueError(f"skill {part!r} must look like name:level with level 1-5")
        skills[match.group(1)] = int(match.group(2))
    return skills


def check_seat_id(seat: str) -> str:
    if not _SEAT.match(seat):
        raise ValueError(f"seat {seat!r} must be 3 to 8 digits (it is also the SIP account)")
    return seat


def save_seat(
    engine: Engine, seat: str, role: Role, skills: Mapping[str, int], name: str = ""
) -> SeatConfig:
    check_seat_id(seat)
    row = SeatConfig(seat=seat, name=name, role=role.value, skills_json=json.dumps(dict(skills)))
    with Session(engine) as session:
        session.merge(row)
        session.commit()
    return row


def seats(engine: Engine) -> list[SeatConfig]:
    with Session(engine) as session:
        return list(session.exec(select(SeatConfig).order_by(SeatConfig.seat)).all())


def get_seat(engine: Engine, seat: str) -> SeatConfig | None:
    with Session(engine) as session:
        return session.get(SeatConfig, seat)


def delete_seat(engine: Engine, seat: str) -> bool:
    """Remove the seat's configuration; False if there was none."""
    with Session(engine) as session:
        row = session.get(SeatConfig, seat)
        if row is None:
            return False
        session.delete(row)
        session.commit()
        return True


def seed_demo_seats(engine: Engine) -> list[SeatConfig]:
    """The demo operators and lawyers, when no seat is configured yet."""
    if seats(engine):
        return []
    return [
        save_seat(engine, seat, role, parse_skills(skills)) for seat, role, skills in DEMO_SEATS
    ]


def mirror(store: AcdStore, configured: Iterable[SeatConfig]) -> None:
    """Profile (role, skills) to Redis; live state, registration and idle time are kept."""
    for row in configured:
        live = store.get_agent(row.seat)
        state = AgentState.OFFLINE if live is None or live.state in _LIVE else live.state
        store.upsert_agent(
            Agent(
                id=row.seat,
                role=Role(row.role),
                skills=row.skills,
                state=state,
                idle_since=live.idle_since if live else 0.0,
                registered=live.registered if live else False,
            )
        )
