"""Reports' pure core: facts from `ended` payloads, figures, Erlang C staffing, SVG, CSV.

Every expected figure below is worked out by hand from the calls listed in `FACTS`.
"""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.callevents.model import CallFacts
from hotline.reports import charts, staffing, tables
from hotline.reports.facts import BadFacts, BadRange, CallFact, Period, from_ended, parse_period
from hotline.reports.figures import build

pytestmark = pytest.mark.unit

TZ = "Asia/Shanghai"
SVG = "{http://www.w3.org/2000/svg}"
PERIOD = Period(date(2026, 12, 1), date(2026, 12, 2), TZ)


def _fact(
    call_id: str,
    local: str,
    queue: str | None = None,
    agent: str | None = None,
    wait: float | None = None,
    talk: float | None = None,
    abandoned: bool = False,
) -> CallFact:
    at = datetime.fromisoformat(local + "+08:00").astimezone(UTC)
    return CallFact(call_id, at, queue, agent, agent is not None, abandoned, wait, talk)


FACTS = [
    _fact("c1", "2026-12-01T08:10:00", "operator", "1001", wait=10, talk=100),
    _fact("c2", "2026-12-01T08:40:00", "operator", "1002", wait=18, talk=200),
    _fact("c3", "2026-12-01T08:50:00", "operator", wait=30, abandoned=True),
    _fact("c4", "2026-12-01T09:05:00"),  # IVR only
    _fact("c5", "2026-12-02T23:59:59", "legal", "2001", wait=25, talk=300),
    _fact("c6", "2026-12-03T00:00:00", "operator", "1001", wait=1, talk=1),  # next day: out
    _fact("c7", "2026-11-30T23:59:59", "operator", "1001", wait=1, talk=1),  # day before: out
    _fact("c8", "2026-12-01T00:00:00"),  # first second of the period: in, hour 0
]


# --- facts from the ended payload ---------------------------------------------------------


def _ended(**changes: Any) -> dict[str, Any]:
    facts = CallFacts(
        caller="13800000000",
        started_at=1_764_547_200.0,
        queue="operator",
        queued_at=1_764_547_230.0,
        agent="1001",
        answered_at=1_764_547_242.5,
    )
    data = facts.as_data(1_764_547_342.5, "done", [])
    data.update(changes)
    return data


def test_an_ended_payload_gives_queue_seat_wait_and_talk() -> None:
    fact = from_ended("1764547200.1", _ended())
    assert fact.started_at == datetime(2025, 12, 1, 0, 0, tzinfo=UTC)
    assert (fact.queue, fact.agent, fact.answered, fact.abandoned) == (
        "operator",
        "1001",
        True,
        False,
    )
    assert (fact.wait_s, fact.talk_s) == (12.5, 100.0)
    assert fact.offered


