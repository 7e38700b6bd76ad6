"""Org units, users, API tokens, work orders with their timeline and numbering, audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Written out in plain SQLAlchemy types rather than the models' own, so that this revision keeps
meaning the same schema when the models move on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLE = sa.String(10)
STATUS = sa.String(12)


def _ts(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _str(name: str, length: int, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.String(length), nullable=nullable)


def _fk(column: str, table: str, referred: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{referred}.id"], name=f"fk_{table}_{column}_{referred}"
    )


def _index(table: str, *columns: str, name: str | None = None, **kw: Any) -> None:
    op.create_index(name or f"ix_{table}_{'_'.join(columns)}", table, list(columns), **kw)


def upgrade() -> None:
    _order_sequence()
    _org_unit()
    _user()
    _api_token()
    _audit_log()
    _work_order()
    _work_order_event()


def _order_sequence() -> None:
    op.create_table(
        "order_sequence",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", name="pk_order_sequence"),
    )


def _org_unit() -> None:
    op.create_table(
        "org_unit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        _str("name", 100),
        _str("level", 8),
        _str("region_name", 50),
        _str("region_code", 12, nullable=True),
        _str("path", 255),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_org_unit"),
        _fk("parent_id", "org_unit", "org_unit"),
        sa.UniqueConstraint("parent_id", "name", name="uq_org_unit_parent_id_name"),
    )
    _index("org_unit", "parent_id")
    _index("org_unit", "path", postgresql_ops={"path": "varchar_pattern_ops"})


def _user() -> None:
    op.create_table(
        "user",
        sa.Column("id", sa.Integer(), nullable=False),
        _str("username", 32),
        _str("display_name", 64),
        sa.Column("role", ROLE, nullable=False),
        sa.Column("org_unit_id", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        _str("password_hash", 255),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_user"),
        _fk("org_unit_id", "user", "org_unit"),
        sa.UniqueConstraint("username", name="uq_user_username"),
    )
    _index("user", "org_unit_id")


def _api_token() -> None:
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        _str("token_hash", 64),
        _ts("created_at"),
        _ts("expires_at"),
        _ts("revoked_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_token"),
        _fk("user_id", "api_token", "user"),
        sa.UniqueConstraint("token_hash", name="uq_api_token_token_hash"),
    )
    _index("api_token", "user_id")


def _audit_log() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        _ts("at"),
        sa.Column("user_id", sa.Integer(), nullable=True),
        _str("action", 23),
        _str("object_type", 32),
        _str("object_id", 64),
        _str("ip", 64),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
        _fk("user_id", "audit_log", "user"),
    )
    _index("audit_log", "at")
    _index("audit_log", "user_id")


def _work_order() -> None:
    op.create_table(
        "work_order",
        sa.Column("id", sa.Integer(), nullable=False),
        _str("number", 16),
        _str("call_id", 128, nullable=True),
        _str("channel", 5),
        _str("caller_name", 50),
        _str("caller_phone", 32),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("confidential", sa.Boolean(), nullable=False),
        _str("employer_name", 200),
        _str("employer_credit_code", 18),
        _str("category", 19),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("transcript", sa.Text(), nullable=False),
        sa.Column("status", STATUS, nullable=False),
        sa.Column("org_unit_id", sa.Integer(), nullable=True),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        _ts("urgent_since", nullable=True),
        _ts("dispatched_at", nullable=True),
        _ts("sign_due", nullable=True),
        _ts("reply_due", nullable=True),
        _ts("return_due", nullable=True),
        sa.Column("extension_pending_days", sa.Integer(), nullable=False),
        _str("extension_pending_reason", 2000),
        sa.Column("extension_approved_days", sa.Integer(), nullable=False),
        sa.Column("supervised", sa.Boolean(), nullable=False),
        sa.Column("remind_count", sa.Integer(), nullable=False),
        sa.Column("reopen_count", sa.Integer(), nullable=False),
        sa.Column("satisfaction", sa.Integer(), nullable=True),
        _str("outcome", 23, nullable=True),
        sa.Column("wages_recovered_fen", sa.BigInteger(), nullable=True),
        _ts("created_at"),
        _ts("updated_at"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_work_order"),
        _fk("org_unit_id", "work_order", "org_unit"),
        _fk("assignee_id", "work_order", "user"),
        _fk("created_by_id", "work_order", "user"),
        sa.UniqueConstraint("number", name="uq_work_order_number"),
        # NULLs never collide, so orders typed in without a call are unaffected.
        sa.UniqueConstraint("call_id", name="uq_work_order_call_id"),
    )
    for column in ("status", "org_unit_id", "category", "assignee_id"):
        _index("work_order", column)
    # The list's keyset order; it also serves created_at date-range filters.
    _index("work_order", "created_at", "id")
    # Linking a caller's and an employer's earlier orders.
    for column in ("caller_phone", "employer_name", "employer_credit_code"):
        _index("work_order", column)


def _work_order_event() -> None:
    op.create_table(
        "work_order_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_order_id", sa.Integer(), nullable=False),
        _ts("at"),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        _str("actor_name", 64),
        sa.Column("actor_role", ROLE, nullable=True),
        _str("action", 32),
        sa.Column("from_status", STATUS, nullable=True),
        sa.Column("to_status", STATUS, nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_work_order_event"),
        _fk("work_order_id", "work_order_event", "work_order"),
        _fk("actor_id", "work_order_event", "user"),
    )
    _index("work_order_event", "work_order_id")


def downgrade() -> None:
    for table in (
        "work_order_event",
        "work_order",
        "audit_log",
        "api_token",
        "user",
        "org_unit",
        "order_sequence",
    ):
        op.drop_table(table)
