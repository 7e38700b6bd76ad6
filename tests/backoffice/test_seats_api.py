"""Seat control through /api/v1/seats on the real ACD in Redis (SQLite and PostgreSQL users)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import redis
from fastapi.testclient import TestClient

from acd.model import Agent, AgentState, Role
from acd.store import AcdStore
from backoffice.app import create_app
from backoffice.live.board import binding_key
from tests.backoffice.conftest import SECRET, Backend

pytestmark = pytest.mark.integration

OPERATOR_SEAT, OTHER_SEAT, LAWYER_SEAT = "1081", "1082", "2081"
API = "/api/v1/seats"


@dataclass
class Seats:
    client: TestClient
    store: AcdStore
    db: Backend

    def post(self, user: str, seat: str, action: str, **body: str) -> tuple[int, dict[str, str]]:
        reply = self.client.post(f"{API}/{seat}/{action}", headers=self.db.headers[user],
                                 json=body or None)  # fmt: skip
        return reply.status_code, reply.json()

    def state(self, seat: str) -> AgentState:
        agent = self.store.get_agent(seat)
        assert agent is not None
        return agent.state


@pytest.fixture
def seats(db: Backend, redis_url: str) -> Iterator[Seats]:
    store = AcdStore(redis.Redis.from_url(redis_url, decode_responses=True))
    mine = {OPERATOR_SEAT: Role.OPERATOR, OTHER_SEAT: Role.OPERATOR, LAWYER_SEAT: Role.LAWYER}
    for seat, role in mine.items():
        skills = {"legal": 4} if role is Role.LAWYER else {"operator": 2}
        store.upsert_agent(Agent(seat, role, skills, registered=True))
    store.client.set(binding_key(db.users["operator"]), OPERATOR_SEAT)
    store.client.set(binding_key(db.users["lawyer"]), LAWYER_SEAT)
    settings = db.settings.model_copy(update={"redis_url": redis_url})
    with TestClient(create_app(settings, engine=db.engine, secret_key=SECRET)) as client:
        yield Seats(client, store, db)
    for seat in mine:
        store.set_state(seat, AgentState.OFFLINE)
        store.client.delete(store.keys.agent(seat))
        store.client.hdel(store.keys.profiles(), seat)
    for user in ("operator", "lawyer"):
        store.client.delete(binding_key(db.users[user]))


def test_an_operator_runs_their_own_seat_through_every_state(seats: Seats) -> None:
    status, row = seats.post("operator", OPERATOR_SEAT, "login")
    assert status == 200, row
    assert row["state"] == "available" and seats.state(OPERATOR_SEAT) is AgentState.AVAILABLE
    status, row = seats.post("operator", OPERATOR_SEAT, "pause", reason="meal")
    assert (status, row["state"], row["reason"]) == (200, "paused", "meal")
    assert seats.store.client.hget(seats.store.keys.agent(OPERATOR_SEAT), "reason") == "meal"
    status, row = seats.post("operator", OPERATOR_SEAT, "ready")
    assert (status, row["state"]) == (200, "available")
    status, row = seats.post("operator", OPERATOR_SEAT, "logout")
    assert (status, row["state"]) == (200, "offline")
    assert seats.state(OPERATOR_SEAT) is AgentState.OFFLINE


def test_the_list_shows_state_reason_and_time_in_state(seats: Seats) -> None:
    seats.post("lawyer", LAWYER_SEAT, "pause", reason="training")
    reply = seats.client.get(API, headers=seats.db.headers["operator"])
    assert reply.status_code == 200, reply.text
    rows = {row["seat"]: row for row in reply.json()}
    lawyer = rows[LAWYER_SEAT]
    assert (lawyer["role"], lawyer["state"], lawyer["reason"]) == ("lawyer", "paused", "training")
    assert 0 <= lawyer["in_state_s"] < 30 and lawyer["registered"] is True
    assert rows[OTHER_SEAT]["state"] == "offline"


def test_operators_and_lawyers_may_not_touch_another_seat(seats: Seats) -> None:
    status, body = seats.post("operator", OTHER_SEAT, "login")
    assert status == 403 and "not yours" in body["detail"]
    status, _ = seats.post("lawyer", OPERATOR_SEAT, "pause", reason="break")
    assert status == 403
    assert seats.state(OTHER_SEAT) is AgentState.OFFLINE
    assert seats.state(OPERATOR_SEAT) is AgentState.OFFLINE


def test_supervisors_and_admins_change_any_seat(seats: Seats) -> None:
    assert seats.post("supervisor", OTHER_SEAT, "login")[0] == 200
    assert seats.state(OTHER_SEAT) is AgentState.AVAILABLE
    assert seats.post("admin", OTHER_SEAT, "pause", reason="meeting")[0] == 200
    assert seats.state(OTHER_SEAT) is AgentState.PAUSED


def test_roles_without_a_desk_may_neither_list_nor_change(seats: Seats) -> None:
    for user in ("handler", "viewer"):
        assert seats.client.get(API, headers=seats.db.headers[user]).status_code == 403
        assert seats.post(user, OTHER_SEAT, "login")[0] == 403
    assert seats.client.get(API).status_code == 401
    assert seats.client.post(f"{API}/{OTHER_SEAT}/login").status_code == 401
    assert seats.state(OTHER_SEAT) is AgentState.OFFLINE


def test_a_bad_reason_is_a_clear_422_and_changes_nothing(seats: Seats) -> None:
    seats.post("operator", OPERATOR_SEAT, "login")
    status, body = seats.post("operator", OPERATOR_SEAT, "pause", reason="nap")
    assert status == 422
    assert "pause reason must be one of break, meal, meeting, training, paperwork" in body["detail"]
    assert "'nap'" in body["detail"]
    assert seats.state(OPERATOR_SEAT) is AgentState.AVAILABLE
    reply = seats.client.post(f"{API}/{OPERATOR_SEAT}/pause", headers=seats.db.headers["operator"],
                              json={"reason": 7})  # fmt: skip
    assert reply.status_code == 422 and seats.state(OPERATOR_SEAT) is AgentState.AVAILABLE


def test_an_unknown_seat_is_404_and_a_malformed_one_422(seats: Seats) -> None:
    status, body = seats.post("supervisor", "9998", "login")
    assert status == 404 and "9998" in body["detail"]
    assert seats.store.get_agent("9998") is None
    assert seats.post("supervisor", "12ab", "login")[0] == 422


def test_a_seat_holding_a_call_is_a_409(seats: Seats) -> None:
    from acd.model import WaitingCall

    store = seats.store
    seats.post("operator", OPERATOR_SEAT, "login")
    call = WaitingCall("seats-api.1", "seats_api_test", {"operator": 1}, enqueued_at=1.0)
    store.enqueue(call)
    try:
        assert store.assign(call.call_id, OPERATOR_SEAT)
        status, body = seats.post("operator", OPERATOR_SEAT, "logout")
        assert status == 409 and "holds_call" in body["detail"]
        assert seats.state(OPERATOR_SEAT) is AgentState.RINGING
    finally:
        store.remove_call(call.call_id)


def test_redis_down_is_a_503(db: Backend, refused_port: int) -> None:
    settings = db.settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{refused_port}/0"})
    with TestClient(create_app(settings, engine=db.engine, secret_key=SECRET)) as client:
        reply = client.post(f"{API}/1081/login", headers=db.headers["supervisor"])
    assert reply.status_code == 503 and "Redis is not answering" in reply.json()["detail"]
