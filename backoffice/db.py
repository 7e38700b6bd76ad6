"""The back office's database: its schema is Alembic's, upgraded from code or the CLI."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Its own version table: the IVR's tables share the database and may get migrations of their own.
VERSION_TABLE = "alembic_version_backoffice"


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration without an ini file; env.py reads the URL from settings."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def upgrade(target: Engine | str, revision: str = "head") -> None:
    """Run ``alembic upgrade`` on an engine or a database URL (idempotent)."""
    engine = create_engine(target, poolclass=NullPool) if isinstance(target, str) else target
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), revision)
    finally:
        if isinstance(target, str):
            engine.dispose()


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        return context.get_current_revision()
