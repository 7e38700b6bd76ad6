"""Back-office users, their roles and the bearer tokens they sign in with."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field

from backoffice.domain.lifecycle import Role
from backoffice.models.base import (
    MAX_ID,
    REQUEST_CONFIG,
    BackofficeModel,
    UTCDateTime,
    enum_column,
    utcnow,
)

USERNAME_PATTERN = r"^[a-z][a-z0-9_.-]{1,31}$"


class UserBase(BackofficeModel):
    username: str = Field(max_length=32, schema_extra={"pattern": USERNAME_PATTERN})
    display_name: str = Field(min_length=1, max_length=64)
    role: Role = Field(sa_type=enum_column(Role))
    org_unit_id: int = Field(foreign_key="org_unit.id", index=True, ge=1, le=MAX_ID)
    active: bool = True


class UserCreate(UserBase):
    model_config = REQUEST_CONFIG
    password: str = Field(min_length=10, max_length=128)


class UserUpdate(BackofficeModel):
    model_config = REQUEST_CONFIG
    display_name: str | None = Field(default=None, min_length=1, max_length=64)
    role: Role | None = None
    org_unit_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    active: bool | None = None
    password: str | None = Field(default=None, min_length=10, max_length=128)


class User(UserBase, table=True):
    __tablename__ = "user"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=32, unique=True)
    password_hash: str = Field(max_length=255)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class UserPublic(UserBase):
    id: int
    created_at: datetime


class ApiToken(BackofficeModel, table=True):
    """A bearer token; only its SHA-256 is stored, so a database dump signs nobody in."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class TokenPublic(BackofficeModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime
