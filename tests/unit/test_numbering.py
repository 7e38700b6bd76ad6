"""Work-order numbers: GH + yyyymmdd + 6-digit daily sequence, and the DTMF digits-only form."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backoffice.domain.numbering import format_digits, format_number, parse_number

pytestmark = pytest.mark.unit


def test_format_number_pads_the_sequence() -> None:
    assert format_number(date(2026, 11, 23), 42) == "GH20261123000042"
    assert format_digits(date(2026, 11, 23), 42) == "20261123000042"
    assert format_number(date(2026, 1, 5), 999_999) == "GH20260105999999"


@pytest.mark.parametrize(
    "text",
    [
        "GH20261123000042",
        "20261123000042",  # keyed in by DTMF
        "gh20261123000042",
        "  GH20261123000042\n",
        "ＧＨ２０２６１１２３００００４２",  # full-width, pasted from a Chinese IME
    ],
)
def test_parse_number_accepts_the_printed_and_keyed_forms(text: str) -> None:
    assert parse_number(text) == (date(2026, 11, 23), 42)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "not a work-order number"),
        ("GH2026112300004", "not a work-order number"),  # 13 digits
        ("GH202611230000421", "not a work-order number"),
        ("XX20261123000042", "not a work-order number"),
        ("GH-20261123-000042", "not a work-order number"),
        ("GH20260230000001", "20260230 is not a date"),
        ("GH20261123000000", "sequence starts at 000001"),
        ("13812341234567", "not a date"),  # a mobile number with stray digits
        ("19991231000001", "dated 2000..2099"),
        ("21000101000001", "dated 2000..2099"),
    ],
)
def test_parse_number_refuses_anything_else(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_number(text)


@pytest.mark.parametrize(
    ("day", "seq", "message"),
    [
        (date(2026, 11, 23), 0, "sequence must be 1..999999"),
        (date(2026, 11, 23), 1_000_000, "sequence must be 1..999999"),
        (date(2026, 11, 23), True, "sequence must be 1..999999"),
        (date(1999, 12, 31), 1, "dated 2000..2099"),
    ],
)
def test_format_refuses_numbers_that_would_not_parse(day: date, seq: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        format_number(day, seq)


@given(
    day=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
    seq=st.integers(min_value=1, max_value=999_999),
)
def test_both_forms_round_trip(day: date, seq: int) -> None:
    assert parse_number(format_number(day, seq)) == (day, seq)
    assert parse_number(format_digits(day, seq)) == (day, seq)
    assert format_number(day, seq) == "GH" + format_digits(day, seq)
