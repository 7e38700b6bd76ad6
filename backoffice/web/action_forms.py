"""The detail page's action forms: which fields each action shows, and reading a posted form.

Pure: a posted form (strings) becomes the API's `ActionRequest`, or a map field -> catalogue key
of what is wrong with it, so the page can show each error beside its field and keep what was
typed. The lifecycle's own checks still run afterwards through the same command as the API.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from pydantic import ValidationError

from backoffice.domain.lifecycle import MAX_EXTENSION_REQUEST, Action
from backoffice.models import ActionRequest, Outcome

NOT_REACHED = "none"  # the return-visit choice "the caller could not be reached"
FIELD_MAX = {"note": 2000, "reason": 2000, "text": 20_000}
_MONEY_LIMIT = Decimal("999999999999.99")

_NOTE = ("note",)
FIELDS: Mapping[Action, tuple[str, ...]] = {
    Action.DISPATCH: ("org_unit_id", "assignee_id", "note"),
    Action.REDISPATCH: ("org_unit_id", "assignee_id", "note"),
    Action.SIGN: _NOTE,
    Action.START_HANDLING: _NOTE,
    Action.REPLY: ("text", "outcome", "wages_recovered"),
    Action.RETURN_ORDER: ("reason",),
    Action.RECORD_FEEDBACK: ("text",),
    Action.RETURN_VISIT: ("satisfaction", "note"),
    Action.CLOSE: _NOTE,
    Action.REOPEN: ("reason",),
    Action.REQUEST_EXTENSION: ("working_days", "reason"),
    Action.APPROVE_EXTENSION: _NOTE,
    Action.REJECT_EXTENSION: ("reason",),
    Action.REMIND: _NOTE,
    Action.SUPERVISE: _NOTE,
    Action.MARK_URGENT: ("reason",),
}
REQUIRED: Mapping[Action, frozenset[str]] = {
    Action.DISPATCH: frozenset({"org_unit_id"}),
    Action.REDISPATCH: frozenset({"org_unit_id"}),
    Action.REPLY: frozenset({"text"}),
    Action.RETURN_ORDER: frozenset({"reason"}),
    Action.RECORD_FEEDBACK: frozenset({"text"}),
    Action.RETURN_VISIT: frozenset({"satisfaction"}),
    Action.REOPEN: frozenset({"reason"}),
    Action.REQUEST_EXTENSION: frozenset({"working_days", "reason"}),
    Action.REJECT_EXTENSION: frozenset({"reason"}),
    Action.MARK_URGENT: frozenset({"reason"}),
}


@dataclass(frozen=True)
class Parsed:
    request: ActionRequest | None
    errors: dict[str, str] = field(default_factory=dict)  # field -> catalogue key
    values: dict[str, str] = field(default_factory=dict)  # what was typed, to show again


def parse(action: Action, form: Mapping[str, str]) -> Parsed:
    """The form's fields for ``action`` as an ActionRequest, or what is wrong with each."""
    values = {name: form.get(name, "") for name in FIELDS[action]}
    errors: dict[str, str] = {}
    body: dict[str, object] = {}
    for name, raw in values.items():
        text = raw.strip()
        if not text:
            if name in REQUIRED.get(action, frozenset()):
                errors[name] = "form.err.required"
            continue
        value, problem = _convert(name, text, raw)
        if problem:
            errors[name] = problem
        elif value is not None or name == "satisfaction":
            body[name] = value
    errors.update(_outcome_problems(values, errors))
    if errors:
        return Parsed(None, errors, values)
    try:
        return Parsed(ActionRequest.model_validate(body), {}, values)
    except ValidationError as exc:  # a case the checks above missed: show it, never a 500
        where = str(exc.errors()[0]["loc"][0]) if exc.errors()[0]["loc"] else "form"
        return Parsed(None, {where: "form.err.invalid"}, values)


def _convert(name: str, text: str, raw: str) -> tuple[object, str]:
    """(value, "") or (None, catalogue key of the problem)."""
    if name in FIELD_MAX:
        if len(raw) > FIELD_MAX[name]:
            return None, "form.err.too_long"
        return (None, "form.err.invalid") if _unstorable(raw) else (raw, "")
    if name == "satisfaction":
        if text == NOT_REACHED:
            return None, ""
        return _integer(text, 1, 5, "form.err.satisfaction")
    if name == "working_days":
        return _integer(text, 1, MAX_EXTENSION_REQUEST, "form.err.working_days")
    if name in ("org_unit_id", "assignee_id"):
        return _integer(text, 1, 2**31 - 1, "form.err.choose")
    if name == "outcome":
        try:
            return Outcome(text), ""
        except ValueError:
            return None, "form.err.choose"
    return _money(text)


def _unstorable(text: str) -> bool:
    # NUL and lone surrogates: PostgreSQL's text refuses them (the models say so, per request).
    return "\x00" in text or any("\ud800" <= ch <= "\udfff" for ch in text)


def _integer(text: str, low: int, high: int, problem: str) -> tuple[object, str]:
    if not text.isascii() or not text.isdigit():
        return None, problem
    value = int(text)
    return (value, "") if low <= value <= high else (None, problem)


def _money(text: str) -> tuple[object, str]:
    try:
        amount = Decimal(text.replace(",", ""))
    except InvalidOperation:
        return None, "form.err.money"
    exponent = amount.as_tuple().exponent
    if not amount.is_finite() or amount < 0 or amount > _MONEY_LIMIT:
        return None, "form.err.money"
    if not isinstance(exponent, int) or exponent < -2:
        return None, "form.err.money"
    return amount, ""


def _outcome_problems(values: Mapping[str, str], errors: Mapping[str, str]) -> dict[str, str]:
    """Wages recovered and its amount go together (the service says so too, less precisely)."""
    if "outcome" not in values or errors.get("outcome") or errors.get("wages_recovered"):
        return {}
    outcome, amount = values["outcome"].strip(), values["wages_recovered"].strip()
    if outcome == Outcome.WAGES_RECOVERED and not amount:
        return {"wages_recovered": "form.err.amount_needed"}
    if amount and outcome != Outcome.WAGES_RECOVERED:
        return {"wages_recovered": "form.err.amount_only_wages"}
    return {}
