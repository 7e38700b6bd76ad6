"""Identifiers callers and employers give: phone numbers and unified social credit codes."""

from __future__ import annotations

import re

import phonenumbers

_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100-2015: no I, O, S, V, Z
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CREDIT_SHAPE = re.compile(f"[{_CREDIT_CHARS}]{{18}}")
_DIALLABLE = re.compile(r"[^0-9+]")


def credit_code_check_char(first17: str) -> str:
    """The 18th character of a unified social credit code (GB 32100-2015, mod 31)."""
    total = sum(_CREDIT_CHARS.index(ch) * w for ch, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return _CREDIT_CHARS[(31 - total % 31) % 31]


def check_credit_code(code: str) -> str:
    """The code upper-cased, or ValueError: a mistyped code would link the wrong employer."""
    code = code.strip().upper()
    if not _CREDIT_SHAPE.fullmatch(code):
        raise ValueError(
            "a unified social credit code is 18 characters of 0-9 and A-Y without I, O, S, V, Z"
        )
    if credit_code_check_char(code[:17]) != code[17]:
        raise ValueError("the unified social credit code's check character does not match")
    return code


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_SHAPE = re.compile(r"[1-9][0-9]{16}[0-9X]")


def check_national_id(raw: str) -> str:
    """A resident ID number (GB 11643-1999: 18 characters, ISO 7064 check character),
    upper-cased, or ValueError: a mistyped number would not find the person."""
    code = raw.strip().upper()
    if not _ID_SHAPE.fullmatch(code):
        raise ValueError("an ID number is 17 digits and a check digit or X")
    total = sum(int(ch) * w for ch, w in zip(code[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != code[17]:
        raise ValueError("the ID number's check digit does not match")
    return code


def normalize_phone(raw: str) -> str:
    """A caller's number as the hotline stores it, or ValueError if it cannot be a number.

    Mainland numbers are kept in national form without spaces (13873801234, 07388251234) so
    that the same caller links up however the number was typed (+86, 0086, dashes); foreign
    numbers keep their E.164 form.
    """
    text = raw.strip()
    if not text:
        return ""
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number: {raw!r}") from exc
    if not phonenumbers.is_possible_number(number):
        raise ValueError(f"not a phone number: {raw!r}")
    return _stored_form(number)


def valid_phone(raw: str) -> str:
    """A number someone can be called back on (a real mobile block or area code), stored as
    `normalize_phone` stores it; the public form is stricter than staff input, where a
    possible-looking number is enough."""
    stored = normalize_phone(raw)
    if not stored or not phonenumbers.is_valid_number(phonenumbers.parse(raw.strip(), "CN")):
        raise ValueError(f"not a phone number that can be called back: {raw!r}")
    return stored


def caller_id_phone(raw: str) -> str:
    """The number from a call's caller ID: never refused, since the call already happened."""
    try:
        return normalize_phone(raw)
    except ValueError:
        return _DIALLABLE.sub("", raw)[:32]


def _stored_form(number: phonenumbers.PhoneNumber) -> str:
    if number.country_code == 86:
        national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        return _DIALLABLE.sub("", national)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
