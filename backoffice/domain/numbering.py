"""Work-order numbers: how a work order is named to callers, handlers and the IVR.

``GH`` (工会) + yyyymmdd + a 6-digit daily sequence, e.g. ``GH20261123000042``. Callers key the
number in on the phone, where there is no G or H, so the 14 digits alone are accepted as well.
Allocating the sequence is I/O and belongs to the database layer.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

PREFIX = "GH"
DIGITS_LENGTH = 14
MAX_SEQ = 999_999
# Only this century: it keeps a mobile number (which starts with 1) from ever parsing as an
# order number, which masking relies on.
FIRST_YEAR, LAST_YEAR = 2000, 2099

_NUMBER = re.compile(rf"(?:{PREFIX})?([0-9]{{8}})([0-9]{{6}})", re.ASCII)


def format_digits(day: date, seq: int) -> str:
    """The digits-only form a caller keys in by DTMF: ``20261123000042``."""
    _check_day(day)
    if isinstance(seq, bool) or not 1 <= seq <= MAX_SEQ:
        raise ValueError(f"sequence must be 1..{MAX_SEQ}, got {seq!r}")
    return f"{day.year:04d}{day.month:02d}{day.day:02d}{seq:06d}"


def format_number(day: date, seq: int) -> str:
    """The printed form: ``GH20261123000042``."""
    return PREFIX + format_digits(day, seq)


def parse_number(text: str) -> tuple[date, int]:
    """The day and daily sequence of a work-order number, with or without the GH prefix.

    Full-width characters (pasted from a Chinese IME), a lower-case prefix and surrounding
    whitespace are tolerated; anything else raises ValueError.
    """
    normalised = unicodedata.normalize("NFKC", text).strip().upper()
    match = _NUMBER.fullmatch(normalised)
    if match is None:
        raise ValueError(
            f"not a work-order number: {text!r}; expected {PREFIX} + 14 digits "
            f"(yyyymmdd + 6-digit sequence) or the 14 digits alone"
        )
    day = _parse_day(match.group(1), text)
    seq = int(match.group(2))
    if seq == 0:
        raise ValueError(f"not a work-order number: {text!r}; the sequence starts at 000001")
    return day, seq


def _parse_day(digits: str, text: str) -> date:
    try:
        day = date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError as exc:
        raise ValueError(f"not a work-order number: {text!r}; {digits} is not a date") from exc
    _check_day(day)
    return day


def _check_day(day: date) -> None:
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(
            f"work-order numbers are dated {FIRST_YEAR}..{LAST_YEAR}, got {day.isoformat()}"
        )
