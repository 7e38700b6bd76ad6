"""Migrations and the demo seed on both databases."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import Session, col, select

from backoffice import seed
from backoffice.db import VERSION_TABLE, alembic_config, current_revision, upgrade
from backoffice.domain.lifecycle import Role
from backoffice.models import OrgLevel, OrgUnit, User, metadata
from backoffice.passwords import verify_password
from tests.backoffice.conftest import Backend

pytestmark = pytest.mark.integration


def test_migrations_are_at_head_and_match_the_models(backend: Backend) -> None:
    upgrade(backend.engine)  # a second upgrade is a no-op
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert current_revision(backend.engine) == head
    with backend.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"version_table": VERSION_TABLE, "compare_type": True}
        )
        diff = [d for d in compare_metadata(context, metadata) if not _not_modelled(d)]
    assert diff == []


def _not_modelled(change: object) -> bool:
    # Other apps' tables, and the search indexes of revisions 0007 and 0011 (PostgreSQL
    # pg_trgm and gram GIN indexes, SQLite's FTS5 tables): dialect-specific SQL the models do
    # not describe.
    if not isinstance(change, tuple):
        return False
    if change[0] == "remove_table":
        return True
    if change[0] != "remove_index":
        return False
    # An index on another app's table (the IVR's flow_version, which the flow editor creates
    # in the same database) is that app's business, like the table itself.
    name = str(change[1].name)
    return name.endswith(("_trgm", "_grams")) or change[1].table.name not in metadata.tables


def test_the_demo_network_and_users(backend: Backend) -> None:
    with Session(backend.engine) as session:
        before = (len(session.exec(select(OrgUnit)).all()), len(session.exec(select(User)).all()))
        seed.demo(session)  # again: nothing changes (other tests may have added units)
        units = session.exec(select(OrgUnit)).all()
        users = session.exec(select(User).order_by(col(User.username))).all()
        assert (len(units), len(users)) == before
        by_name = {u.name: u for u in units}
        root = by_name["湖南省总工会"]
        assert (root.level, root.parent_id, root.region_code) == (OrgLevel.PROVINCE, None, "430000")
        for name, region, code in seed.CITIES:
            city = by_name[name]
            assert (city.level, city.parent_id, city.region_name, city.region_code) == (
                OrgLevel.CITY,
                root.id,
                region,
                code,
            )
        loudi = by_name["娄底市总工会"]
        for name, _, _ in seed.LOUDI_COUNTIES:
            county = by_name[name]
            assert (county.level, county.parent_id) == (OrgLevel.COUNTY, loudi.id)
            assert county.path.startswith(loudi.path)
        town = by_name["荷叶镇工会服务站"]
        assert (town.level, town.parent_id) == (OrgLevel.TOWN, by_name["双峰县总工会"].id)
        demo = {u.username: u for u in users if u.username in {d.username for d in seed.DEMO_USERS}}
        assert sorted(u.role for u in demo.values()) == sorted(Role)
        handler = demo["handler"]
        assert handler.org_unit_id == backend.units["双峰县总工会"]
        assert handler.password_hash.startswith("$argon2id$")
        assert verify_password("demo-handler-12351", handler.password_hash)
