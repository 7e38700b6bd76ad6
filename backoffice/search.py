"""Full-text search over work orders, served by the database's own text index.

What a query finds: the order number, the caller's number, the caller's name, the employer
(name and credit code), the summary, the order's transcript and the transcript stored for its
call. Every whitespace-separated term must occur somewhere (AND), as a substring, case-blind.

- SQLite: the FTS5 table `work_order_search` (trigram tokenizer, revision 0007). Each term is
  one quoted FTS5 string, so quotes, `NEAR`, `*`, `AND`/`OR` and `:` are plain text.
- Trigrams need three characters. A term of one or two letters or digits (most Chinese
  words: 工伤, 欠薪) is looked up in the gram index of revision 0011 (`backoffice.textgrams`):
  on SQLite the FTS5 table `work_order_grams`, which drives a query of such terms newest
  first; on PostgreSQL GIN indexes of `hotline_grams(...)`. Beside a longer term, a short one
  is tested on the rows the trigram match hands over. A short term with other characters
  (`A-`) has no index: it is a filter tested row by row, newest first.
- PostgreSQL: ILIKE on the expressions that revision 0007 indexed with pg_trgm (GIN).

Masked numbers stay masked: for an order whose caller's number the viewer sees masked, the
caller's number is not searched at all, and a term holding two digits in a row matches only
the order number (the summary and transcripts may hold numbers the viewer sees as ****).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import ColumnElement, Text, and_, func, literal, literal_column, not_, or_, union
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql import TableClause, column, table
from sqlmodel import Session, col

from backoffice import textgrams
from backoffice.access import CENTRE_ROLES, Viewer
from backoffice.domain.lifecycle import Role
from backoffice.domain.numbering import format_number, parse_number
from backoffice.errors import Invalid
from backoffice.models import CallTranscript, User, WorkOrder
from backoffice.services import order_lists

MAX_QUERY = 200  # characters; longer is nobody's search, and each term costs an index probe
MAX_TERMS = 8
# Newest orders a PostgreSQL search filters before using its indexes: a word in 1 % of the
# orders fills a page there; rarer ones pay the probe (about 2 ms) and go to the indexes.
PROBE_WINDOW = 2_000
TRIGRAM = 3  # shortest term the trigram index can serve
# Two digits in a row may be part of a masked phone number or national ID: such a term finds
# an order whose numbers the viewer sees masked only by its order number.
MASKED_DIGITS = 2

# Must stay the very expression revision 0007 indexed, or PostgreSQL reads the table instead.
PG_TEXT = (
    "(caller_name || ' ' || employer_name || ' ' || employer_credit_code || ' ' || summary"
    " || ' ' || transcript)"
)
FTS_TABLE = "work_order_search"
GRAMS_TABLE = "work_order_grams"
ALL_COLUMNS = ("number", "phone", "body", "call_text")
NUMBER_ONLY = ("number",)
NO_PHONE = ("number", "body", "call_text")

# Unicode categories without case: other letters (Chinese characters), decimal digits.
CASELESS = frozenset({"Lo", "Nd"})
_DIGIT_RUN = re.compile(rf"[0-9]{{{MASKED_DIGITS},}}")
_NUMBER_TERM = re.compile(r"[0-9]{4}")
_PHONE_TERM = re.compile(r"\+?[0-9][0-9\-]*[0-9]")


@dataclass(frozen=True)
class SearchQuery:
    """A query as typed, cut into the terms that must all match."""

    terms: tuple[str, ...]


def parse_query(raw: str) -> SearchQuery | None:
    """The query's terms, None for a blank query; `Invalid` (422) for what no search can mean.

    Full-width characters become their ASCII forms (NFKC: `１３８` is `138`), and a term of
    digits and dashes loses the dashes, since numbers are stored without separators.
    """
    if len(raw) > MAX_QUERY:
        raise Invalid(f"search text is {len(raw)} characters; at most {MAX_QUERY} are allowed")
    text = unicodedata.normalize("NFKC", raw)
    if any(unicodedata.category(ch) in ("Cc", "Cs") and not ch.isspace() for ch in text):
        raise Invalid("search text must not contain control characters")
    terms: list[str] = []
    for word in text.split():
        term = word.replace("-", "") if _PHONE_TERM.fullmatch(word) else word
        if term and term.casefold() not in {t.casefold() for t in terms}:
            terms.append(term)
    if not terms:
        return None
    if len(terms) > MAX_TERMS:
        raise Invalid(f"search has {len(terms)} words; at most {MAX_TERMS} are allowed")
    return SearchQuery(tuple(terms))


def fts_string(term: str) -> str:
    """``term`` as one FTS5 string: inside double quotes nothing is an operator."""
    return '"' + term.replace('"', '""') + '"'


def like_pattern(term: str) -> str:
    """``%term%`` with LIKE's own wildcards escaped (the escape character is a backslash)."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def masked_orders(viewer: Viewer) -> bool | ColumnElement[bool]:
    """Whether ``viewer`` sees callers' numbers masked (`access.masks_number`): always, never,
    or for the orders the returned clause selects (anonymous ones, for handlers and lawyers)."""
    if viewer.role is Role.VIEWER:
        return True
    if viewer.role in CENTRE_ROLES:
        return False
    return col(WorkOrder.anonymous).is_(True)


