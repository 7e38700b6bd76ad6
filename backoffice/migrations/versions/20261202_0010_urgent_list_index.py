"""The pages' list order: urgent orders first, then newest, as one index range.

Revision ID: 0010
Revises: 0006
Create Date: 2026-12-02

The order pages list urgent orders (急事急办) before the others, keyset on (urgent, created_at,
id). Without an index in that order the database sorts every visible order for each page;
with it a page is one index range, as the plain newest-first list is.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_work_order_urgent_created_at_id"


def upgrade() -> None:
    op.create_index(NAME, "work_order", ["urgent", "created_at", "id"])


def downgrade() -> None:
    op.drop_index(NAME, table_name="work_order")
