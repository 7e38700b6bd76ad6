"""The pure parts behind the admin pages: seat and skill checks, calendar overrides in the
opening hours, the IVR's hours node and the work-order deadlines."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from acd import skills
from acd.model import Role
from backoffice.domain.deadlines import DeadlinePolicy, add_working_days, working_days_between
from backoffice.services.admin_config import CheckedSeat, SeatForm, check_seat
from hotline.holidays import check_override
from hotline.workdays import is_workday
from ivr.flow import load_flow
from ivr.flow.engine import simulate
from ivr.flow.hours import describe_day, is_open
from ivr.flow.model import Schedule

pytestmark = pytest.mark.unit

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEDNESDAY = date(2026, 12, 9)
SATURDAY = date(2026, 12, 12)
OFFICE = Schedule.model_validate({"workdays": ["09:00-17:00"]})
PLAIN = Schedule.model_validate({"workdays": ["09:00-17:00"], "holidays": "none"})
FLOWS = Path(__file__).parent / "flows"
KNOWN = {
    n: skills.SkillLabel(name=n, label_zh=zh, label_en=en) for n, zh, en in skills.DEFAULT_SKILLS
}


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


def test_a_closure_closes_a_working_day_and_an_extra_day_opens_a_saturday() -> None:
    overrides = {WEDNESDAY: False, SATURDAY: True}
    assert is_workday(WEDNESDAY) and not is_workday(WEDNESDAY, overrides)
    assert not is_workday(SATURDAY) and is_workday(SATURDAY, overrides)
    for schedule in (OFFICE, PLAIN):
        assert is_open(schedule, at(WEDNESDAY, 10))
        assert not is_open(schedule, at(WEDNESDAY, 10), overrides=overrides)
        assert is_open(schedule, at(SATURDAY, 10), overrides=overrides)
        assert not is_open(schedule, at(SATURDAY, 18), overrides=overrides)  # hours still apply
    assert describe_day(OFFICE, WEDNESDAY, overrides) == "2026-12-09 rest day: closed"


def test_deadlines_skip_a_local_closure_and_count_an_extra_working_day() -> None:
    friday_evening = datetime(2026, 12, 4, 18, tzinfo=SHANGHAI)
    # Without overrides: Mon 7, Tue 8, Wed 9 -> due at the end of Wednesday.
    assert add_working_days(friday_evening, 3).date() == WEDNESDAY
    closed = {date(2026, 12, 8): False}
    assert add_working_days(friday_evening, 3, overrides=closed).date() == date(2026, 12, 10)
    extra = {date(2026, 12, 5): True}  # the Saturday is worked
    assert add_working_days(friday_evening, 3, overrides=extra).date() == date(2026, 12, 8)
    due = add_working_days(friday_evening, 3, overrides=closed)
    assert working_days_between(friday_evening, due, overrides=closed) == 3
    policy = DeadlinePolicy(workday_overrides=closed)
    assert policy.workday_overrides == closed


def test_the_hours_node_follows_the_overrides_given_to_the_run() -> None:
    flow = load_flow((FLOWS / "engine.yaml").read_text(encoding="utf-8"))
    tuesday_10 = datetime(2026, 3, 10, 10, tzinfo=SHANGHAI)
    keys = ["1", "2"]  # Mandarin, then the office-hours choice

    def hours_outcome(**overrides: bool) -> str | None:
        given = {date.fromisoformat(d): v for d, v in overrides.items()}
        run = simulate(flow, keys, tuesday_10, workday_overrides=given)
        return next(s.outcome for s in run.path if s.node == "office_hours")

    assert hours_outcome() == "open"
    assert hours_outcome(**{"2026-03-10": False}) == "closed"
    assert hours_outcome(**{"2026-03-11": False}) == "open"


def test_a_seat_form_becomes_a_seat_or_names_every_field_at_fault() -> None:
    good = SeatForm("3101", " 王芳 ", "lawyer", {"legal": "4", "lang_en": "2", "work_injury": ""})
    assert check_seat(good, KNOWN) == CheckedSeat(
        "3101", "王芳", Role.LAWYER, {"legal": 4, "lang_en": 2}
    )
    bad = SeatForm("31a", "x" * 65, "boss", {"legal": "7", "wage_arear": "3"})
    assert check_seat(bad, KNOWN) == {
        "seat": "seat.bad_id",
        "name": "seat.name_long",
        "role": "seat.bad_role",
        "skill.legal": "seat.bad_level",
        "skill.wage_arear": "seat.unknown_skill",
    }
    # A language alone does not make a seat anyone can route a call to.
    assert check_seat(SeatForm("3101", "", "operator", {"lang_en": "1"}), KNOWN) == {
        "skills": "seat.no_skill"
    }


@pytest.mark.parametrize(
    ("name", "zh", "en", "field", "key"),
    [
        ("Wage-Arrears", "欠薪", "Wage", "name", "skill.bad_name"),
        ("1legal", "法律", "Legal", "name", "skill.bad_name"),
        ("a" * 33, "长", "Long", "name", "skill.bad_name"),
        ("legal", "  ", "Legal", "label_zh", "skill.label_missing"),
        ("legal", "法律", "x" * 65, "label_en", "skill.label_long"),
    ],
)
def test_a_bad_skill_names_its_field(name: str, zh: str, en: str, field: str, key: str) -> None:
    with pytest.raises(skills.SkillProblem) as caught:
        skills.check_skill(name, zh, en)
    assert (caught.value.field, caught.value.key) == (field, key)


def test_an_override_needs_a_reason() -> None:
    assert check_override(WEDNESDAY, False, " 台风停工 ").reason == "台风停工"
    with pytest.raises(ValueError, match="reason"):
        check_override(WEDNESDAY, False, "   ")


def test_a_queue_edit_keeps_the_rest_of_the_flow_and_names_the_field_at_fault() -> None:
    from backoffice.services.admin_config import QueueForm, queue_fields, with_queue
    from ivr.publishing import packaged_flow_text

    text = packaged_flow_text()
    steps = "- {after_s: 20, min_level_delta: -1}"
    edited, errors = with_queue(text, QueueForm("legal", "", "900", steps))
    assert errors == {} and edited is not None
    before, after = load_flow(text), load_flow(edited)
    assert after.queues["legal"].max_wait_s == 900 and after.queues["legal"].lawyers_only
    assert after.nodes == before.nodes and after.prompts == before.prompts
    assert queue_fields({"wrap_up_s": 12.5, "escalation": []}) == {
        "wrap_up_s": "12.5",
        "max_wait_s": "",
        "escalation": "",
    }
    assert with_queue(text, QueueForm("legal", "x", "", ""))[1] == {
        "wrap_up_s": "'x' is not a number of seconds"
    }
    assert "no queue 'lega'" in with_queue(text, QueueForm("lega", "", "", ""))[1]["queue"]
