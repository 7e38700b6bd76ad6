"""The order pages' pure parts: reading an action form, and HTTP byte ranges for the player."""

from __future__ import annotations

from decimal import Decimal

import pytest

from backoffice.domain.lifecycle import Action
from backoffice.models import Outcome
from backoffice.web.action_forms import FIELDS, parse
from backoffice.web.byte_ranges import ByteRange, Unsatisfiable, parse_range

pytestmark = pytest.mark.unit


def test_every_action_has_a_form() -> None:
    assert set(FIELDS) == set(Action)


def test_a_reply_with_wages_recovered_becomes_the_api_request() -> None:
    form = {"text": " 已追回 ", "outcome": "wages_recovered", "wages_recovered": "36,000.5"}
    parsed = parse(Action.REPLY, form)
    assert parsed.errors == {}
    assert parsed.request is not None
    assert parsed.request.outcome is Outcome.WAGES_RECOVERED
    assert parsed.request.wages_recovered == Decimal("36000.5")
    assert parsed.request.text == "已追回"


@pytest.mark.parametrize(
    ("action", "form", "errors"),
    [
        (Action.REPLY, {"text": ""}, {"text": "form.err.required"}),
        (Action.REPLY, {"text": "x", "outcome": "won"}, {"outcome": "form.err.choose"}),
        (Action.REPLY, {"text": "x", "outcome": "wages_recovered"},
         {"wages_recovered": "form.err.amount_needed"}),
        (Action.REPLY, {"text": "x", "outcome": "mediated", "wages_recovered": "5"},
         {"wages_recovered": "form.err.amount_only_wages"}),
        (Action.REPLY, {"text": "x", "outcome": "wages_recovered", "wages_recovered": "-1"},
         {"wages_recovered": "form.err.money"}),
        (Action.REPLY, {"text": "x", "outcome": "wages_recovered", "wages_recovered": "NaN"},
         {"wages_recovered": "form.err.money"}),
        (Action.REPLY, {"text": "x", "outcome": "wages_recovered", "wages_recovered": "1e3"},
         {}),
        (Action.RETURN_VISIT, {"satisfaction": "6"}, {"satisfaction": "form.err.satisfaction"}),
        (Action.RETURN_VISIT, {"satisfaction": "５"}, {"satisfaction": "form.err.satisfaction"}),
        (Action.RETURN_VISIT, {}, {"satisfaction": "form.err.required"}),
        (Action.REQUEST_EXTENSION, {"working_days": "0", "reason": "r"},
         {"working_days": "form.err.working_days"}),
        (Action.DISPATCH, {"org_unit_id": "1; drop"}, {"org_unit_id": "form.err.choose"}),
        (Action.DISPATCH, {"org_unit_id": "99999999999"}, {"org_unit_id": "form.err.choose"}),
        (Action.SIGN, {"note": "x" * 2001}, {"note": "form.err.too_long"}),
    ],
)  # fmt: skip
def test_what_is_wrong_is_named_per_field(
    action: Action, form: dict[str, str], errors: dict[str, str]
) -> None:
    parsed = parse(action, form)
    assert parsed.errors == errors
    assert (parsed.request is None) == bool(errors)
    assert set(parsed.values) == set(FIELDS[action])  # what was typed comes back


def test_a_visit_that_did_not_reach_the_caller_has_no_satisfaction() -> None:
    parsed = parse(Action.RETURN_VISIT, {"satisfaction": "none"})
    assert parsed.request is not None
    assert "satisfaction" in parsed.request.model_fields_set
    assert parsed.request.satisfaction is None


def test_a_nul_in_the_text_is_an_error_not_a_crash() -> None:
    parsed = parse(Action.REPLY, {"text": "a\x00b"})
    assert parsed.request is None and parsed.errors == {"text": "form.err.invalid"}


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("bytes=0-99", ByteRange(0, 99)),
        ("bytes=900-", ByteRange(900, 999)),
        ("bytes=900-5000", ByteRange(900, 999)),
        ("bytes=-100", ByteRange(900, 999)),
        ("bytes=-5000", ByteRange(0, 999)),
        ("bytes=0-1,5-6", None),  # several ranges: the whole file
        ("items=0-1", None),
        ("bytes=-", None),
    ],
)
def test_ranges(header: str | None, expected: ByteRange | None) -> None:
    assert parse_range(header, 1000) == expected


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=5-4", "bytes=-0"])
def test_unsatisfiable_ranges(header: str) -> None:
    with pytest.raises(Unsatisfiable):
        parse_range(header, 1000)


def test_content_range() -> None:
    assert ByteRange(100, 199).content_range(1000) == "bytes 100-199/1000"
    assert ByteRange(100, 199).length == 100
