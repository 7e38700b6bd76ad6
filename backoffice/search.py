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
  a rare term and reads the newest orders for a common one. Of a Chinese term longer than six
  characters the index is asked the first six, and the whole term is tested on what it hands
  over. Orders found only through their call's transcript come from a second statement, and
  the two pages are merged.

Masked numbers stay masked: for an order whose caller's number the viewer sees masked, the
caller's number is not searched at all, and a term holding two digits in a row matches only
the order number (the summary and transcripts may hold numbers the viewer sees as ****).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache, partial
from typing import Any, cast

from sqlalchemy import ColumnElement, Text, and_, bindparam, false, func, literal_column, not_, or_
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
# PostgreSQL: of a longer Chinese term, the characters asked of the trigram index (`_held_long`).
INDEXED_CHARS = 6
# Two digits in a row may be part of a masked phone number or national ID: such a term finds
# an order whose numbers the viewer sees masked only by its order number.
MASKED_DIGITS = 2

# Must stay the very expression revision 0007 indexed, or PostgreSQL reads the table instead.
PG_TEXT = (
    "(caller_name || ' ' || employer_name || ' ' || employer_credit_code || ' ' || summary"
    " || ' ' || transcript)"
)
WORDS_TABLE = "work_order_search"
NUMBERS_TABLE = "work_order_numbers"
GRAMS_TABLE = "work_order_grams"
ALL_COLUMNS = ("number", "phone", "body", "call_text")
NUMBER_COLUMNS = ("number", "phone")
WORD_COLUMNS = ("body", "call_text")
NUMBER_ONLY = ("number",)
NO_PHONE = ("number", "body", "call_text")

# Unicode categories without case: other letters (Chinese characters), decimal digits.
CASELESS = frozenset({"Lo", "Nd"})
_DIGIT_RUN = re.compile(rf"[0-9]{{{MASKED_DIGITS},}}")
# What an order number (GH and digits) or a caller's number (+ and digits) can hold: a term
# with any other character is not looked for in them.
_NUMBERISH = re.compile(r"[0-9A-Za-z+]+")
_PHONE_TERM = re.compile(r"\+?[0-9][0-9\-]*[0-9]")
# A mobile number, or a fixed line with its area code: what no other stored number holds.
_WHOLE_PHONE = re.compile(r"1[3-9][0-9]{9}|0[1-9][0-9]{8,10}")


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


WORDS = table(WORDS_TABLE, *(column(name, Text) for name in ("rowid", *WORD_COLUMNS)))
NUMBERS = table(NUMBERS_TABLE, *(column(name, Text) for name in ("rowid", *NUMBER_COLUMNS)))
GRAMS = table(GRAMS_TABLE, *(column(name, Text) for name in ("rowid", *ALL_COLUMNS)))


@dataclass(frozen=True)
class Plan:
    """One statement of a search: how it joins the list's query."""

    clauses: list[ColumnElement[bool]]
    # SQLite: an FTS5 MATCH on `driver`.
    fts_match: str | None = None
    # SQLite: the text table that drives the query in its rowid order, newest first, so a
    # page of a common word reads a page of matches instead of every one of them (None: the
    # orders' own id orders the page).
    driver: TableClause | None = None
    # SQLite: the clauses test the words table's columns, so it is joined where it does
    # not drive.
    joins_words: bool = False
    # A second statement, whose page is merged with this one's: on SQLite, a number's orders
    # by the numbers table (or the caller-number index) beside those whose words hold it; on
    # PostgreSQL, the orders found through their call's transcript.
    also: Plan | None = None
    # PostgreSQL: the planner may read the newest orders first, believing a term common;
    # `order_lists` stops that read if it runs long and asks the text indexes instead.
    guarded: bool = False
    # PostgreSQL: the plan is built once per shape of query (`_pg_plan`), its terms' values
    # bound apart: `key` names the shape (the statements built on it are kept too), and
    # `params` are this query's values, for every statement of the plan.
    key: Hashable | None = None
    params: Mapping[str, Any] = field(default_factory=dict)


def _narrowed(found: Plan, clauses: list[ColumnElement[bool]]) -> Plan:
    also = _narrowed(found.also, clauses) if found.also is not None else None
    return replace(found, clauses=[*clauses, *found.clauses], also=also)


