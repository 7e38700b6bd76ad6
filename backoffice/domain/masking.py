"""Masking of callers' phone numbers and national IDs (居民身份证号) wherever they are shown.

Rules, all applied in place (separators and surrounding text are kept, masked digits become *):

- mainland mobile: keep the first 3 and last 4 (``138****1234``), the form carriers and banks
  print, so agents can still confirm "尾号1234" with the caller;
- landline: keep the area code (it only names a city) and the last 4 (``0738-***1234``);
- national ID: keep only the last 4 (``**************123X``). The first 6 name the county of
  household registration and the next 8 are the birth date; with the check digit, showing the
  first 6 would let the birth date be brute-forced from a few thousand candidates, while agents
  only ever verify 身份证后四位;
- anything else: mask everything if it has fewer than 7 digits, otherwise keep at most the last
  4 and never more than half.

Transcripts from speech recognition write digits as Chinese characters (幺三八…) and split
them with spaces, so detection reads 一二三/幺/两/〇 and full-width digits as digits too.
"""

from __future__ import annotations

import re
from datetime import date
from typing import NamedTuple

from backoffice.domain.numbering import DIGITS_LENGTH, parse_number

_DIGIT_CHARS = {
    "0": "0０零〇",
    "1": "1１一幺壹",
    "2": "2２二两贰",
    "3": "3３三叁",
    "4": "4４四肆",
    "5": "5５五伍",
    "6": "6６六陆",
    "7": "7７七柒",
    "8": "8８八捌",
    "9": "9９九玖",
    "X": "XxＸｘ",
}
# One character to one character, so positions in the view are positions in the original text.
_VIEW = str.maketrans({ch: ascii_ for ascii_, chars in _DIGIT_CHARS.items() for ch in chars})
_SEPARATORS = " \u00a0\u3000-\u2010\u2011\u2012\u2013\u2014\uff0d"
_SEP_CLASS = f"[{re.escape(_SEPARATORS)}]"
# Up to 3 separator characters between digits covers "138 - 1234 - 1234".
_RUN = re.compile(rf"[0-9](?:{_SEP_CLASS}{{0,3}}[0-9])*X?")
_SPLIT = re.compile(f"{_SEP_CLASS}+")
_GROUP = re.compile("[0-9X]+")
_NATIONAL_ID = re.compile(r"[0-9]{17}[0-9X]")
_MOBILE = re.compile(r"(0086|86)?1[3-9][0-9]{9}")
MIN_REDACTED_DIGITS = 7  # a local landline number without area code has 7 or 8 digits
KEEP_TAIL = 4


class _Keep(NamedTuple):
    """How many digit characters to leave visible at each end."""

    head: int
    tail: int


def mask_phone(text: str) -> str:
    """Mask a phone number given on its own; a string with no digits is returned unchanged."""
    view = text.translate(_VIEW)
    marks = [i for i, ch in enumerate(view) if ch.isdigit()]
    digits = "".join(view[i] for i in marks)
    keep = _phone_keep(digits, _SPLIT.split(view.strip(_SEPARATORS)))
    return _mask(text, marks, _generic_keep(len(digits)) if keep is None else keep)


def mask_national_id(text: str) -> str:
    """Mask a national ID given on its own: ``**************123X``."""
    view = text.translate(_VIEW)
    marks = [i for i, ch in enumerate(view) if ch.isdigit() or ch == "X"]
    shape = "".join(view[i] for i in marks)
    if _NATIONAL_ID.fullmatch(shape):
        return _mask(text, marks, _Keep(0, KEEP_TAIL))
    digit_marks = [i for i in marks if view[i] != "X"]
    return _mask(text, digit_marks, _generic_keep(len(digit_marks)))


def redact_text(text: str) -> str:
    """Mask every phone number and national ID in free text, e.g. a call transcript.

    Work-order numbers (14 digits in a row) and dash- or space-separated dates are left alone;
    any other run of 7 or more digits is masked as if it might be a number, because a missed
    number leaks and an over-masked one only costs readability.
    """
    view = text.translate(_VIEW)
    pieces: list[str] = []
    done = 0
    for match in _RUN.finditer(view):
        start, end = match.span()
        if view[end - 1] == "X" and not _ends_with_id(view[start:end]):
            end -= 1  # an X only belongs to a number as an ID's check digit
        pieces += [text[done:start], _redact_run(text[start:end], view[start:end])]
        done = end
    pieces.append(text[done:])
    return "".join(pieces)


