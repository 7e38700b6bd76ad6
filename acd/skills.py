"""The skill catalogue: the skill names seats and queue nodes may use, with labels for people.

The ACD itself matches any `name:level`; the catalogue is what the admin pages offer and check
against, so a typo ("wage_arrear") is caught when a seat is saved instead of silently never
matching a call.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, select

SKILL_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
MAX_LABEL = 64

# What a fresh install offers: the skills the demo seats, the default flow and the speech
# rules use.
DEFAULT_SKILLS: tuple[tuple[str, str, str], ...] = (
    ("operator", "话务员", "Operator"),
    ("legal", "法律咨询", "Legal advice"),
    ("wage_arrears", "欠薪", "Wage arrears"),
    ("work_injury", "工伤", "Work injury"),
    ("labor_contract", "劳动合同", "Labour contract"),
    ("social_insurance", "社会保险", "Social insurance"),
    ("hardship", "困难帮扶", "Hardship assistance"),
    ("lang_en", "英语", "English"),
)


class SkillLabel(SQLModel, table=True):
    __tablename__ = "skill_label"

    name: str = Field(primary_key=True, max_length=32)
    label_zh: str = Field(default="", max_length=MAX_LABEL)
    label_en: str = Field(default="", max_length=MAX_LABEL)


class SkillProblem(ValueError):
    """A bad skill entry: which field and the message key the page shows."""

    def __init__(self, field: str, key: str, value: str = "") -> None:
        super().__init__(f"{field}: {key} ({value!r})")
        self.field = field
        self.key = key
        self.value = value


def check_skill(name: str, label_zh: str, label_en: str) -> SkillLabel:
    """A valid catalogue entry, or SkillProblem naming the field at fault (pure)."""
    name = name.strip()
    if not SKILL_NAME.match(name):
        raise SkillProblem("name", "skill.bad_name", name)
    labels = {"label_zh": label_zh.strip(), "label_en": label_en.strip()}
    for field_name, label in labels.items():
        if not label:
            raise SkillProblem(field_name, "skill.label_missing")
        if len(label) > MAX_LABEL:
            raise SkillProblem(field_name, "skill.label_long", label[:20])
    return SkillLabel(name=name, **labels)


def unknown_skills(skills: Mapping[str, int], known: Mapping[str, SkillLabel]) -> list[str]:
    return sorted(set(skills) - set(known))


def catalogue(engine: Engine) -> dict[str, SkillLabel]:
    """Every skill by name; the defaults on first use."""
    with Session(engine) as session:
        rows = list(session.exec(select(SkillLabel).order_by(SkillLabel.name)).all())
        if not rows:
            rows = [SkillLabel(name=n, label_zh=zh, label_en=en) for n, zh, en in DEFAULT_SKILLS]
            session.add_all(rows)
            session.commit()
            rows = list(session.exec(select(SkillLabel).order_by(SkillLabel.name)).all())
        return {row.name: row for row in rows}


def save_skill(engine: Engine, entry: SkillLabel) -> None:
    with Session(engine) as session:
        session.merge(entry)
        session.commit()


def delete_skill(engine: Engine, name: str) -> bool:
    with Session(engine) as session:
        row = session.get(SkillLabel, name)
        if row is None:
            return False
        session.delete(row)
        session.commit()
        return True
