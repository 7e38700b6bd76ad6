"""A caller types an order number and hears its status and deadline (real call, real DB)."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from backoffice import seed
from backoffice.db import upgrade
from backoffice.domain import lifecycle as lc
from backoffice.models import OrgUnit, User
from backoffice.services import work_orders
from hotline.callevents.stream import read_all
from ivr.app import IvrService
from tests.conftest import eventually
from tests.integration.calls import Dialer, nodes, steps

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def test_the_caller_hears_the_status_of_an_existing_order(
    dialer: Dialer, ivr_service: IvrService
) -> None:
    upgrade(ivr_service.engine)
    with Session(ivr_service.engine) as session:
        seed.demo(session)
        facts = {"call_id": "status-test-1", "caller": "13807380000", "category": "wage_arrears"}
        order = work_orders.take_call(session, facts).order
        supervisor = session.exec(select(User).where(User.username == "supervisor")).one()
        county = session.exec(select(OrgUnit).where(OrgUnit.name == "双峰县总工会")).one()
        work_orders.act(session, order.id or 0, lc.Dispatch(county.id or 0), supervisor)
        digits = order.number.removeprefix("GH")
    waits = (dialer.after_welcome_ms(), 1200, *([300] * len(digits)), 300, 700)
    result = dialer.call("14" + digits + "#1", waits_ms=waits, hold_ms=4000)
    assert result.outcome == "completed", result.detail
    assert ("order_lookup", None, "found") in steps(result)
    assert "order_found" in nodes(result)
    assert result.record is not None
    uniqueid = result.record["uniqueid"]

    def ended_variables() -> dict[str, str] | None:
        for ev in read_all(ivr_service.acd.client):
            if ev.call_id == uniqueid and ev.type == "ended":
                return dict(ev.data["variables"])
        return None

    assert eventually(lambda: ended_variables() is not None)
    spoken = ended_variables()
    assert spoken is not None and spoken["order_status"] == "已派发，等待承办单位签收"
    assert spoken["order_deadline"].startswith("，答复期限为")
