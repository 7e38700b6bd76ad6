"""What every back-office table shares: its own metadata, UTC timestamps, enums as text."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, ConfigDict, model_validator
from sqlalchemy import DateTime, Enum, MetaData
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import registry
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

# PostgreSQL's int4 primary keys: a larger id in a URL is a 404, not a database error.
MAX_ID = 2**31 - 1


# Named constraints, so that later migrations can drop and alter them on SQLite as well.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class BackofficeModel(SQLModel, registry=registry(metadata=MetaData(naming_convention=NAMING))):
    """Base of every back-office model.

    The back office's tables live in their own metadata so that Alembic owns exactly them, and
    `hotline.db.create_tables` (which creates the IVR's tables from SQLModel's shared metadata)
    never creates them behind the migrations' back.
    """

    @model_validator(mode="before")
    @classmethod
    def _storable_text(cls, data: Any) -> Any:
        # PostgreSQL text holds neither NUL nor lone surrogates (which JSON can escape in);
        # refusing them here makes them a 422 instead of a 500.
        if isinstance(data, dict):
            for key, value in data.items():
                if isinstance(value, str):
                    _check_text(key, value)
        return data


def _check_text(key: object, value: str) -> None:
    if "\x00" in value:
        raise ValueError(f"{key} must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"{key} is not valid Unicode text") from exc


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on both databases.

    PostgreSQL keeps it as timestamptz; SQLite has no time zones, so it stores naive UTC and
    the zone is put back on the way out. A naive datetime is refused: it is 8 hours off
    somewhere.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} cannot be stored")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def enum_column(enum: type[StrEnum]) -> Any:
    """Store an enum as its value in a VARCHAR: no PostgreSQL ENUM type to migrate later."""
    return Enum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=max(len(m.value) for m in enum),
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


# Request models refuse unknown fields (a typo must not pass silently) and strip text.
REQUEST_CONFIG: Any = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _storable(value: datetime) -> datetime:
    # Far-off years overflow on the way to UTC or out of PostgreSQL's range: a 422, not a 500.
    try:
        utc = value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("date out of range") from exc
    if not 1970 <= utc.year <= 9998:
        raise ValueError("date must be between 1970 and 9998")
    return utc


# A timestamp given in a request: with its zone (a naive one is 8 hours off somewhere).
Moment = Annotated[AwareDatetime, AfterValidator(_storable)]
