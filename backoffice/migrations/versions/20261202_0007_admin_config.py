"""Admin configuration: calendar overrides, the skill catalogue, speech-rule versions.

Revision ID: 0007_admin
Revises: 0006
Create Date: 2026-12-02

The same tables are declared as SQLModel models (hotline/holidays.py, acd/skills.py,
hotline/speech/rulestore.py) and created by the FastAGI server's `create_all` when it starts
first; so each is created here only if it is not there yet. The work-order deadlines read the
overrides, which is why the back office's schema must have them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_admin"
down_revision: str | None = "0100"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _missing(table: str) -> bool:
    return not sa.inspect(op.get_bind()).has_table(table)


def upgrade() -> None:
    if _missing("holiday_override"):
        op.create_table(
            "holiday_override",
            sa.Column("day", sa.Date(), primary_key=True),
            sa.Column("working", sa.Boolean(), nullable=False),
            sa.Column("reason", sa.String(200), nullable=False),
        )
    if _missing("skill_label"):
        op.create_table(
            "skill_label",
            sa.Column("name", sa.String(32), primary_key=True),
            sa.Column("label_zh", sa.String(64), nullable=False),
            sa.Column("label_en", sa.String(64), nullable=False),
        )
    if _missing("speech_rules_version"):
        op.create_table(
            "speech_rules_version",
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("text", sa.String(200_000), nullable=False),
            sa.Column("saved_at", sa.DateTime(), nullable=False),
            sa.Column("saved_by", sa.String(64), nullable=False),
        )


def downgrade() -> None:
    for table in ("speech_rules_version", "skill_label", "holiday_override"):
        op.drop_table(table)