def test_an_ivr_only_call_is_not_offered() -> None:
    fact = from_ended("x", _ended(queue=None, agent=None, answered=False, talk_s=None, wait_s=None))
    assert not fact.offered and fact.agent is None and fact.talk_s is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"started_at": None}, "started_at"),
        ({"started_at": "yesterday"}, "ISO 8601"),
        ({"started_at": "2026-12-01T08:00:00"}, "UTC offset"),
        ({"wait_s": -1}, "not negative"),
        ({"wait_s": "12"}, "number"),
        ({"talk_s": float("nan")}, "finite"),
        ({"answered": "yes"}, "true or false"),
        ({"queue": "q" * 65}, "at most 64"),
        ({"queue": 7}, "name"),
        ({"queue": None}, "must name its queue"),
    ],
)
def test_a_malformed_payload_is_refused_with_the_reason(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(BadFacts, match=message):
        from_ended("call-1", _ended(**changes))


def test_a_call_needs_an_id() -> None:
    with pytest.raises(BadFacts, match="id"):
        from_ended("", _ended())


# --- the period -------------------------------------------------------------------------


def test_the_period_is_local_midnight_to_midnight() -> None:
    start, end = PERIOD.utc_bounds()
    assert start == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    assert end == datetime(2026, 12, 2, 16, 0, tzinfo=UTC)


def test_every_shanghai_day_is_24_hours_all_year() -> None:
    year = Period(date(2026, 1, 1), date(2026, 12, 31), TZ)
    start, end = year.utc_bounds()
    assert end - start == timedelta(days=365)
    assert len(year.dates()) == 365


def test_a_zone_with_summer_time_gets_its_short_day() -> None:
    start, end = Period(date(2026, 3, 29), date(2026, 3, 29), "Europe/Berlin").utc_bounds()
    assert end - start == timedelta(hours=23)


@pytest.mark.parametrize(
    ("first", "last", "message"),
    [
        ("2026-12-02", "2026-12-01", "before the first"),
        ("2026-01-01", "2027-01-02", "at most 366"),
        ("2026-13-01", "2026-12-01", "YYYY-MM-DD"),
        ("", "2026-12-01", "YYYY-MM-DD"),
    ],
)
def test_a_bad_period_is_refused(first: str, last: str, message: str) -> None:
    with pytest.raises(BadRange, match=message):
        parse_period(first, last, TZ)


# --- figures ----------------------------------------------------------------------------


def test_totals_by_hand() -> None:
    total = build(FACTS, PERIOD, wrap_up_s=10).total
    assert (total.calls, total.offered, total.answered, total.abandoned) == (6, 4, 3, 1)
    assert total.connection_rate == 0.75
    assert total.abandon_rate == 0.25
    assert total.service_level(15) == 0.25  # c1 of c1, c2, c3, c5
    assert total.service_level(20) == 0.5  # c1, c2
    assert total.average_handle_s == 210  # (100 + 200 + 300 + 3 * 10) / 3
    assert total.average_talk_s == 200
    assert total.average_answer_s == pytest.approx(53 / 3)


def test_by_hour_and_midnight_edges() -> None:
    report = build(FACTS, PERIOD, wrap_up_s=10)
    calls = {h: t.calls for h, t in enumerate(report.by_hour) if t.calls}
    assert calls == {0: 1, 8: 3, 9: 1, 23: 1}
    eight = report.by_hour[8]
    assert (eight.offered, eight.answered, eight.abandoned) == (3, 2, 1)
    assert eight.connection_rate == pytest.approx(2 / 3)
    assert len(report.by_hour) == 24


def test_by_day_lists_every_day() -> None:
    report = build(FACTS, PERIOD, wrap_up_s=10)
    assert {d: t.calls for d, t in report.by_day.items()} == {
        date(2026, 12, 1): 5,
        date(2026, 12, 2): 1,
    }


def test_per_queue_and_per_seat() -> None:
    report = build(FACTS, PERIOD, wrap_up_s=10)
    assert list(report.by_queue) == ["legal", "operator"]
    operator = report.by_queue["operator"]
    assert (operator.offered, operator.answered, operator.abandoned) == (3, 2, 1)
    assert operator.service_level(20) == pytest.approx(2 / 3)
    assert {a: (t.answered, t.average_handle_s) for a, t in report.by_agent.items()} == {
        "1001": (1, 110),
        "1002": (1, 210),
        "2001": (1, 310),
    }


def test_a_queue_filter_keeps_that_queue_only() -> None:
    report = build(FACTS, PERIOD, wrap_up_s=10, queue="operator")
    assert (report.total.calls, report.total.answered) == (3, 2)
    assert list(report.by_queue) == ["operator"]
    assert "2001" not in report.by_agent


def test_no_calls_gives_zero_counts_and_no_rates() -> None:
    report = build([], PERIOD, wrap_up_s=10)
    total = report.total
    assert (total.calls, total.offered) == (0, 0)
    assert total.connection_rate is None and total.service_level(15) is None
    assert total.average_handle_s is None and total.abandon_rate is None
    assert len(report.by_day) == 2 and report.by_queue == {} and report.by_agent == {}


def test_an_answered_call_without_talk_time_counts_but_not_in_handle_time() -> None:
    facts = [
        _fact("a", "2026-12-01T10:00:00", "operator", "1001", wait=5, talk=None),
        _fact("b", "2026-12-01T10:01:00", "operator", "1001", wait=5, talk=50),
    ]
    total = build(facts, PERIOD, wrap_up_s=10).total
    assert total.answered == 2 and total.average_handle_s == 60


# --- staffing (Erlang C) ------------------------------------------------------------------


def test_the_textbook_case_needs_14_seats() -> None:
    # 100 calls in 30 min, 180 s handle time: 10 Erlangs; 80 % in 20 s needs 14 seats, which
    # reach 88.8 % (Erlang C by hand: P(wait) = 0.1741, 1 - 0.1741 * e^(-4 * 20/180) = 0.888).
    target = staffing.Target(service_level=0.8, answer_s=20)
    plan = staffing.seats_needed(100, 180, target, interval_s=1800)
    assert (plan.seats, plan.raw_seats) == (14, 14)
    assert plan.service_level == pytest.approx(0.8884, abs=1e-4)
    assert plan.waiting_probability == pytest.approx(0.1741, abs=1e-4)
    assert plan.occupancy == pytest.approx(10 / 14)


def test_a_79_percent_target_needs_13_seats() -> None:
    plan = staffing.seats_needed(100, 180, staffing.Target(0.79, 20), interval_s=1800)
    assert plan.raw_seats == 13  # 79.56 %: one seat fewer than for 80 %
    assert plan.service_level == pytest.approx(0.7956, abs=1e-4)


def test_shrinkage_adds_seats_on_the_rota() -> None:
    plan = staffing.seats_needed(200, 180, staffing.Target(0.8, 20, shrinkage=0.3))
    assert (plan.raw_seats, plan.seats) == (14, 20)  # ceil(14 / 0.7)


def test_no_calls_need_no_seats() -> None:
    plan = staffing.seats_needed(0, 180, staffing.Target(0.8, 15))
    assert plan.seats == 0 and plan.service_level is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"service_level": 1.0, "answer_s": 15},
        {"service_level": 0.8, "answer_s": 0},
        {"service_level": 0.8, "answer_s": 15, "shrinkage": 1.0},
        {"service_level": 0.8, "answer_s": 15, "max_occupancy": 0},
    ],
)
def test_an_impossible_target_is_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(staffing.BadTarget):
        staffing.Target(**kwargs)