def plan(session: Session, query: SearchQuery, viewer: Viewer) -> Plan:
    numbers = {t: order_number(t) for t in query.terms}
    if session.get_bind().dialect.name != "sqlite":
        return _postgresql_plan(numbers, viewer)
    named = [col(WorkOrder.number) == n for n in numbers.values() if n is not None]
    if not named:
        return _plan(session, query, viewer)
    # A whole order number is the order's name: looked up in the number's own index. As a
    # string of trigrams it matched every order of its day and sequence (42 ms on SQLite
    # with 1M orders, against 0.01 ms), and text that quotes it is not what was asked for.
    rest = tuple(t for t, n in numbers.items() if n is None)
    if not rest:
        return Plan(named)
    return _narrowed(_plan(session, SearchQuery(rest), viewer), named)


def order_number(term: str) -> str | None:
    """``term`` as the printed order number if it is a whole one (`GH20261123000042`, or
    the 14 digits a caller keys in), else None."""
    try:
        return format_number(*parse_number(term))
    except ValueError:
        return None


def _plan(session: Session, query: SearchQuery, viewer: Viewer) -> Plan:
    masked = masked_orders(viewer)
    if not any(len(t) >= TRIGRAM for t in query.terms):
        return _short_sqlite(query, masked)
    if not isinstance(masked, bool):
        # A handler or lawyer (numbers masked on anonymous orders only): each term's matches
        # as a set, on the few orders they may see.
        return Plan([and_(*(_sqlite_viewed(t, masked, _sqlite) for t in query.terms))])
    columns = {t: _pruned(t, _searched(t, masked)) for t in query.terms}
    if not all(columns.values()):
        return Plan([false()])  # a term the viewer may not look for anywhere
    words = [t for t in query.terms if len(t) >= TRIGRAM and set(columns[t]) <= set(WORD_COLUMNS)]
    if words:
        specs = " AND ".join(_spec(t, columns[t]) for t in words)
        tested = [_scanned(t, columns[t]) for t in query.terms if t not in words]
        return Plan(tested, specs, driver=WORDS)
    # Only terms that may be numbers: the longest drives, from the numbers and the words.
    lead = max((t for t in query.terms if len(t) >= TRIGRAM), key=len)
    tested = [_scanned(t, columns[t]) for t in query.terms if t != lead]
    return _number_plan(lead, columns[lead], tested)


def _number_plan(lead: str, columns: tuple[str, ...], tested: list[ColumnElement[bool]]) -> Plan:
    """SQLite: the orders whose number or caller's number holds ``lead`` (or, a whole phone
    number, whose caller it is) and those whose words hold it: two statements, each newest
    first from its own index. In one table with the words, every order's number and phone
    filled the digit trigrams, so a number quoted in the words read those of every order."""
    numbers = tuple(c for c in columns if c in NUMBER_COLUMNS)
    words = tuple(c for c in columns if c in WORD_COLUMNS)
    phone = whole_phone(lead) if "phone" in numbers else None
    found: list[Plan] = []
    if phone is not None:
        caller = col(WorkOrder.caller_phone) == phone
        found.append(Plan([caller, *tested], joins_words=bool(tested)))
    elif numbers:
        found.append(Plan(tested, _spec(lead, numbers), NUMBERS, joins_words=bool(tested)))
    if words:
        found.append(Plan(tested, _spec(lead, words), WORDS))
    if len(found) == 1:
        return found[0]
    return replace(found[0], also=found[1])


def _short_sqlite(query: SearchQuery, masked: bool | ColumnElement[bool]) -> Plan:
    """Terms of one or two characters (工伤, 欠薪: most Chinese words; `A-`)."""
    if isinstance(masked, bool) and all(textgrams.eligible(t) for t in query.terms):
        # The gram table hands over matches newest first: a page reads a page of matches.
        specs = [_gram_spec(t, _searched(t, masked)) for t in query.terms]
        return Plan([], " AND ".join(specs), GRAMS)
    # A short term no index holds (`A-`), or a handler's or lawyer's words (numbers masked
    # on anonymous orders only): tested on each order read, newest first, the page ends at
    # its 21st match.
    return Plan([and_(*(_sqlite_viewed(t, masked, _scanned) for t in query.terms))], driver=WORDS)


def _gram_spec(term: str, columns: tuple[str, ...]) -> str:
    return "({" + " ".join(columns) + "} : " + textgrams.fts_query(term) + ")"


