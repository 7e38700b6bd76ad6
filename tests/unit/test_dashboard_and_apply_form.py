"""The dashboard's pure aggregation and the public form's server-side checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backoffice.domain.dashboard import Due, Group, Unit, UnitCount, aggregate
from backoffice.domain.deadlines import Category
from backoffice.domain.lifecycle import Status
from backoffice.identifiers import check_national_id
from backoffice.web.routes.apply import check

pytestmark = pytest.mark.unit

PROVINCE = Unit(1, "湖南省总工会", "/1/")
LOUDI = Unit(14, "娄底市总工会", "/1/14/")
SHUANGFENG = Unit(17, "双峰县总工会", "/1/14/17/")
TOWN = Unit(21, "荷叶镇工会服务站", "/1/14/17/21/")
CHANGSHA = Unit(2, "长沙市总工会", "/1/2/")
UNITS = {u.id: u for u in (PROVINCE, LOUDI, SHUANGFENG, TOWN, CHANGSHA)}
T0 = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)

GROUPS = [
    Group(Status.ACCEPTED, Category.WAGE_ARREARS, None, Due.NONE, True, 3),
    Group(Status.DISPATCHED, Category.WAGE_ARREARS, 17, Due.OK, True, 2),
    Group(Status.DISPATCHED, Category.WORK_INJURY, 21, Due.OVERDUE, False, 4),
    Group(Status.HANDLING, Category.WORK_INJURY, 2, Due.DUE_SOON, False, 1),
    Group(Status.CLOSED, Category.OTHER, 14, Due.NONE, False, 5),
    Group(Status.REPLIED, Category.OTHER, 1, Due.NONE, False, 0),  # empty groups count nothing
]


def test_the_province_sees_its_cities() -> None:
    d = aggregate(GROUPS, UNITS, PROVINCE)
    assert (d.total, d.today, d.open, d.overdue, d.due_soon) == (15, 5, 10, 4, 1)
    assert d.by_status[:3] == [(Status.ACCEPTED, 3), (Status.DISPATCHED, 6), (Status.SIGNED, 0)]
    assert [s for s, _ in d.by_status] == list(Status)  # every status, lifecycle order
    # Ties keep the categories' own order.
    assert d.by_category == [(Category.WAGE_ARREARS, 5), (Category.WORK_INJURY, 5),
                             (Category.OTHER, 5)]  # fmt: skip
    # Shuangfeng's and the town's orders roll up into Loudi; no unit yet is its own line.
    assert d.by_unit == [UnitCount(14, "娄底市总工会", 11), UnitCount(None, "", 3),
                         UnitCount(2, "长沙市总工会", 1)]  # fmt: skip


def test_a_city_sees_its_counties_and_itself() -> None:
    groups = [g for g in GROUPS if g.org_unit_id in (14, 17, 21)]
    d = aggregate(groups, UNITS, LOUDI)
    assert d.by_unit == [UnitCount(17, "双峰县总工会", 6), UnitCount(14, "娄底市总工会", 5)]
    # An order seen through its assignee but outside the city's tree: counted, not as a unit.
    outside = Group(Status.SIGNED, Category.OTHER, 2, Due.OK, False, 1)
    assert aggregate([outside], UNITS, LOUDI).by_unit == [UnitCount(None, "", 1)]


def test_average_times_leave_out_pairs_the_wrong_way_round() -> None:
    signs = [(T0, T0 + timedelta(hours=2)), (T0, T0 + timedelta(hours=5)),
             (T0 + timedelta(hours=9), T0)]  # signed before a later redispatch  # fmt: skip
    replies = [(T0, T0 + timedelta(days=2, minutes=3))]
    d = aggregate([], UNITS, PROVINCE, signs, replies)
    assert (d.avg_sign_hours, d.signed) == (3.5, 2)
    assert (d.avg_reply_hours, d.replied) == (48.0, 1)
    empty = aggregate([], UNITS, PROVINCE)
    assert (empty.total, empty.avg_sign_hours, empty.avg_reply_hours) == (0, None, None)
    assert empty.by_category == [] and empty.by_unit == []


def test_national_ids_are_checked() -> None:
    assert check_national_id(" 11010519491231002x ") == "11010519491231002X"
    for bad in ("110105194912310021", "1101051949123100", "01010519491231002X", "ABC"):
        with pytest.raises(ValueError):
            check_national_id(bad)


GOOD = {"name": "王五", "phone": "138-7380-1234", "id_number": "", "employer": "宏达建筑",
        "org_unit_id": "17", "category": "wage_arrears",
        "description": "工地拖欠三个月工资，共两万元"}  # fmt: skip


def test_a_good_application_becomes_an_order() -> None:
    checked = check({**GOOD, "id_number": "430103199001011234"}, True, frozenset({17}))
    assert checked.errors == {} and checked.order is not None
    assert (checked.order.caller_phone, checked.order.org_unit_id) == ("13873801234", 17)
    assert checked.order.summary == "工地拖欠三个月工资，共两万元\n身份证号：430103199001011234"
    left_to_centre = check({**GOOD, "org_unit_id": ""}, True, frozenset({17}))
    assert left_to_centre.order is not None and left_to_centre.order.org_unit_id is None


@pytest.mark.parametrize(
    ("field", "value", "key"),
    [
        ("name", "", "apply.error.name"),
        ("name", "名" * 51, "apply.error.name"),
        ("phone", "12", "apply.error.phone"),
        ("phone", "not a phone", "apply.error.phone"),
        ("phone", "", "apply.error.phone"),
        ("phone", "12345", "apply.error.phone"),
        ("phone", "1387380123", "apply.error.phone"),
        ("id_number", "430103199001011235", "apply.error.id_number"),
        ("org_unit_id", "99", "apply.error.org_unit"),
        ("org_unit_id", "１７", "apply.error.org_unit"),
        ("org_unit_id", "17 OR 1=1", "apply.error.org_unit"),
        ("category", "lost", "apply.error.category"),
        ("description", "太短", "apply.error.description"),
        ("employer", "x" * 201, "apply.error.employer"),
        ("description", "工资\x00" * 5, "apply.error.invalid"),
    ],
)
def test_each_bad_field_gets_its_own_error(field: str, value: str, key: str) -> None:
    checked = check({**GOOD, field: value}, True, frozenset({17}))
    assert checked.order is None
    assert checked.errors == {field: key}


def test_consent_is_required() -> None:
    assert check(GOOD, False, frozenset({17})).errors == {"consent": "apply.error.consent"}
