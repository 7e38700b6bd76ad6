"""Real calls while the back office's intake is down: every call's order appears exactly once
after it comes back, even when the intake is killed mid-way."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlmodel import Session, select

from backoffice.db import upgrade
from backoffice.domain.deadlines import Category
from backoffice.models import CallStat, WorkOrder
from hotline.settings import Settings
from ivr.app import IvrService
from tests.conftest import eventually
from tests.integration.calls import Dialer

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

REPO = Path(__file__).resolve().parents[2]


def start_intake(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "HOTLINE_VAR_DIR": str(settings.var_dir),
           "HOTLINE_DATABASE_URL": settings.database_url, "HOTLINE_REDIS_URL": settings.redis_url,
           "HOTLINE_INTAKE_STALE_SECONDS": "2"}  # fmt: skip
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "hotline.cli", "backoffice", "intake"],
                                env=env, stdout=out, stderr=out, cwd=REPO)  # fmt: skip


def orders_for(ivr: IvrService, call_ids: list[str]) -> list[WorkOrder]:
    with Session(ivr.engine) as session:
        query = select(WorkOrder).where(WorkOrder.call_id.in_(call_ids))  # type: ignore[union-attr]
        return list(session.exec(query).all())


def figures_for(ivr: IvrService, call_ids: list[str]) -> set[str]:
    with Session(ivr.engine) as session:
        query = select(CallStat.call_id).where(CallStat.call_id.in_(call_ids))  # type: ignore[attr-defined]
        return set(session.exec(query).all())


def test_calls_made_while_the_intake_is_down_each_get_one_order(
    dialer: Dialer, ivr_service: IvrService, stack_settings: Settings, tmp_path: Path
) -> None:
    upgrade(ivr_service.engine)  # the back office's tables beside the IVR's
    calls = [("12", "13807381111"), ("13", "13807382222"), ("", "13807383333")]
    with ThreadPoolExecutor(len(calls)) as pool:
        results = list(pool.map(lambda c: dialer.call(c[0], hold_ms=2000, caller=c[1]), calls))
    ids = [r.record["uniqueid"] for r in results if r.record is not None]
    assert len(ids) == 3, [r.as_dict() for r in results]
    assert orders_for(ivr_service, ids) == []  # nobody took them in yet: they wait in the stream

    log = tmp_path / "intake.log"
    first = start_intake(stack_settings, log)
    try:
        assert eventually(lambda: len(orders_for(ivr_service, ids)) >= 1, timeout=60), (
            log.read_text()
        )
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    second = start_intake(stack_settings, log)
    try:
        # Ready means it has taken over the group; only then is a SIGTERM a clean stop.
        assert eventually(lambda: log.read_text().count('"intake.ready"') >= 2, timeout=60), (
            log.read_text()
        )
        assert eventually(lambda: len(orders_for(ivr_service, ids)) == 3, timeout=60), (
            log.read_text()
        )
    finally:
        second.terminate()
        assert second.wait(15) == 0
    taken = {o.call_id: o for o in orders_for(ivr_service, ids)}
    assert len(taken) == 3  # call_id is unique: exactly one order per call
    by_caller = {o.caller_phone: o for o in taken.values()}
    assert by_caller["13807381111"].category is Category.WAGE_ARREARS
    assert by_caller["13807382222"].category is Category.WORK_INJURY
    assert by_caller["13807383333"].category is Category.OTHER
    assert "排队" in by_caller["13807381111"].summary
    # Each event was handled whole, at the intake's own log level: its figures for the reports
    # were kept too, and no handler failed after its order was made.
    assert figures_for(ivr_service, ids) == set(ids)
    assert "handler_failed" not in log.read_text(), log.read_text()