def _searched(term: str, masked: bool) -> tuple[str, ...]:
    """The text table's columns ``term`` is looked up in, for a viewer who sees numbers
    masked on every order or on none."""
    return _guarded(term) if masked else ALL_COLUMNS


def _guarded(term: str) -> tuple[str, ...]:
    return _guarded_columns(bool(_DIGIT_RUN.search(term)))


def _guarded_columns(digits: bool) -> tuple[str, ...]:
    """Where a viewer who sees numbers masked may look for a term (with two digits in a row,
    or without)."""
    return NUMBER_ONLY if digits else NO_PHONE


def _spec(term: str, columns: tuple[str, ...]) -> str:
    return "({" + " ".join(columns) + "} : " + fts_string(term) + ")"


def _pruned(term: str, columns: tuple[str, ...]) -> tuple[str, ...]:
    """``columns`` less the number and the caller's number if ``term`` cannot be in them."""
    return _pruned_columns(bool(_NUMBERISH.fullmatch(term)), columns)


def _pruned_columns(numberish: bool, columns: tuple[str, ...]) -> tuple[str, ...]:
    return columns if numberish else tuple(c for c in columns if c not in NUMBER_COLUMNS)


def _scanned(term: str, columns: tuple[str, ...]) -> ColumnElement[bool]:
    """SQLite: ``term`` in one of ``columns`` of the row at hand, a filter, not a set of
    matches (the words table's own copy, which the statement joins; numbers hold ASCII
    only, where LIKE folds case as the trigram tokenizer does)."""
    pattern = like_pattern(term)
    return or_(false(), *(_sqlite_column(name).like(pattern, escape="\\") for name in columns))


def _sqlite_column(name: str) -> ColumnElement[Any]:
    if name in NUMBER_COLUMNS:
        stored = WorkOrder.number if name == "number" else WorkOrder.caller_phone
        return cast(ColumnElement[Any], col(stored))
    return WORDS.c[name]


def _viewed(
    masked: bool | ColumnElement[bool],
    digits: bool,
    build: Callable[[tuple[str, ...]], ColumnElement[bool]],
) -> ColumnElement[bool]:
    """``build``'s condition for a term over the columns the viewer may search it in
    (``digits``: the term holds two digits in a row)."""
    if masked is False:
        return build(ALL_COLUMNS)
    guarded = build(_guarded_columns(digits))
    if masked is True:
        return guarded
    return or_(and_(masked, guarded), and_(not_(masked), build(ALL_COLUMNS)))


def _sqlite_viewed(
    term: str,
    masked: bool | ColumnElement[bool],
    build: Callable[[str, tuple[str, ...]], ColumnElement[bool]],
) -> ColumnElement[bool]:
    return _viewed(masked, bool(_DIGIT_RUN.search(term)), partial(build, term))


def _postgresql_plan(numbers: dict[str, str | None], viewer: Viewer) -> Plan:
    """The plan of this query's shape (`_pg_plan`), with its terms' values."""
    words = [t for t, n in numbers.items() if n is None]
    named = [n for n in numbers.values() if n is not None]
    shapes = tuple(_pg_term(t) for t in words)
    params: dict[str, Any] = {f"n{j}": n for j, n in enumerate(named)}
    for i, (term, shape) in enumerate(zip(words, shapes, strict=True)):
        params |= _pg_values(i, term, shape)
    masked = masked_orders(viewer)
    # The plans are kept by the kind of masking: its clause is a new object each time.
    masking = "anonymous" if not isinstance(masked, bool) else "all" if masked else "none"
    return replace(_pg_plan(shapes, len(named), masking), params=params)


@dataclass(frozen=True)
class _PgTerm:
    """What decides a term's condition on PostgreSQL; its values are bound apart."""

    phone: bool  # a whole mainland number: the caller-number index (`whole_phone`)
    numberish: bool  # may be part of an order number or a caller's number
    digits: bool  # two digits in a row: found only in order numbers by masked viewers
    caseless: bool  # LIKE, not ILIKE (`_like`)
    long: bool  # a long Chinese term, cut for the index (`_held_long`)
    grams: bool  # a term of one or two characters with a gram index


