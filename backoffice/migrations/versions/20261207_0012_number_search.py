"""SQLite: the numbers in a trigram table of their own, apart from the words.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07

Revision 0007 indexed the order number, the caller's number and the order's words in one FTS5
table. Every order's number and phone filled its digit trigrams, so a number looked for in
the words (a caller's number quoted in a summary) read doclists of hundreds of thousands of
orders: 6-27 ms a search on 1M orders. Now:

- `work_order_search` (rowid = work_order.id): `body` (caller name, employer name and credit
  code, summary, the order's transcript) and `call_text` (the call's stored transcript), the
  trigram tokenizer, triggers as in revision 0007;
- `work_order_numbers` (rowid = work_order.id): `number` and `phone`, the trigram tokenizer,
  kept by triggers on the two columns.

Both are filled from the rows that exist. PostgreSQL has an index per column already: nothing
to do there. The SQL is written out here, as in revision 0007, so that this revision keeps
meaning the same schema when the search code moves on.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BODY = (
    "{o}.caller_name || char(10) || {o}.employer_name || char(10) || {o}.employer_credit_code"
    " || char(10) || {o}.summary || char(10) || {o}.transcript"
)
CALL_TEXT = "coalesce((SELECT text FROM call_transcript WHERE call_id = {o}.call_id), '')"
WORDS_WATCHED = "caller_name, employer_name, employer_credit_code, summary, transcript, call_id"
OLD_WATCHED = f"number, caller_phone, {WORDS_WATCHED}"
OLD_TRIGGERS = (
    "work_order_search_ai",
    "work_order_search_au",
    "work_order_search_ad",
    "call_transcript_search_ai",
    "call_transcript_search_au",
    "call_transcript_search_ad",
)
NUMBER_TRIGGERS = ("work_order_numbers_ai", "work_order_numbers_au", "work_order_numbers_ad")


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    _drop_words()
    _words_table("body, call_text", f"{BODY}, {CALL_TEXT}", WORDS_WATCHED)
    op.execute(
        "CREATE VIRTUAL TABLE work_order_numbers USING fts5(number, phone, tokenize = 'trigram')"
    )
    insert_new = (
        "INSERT INTO work_order_numbers (rowid, number, phone)"
        " VALUES (new.id, new.number, new.caller_phone);"
    )
    drop_old = "DELETE FROM work_order_numbers WHERE rowid = old.id;"
    op.execute(
        f"CREATE TRIGGER work_order_numbers_ai AFTER INSERT ON work_order BEGIN {insert_new} END"
    )
    op.execute(
        "CREATE TRIGGER work_order_numbers_au AFTER UPDATE OF number, caller_phone ON work_order"
        f" BEGIN {drop_old} {insert_new} END"
    )
    op.execute(
        f"CREATE TRIGGER work_order_numbers_ad AFTER DELETE ON work_order BEGIN {drop_old} END"
    )
    op.execute(
        "INSERT INTO work_order_numbers (rowid, number, phone)"
        " SELECT id, number, caller_phone FROM work_order"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for trigger in NUMBER_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS work_order_numbers")
    _drop_words()
    _words_table(
        "number, phone, body, call_text",
        f"{{o}}.number, {{o}}.caller_phone, {BODY}, {CALL_TEXT}",
        OLD_WATCHED,
    )


def _drop_words() -> None:
    for trigger in OLD_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS work_order_search")


def _words_table(columns: str, values: str, watched: str) -> None:
    """`work_order_search` with ``columns`` (rowid = work_order.id), its triggers on both
    tables, and its rows for the orders that exist."""
    op.execute(
        f"CREATE VIRTUAL TABLE work_order_search USING fts5({columns}, tokenize = 'trigram')"
    )
    insert = f"INSERT INTO work_order_search (rowid, {columns}) "
    row = "{o}.id, " + values
    insert_new = f"{insert}SELECT {row.format(o='new')};"
    drop_old = "DELETE FROM work_order_search WHERE rowid = old.id;"
    op.execute(
        f"CREATE TRIGGER work_order_search_ai AFTER INSERT ON work_order BEGIN {insert_new} END"
    )
    op.execute(
        f"CREATE TRIGGER work_order_search_au AFTER UPDATE OF {watched} ON work_order "
        f"BEGIN {drop_old} {insert_new} END"
    )
    op.execute(
        f"CREATE TRIGGER work_order_search_ad AFTER DELETE ON work_order BEGIN {drop_old} END"
    )
    # A transcript stored, rewritten or removed changes what its call's order is found by.
    refresh = (
        "DELETE FROM work_order_search WHERE rowid IN "
        "(SELECT id FROM work_order WHERE call_id = {t}.call_id);"
        f"{insert}SELECT {row.format(o='w')} FROM work_order AS w"
        " WHERE w.call_id = {t}.call_id;"
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
    op.execute(f"{insert}SELECT {row.format(o='w')} FROM work_order AS w")