FTS = table(FTS_TABLE, *(column(name, Text) for name in ("rowid", *ALL_COLUMNS)))
GRAMS = table(GRAMS_TABLE, *(column(name, Text) for name in ("rowid", *ALL_COLUMNS)))


@dataclass(frozen=True)
class Plan:
    """How a search joins the list's query."""

    clauses: list[ColumnElement[bool]]
    # SQLite: an FTS5 MATCH for the table to drive the query in rowid order, newest first,
    # so a page of a common word reads a page of matches instead of every one of them.
    fts_match: str | None = None
    # SQLite: the text table the match (and `joins_fts`) is on: trigrams, or grams for a
    # query of short words only.
    fts_table: TableClause = FTS
    # SQLite: the clauses test the text table's own columns, so it must be joined.
    joins_fts: bool = False
    # PostgreSQL: the same terms as a row filter, tried first on the newest PROBE_WINDOW
    # orders: a common word fills its page there at once, where the trigram indexes would
    # hand over hundreds of thousands of ids to sort; a rare word falls through to them.
    probe: ColumnElement[bool] | None = None


def plan(session: Session, query: SearchQuery, viewer: Viewer) -> Plan:
    numbers = {t: order_number(t) for t in query.terms}
    named = [col(WorkOrder.number) == n for n in numbers.values() if n is not None]
    if not named:
        return _plan(session, query, viewer)
    # A whole order number is the order's name: looked up in the number's own index. As a
    # string of trigrams it matched every order of its day and sequence (42 ms on SQLite
    # with 1M orders, against 0.01 ms), and text that quotes it is not what was asked for.
    rest = tuple(t for t, n in numbers.items() if n is None)
    if not rest:
        return Plan(named)
    found = _plan(session, SearchQuery(rest), viewer)
    return replace(found, clauses=[*named, *found.clauses])


def order_number(term: str) -> str | None:
    """``term`` as the printed order number if it is a whole one (`GH20261123000042`, or
    the 14 digits a caller keys in), else None."""
    try:
        return format_number(*parse_number(term))
    except ValueError:
        return None


def _plan(session: Session, query: SearchQuery, viewer: Viewer) -> Plan:
    masked = masked_orders(viewer)
    dialect = session.get_bind().dialect.name
    long = [t for t in query.terms if len(t) >= TRIGRAM]
    if not long:
        if not all(textgrams.eligible(t) for t in query.terms):
            # A short term no index holds (`A-`): tested row by row, newest first, the page
            # ends at its 21st match.
            terms = (_term(dialect, t, masked, scan=True) for t in query.terms)
            return Plan([and_(*terms)], joins_fts=dialect == "sqlite")
        if dialect == "sqlite":
            return _short_sqlite(query, masked)
    if dialect != "sqlite":
        # Numbers (orders, phones, credit codes) are rare by nature: straight to the indexes.
        numbers = any(_NUMBER_TERM.search(t) for t in query.terms)
        probe = (
            None if numbers else and_(*(_term(dialect, t, masked, scan=True) for t in query.terms))
        )
        return Plan([matching(session, query, viewer)], probe=probe)
    if not isinstance(masked, bool):
        return Plan([matching(session, query, viewer)])
    specs = [_spec(t, _searched(t, masked)) for t in long]
    short = [t for t in query.terms if len(t) < TRIGRAM]
    scanned = [_term("sqlite", t, masked, scan=True) for t in short]
    return Plan(scanned, " AND ".join(specs))