def _pg_term(term: str) -> _PgTerm:
    return _PgTerm(
        phone=whole_phone(term) is not None,
        numberish=bool(_NUMBERISH.fullmatch(term)),
        digits=bool(_DIGIT_RUN.search(term)),
        caseless=all(unicodedata.category(ch) in CASELESS for ch in term),
        long=len(term) > INDEXED_CHARS and all(unicodedata.category(ch) == "Lo" for ch in term),
        grams=len(term) < TRIGRAM and textgrams.eligible(term),
    )


def _pg_values(i: int, term: str, shape: _PgTerm) -> dict[str, Any]:
    """The values of term ``i``'s bind parameters, named as `_holds` and `_own_row` name them."""
    values: dict[str, Any] = {}
    if shape.long:
        values[f"q{i}w"] = like_pattern(term[:INDEXED_CHARS])
        values[f"q{i}t"] = term
    else:
        values[f"q{i}"] = like_pattern(term)
    if shape.phone:
        values[f"q{i}p"] = term
    if shape.grams:
        values[f"q{i}g"] = [term.lower()]
    return values


_MASKED: dict[str, bool] = {"all": True, "none": False}


@lru_cache(maxsize=1024)
def _pg_plan(shapes: tuple[_PgTerm, ...], named: int, masking: str) -> Plan:
    """Each term one condition on the order's own row, which the planner serves from the
    trigram or gram indexes (a rare term) or by reading the newest orders (a common one);
    an `id IN (… UNION …)` per term made it collect and sort every match of a common word
    (78 ms for a word in 5 % of 1M orders, against 2.4 ms). Built once per shape: building
    a search's statements, and SQLAlchemy's key for its compiled form, cost more Python
    than the rest of the search."""
    key = ("postgresql", shapes, named, masking)
    names = [col(WorkOrder.number) == bindparam(f"n{j}") for j in range(named)]
    if not shapes:
        return Plan(names, key=key)
    masked = _MASKED.get(masking, col(WorkOrder.anonymous).is_(True))
    own = [_viewed(masked, s.digits, partial(_own_row, i, s)) for i, s in enumerate(shapes)]
    spoken = [
        i
        for i, s in enumerate(shapes)
        if masked is not True or "call_text" in _guarded_columns(s.digits)
    ]
    if not spoken:
        return _narrowed(Plan(own, guarded=True, key=key), names)
    said = or_(*(_holds(i, shapes[i], col(CallTranscript.text)) for i in spoken))
    calls = col(WorkOrder.call_id).in_(sa_select(col(CallTranscript.call_id)).where(said))
    if len(shapes) == 1:
        # The calls whose transcript holds the one word.
        also = Plan([calls], key=(key, "also"))
    else:
        either = [
            or_(o, _viewed(masked, s.digits, partial(_spoken, i, s)))
            for i, (s, o) in enumerate(zip(shapes, own, strict=True))
        ]
        also = Plan([*either, calls], key=(key, "also"))
    return _narrowed(Plan(own, also=also, guarded=True, key=key), names)


def _own_row(i: int, shape: _PgTerm, columns: tuple[str, ...]) -> ColumnElement[bool]:
    """PostgreSQL: the order's own columns hold term ``i``: one OR the planner can serve
    from an index per column (a BitmapOr) or test on each order it reads."""
    if shape.phone:
        # The caller's number is stored whole, so the number's own index finds it (0.6 ms
        # against 2.4 for its trigrams), and no order number holds a whole phone number.
        columns = tuple(c for c in columns if c != "number")
    columns = _pruned_columns(shape.numberish, columns)
    held = []
    if "number" in columns:
        held.append(_holds(i, shape, col(WorkOrder.number)))
    if "phone" in columns and shape.phone:
        held.append(col(WorkOrder.caller_phone) == bindparam(f"q{i}p"))
    elif "phone" in columns:
        held.append(_holds(i, shape, col(WorkOrder.caller_phone)))
    if "body" in columns:
        held.append(_holds(i, shape, literal_column(PG_TEXT, Text)))
    return or_(false(), *held)


def whole_phone(term: str) -> str | None:
    """``term`` if it is a whole mainland number written as the hotline stores a caller's
    (13873801234, 07388251234: `identifiers.normalize_phone`), else None. Caller IDs are
    stored whether or not their block is assigned, so neither is this asked; a local number
    without its area code (8251234) is part of a stored one, looked for as a substring."""
    if not _WHOLE_PHONE.fullmatch(term):
        return None
    try:
        stored = identifiers.normalize_phone(term)
    except ValueError:
        return None
    return term if stored == term else None


