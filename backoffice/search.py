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
- PostgreSQL: each term is one condition on the order's own row, an OR of LIKE (ILIKE for
  letters with case) over the expressions that revision 0007 indexed with pg_trgm (GIN), or
  of revision 0011's gram arrays with the LIKE beside them; the planner picks the indexes for
  a rare term and reads the newest orders for a common one. Orders found only through their
  call's transcript come from a second statement, and the two pages are merged.

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

from sqlalchemy import ColumnElement, Text, and_, false, func, literal, literal_column, not_, or_
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql import TableClause, column, table
from sqlmodel import Session, col

from backoffice import identifiers, textgrams
from backoffice.access import CENTRE_ROLES, Viewer
from backoffice.domain.lifecycle import Role
from backoffice.domain.numbering import format_number, parse_number
from backoffice.errors import Invalid
from backoffice.models import CallTranscript, User, WorkOrder
from backoffice.services import order_lists

MAX_QUERY = 200  # characters; longer is nobody's search, and each term costs an index probe
MAX_TERMS = 8
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
# What an order number (GH and digits) or a caller's number (+ and digits) can hold: a term
# with any other character is not looked for in them.
_NUMBERISH = re.compile(r"[0-9A-Za-z+]+")
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
    # PostgreSQL: the orders that match only through their call's transcript, asked for in a
    # statement of their own: beside the order's own row in one OR, the transcripts' subquery
    # kept the planner from every index (None: no term can be in a transcript).
    by_call: list[ColumnElement[bool]] | None = None


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
    if session.get_bind().dialect.name != "sqlite":
        return _postgresql_plan(query, masked)
    long = [t for t in query.terms if len(t) >= TRIGRAM]
    if not long:
        if not all(textgrams.eligible(t) for t in query.terms):
            # A short term no index holds (`A-`): tested row by row, newest first, the page
            # ends at its 21st match.
            return Plan(
                [and_(*(_viewed(t, masked, _scanned) for t in query.terms))], joins_fts=True
            )
        return _short_sqlite(query, masked)
    if not isinstance(masked, bool):
        return Plan([and_(*(_viewed(t, masked, _sqlite) for t in query.terms))])
    specs = [_spec(t, _searched(t, masked)) for t in long]
    short = [t for t in query.terms if len(t) < TRIGRAM]
    return Plan([_viewed(t, masked, _scanned) for t in short], " AND ".join(specs))


def _short_sqlite(query: SearchQuery, masked: bool | ColumnElement[bool]) -> Plan:
    """Grams only: terms of one or two letters or digits (工伤, 欠薪: most Chinese words)."""
    if isinstance(masked, bool):
        # The gram table hands over matches newest first: a page reads a page of matches.
        specs = [_gram_spec(t, _searched(t, masked)) for t in query.terms]
        return Plan([], " AND ".join(specs), fts_table=GRAMS)
    # A handler or lawyer (numbers masked on anonymous orders only): tested row by row on
    # their own orders, newest first, the page ends at its 21st match.
    return Plan([and_(*(_viewed(t, masked, _scanned) for t in query.terms))], joins_fts=True)


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


def _scanned(term: str, columns: tuple[str, ...]) -> ColumnElement[bool]:
    """SQLite: ``term`` in one of ``columns`` of the row at hand, a filter, not a set of
    matches (the text table's own copy, joined by the caller)."""
    pattern = like_pattern(term)
    return or_(*(FTS.c[name].like(pattern, escape="\\") for name in columns))


def _postgresql_plan(query: SearchQuery, masked: bool | ColumnElement[bool]) -> Plan:
    """Each term one condition on the order's own row, which the planner serves from the
    trigram or gram indexes (a rare term) or by reading the newest orders (a common one);
    an `id IN (… UNION …)` per term made it collect and sort every match of a common word
    (78 ms for a word in 5 % of 1M orders, against 2.4 ms)."""
    own = [_viewed(t, masked, _own_row) for t in query.terms]
    spoken = [t for t in query.terms if masked is not True or "call_text" in _guarded(t)]
    if not spoken:
        return Plan(own)
    either = [or_(o, _viewed(t, masked, _spoken)) for t, o in zip(query.terms, own, strict=True)]
    said = or_(*(_holds(t, col(CallTranscript.text)) for t in spoken))
    calls = col(WorkOrder.call_id).in_(sa_select(col(CallTranscript.call_id)).where(said))
    return Plan(own, by_call=[*either, calls])


def _viewed(
    term: str,
    masked: bool | ColumnElement[bool],
    build: Callable[[str, tuple[str, ...]], ColumnElement[bool]],
) -> ColumnElement[bool]:
    """``build``'s condition for ``term`` over the columns the viewer may search it in."""
    if masked is False:
        return build(term, ALL_COLUMNS)
    guarded = build(term, _guarded(term))
    if masked is True:
        return guarded
    return or_(and_(masked, guarded), and_(not_(masked), build(term, ALL_COLUMNS)))


def _own_row(term: str, columns: tuple[str, ...]) -> ColumnElement[bool]:
    """PostgreSQL: the order's own columns hold ``term``: one OR the planner can serve
    from an index per column (a BitmapOr) or test on each order it reads."""
    phone = whole_phone(term)
    if phone is not None:
        # The caller's number is stored whole, so the number's own index finds it (0.6 ms
        # against 2.4 for its trigrams), and no order number holds a whole phone number.
        columns = tuple(c for c in columns if c != "number")
    elif not _NUMBERISH.fullmatch(term):
        columns = tuple(c for c in columns if c not in ("number", "phone"))
    held = []
    if "number" in columns:
        held.append(_holds(term, col(WorkOrder.number)))
    if "phone" in columns and phone is not None:
        held.append(col(WorkOrder.caller_phone) == phone)
    elif "phone" in columns:
        held.append(_holds(term, col(WorkOrder.caller_phone)))
    if "body" in columns:
        held.append(_holds(term, literal_column(PG_TEXT, Text)))
    return or_(false(), *held)


def whole_phone(term: str) -> str | None:
    """``term`` if it is a whole mainland number written as the hotline stores one
    (13873801234, 07388251234: `identifiers.normalize_phone`), else None."""
    if not term.isdigit():
        return None
    try:
        stored = identifiers.valid_phone(term)
    except ValueError:
        return None
    return term if stored == term else None


def _spoken(term: str, columns: tuple[str, ...]) -> ColumnElement[bool]:
    """PostgreSQL: the order's call has a transcript holding ``term``."""
    if "call_text" not in columns:
        return false()
    calls = sa_select(col(CallTranscript.call_id)).where(_holds(term, col(CallTranscript.text)))
    return col(WorkOrder.call_id).in_(calls)


def _holds(term: str, text: Any) -> ColumnElement[bool]:
    """PostgreSQL: ``text`` holds ``term``. The LIKE is what decides; beside a short term it
    is the cheap test of each row read, and revision 0011's gram array (computing it costs
    about 50 us a row) is there for its GIN index: the planner orders a row's tests by cost."""
    like = _containing(term)(text)
    if len(term) >= TRIGRAM or not textgrams.eligible(term):
        return like
    wanted = literal([term.lower()], ARRAY(Text))
    grams: ColumnElement[Any] = func.hotline_grams(text, type_=ARRAY(Text))
    return and_(grams.contains(wanted), like)


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
