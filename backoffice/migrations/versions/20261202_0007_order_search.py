"""Full-text search over work orders: SQLite FTS5 (trigram) kept by triggers, pg_trgm on PostgreSQL.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

What is searched: the order number, the caller's number, and the text of the order (caller
name, employer name and credit code, summary, the order's transcript) together with the
transcript the worker stored for its call (`call_transcript.text`).

- SQLite: an FTS5 table `work_order_search` (rowid = work_order.id) with the trigram
  tokenizer, which indexes every run of three characters: Chinese needs no word segmentation
  and digits match anywhere inside a number. Triggers on both tables keep it in step with
  every insert, update and delete, in the writer's own transaction.
- PostgreSQL: pg_trgm GIN indexes on the number, the caller's number, the order's text (one
  expression, repeated verbatim in `backoffice/search.py`) and the call transcript's text,
  which serve ILIKE '%…%' without reading the table.

The SQL is written out here rather than imported, so that this revision keeps meaning the
same schema when the search code moves on.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0007_admin"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The order's own text, as one indexed expression (PostgreSQL) or FTS column (SQLite).
PG_TEXT = (
    "(caller_name || ' ' || employer_name || ' ' || employer_credit_code || ' ' || summary"
    " || ' ' || transcript)"
)
SQLITE_ROW = (
    "{o}.id, {o}.number, {o}.caller_phone,"
    " {o}.caller_name || char(10) || {o}.employer_name || char(10) || {o}.employer_credit_code"
    " || char(10) || {o}.summary || char(10) || {o}.transcript,"
    " coalesce((SELECT text FROM call_transcript WHERE call_id = {o}.call_id), '')"
)
WATCHED = (
    "number, caller_phone, caller_name, employer_name, employer_credit_code, summary,"
    " transcript, call_id"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _postgresql()
    else:
        _sqlite()


def _postgresql() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, expression in (
        ("ix_work_order_number_trgm", "work_order", "number"),
        ("ix_work_order_caller_phone_trgm", "work_order", "caller_phone"),
        ("ix_work_order_text_trgm", "work_order", PG_TEXT),
        ("ix_call_transcript_text_trgm", "call_transcript", "text"),
    ):
        op.execute(f"CREATE INDEX {name} ON {table} USING gin (({expression}) gin_trgm_ops)")


def _sqlite() -> None:
    op.execute(
        "CREATE VIRTUAL TABLE work_order_search USING fts5("
        "number, phone, body, call_text, tokenize = 'trigram')"
    )
    insert_new = (
        "INSERT INTO work_order_search (rowid, number, phone, body, call_text) "
        f"SELECT {SQLITE_ROW.format(o='new')};"
    )
    drop_old = "DELETE FROM work_order_search WHERE rowid = old.id;"
    op.execute(
        f"CREATE TRIGGER work_order_search_ai AFTER INSERT ON work_order BEGIN {insert_new} END"
    )
    op.execute(
        f"CREATE TRIGGER work_order_search_au AFTER UPDATE OF {WATCHED} ON work_order "
        f"BEGIN {drop_old} {insert_new} END"
    )
    op.execute(
        f"CREATE TRIGGER work_order_search_ad AFTER DELETE ON work_order BEGIN {drop_old} END"
    )
    # A transcript stored, rewritten or removed changes what its call's order is found by.
    refresh = (
        "DELETE FROM work_order_search WHERE rowid IN "
        "(SELECT id FROM work_order WHERE call_id = {t}.call_id);"
        "INSERT INTO work_order_search (rowid, number, phone, body, call_text) "
        f"SELECT {SQLITE_ROW.format(o='w')} FROM work_order AS w WHERE w.call_id = {{t}}.call_id;"
    )
    op.execute(
        "CREATE TRIGGER call_transcript_search_ai AFTER INSERT ON call_transcript "
        f"BEGIN {refresh.format(t='new')} END"
    )
    op.execute(
        "CREATE TRIGGER call_transcript_search_au AFTER UPDATE OF text, call_id ON call_transcript "
        f"BEGIN {refresh.format(t='old')} {refresh.format(t='new')} END"
    )
    op.execute(
        "CREATE TRIGGER call_transcript_search_ad AFTER DELETE ON call_transcript "
        f"BEGIN {refresh.format(t='old')} END"
    )
    # Orders that exist before this revision are indexed once, here.
    op.execute(
        "INSERT INTO work_order_search (rowid, number, phone, body, call_text) "
        f"SELECT {SQLITE_ROW.format(o='w')} FROM work_order AS w"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in (
            "ix_work_order_number_trgm",
            "ix_work_order_caller_phone_trgm",
            "ix_work_order_text_trgm",
            "ix_call_transcript_text_trgm",
        ):
            op.execute(f"DROP INDEX IF EXISTS {name}")
        return
    for trigger in (
        "work_order_search_ai",
        "work_order_search_au",
        "work_order_search_ad",
        "call_transcript_search_ai",
        "call_transcript_search_au",
        "call_transcript_search_ad",
    ):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS work_order_search")
