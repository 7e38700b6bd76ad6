"""A busy server and a database that is down: quick, clear 503s, and nothing half-done."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select
from starlette.types import Receive, Scope, Send

from backoffice import seed
from backoffice.api.errors import DATABASE_DOWN
from backoffice.app import create_app
from backoffice.db import upgrade
from backoffice.models import User, WorkOrder
from backoffice.overload import BUSY_MESSAGE, InFlightLimit
from backoffice.services import auth
from hotline.settings import load_settings
from tests.backoffice.conftest import SECRET
from tests.backoffice.helpers import API, create, ok


class _Gate:
    """An ASGI app whose requests wait until the test opens the gate."""

    def __init__(self) -> None:
        self.opened = asyncio.Event()
        self.entered = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.entered += 1
        if not scope["path"].endswith("/events"):
            await self.opened.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


@pytest.mark.unit
def test_requests_past_the_limit_get_503_at_once_and_the_server_recovers() -> None:
    async def scenario() -> None:
        gate = _Gate()
        limited = InFlightLimit(gate, limit=2, exempt_suffixes=("/events",))
        transport = httpx.ASGITransport(app=limited)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            held = [asyncio.create_task(client.get("/orders")) for _ in range(2)]
            while gate.entered < 2:
                await asyncio.sleep(0)
            refused = await client.get("/orders")
            assert refused.status_code == 503
            assert refused.json() == {"detail": BUSY_MESSAGE}
            assert refused.headers["retry-after"] == "1"
            # A stream is not counted: it still gets through while the two are held.
            assert (await client.get("/desk/events")).status_code == 200
            gate.opened.set()
            assert [r.status_code for r in await asyncio.gather(*held)] == [200, 200]
            assert (await client.get("/orders")).status_code == 200
        assert (limited.in_flight, limited.shed) == (0, 1)

    asyncio.run(scenario())


@pytest.mark.unit
def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        InFlightLimit(_Gate(), limit=0)


@pytest.mark.integration
def test_a_postgresql_that_is_down_gives_a_clear_503_on_the_api_and_on_pages(
    tmp_path: Path, refused_port: int
) -> None:
    url = f"postgresql://hotline_test:hotline_test@127.0.0.1:{refused_port}/hotline"
    settings = load_settings(var_dir=tmp_path, database_url=url)
    with TestClient(create_app(settings, secret_key=SECRET)) as client:
        api = client.get(f"{API}/users/me", headers={"Authorization": "Bearer not-a-token"})
        assert api.status_code == 503
        assert api.json() == {"detail": DATABASE_DOWN}
        assert api.headers["retry-after"] == "5"
        page = client.post(
            "/api/v1/auth/login", data={"username": "operator", "password": "demo-operator-12351"}
        )
        assert page.status_code == 503
        login_page = client.get("/login")  # needs no database: still served
        assert login_page.status_code == 200


@pytest.mark.integration
def test_a_locked_sqlite_gives_503_and_the_order_is_written_on_retry(tmp_path: Path) -> None:
    path = tmp_path / "hotline.db"
    settings = load_settings(var_dir=tmp_path, database_url=f"sqlite:///{path}")
    # The app's engine with a short lock timeout, so the test need not wait the default 10 s.
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0.2})
    event.listen(engine, "connect", lambda conn, _r: conn.execute("PRAGMA journal_mode=WAL"))
    upgrade(engine)
    with Session(engine) as session:
        seed.demo(session)
        operator = session.exec(select(User).where(User.username == "operator")).one()
        headers = {"Authorization": f"Bearer {auth.issue_token(session, operator)[0]}"}
    body = {"caller_phone": "13873801234", "category": "wage_arrears", "summary": "欠薪两个月"}
    locker = sqlite3.connect(path, isolation_level=None)
    with TestClient(create_app(settings, engine=engine, secret_key=SECRET)) as client:
        locker.execute("BEGIN EXCLUSIVE")
        try:
            refused = client.post(f"{API}/work-orders", headers=headers, json=body)
        finally:
            locker.execute("ROLLBACK")
            locker.close()
        assert refused.status_code == 503, refused.text
        assert refused.json() == {"detail": DATABASE_DOWN}
        assert _orders(engine) == 0  # nothing half-written
        created = create(client, headers, summary="欠薪两个月")
        assert ok(client.get(f"{API}/work-orders/{created['id']}", headers=headers))["id"]
        assert _orders(engine) == 1
    engine.dispose()


def _orders(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(WorkOrder)).one())