def test_staffing_per_hour_uses_an_average_day() -> None:
    report = build(FACTS, PERIOD, wrap_up_s=10)
    plan = staffing.by_hour(report, staffing.Target(0.8, 20))
    assert len(plan) == 24
    eight = plan[8]
    # 3 offered over 2 days; handle time of hour 8: (100 + 10 + 200 + 10) / 2 = 160 s.
    assert (eight.calls, eight.aht_s, eight.seats) == (1.5, 160, 1)
    # One seat: P(wait) = A = 1.5 * 160 / 3600; SL = 1 - A * e^(-(1 - A) * 20 / 160).
    load = 1.5 * 160 / 3600
    assert eight.service_level == pytest.approx(1 - load * 2.718281828 ** (-(1 - load) / 8))
    assert (plan[9].seats, plan[9].aht_s) == (0, None)  # an IVR-only call needs no seat
    assert plan[23].calls == 0.5 and plan[23].aht_s == 310


# --- charts -------------------------------------------------------------------------------


def _bars(svg: str) -> list[float]:
    root = ET.fromstring(svg)
    return [float(r.get("height", "0")) for r in root.iter(f"{SVG}rect")]


def test_bar_heights_are_proportional() -> None:
    svg = charts.bar_chart(
        "每小时来电",
        [
            charts.Point("08", 1),
            charts.Point("09", 2),
            charts.Point("10", 4),
            charts.Point("11", 0),
        ],
    )
    heights = _bars(svg)
    plot = charts.HEIGHT - charts.TOP - charts.BOTTOM
    assert heights == pytest.approx([plot / 5, plot * 2 / 5, plot * 4 / 5, 0.0], abs=0.06)


def test_a_chart_is_well_formed_with_chinese_and_escaped_labels() -> None:
    svg = charts.bar_chart("来电 <按小时> & 队列", [charts.Point("坐席<1>", 3)])
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert "WenQuanYi Micro Hei" in root.get("font-family", "")
    assert root.find(f"{SVG}title") is not None
    assert root.find(f"{SVG}title").text == "来电 <按小时> & 队列"  # type: ignore[union-attr]
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "坐席<1>" in texts and "0" in texts and "5" in texts


def test_an_empty_chart_is_still_a_chart() -> None:
    assert _bars(charts.bar_chart("无", [])) == []
    ET.fromstring(charts.line_chart("无", []))


