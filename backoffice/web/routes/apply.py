"""The public web form (/apply): the online legal-aid application channel, no account needed.

A worker leaves their matter and gets the order number to quote when calling 12351 (key 4
reads its status). Protections, all server-side: the CSRF token of a pre-session cookie, a
per-address limit shared with the public API (`web_form_limiter`), a honeypot field that only
robots fill in, and every field checked again here whatever the browser did; a refused form
comes back with the worker's values and the errors beside their fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlmodel import Session, col, select

from backoffice.api.deps import BackofficeDep, ClientIp, SessionDep
from backoffice.domain.deadlines import Category
from backoffice.identifiers import check_national_id, valid_phone
from backoffice.models import OrgLevel, OrgUnit, WebOrderCreate
from backoffice.services import work_orders
from backoffice.web.render import render
from backoffice.web.security import Csrf

router = APIRouter()
FIELDS = ("name", "phone", "id_number", "employer", "org_unit_id", "category", "description")
HONEYPOT = "website"
MAX_NAME, MAX_EMPLOYER, MAX_ID = 50, 200, 32
MIN_DESCRIPTION, MAX_DESCRIPTION = 10, 3000
CATEGORIES = tuple(c.value for c in Category)


@dataclass(frozen=True)
class Checked:
    """The form as checked: the order to create, or the errors by field (catalogue keys)."""

    order: WebOrderCreate | None
    errors: dict[str, str] = field(default_factory=dict)


def check(values: Mapping[str, str], consent: bool, unit_ids: frozenset[int]) -> Checked:
    """Every field of the form, checked on the server (pure: no database, no request)."""
    errors: dict[str, str] = {k: "apply.error.invalid" for k, v in values.items() if _unstorable(v)}
    if errors:
        return Checked(None, errors)
    name, phone = values.get("name", "").strip(), values.get("phone", "").strip()
    description = values.get("description", "").strip()
    if not name or len(name) > MAX_NAME:
        errors["name"] = "apply.error.name"
    try:
        valid_phone(phone)
    except ValueError:
        errors["phone"] = "apply.error.phone"
    id_number = values.get("id_number", "").strip()
    if id_number:
        try:
            id_number = check_national_id(id_number)
        except ValueError:
            errors["id_number"] = "apply.error.id_number"
    if len(values.get("employer", "").strip()) > MAX_EMPLOYER:
        errors["employer"] = "apply.error.employer"
    known, unit = _unit(values.get("org_unit_id", ""), unit_ids)
    if not known:
        errors["org_unit_id"] = "apply.error.org_unit"
    if values.get("category", "") not in CATEGORIES:
        errors["category"] = "apply.error.category"
    if not MIN_DESCRIPTION <= len(description) <= MAX_DESCRIPTION:
        errors["description"] = "apply.error.description"
    if not consent:
        errors["consent"] = "apply.error.consent"
    if errors:
        return Checked(None, errors)
    return _order(values, name, phone, id_number, description, unit)


def _unstorable(value: str) -> bool:
    # NUL and lone surrogates: PostgreSQL cannot keep them, and no worker types them.
    return "\x00" in value or any("\ud800" <= ch <= "\udfff" for ch in value)


def _unit(raw: str, unit_ids: frozenset[int]) -> tuple[bool, int | None]:
    """Whether the choice is one offered, and the unit (None: left to the centre)."""
    if not raw:
        return True, None
    if not raw.isascii() or not raw.isdigit() or int(raw) not in unit_ids:
        return False, None
    return True, int(raw)


def _order(
    values: Mapping[str, str],
    name: str,
    phone: str,
    id_number: str,
    description: str,
    unit: int | None,
) -> Checked:
    # No ID column on the order: it goes with the description, where masking finds it.
    summary = f"{description}\n身份证号：{id_number}" if id_number else description
    try:
        order = WebOrderCreate(
            caller_name=name,
            caller_phone=phone,
            employer_name=values.get("employer", "").strip(),
            category=Category(values["category"]),
            summary=summary,
            org_unit_id=unit,
        )
    except ValidationError as exc:
        # What the checks above let through but the model refuses (NUL characters...).
        loc = exc.errors()[0]["loc"] if exc.errors() else ()
        where = str(loc[0]) if loc else "description"
        return Checked(None, {_FIELD_OF.get(where, "description"): "apply.error.invalid"})
    return Checked(order)


_FIELD_OF = {
    "caller_name": "name",
    "caller_phone": "phone",
    "employer_name": "employer",
    "summary": "description",
    "org_unit_id": "org_unit_id",
    "category": "category",
}


def choices(session: Session) -> list[OrgUnit]:
    """The units a worker may choose: the cities and their counties, in the network's order."""
    levels = [OrgLevel.CITY.value, OrgLevel.COUNTY.value]
    query = select(OrgUnit).where(col(OrgUnit.level).in_(levels)).order_by(col(OrgUnit.path))
    return list(session.exec(query).all())


def _form(
    request: Request,
    session: Session,
    values: Mapping[str, str],
    errors: Mapping[str, str],
    status: int = 200,
    notice: str | None = None,
    consent: bool = False,
) -> Response:
    context = {"values": {k: values.get(k, "") for k in FIELDS}, "errors": errors,
               "units": choices(session), "categories": CATEGORIES, "consent": consent,
               "notice": notice, "honeypot": HONEYPOT}  # fmt: skip
    return render(request, "apply.html", context, status=status)


@router.get("/apply")
def apply_page(request: Request, session: SessionDep) -> Response:
    return _form(request, session, {"category": Category.WAGE_ARREARS.value}, {})


@router.post("/apply", dependencies=[Csrf])
def apply(
    request: Request,
    session: SessionDep,
    backoffice: BackofficeDep,
    client: ClientIp,
    name: Annotated[str, Form(max_length=200)] = "",
    phone: Annotated[str, Form(max_length=200)] = "",
    id_number: Annotated[str, Form(max_length=200)] = "",
    employer: Annotated[str, Form(max_length=1000)] = "",
    org_unit_id: Annotated[str, Form(max_length=20)] = "",
    category: Annotated[str, Form(max_length=40)] = "",
    description: Annotated[str, Form(max_length=20_000)] = "",
    consent: Annotated[str, Form(max_length=10)] = "",
    website: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    values = dict(zip(FIELDS, (name, phone, id_number, employer, org_unit_id, category,
                               description), strict=True))  # fmt: skip
    limiter = backoffice.web_form_limiter
    wait = limiter.retry_after(client)
    if wait > 0:
        response = _form(request, session, values, {}, 429, "apply.too_many", bool(consent))
        response.headers["Retry-After"] = str(int(wait) + 1)
        return response
    if website:
        # Only a robot fills in a field nobody can see: it is told nothing and nothing is kept.
        limiter.hit(client)
        return render(request, "apply_done.html", {"number": None})
    unit_ids = frozenset(u.id for u in choices(session) if u.id is not None)
    checked = check(values, consent == "yes", unit_ids)
    if checked.order is None:
        return _form(request, session, values, checked.errors, 422, None, consent == "yes")
    limiter.hit(client)
    order = work_orders.create_from_web(session, checked.order, config=backoffice.orders)
    return render(request, "apply_done.html", {"number": order.number}, status=201)