def _spoken(i: int, shape: _PgTerm, columns: tuple[str, ...]) -> ColumnElement[bool]:
    """PostgreSQL: the order's call has a transcript holding term ``i``."""
    if "call_text" not in columns:
        return false()
    held = _holds(i, shape, col(CallTranscript.text))
    return col(WorkOrder.call_id).in_(sa_select(col(CallTranscript.call_id)).where(held))


def _holds(i: int, shape: _PgTerm, text: Any) -> ColumnElement[bool]:
    """PostgreSQL: ``text`` holds term ``i``. The LIKE is what decides; beside a short term
    it is the cheap test of each row read, and revision 0011's gram array (computing it costs
    about 50 us a row) is there for its GIN index: the planner orders a row's tests by cost."""
    if shape.long:
        return _held_long(i, text)
    like = _like(bindparam(f"q{i}"), shape.caseless)(text)
    if not shape.grams:
        return like
    wanted = bindparam(f"q{i}g", type_=ARRAY(Text))
    grams: ColumnElement[Any] = func.hotline_grams(text, type_=ARRAY(Text))
    return and_(grams.contains(wanted), like)


def _held_long(i: int, text: Any) -> ColumnElement[bool]:
    """A long Chinese term: its first `INDEXED_CHARS` characters asked of the trigram index,
    the whole term tested on the rows it hands over. The index intersects every trigram of
    its pattern, and a whole employer's name ends in what most orders hold (有限公司): on 1M
    orders its 10 trigrams took 3-10 ms against 0.5-1.5 ms for the first 6 characters' 4.
    A Chinese name starts with what tells it apart (its city, its own two characters); a
    number does not (a month's order numbers share their first digits), so only letters
    without case are cut. strpos, not a second LIKE: the planner judges a LIKE it cannot
    serve from an index as next to nothing and would then read every match of a common
    phrase's first characters (95-600 ms), where a function's test it takes as one in three
    and still reads a common phrase newest first."""
    window = text.like(bindparam(f"q{i}w"), escape="\\")
    return and_(window, func.strpos(text, bindparam(f"q{i}t")) > 0)


def _like(pattern: Any, caseless: bool) -> Callable[[Any], ColumnElement[bool]]:
    """PostgreSQL: whether a text matches ``pattern``, case-blind. A term of characters that
    have no case (Chinese, digits) is matched with LIKE: ILIKE lowercases every text it
    tests, which made the newest-orders probe of an employer's name 8x slower (6.0 against
    0.7 ms on 5,000 orders). The trigram indexes serve both."""
    if caseless:
        return lambda text: text.like(pattern, escape="\\")
    return lambda text: text.ilike(pattern, escape="\\")


def fts_matches(expression: str, on: TableClause) -> ColumnElement[bool]:
    return literal_column(on.name).op("MATCH")(expression)


def _sqlite(term: str, columns: tuple[str, ...]) -> ColumnElement[bool]:
    """SQLite: the orders holding ``term`` in one of ``columns``, as sets from the indexes."""
    columns = _pruned(term, columns)
    order_id = col(WorkOrder.id)
    if len(term) < TRIGRAM and textgrams.eligible(term):
        match = fts_matches(_gram_spec(term, columns), GRAMS)
        return order_id.in_(sa_select(GRAMS.c.rowid).where(match))
    numbers = tuple(c for c in columns if c in NUMBER_COLUMNS)
    words = tuple(c for c in columns if c in WORD_COLUMNS)
    found = []
    if len(term) < TRIGRAM:
        # No index holds it (`A-`): LIKE on the numbers and the words table's own copy.
        found += [_sqlite_column(name).like(like_pattern(term), escape="\\") for name in numbers]
        if words:
            matched = sa_select(WORDS.c.rowid).where(_scanned(term, words))
            found.append(order_id.in_(matched))
        return or_(false(), *found)
    for indexed, held in ((NUMBERS, numbers), (WORDS, words)):
        if held:
            matched = sa_select(indexed.c.rowid).where(fts_matches(_spec(term, held), indexed))
            found.append(order_id.in_(matched))
    return or_(false(), *found)


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
