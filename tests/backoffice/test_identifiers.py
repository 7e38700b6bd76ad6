"""Phone numbers and unified social credit codes as the back office stores them."""

from __future__ import annotations

import pytest

from backoffice.identifiers import caller_id_phone, check_credit_code, normalize_phone
from backoffice.jurisdiction import region_of

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("13873801234", "13873801234"),
        ("+86 138-7380-1234", "13873801234"),
        ("0086 13873801234", "13873801234"),
        ("0738-8251234", "07388251234"),
        ("+1 650 253 0000", "+16502530000"),
        ("", ""),
    ],
)
def test_numbers_are_stored_in_one_form(typed: str, stored: str) -> None:
    assert normalize_phone(typed) == stored


@pytest.mark.parametrize("typed", ["not a number", "1", "++86"])
def test_what_cannot_be_a_number_is_refused(typed: str) -> None:
    with pytest.raises(ValueError, match="not a phone number"):
        normalize_phone(typed)


def test_caller_ids_are_never_refused() -> None:
    assert caller_id_phone("anonymous") == ""
    assert caller_id_phone("+8613873801234") == "13873801234"
    assert caller_id_phone("1") == "1"


def test_credit_codes_are_checked() -> None:
    assert check_credit_code("91350100m000100y43") == "91350100M000100Y43"  # a published example
    with pytest.raises(ValueError, match="check character"):
        check_credit_code("91350100M000100Y44")
    with pytest.raises(ValueError, match="18 characters"):
        check_credit_code("91350100M000100I43")  # I is not in the alphabet


def test_numbers_geocode_to_a_city() -> None:
    assert region_of("13873801234") == "湖南省娄底市"
    # 0731 has served Changsha, Zhuzhou and Xiangtan together since 2007.
    assert region_of("0731-88881234") == "湖南省长沙市、湘潭市、株州市"
    assert region_of("12345") == ""
    assert region_of("") == ""