def _short_sqlite(query: SearchQuery, masked: bool | ColumnElement[bool]) -> Plan:
    """Grams only: terms of one or two letters or digits (工伤, 欠薪: most Chinese words)."""
    if isinstance(masked, bool):
        # The gram table hands over matches newest first: a page reads a page of matches.
        specs = [_gram_spec(t, _searched(t, masked)) for t in query.terms]
        return Plan([], " AND ".join(specs), fts_table=GRAMS)
    # A handler or lawyer (numbers masked on anonymous orders only): tested row by row on
    # their own orders, newest first, the page ends at its 21st match.
    terms = (_term("sqlite", t, masked, scan=True) for t in query.terms)
    return Plan([and_(*terms)], joins_fts=True)


def _gram_spec(term: str, columns: tuple[str, ...]) -> str:
    return "({" + " ".join(columns) + "} : " + textgrams.fts_query(term) + ")"


def _searched(term: str, masked: bool) -> tuple[str, ...]:
    """The text table's columns ``term`` is looked up in, for a viewer who sees numbers
    masked on every order or on none."""
    return _guarded(term) if masked else ALL_COLUMNS


def _guarded(term: str) -> tuple[str, ...]:
    return NUMBER_ONLY if _DIGIT_RUN.search(term) else NO_PHONE


def _spec(term: str, columns: tuple[str, ...]) -> str:
    return "({" + " ".join(columns) + "} : " + fts_string(term) + ")"


def matching(session: Session, query: SearchQuery, viewer: Viewer) -> ColumnElement[bool]:
    """The WHERE clause of the orders matching every term of ``query``, as ``viewer`` sees them."""
    dialect = session.get_bind().dialect.name
    masked = masked_orders(viewer)
    return and_(*(_term(dialect, term, masked) for term in query.terms))


def _term(
    dialect: str, term: str, masked: bool | ColumnElement[bool], scan: bool = False
) -> ColumnElement[bool]:
    guarded = _guarded(term)
    if masked is False:
        return _in(dialect, term, ALL_COLUMNS, scan)
    if masked is True:
        return _in(dialect, term, guarded, scan)
    return or_(
        and_(masked, _in(dialect, term, guarded, scan)),
        and_(not_(masked), _in(dialect, term, ALL_COLUMNS, scan)),
    )


def _in(dialect: str, term: str, columns: tuple[str, ...], scan: bool) -> ColumnElement[bool]:
    if scan:
        return _scanned(dialect, term, columns)
    if dialect == "postgresql":
        return _postgresql(term, columns)
    return _sqlite(term, columns)


def _scanned(dialect: str, term: str, columns: tuple[str, ...]) -> ColumnElement[bool]:
    """``term`` in one of ``columns`` of the row at hand: a filter, not a set of matches."""
    pattern = like_pattern(term)
    if dialect == "sqlite":  # the text table's own copy, joined by the caller
        return or_(*(FTS.c[name].like(pattern, escape="\\") for name in columns))
    holds = _containing(term)
    found: list[ColumnElement[bool]] = []
    if "number" in columns:
        found.append(holds(col(WorkOrder.number)))
    if "phone" in columns:
        found.append(holds(col(WorkOrder.caller_phone)))
    if "body" in columns:
        found.append(holds(literal_column(PG_TEXT, Text)))
    if "call_text" in columns:
        found.append(_spoken(term, holds))
    return or_(*found)


def _spoken(term: str, holds: Callable[[Any], ColumnElement[bool]]) -> ColumnElement[bool]:
    """PostgreSQL: the order's call has a transcript holding ``term``, as a row filter."""
    if len(term) >= TRIGRAM:
        # The calls whose transcript holds it, once, through the transcripts' trigram index:
        # a correlated EXISTS looked a transcript up again for every order the probe reads.
        calls = sa_select(col(CallTranscript.call_id)).where(holds(col(CallTranscript.text)))
        return col(WorkOrder.call_id).in_(calls)
    # No trigram: each order read looks at its own call's transcript, not at all of them.
    spoken = sa_select(col(CallTranscript.id)).where(
        col(CallTranscript.call_id) == col(WorkOrder.call_id), holds(col(CallTranscript.text))
    )
    return spoken.exists()


