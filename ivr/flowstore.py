"""Published flow versions in the database, and the per-call cache of the active one.

The caller validates a flow before publishing it; this module only stores versions, keeps
exactly one active per flow (a partial unique index enforces it) and hands the FastAGI server
the parsed active flow cheaply.
"""

from __future__ import annotations

import hashlib
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

from sqlalchemy import Column, DateTime, Index, Text, UniqueConstraint, func, update
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, Session, SQLModel, col, select, text

from hotline.errors import HotlineError

log = logging.getLogger(__name__)

T = TypeVar("T")

PUBLISH_ATTEMPTS = 8
# PostgreSQL serialization failure and deadlock: the transaction is safe to run again.
_RETRY_SQLSTATES = frozenset({"40001", "40P01"})
DEFAULT_CHECK_INTERVAL_MS = 500


class FlowStoreError(HotlineError):
    """A publish or rollback request that can't be carried out as asked."""


class FlowVersionNotFound(FlowStoreError):
    """The flow has no such version."""


class NoActiveFlow(FlowStoreError):
    """The flow was never published (or has no active version)."""


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on every backend; SQLite would otherwise hand back naive values."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; pass an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class FlowVersion(SQLModel, table=True):
    __tablename__ = "flow_version"
    __table_args__ = (
        UniqueConstraint("flow_id", "version", name="uq_flow_version_flow_id_version"),
        # At most one active version per flow, and the index the per-call check reads.
        Index(
            "uq_flow_version_active",
            "flow_id",
            unique=True,
            sqlite_where=text("is_active = 1"),
            postgresql_where=text("is_active"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    flow_id: str = Field(index=True, max_length=64)
    version: int
    yaml: str = Field(sa_column=Column(Text, nullable=False))
    sha256: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    published_by: str = Field(max_length=128)
    is_active: bool = False


def publish(engine: Engine, flow_id: str, yaml_text: str, published_by: str) -> FlowVersion:
    """Store yaml_text as the flow's next version and make it the active one."""
    if not yaml_text.strip():
        raise FlowStoreError(f"flow {flow_id!r}: the YAML is empty; nothing to publish")
    if not flow_id.strip() or not published_by.strip():
        raise FlowStoreError("publish needs a flow id and the name of who publishes it")
    digest = hashlib.sha256(yaml_text.encode("utf-8")).hexdigest()
    for attempt in range(PUBLISH_ATTEMPTS):
        try:
            return _publish_once(engine, flow_id, yaml_text, digest, published_by)
        except DBAPIError as exc:
            # Another publisher took the same version number (or PostgreSQL broke a deadlock
            # between us); read the new max and retry.
            if not _retryable(exc) or attempt == PUBLISH_ATTEMPTS - 1:
                raise
            time.sleep(random.uniform(0.005, 0.05) * (attempt + 1))
    raise AssertionError("unreachable")


def activate(engine: Engine, flow_id: str, version: int) -> FlowVersion:
    """Make an existing version the active one (a rollback or roll-forward)."""
    with Session(engine, expire_on_commit=False) as session:
        _lock_flow(session, flow_id)
        _deactivate(session, flow_id)  # first: on SQLite this takes the write lock
        row = _get(session, flow_id, version)
        session.execute(
            update(FlowVersion).where(col(FlowVersion.id) == row.id).values(is_active=True)
        )
        session.commit()
        session.refresh(row)
        return row


def active(engine: Engine, flow_id: str) -> FlowVersion | None:
    with Session(engine, expire_on_commit=False) as session:
        query = select(FlowVersion).where(
            FlowVersion.flow_id == flow_id, col(FlowVersion.is_active)
        )
        return session.exec(query).first()


def versions(engine: Engine, flow_id: str) -> list[FlowVersion]:
    """Every stored version of the flow, oldest first."""
    with Session(engine, expire_on_commit=False) as session:
        query = (
            select(FlowVersion)
            .where(FlowVersion.flow_id == flow_id)
            .order_by(col(FlowVersion.version))
        )
        return list(session.exec(query).all())


def get(engine: Engine, flow_id: str, version: int) -> FlowVersion:
    with Session(engine, expire_on_commit=False) as session:
        return _get(session, flow_id, version)


def active_version(engine: Engine, flow_id: str) -> int | None:
    """The active version number only: the tiny indexed query the per-call check runs."""
    with engine.connect() as conn:
        query = select(FlowVersion.version).where(
            FlowVersion.flow_id == flow_id, col(FlowVersion.is_active)
        )
        value: int | None = conn.execute(query).scalar_one_or_none()
        return value


def _publish_once(
    engine: Engine, flow_id: str, yaml_text: str, digest: str, published_by: str
) -> FlowVersion:
    with Session(engine, expire_on_commit=False) as session:
        _lock_flow(session, flow_id)
        _deactivate(session, flow_id)
        latest = session.exec(
            select(func.max(FlowVersion.version)).where(FlowVersion.flow_id == flow_id)
        ).one()
        row = FlowVersion(
            flow_id=flow_id,
            version=(latest or 0) + 1,
            yaml=yaml_text,
            sha256=digest,
            created_at=datetime.now(UTC),
            published_by=published_by,
            is_active=True,
        )
        session.add(row)
        session.commit()
        return row


def _retryable(exc: DBAPIError) -> bool:
    return isinstance(exc, IntegrityError) or (
        getattr(exc.orig, "sqlstate", None) in _RETRY_SQLSTATES
    )


def _lock_flow(session: Session, flow_id: str) -> None:
    # PostgreSQL: serialize writers of one flow so version numbers rarely collide. SQLite takes
    # its database write lock on the first UPDATE, which _deactivate issues before any read.
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(f"flow:{flow_id}".encode()).digest()[:8], signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _deactivate(session: Session, flow_id: str) -> None:
    session.execute(
        update(FlowVersion)
        .where(col(FlowVersion.flow_id) == flow_id, col(FlowVersion.is_active))
        .values(is_active=False)
    )


def _get(session: Session, flow_id: str, version: int) -> FlowVersion:
    query = select(FlowVersion).where(
        FlowVersion.flow_id == flow_id, FlowVersion.version == version
    )
    row = session.exec(query).first()
    if row is not None:
        return row
    known = session.exec(
        select(FlowVersion.version)
        .where(FlowVersion.flow_id == flow_id)
        .order_by(col(FlowVersion.version))
    ).all()
    choice = ", ".join(map(str, known)) if known else "none; publish it first"
    raise FlowVersionNotFound(f"flow {flow_id!r} has no version {version}; versions: {choice}")


@dataclass(frozen=True)
class LoadedFlow(Generic[T]):
    """A parsed active flow; a call keeps the one it started with."""

    flow_id: str
    version: int
    sha256: str
    flow: T


@dataclass
class _Slot(Generic[T]):
    loaded: LoadedFlow[T]
    checked_at: float


class ActiveFlowCache(Generic[T]):
    """The parsed active flow for each call, checking for a newer one at most every interval.

    Within the interval a call costs a dict lookup; after it, one indexed query for the active
    version number, and a fetch and parse only when that number changed.
    """

    def __init__(
        self,
        engine: Engine,
        parse: Callable[[str], T],
        *,
        check_interval_ms: int = DEFAULT_CHECK_INTERVAL_MS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if check_interval_ms < 0:
            raise ValueError("check_interval_ms must be >= 0")
        self._engine = engine
        self._parse = parse
        self._interval = check_interval_ms / 1000
        self._clock = clock
        self._slots: dict[str, _Slot[T]] = {}
        self._lock = threading.Lock()

    def get(self, flow_id: str) -> LoadedFlow[T]:
        with self._lock:
            now = self._clock()
            slot = self._slots.get(flow_id)
            if slot is not None and self._interval and now - slot.checked_at < self._interval:
                return slot.loaded
            loaded = self._refresh(flow_id, slot)
            self._slots[flow_id] = _Slot(loaded, now)
            return loaded

    def _refresh(self, flow_id: str, slot: _Slot[T] | None) -> LoadedFlow[T]:
        if slot is None:
            return self._fetch(flow_id, None)
        try:
            return self._fetch(flow_id, slot.loaded)
        except Exception as exc:
            # A database blip or an unparsable version must not fail calls while we hold a
            # flow that works; try again after the next interval.
            log.warning("flow %r: keeping version %d: %s", flow_id, slot.loaded.version, exc)
            return slot.loaded

    def _fetch(self, flow_id: str, current: LoadedFlow[T] | None) -> LoadedFlow[T]:
        version = active_version(self._engine, flow_id)
        if version is None:
            raise NoActiveFlow(f"flow {flow_id!r} has no active version; publish it first")
        if current is not None and current.version == version:
            return current
        row = get(self._engine, flow_id, version)
        return LoadedFlow(flow_id, row.version, row.sha256, self._parse(row.yaml))
