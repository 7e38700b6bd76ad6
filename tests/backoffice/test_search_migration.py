"""Revision 0012 on SQLite: numbers moved out of the words' trigram table, and back."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text
from sqlmodel import Session, select

from backoffice import search, seed
from backoffice.db import alembic_config, upgrade
from backoffice.models import User
from backoffice.services import work_orders as orders
from hotline.db import make_engine
from hotline.settings import load_settings

pytestmark = pytest.mark.integration


def test_revision_0012_indexes_what_exists_and_its_downgrade_restores_0011(
    tmp_path: Path,
) -> None:
    settings = load_settings(var_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'm.db'}")
    engine = make_engine(settings)
    try:
        upgrade(engine, "0011")
        with Session(engine) as session:
            seed.demo(session)
            made = orders.WorkOrderCreate(caller_phone="13873801234", summary="宏达建筑拖欠工资")
            order = orders.create(session, made, _operator(session)).order
            order_id, number = order.id, order.number
        upgrade(engine, "0012")  # the orders that exist are indexed by the revision itself
        with engine.connect() as conn:
            numbers = conn.execute(text("SELECT rowid, phone FROM work_order_numbers")).all()
        assert [tuple(r) for r in numbers] == [(order_id, "13873801234")]
        with Session(engine) as session:
            for q in ("3873801", "13873801234", "宏达建筑", number[2:10]):
                page = search.search_orders(session, _operator(session), q)
                assert [o.id for o in page.items] == [order_id], q
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0011")
        with engine.connect() as conn:
            columns = [r[1] for r in conn.execute(text("PRAGMA table_info(work_order_search)"))]
            gone = conn.execute(text("SELECT name FROM sqlite_master WHERE name LIKE '%numbers%'"))
            held = conn.execute(
                text("SELECT rowid FROM work_order_search WHERE work_order_search MATCH :m"),
                {"m": '"3873801" AND "宏达建筑"'},
            )
            assert columns == ["number", "phone", "body", "call_text"]
            assert list(gone) == []
            assert [r[0] for r in held] == [order_id]
    finally:
        engine.dispose()


def _operator(session: Session) -> User:
    return session.exec(select(User).where(User.username == "operator")).one()
