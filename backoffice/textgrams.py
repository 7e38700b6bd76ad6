"""One- and two-character grams: the search index for words too short for trigrams.

Most Chinese words are two characters (工伤, 欠薪, 工资) and a trigram index cannot serve them.
SQLite keeps a second FTS5 table whose text is each column cut into the grams below (revision
0011's triggers call `hotline_grams`, registered on every connection by `register_sqlite`);
PostgreSQL indexes the same grams, computed by a SQL function, with GIN.

A term of one or two letters or digits (`eligible`) is then an index lookup: two characters
are one gram; one character is a prefix, since every character of a run starts a gram.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

SQLITE_FUNCTION = "hotline_grams"
MAX_GRAM = 2


def eligible(term: str) -> bool:
    """Whether the gram index answers ``term``: one or two letters or digits."""
    return 0 < len(term) <= MAX_GRAM and term.isalnum()


def grams(text: str | None) -> str:
    """The text's grams, space-separated, each once: what SQLite's gram table indexes.

    Each run of letters and digits (lower-cased) gives, for every character, the two
    characters starting there; the run's last character stands alone. So "拖欠工资!" is
    "拖欠 欠工 工资 资".
    """
    if not text:
        return ""
    return " ".join(dict.fromkeys(_grams(text.lower())))


def _grams(text: str) -> Iterator[str]:
    run: list[str] = []
    for char in (*text, " "):
        if char.isalnum():
            run.append(char)
            continue
        for start in range(len(run)):
            yield "".join(run[start : start + MAX_GRAM])
        run.clear()


def fts_query(term: str) -> str:
    """The gram table's FTS5 query for an eligible term (quoted: nothing is an operator)."""
    quoted = '"' + term.lower() + '"'
    return quoted if len(term) == MAX_GRAM else quoted + " *"


def register_sqlite(dbapi_connection: sqlite3.Connection) -> None:
    """Make `hotline_grams` callable on this connection: the gram triggers need it to write."""
    dbapi_connection.create_function(SQLITE_FUNCTION, 1, grams, deterministic=True)
