"""call_stat: each finished call's queue, seat, wait and talk, for the reports.

Revision ID: 0100
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0100"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "call_stat",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(128), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("queue", sa.String(64), nullable=True),
        sa.Column("agent", sa.String(64), nullable=True),
        sa.Column("answered", sa.Boolean(), nullable=False),
        sa.Column("abandoned", sa.Boolean(), nullable=False),
        sa.Column("wait_s", sa.Float(), nullable=True),
        sa.Column("talk_s", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_call_stat"),
        sa.UniqueConstraint("call_id", name="uq_call_stat_call_id"),
    )
    op.create_index("ix_call_stat_started_at", "call_stat", ["started_at"])


def downgrade() -> None:
    op.drop_index("ix_call_stat_started_at", table_name="call_stat")
    op.drop_table("call_stat")
