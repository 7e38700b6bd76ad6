"""Real calls into the reports: SIPp callers through the Asterisk sandbox, a SIPp seat answers
one call and nobody takes the other; their `ended` events, taken in by the order intake, are
the report's figures."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from acd.desk import SeatDesk
from acd.model import AgentState
from acd.seats import DEMO_SEATS
from backoffice.db import upgrade
from backoffice.intake import OrderIntake
from backoffice.services import call_stats
from backoffice.services.work_orders import WorkOrderConfig
from hotline.callevents.model import CallEventType
from hotline.callevents.stream import read_all
from hotline.reports.facts import Period
from hotline.reports.figures import build
from ivr.app import IvrService
from tests.conftest import eventually
from tests.integration.calls import Dialer
from tests.integration.test_acd_calls import Softphone, presence, softphones  # noqa: F401

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def _local_today() -> date:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


@pytest.fixture
def desk(ivr_service: IvrService) -> Iterator[SeatDesk]:
    seats = SeatDesk(ivr_service.acd)
    for seat, _, _ in DEMO_SEATS:
        seats.logout(seat)
    yield seats
    for seat, _, _ in DEMO_SEATS:
        agent = ivr_service.acd.get_agent(seat)
        if agent is not None and agent.state not in (AgentState.RINGING, AgentState.ON_CALL):
            seats.logout(seat)


def ended_of(ivr: IvrService, call_id: str) -> list[object]:
    return [
        e
        for e in read_all(ivr.acd.client)
        if e.call_id == call_id and e.type is CallEventType.ENDED
    ]


def test_an_answered_and_an_abandoned_call_are_counted(
    dialer: Dialer,
    ivr_service: IvrService,
    presence: object,  # noqa: F811
    softphones: Callable[..., Softphone],  # noqa: F811
    desk: SeatDesk,
) -> None:
    upgrade(ivr_service.engine)  # the back office's tables beside the IVR's
    store = ivr_service.acd
    softphones("1003")  # wage arrears
    assert eventually(
        lambda: bool(store.get_agent("1003") and store.get_agent("1003").registered),  # type: ignore[union-attr]
        timeout=15,
    )
    desk.ready("1003")
    # The calls may straddle local midnight; the period spans the days they could fall on.
    first_day = _local_today()
    answered = dialer.call("12", hold_ms=5000)  # Mandarin, wage arrears: 1003 answers
    abandoned = dialer.call("13", hold_ms=3000)  # work injury: nobody ready, the caller hangs up
    ids = [r.record["uniqueid"] for r in (answered, abandoned) if r.record is not None]
    assert len(ids) == 2, [answered.as_dict(), abandoned.as_dict()]
    for call_id in ids:
        assert eventually(lambda c=call_id: bool(ended_of(ivr_service, c)), 10), call_id

    intake = OrderIntake(ivr_service.engine, WorkOrderConfig())
    for event in (e for e in read_all(store.client) if e.call_id in ids):
        intake(event)
    period = Period(first_day, _local_today(), "Asia/Shanghai")
    with Session(ivr_service.engine) as session:
        facts = [f for f in call_stats.facts(session, period) if f.call_id in ids]
    report = build(facts, period, wrap_up_s=15)
    assert report.total.calls == 2 and report.total.offered == 2
    wage, injury = report.by_queue["wage_arrears"], report.by_queue["work_injury"]
    assert (wage.answered, wage.abandoned, wage.connection_rate) == (1, 0, 1.0)
    assert (injury.answered, injury.abandoned, injury.abandon_rate) == (0, 1, 1.0)
    seat = report.by_agent["1003"]
    assert seat.answered == 1 and seat.average_talk_s is not None and seat.average_talk_s >= 3
    assert seat.average_handle_s == pytest.approx(seat.average_talk_s + 15)
    assert report.total.service_level(15) == 0.5  # answered at once; the other gave up