def _redact_run(original: str, view: str) -> str:
    """Mask one run of digits, which may hold several numbers separated by spaces."""
    groups = list(_GROUP.finditer(view))
    hidden: set[int] = set()
    stray: list[int] = []
    i = 0
    while i < len(groups):
        j, keep = _longest_known(groups, i)
        if keep is None:
            stray += _positions(groups[i : i + 1])
            i += 1
            continue
        hidden |= _hidden(_positions(groups[i : j + 1]), keep) | _hidden_stray(stray)
        stray = []
        i = j + 1
    hidden |= _hidden_stray(stray)
    return "".join("*" if k in hidden else ch for k, ch in enumerate(original))


def _longest_known(groups: list[re.Match[str]], i: int) -> tuple[int, _Keep | None]:
    """The longest run of groups from ``i`` that is a known kind of number, and what to keep."""
    for j in range(len(groups) - 1, i - 1, -1):
        keep = _known_keep([g.group() for g in groups[i : j + 1]])
        if keep is not None:
            return j, keep
    return i, None


def _known_keep(groups: list[str]) -> _Keep | None:
    shape = "".join(groups)
    if _is_order_number(shape, groups) or _is_date(groups):
        return _Keep(len(shape), 0)
    if _NATIONAL_ID.fullmatch(shape):
        return _Keep(0, KEEP_TAIL)
    return _phone_keep(shape, groups)


def _hidden_stray(marks: list[int]) -> set[int]:
    # Digits that are no known number: short ones are amounts or counts, long ones may be a
    # misheard phone number.
    if len(marks) < MIN_REDACTED_DIGITS:
        return set()
    return _hidden(marks, _generic_keep(len(marks)))


def _ends_with_id(view: str) -> bool:
    groups = _GROUP.findall(view)
    return any(_NATIONAL_ID.fullmatch("".join(groups[k:])) for k in range(len(groups)))


def _positions(groups: list[re.Match[str]]) -> list[int]:
    return [k for g in groups for k in range(g.start(), g.end())]


def _phone_keep(digits: str, groups: list[str]) -> _Keep | None:
    """What to keep of a mobile or landline number; None if it is neither."""
    mobile = _MOBILE.fullmatch(digits)
    if mobile is not None:
        return _Keep(len(mobile.group(1) or "") + 3, KEEP_TAIL)
    area = _area_code_length(digits, groups)
    return None if area is None else _Keep(area, KEEP_TAIL)


def _area_code_length(digits: str, groups: list[str]) -> int | None:
    """Length of a landline's area code (0 + 2 or 3 digits), if ``digits`` is a landline."""
    if not 10 <= len(digits) <= 12 or digits[0] != "0" or digits[1] == "0":
        return None
    first = groups[0] if len(groups) > 1 else ""
    if first.isdigit() and first.startswith("0") and len(first) in (3, 4):
        area = len(first)
    else:
        # 010 and 02x (Beijing, Shanghai, Tianjin, Chongqing, ...) are the only 3-digit codes.
        area = 3 if digits[1] in "12" else 4
    return area if 7 <= len(digits) - area <= 8 else None


def _generic_keep(count: int) -> _Keep:
    if count < MIN_REDACTED_DIGITS:
        return _Keep(0, 0)
    return _Keep(0, min(KEEP_TAIL, count // 2))


def _is_order_number(shape: str, groups: list[str]) -> bool:
    # Only unbroken: a phone number glued to stray digits must not pass for an order number.
    if len(groups) != 1 or len(shape) != DIGITS_LENGTH:
        return False
    try:
        parse_number(shape)
    except ValueError:
        return False
    return True


def _is_date(groups: list[str]) -> bool:
    if len(groups) != 3 or len(groups[0]) != 4 or not all(g.isdigit() for g in groups):
        return False
    if not all(1 <= len(g) <= 2 for g in groups[1:]):
        return False
    try:
        date(int(groups[0]), int(groups[1]), int(groups[2]))
    except ValueError:
        return False
    return True


def _hidden(marks: list[int], keep: _Keep) -> set[int]:
    return set(marks[keep.head : len(marks) - keep.tail])


def _mask(text: str, marks: list[int], keep: _Keep) -> str:
    hidden = _hidden(marks, keep)
    return "".join("*" if i in hidden else ch for i, ch in enumerate(text))
