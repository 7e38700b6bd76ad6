"""Database engine factory: SQLite by default, PostgreSQL through HOTLINE_DATABASE_URL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, create_engine

from hotline.settings import Settings


def make_engine(settings: Settings) -> Engine:
    if settings.sqlite_path is not None:
        settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        # A busy SQLite answers within its lock timeout or the request gets a 503 (not a
        # 30 s stall that keeps the thread, and every request queued behind it, waiting).
        engine = create_engine(
            settings.database_url,
            connect_args={"check_same_thread": False, "timeout": 10},
            pool_size=10,
            max_overflow=20,
            pool_timeout=5,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        settings.database_url, pool_pre_ping=True, pool_size=10, max_overflow=20, pool_timeout=5
    )


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    # WAL lets the FastAGI server write call records while the web app reads.
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_tables(engine: Engine) -> None:
    """Create every table the imported models declare (idempotent)."""
    SQLModel.metadata.create_all(engine)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    with Session(engine) as session:
        yield session
