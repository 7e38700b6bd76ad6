"""Search for one- and two-character words from an index: grams beside the trigrams.

Revision ID: 0011
Revises: 0007
Create Date: 2026-12-03

Trigrams need three characters, and most Chinese words have two (工伤, 欠薪). Until this
revision such a word was a filter tested row by row: fast for a common word, a read of the
whole table for a rare one. Now each searched column is also cut into grams, the two
characters starting at each position and the last character of a run alone
(`backoffice.textgrams`):

- SQLite: an FTS5 table `work_order_grams` (rowid = work_order.id, the same four columns as
  `work_order_search`) kept by triggers, like revision 0007's; they call the SQL function
  `hotline_grams`, which every connection the product opens registers
  (`backoffice.textgrams.register_sqlite`; this revision registers it on its own
  connection). A connection without it cannot write orders: it fails with "no such function"
  instead of leaving the index behind.
- PostgreSQL: the immutable SQL function `hotline_grams(text) -> text[]` (every character and
  every pair within a word, lower-cased, no whitespace) and GIN indexes of it on the number, the
  caller's number, the order's text (revision 0007's expression) and the call transcript.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from backoffice.textgrams import register_sqlite

revision: str = "0011"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PG_TEXT = (
    "(caller_name || ' ' || employer_name || ' ' || employer_credit_code || ' ' || summary"
    " || ' ' || transcript)"
)
# Every pair within a whitespace-separated word, and every character: built from arrays
# (regexp splits, no DISTINCT, since GIN drops repeated keys itself), ten times faster than
# cutting with substr over generate_series and sorting, which took 0.4 ms an order.
PG_FUNCTION = """
CREATE OR REPLACE FUNCTION hotline_grams(t text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT array(
        SELECT substr(w, i, 2)
        FROM regexp_split_to_table(lower(t), '[[:space:]]+') AS w,
            generate_series(1, char_length(w) - 1) AS i
        UNION ALL
        SELECT unnest(regexp_split_to_array(regexp_replace(lower(t), '[[:space:]]+', '', 'g'), ''))
    )
$$
"""
PG_INDEXES = (
    ("ix_work_order_number_grams", "work_order", "number"),
    ("ix_work_order_caller_phone_grams", "work_order", "caller_phone"),
    ("ix_work_order_text_grams", "work_order", PG_TEXT),
    ("ix_call_transcript_text_grams", "call_transcript", "text"),
)
SQLITE_ROW = (
    "{o}.id, hotline_grams({o}.number), hotline_grams({o}.caller_phone),"
    " hotline_grams({o}.caller_name || char(10) || {o}.employer_name || char(10)"
    " || {o}.employer_credit_code || char(10) || {o}.summary || char(10) || {o}.transcript),"
    " hotline_grams(coalesce((SELECT text FROM call_transcript WHERE call_id = {o}.call_id), ''))"
)
WATCHED = (
    "number, caller_phone, caller_name, employer_name, employer_credit_code, summary,"
    " transcript, call_id"
)
INSERT = "INSERT INTO work_order_grams (rowid, number, phone, body, call_text) "
TRIGGERS = (
    "work_order_grams_ai",
    "work_order_grams_au",
    "work_order_grams_ad",
    "call_transcript_grams_ai",
    "call_transcript_grams_au",
    "call_transcript_grams_ad",
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        for name, table, expression in PG_INDEXES:
            op.execute(f"CREATE INDEX {name} ON {table} USING gin (hotline_grams({expression}))")
        return
    register_sqlite(op.get_bind().connection.dbapi_connection)  # type: ignore[arg-type]
    _sqlite()


def _sqlite() -> None:
    # The grams are separated by spaces and hold only letters and digits, so unicode61 cuts
    # exactly there; diacritics are kept, as the LIKE this replaces kept them.
    op.execute(
        "CREATE VIRTUAL TABLE work_order_grams USING fts5(number, phone, body, call_text,"
        " tokenize = 'unicode61 remove_diacritics 0', detail = 'column')"
    )
    insert_new = f"{INSERT}SELECT {SQLITE_ROW.format(o='new')};"
    drop_old = "DELETE FROM work_order_grams WHERE rowid = old.id;"
    op.execute(
        f"CREATE TRIGGER work_order_grams_ai AFTER INSERT ON work_order BEGIN {insert_new} END"
    )
    op.execute(
        f"CREATE TRIGGER work_order_grams_au AFTER UPDATE OF {WATCHED} ON work_order "
        f"BEGIN {drop_old} {insert_new} END"
    )
    op.execute(
        f"CREATE TRIGGER work_order_grams_ad AFTER DELETE ON work_order BEGIN {drop_old} END"
    )
    refresh = (
        "DELETE FROM work_order_grams WHERE rowid IN "
        "(SELECT id FROM work_order WHERE call_id = {t}.call_id);"
        f"{INSERT}SELECT {SQLITE_ROW.format(o='w')} FROM work_order AS w"
        " WHERE w.call_id = {t}.call_id;"
    )
    op.execute(
        "CREATE TRIGGER call_transcript_grams_ai AFTER INSERT ON call_transcript "
        f"BEGIN {refresh.format(t='new')} END"
    )
    op.execute(
        "CREATE TRIGGER call_transcript_grams_au AFTER UPDATE OF text, call_id ON call_transcript "
        f"BEGIN {refresh.format(t='old')} {refresh.format(t='new')} END"
    )
    op.execute(
        "CREATE TRIGGER call_transcript_grams_ad AFTER DELETE ON call_transcript "
        f"BEGIN {refresh.format(t='old')} END"
    )
    op.execute(f"{INSERT}SELECT {SQLITE_ROW.format(o='w')} FROM work_order AS w")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, _table, _expression in PG_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
        op.execute("DROP FUNCTION IF EXISTS hotline_grams(text)")
        return
    for trigger in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS work_order_grams")
