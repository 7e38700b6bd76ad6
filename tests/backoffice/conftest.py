"""Back-office fixtures: every database test runs once on SQLite and once on PostgreSQL.

Each backend gets one migrated database with the demo network and users for the whole run;
each test starts from no work orders (`db` empties them), which keeps the suite fast while the
tests stay independent.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from backoffice import seed
from backoffice.app import create_app
from backoffice.db import upgrade
from backoffice.models import AuditLog, OrderSequence, OrgUnit, User, WorkOrder, WorkOrderEvent
from backoffice.services import auth
from hotline.db import make_engine
from hotline.settings import Settings, load_settings

SECRET = b"test-secret-key-0123456789abcdef"


@dataclass(frozen=True)
class Backend:
    name: str
    settings: Settings
    engine: Engine
    units: dict[str, int]  # org unit name -> id
    users: dict[str, int]  # username -> id
    headers: dict[str, dict[str, str]]  # username -> Authorization header


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Backend]:
    base = tmp_path_factory.mktemp(f"backoffice-{request.param}")
    url = _url(request, base)
    settings = load_settings(var_dir=base / "var", database_url=url)
    engine = make_engine(settings)
    upgrade(engine)
    with Session(engine) as session:
        seed.demo(session)
        yield _backend(request.param, settings, engine, session)
    engine.dispose()


def _url(request: pytest.FixtureRequest, base: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{base / 'backoffice.db'}"
    return str(request.getfixturevalue("pg_database"))


def _backend(name: str, settings: Settings, engine: Engine, session: Session) -> Backend:
    units = {u.name: u.id for u in session.exec(select(OrgUnit)).all() if u.id is not None}
    users = list(session.exec(select(User)).all())
    headers = {
        u.username: {"Authorization": f"Bearer {auth.issue_token(session, u)[0]}"} for u in users
    }
    ids = {u.username: u.id for u in users if u.id is not None}
    return Backend(name, settings, engine, units, ids, headers)


@pytest.fixture
def db(backend: Backend) -> Backend:
    """The backend with no work orders, timeline, audit entries or numbers left from before."""
    with Session(backend.engine) as session:
        for table in (WorkOrderEvent, AuditLog, WorkOrder, OrderSequence):
            session.exec(delete(table))
        session.commit()
    return backend


@pytest.fixture
def client(db: Backend) -> Iterator[TestClient]:
    app = create_app(db.settings, engine=db.engine, secret_key=SECRET)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def session(db: Backend) -> Iterator[Session]:
    with Session(db.engine) as s:
        yield s