def _containing(term: str) -> Callable[[Any], ColumnElement[bool]]:
    """PostgreSQL: whether a text holds ``term``, case-blind. A term of characters that have
    no case (Chinese, digits) is matched with LIKE: ILIKE lowercases every text it tests,
    which made the newest-orders probe of an employer's name 8x slower (6.0 against 0.7 ms
    on 5,000 orders). The trigram indexes serve both."""
    pattern = like_pattern(term)
    if all(unicodedata.category(ch) in CASELESS for ch in term):
        return lambda text: text.like(pattern, escape="\\")
    return lambda text: text.ilike(pattern, escape="\\")


def fts_matches(expression: str, on: TableClause = FTS) -> ColumnElement[bool]:
    return literal_column(on.name).op("MATCH")(expression)


def _sqlite(term: str, columns: tuple[str, ...]) -> ColumnElement[bool]:
    rowid = FTS.c.rowid
    if len(term) >= TRIGRAM:
        match = fts_matches(_spec(term, columns))
        return col(WorkOrder.id).in_(sa_select(rowid).where(match))
    if textgrams.eligible(term):
        match = fts_matches(_gram_spec(term, columns), GRAMS)
        return col(WorkOrder.id).in_(sa_select(GRAMS.c.rowid).where(match))
    # No index holds it: LIKE over the trigram table's own copy (no join back to the orders).
    pattern = like_pattern(term)
    likes = [FTS.c[name].like(pattern, escape="\\") for name in columns]
    return col(WorkOrder.id).in_(sa_select(rowid).where(or_(*likes)))


def _postgresql(term: str, columns: tuple[str, ...]) -> ColumnElement[bool]:
    # One indexed SELECT per column, united: an OR across them, or with the transcript's
    # subquery, would make PostgreSQL filter the whole table instead of using the indexes.
    if len(term) < TRIGRAM and textgrams.eligible(term):
        return _postgresql_grams(term, columns)
    holds = _containing(term)
    order_id = col(WorkOrder.id)
    parts = []
    if "number" in columns:
        parts.append(sa_select(order_id).where(holds(col(WorkOrder.number))))
    if "phone" in columns:
        parts.append(sa_select(order_id).where(holds(col(WorkOrder.caller_phone))))
    if "body" in columns:
        parts.append(sa_select(order_id).where(holds(literal_column(PG_TEXT, Text))))
    if "call_text" in columns:
        spoken = holds(col(CallTranscript.text))
        parts.append(
            sa_select(order_id)
            .join(CallTranscript, col(CallTranscript.call_id) == col(WorkOrder.call_id))
            .where(spoken)
        )
    united = union(*(part.correlate(None) for part in parts))
    return order_id.in_(sa_select(united.subquery().c.id))


def _postgresql_grams(term: str, columns: tuple[str, ...]) -> ColumnElement[bool]:
    """A short term through revision 0011's GIN indexes of `hotline_grams(...)`."""
    wanted = literal([term.lower()], ARRAY(Text))
    order_id = col(WorkOrder.id)

    def holds(expression: Any) -> ColumnElement[bool]:
        grams: ColumnElement[Any] = func.hotline_grams(expression, type_=ARRAY(Text))
        return grams.contains(wanted)

    parts = []
    if "number" in columns:
        parts.append(sa_select(order_id).where(holds(col(WorkOrder.number))))
    if "phone" in columns:
        parts.append(sa_select(order_id).where(holds(col(WorkOrder.caller_phone))))
    if "body" in columns:
        parts.append(sa_select(order_id).where(holds(literal_column(PG_TEXT, Text))))
    if "call_text" in columns:
        parts.append(
            sa_select(order_id)
            .join(CallTranscript, col(CallTranscript.call_id) == col(WorkOrder.call_id))
            .where(holds(col(CallTranscript.text)))
        )
    united = union(*(part.correlate(None) for part in parts))
    return order_id.in_(sa_select(united.subquery().c.id))


def search_orders(
    session: Session,
    actor: User,
    q: str,
    filters: order_lists.OrderFilters | None = None,
    *,
    limit: int = 20,
    cursor: str | None = None,
) -> order_lists.Page[WorkOrder]:
    """The orders matching ``q`` (and ``filters``) that ``actor`` may see, newest first, a
    keyset page at a time: the list with a search box."""
    base = filters or order_lists.OrderFilters()
    return order_lists.list_orders(session, actor, replace(base, q=q), limit=limit, cursor=cursor)