def test_a_line_breaks_where_there_is_no_figure() -> None:
    points = [charts.Point(str(h), v) for h, v in enumerate([0.5, 1.0, None, 0.25, 0.0])]
    root = ET.fromstring(charts.line_chart("服务水平", points))
    lines = [p.get("points", "").split() for p in root.iter(f"{SVG}polyline")]
    assert [len(line) for line in lines] == [2, 2]
    plot = charts.HEIGHT - charts.TOP - charts.BOTTOM
    ys = [float(pt.split(",")[1]) for pt in lines[0]]
    assert ys[0] - ys[1] == pytest.approx(plot / 2, abs=0.1)  # 50 % to 100 %
    assert "100%" in [t.text for t in root.iter(f"{SVG}text")]


def test_charts_refuse_what_they_cannot_show() -> None:
    with pytest.raises(ValueError, match="negative"):
        charts.bar_chart("x", [charts.Point("a", -1)])
    with pytest.raises(ValueError, match="between 0 and 1"):
        charts.line_chart("x", [charts.Point("a", 1.5)])


# --- tables and CSV -----------------------------------------------------------------------


def _rows(text: str) -> list[list[str]]:
    assert text.startswith(tables.BOM)
    return list(csv.reader(io.StringIO(text[1:])))


def test_hourly_csv_has_every_hour_and_the_figures() -> None:
    report = build(FACTS, PERIOD, wrap_up_s=10)
    rows = _rows(tables.to_csv(tables.hourly(report), lambda name: f"[{name}]"))
    assert rows[0][:3] == ["[hour]", "[calls]", "[offered]"]
    assert len(rows) == 25
    assert rows[9] == [
        "08:00",
        "3",
        "3",
        "2",
        "1",
        "66.7%",
        "33.3%",
        "66.7%",
        "33.3%",
        "14.0",
        "160.0",
    ]
    assert rows[1][5] == ""  # hour 0: offered nothing, so no connection rate


def test_csv_cells_cannot_be_formulas() -> None:
    facts = [
        _fact(f"f{n}", "2026-12-01T10:00:00", "operator", name, wait=1, talk=1)
        for n, name in enumerate(['=HYPERLINK("x")', "+1", "-2", "@sum", "坐席"])
    ]
    report = build(facts, PERIOD, wrap_up_s=0)
    rows = _rows(tables.to_csv(tables.agents(report), lambda name: name))
    names = [row[0] for row in rows[1:]]
    assert sorted(names) == sorted(["'+1", "'-2", '\'=HYPERLINK("x")', "'@sum", "坐席"])
    assert tables.safe_cell("=1+1") == "'=1+1" and tables.safe_cell("12") == "12"


def test_staffing_table_rows() -> None:
    report = build(FACTS, PERIOD, wrap_up_s=10)
    table = tables.staffing(staffing.by_hour(report, staffing.Target(0.8, 20)))
    assert [c.name for c in table.columns][:4] == ["hour", "calls_per_hour", "aht_s", "seats"]
    assert table.rows[8][:4] == ("08:00", 1.5, 160, 1)


# --- properties ---------------------------------------------------------------------------

_CALLS = st.lists(
    st.tuples(
        st.integers(min_value=-2 * 86_400, max_value=4 * 86_400),  # seconds from the period
        st.sampled_from([None, "operator", "legal"]),
        st.sampled_from([None, "1001", "1002"]),
        st.floats(min_value=0, max_value=120),
        st.floats(min_value=0, max_value=900),
    ),
    max_size=60,
)


@given(_CALLS)
def test_hours_days_and_queues_add_up_to_the_total(calls: list[Any]) -> None:
    start, _ = PERIOD.utc_bounds()
    facts = [
        CallFact(
            f"p{n}",
            start + timedelta(seconds=s),
            queue,
            agent if queue else None,
            bool(queue and agent),
            bool(queue and not agent),
            wait,
            talk,
        )
        for n, (s, queue, agent, wait, talk) in enumerate(calls)
    ]
    report = build(facts, PERIOD, wrap_up_s=10)
    total = report.total
    assert sum(t.calls for t in report.by_hour) == sum(t.calls for t in report.by_day.values())
    assert sum(t.calls for t in report.by_day.values()) == total.calls
    assert sum(t.offered for t in report.by_queue.values()) == total.offered
    assert sum(t.answered for t in report.by_agent.values()) == total.answered
    assert total.answered + total.abandoned <= total.offered <= total.calls
    assert total.answered_within[15] <= total.answered_within[20] <= total.answered
    inside = [f for f in facts if start <= f.started_at < PERIOD.utc_bounds()[1]]
    assert total.calls == len(inside)
