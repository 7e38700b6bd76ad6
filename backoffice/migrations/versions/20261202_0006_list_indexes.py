"""Keyset indexes per list filter: (status | org_unit_id | assignee_id, created_at, id).

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-02

A list filtered by status, org unit or assignee, newest first, walked the (created_at, id)
index and skipped every order that did not match: fine for common statuses, but a rare one
(reopened, 1 % of a million orders) read thousands of rows per page, and a filter matching
nothing read the whole table (3 s on SQLite). With the filter column in front of the keyset
columns each page is one index range, however rare the value. The single-column indexes they
replace are their prefixes, so equality lookups (and the foreign keys) are still served.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FILTERS = ("status", "org_unit_id", "assignee_id")


def upgrade() -> None:
    for column in FILTERS:
        op.create_index(
            f"ix_work_order_{column}_created_at_id", "work_order", [column, "created_at", "id"]
        )
        op.drop_index(f"ix_work_order_{column}", table_name="work_order")


def downgrade() -> None:
    for column in FILTERS:
        op.create_index(f"ix_work_order_{column}", "work_order", [column])
        op.drop_index(f"ix_work_order_{column}_created_at_id", table_name="work_order")
