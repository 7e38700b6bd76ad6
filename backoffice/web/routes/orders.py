"""The work-order pages: the list (/orders), one order (/orders/{id}) with its action forms and
recordings, and a plain form for taking an order (/orders/new).

Every read and change goes through the same services as `/api/v1/work-orders`, so the access
rules (404 outside the subtree, 403 for a role, the audit entries) are the API's own.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path as FilePath
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Header, Path, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import ValidationError
from sqlmodel import Session
from starlette.datastructures import QueryParams

from backoffice import access
from backoffice.access import ORDER_TAKERS, Viewer
from backoffice.api.deps import BackofficeDep, ClientIp, SessionDep
from backoffice.domain import lifecycle as lc
from backoffice.domain.deadlines import Category, DueState, due_state
from backoffice.domain.masking import redact_text
from backoffice.errors import BackofficeError, Forbidden, Invalid, NotFound
from backoffice.identifiers import normalize_phone
from backoffice.models import Channel, OrgUnit, Outcome, User, WorkOrderCreate, utcnow
from backoffice.models.base import MAX_ID
from backoffice.services import order_lists, org_units, recordings, transcripts, users
from backoffice.services import order_views as views
from backoffice.services import work_orders as orders
from backoffice.services.commands import command_for
from backoffice.web import action_forms
from backoffice.web.byte_ranges import Unsatisfiable, parse_range
from backoffice.web.flash import flash
from backoffice.web.render import redirect, render
from backoffice.web.security import Csrf, PageUser, PageViewer

router = APIRouter()
OrderId = Annotated[int, Path(ge=1, le=MAX_ID)]
PAGE_SIZE = 25
CHUNK = 64 * 1024
STATUSES = tuple(lc.Status)
CATEGORIES = tuple(Category)
DUE_FILTERS = (DueState.DUE_SOON, DueState.OVERDUE)
OUTCOMES = tuple(Outcome)
TAKEN_CHANNELS = (Channel.PHONE, Channel.TRANSFER_12345, Channel.APP)


# --- the list ------------------------------------------------------------------------------


@router.get("/orders")
def order_list(
    request: Request, session: SessionDep, backoffice: BackofficeDep, user: PageUser,
    viewer: PageViewer,
) -> Response:  # fmt: skip
    """Urgent first, then newest; filters are plain GET fields, so a filtered list is a link."""
    query = request.query_params
    chosen = _chosen_filters(query)
    filters = _filters(session, viewer, chosen, backoffice.settings.timezone)
    page = order_lists.list_orders(
        session, user, filters, limit=PAGE_SIZE, cursor=query.get("cursor") or None,
        urgent_first=True,
    )  # fmt: skip
    now = utcnow()
    items = [views.present_item(o, viewer, now) for o in page.items]
    context = {
        "items": items,
        "cells": {i.id: _cells(i.sign_due, i.reply_due, now) for i in items},
        "chosen": chosen,
        "next_url": _next_url(request, page.next_cursor),
        "statuses": STATUSES,
        "categories": CATEGORIES,
        "due_filters": DUE_FILTERS,
        "units": _subtree(session, viewer),
        "unit_names": _unit_names(session),
        "may_filter_phone": not _masks_all(viewer),
        "may_take": user.role in ORDER_TAKERS,
    }
    return render(request, "orders_list.html", context)


def _cells(sign: datetime | None, reply: datetime | None, now: datetime) -> dict[str, str]:
    # Each deadline cell gets its own light: the sign-for one can be red while the reply is fine.
    return {"sign": due_state(sign, now).value, "reply": due_state(reply, now).value}


SINGLE_FILTERS = (
    "q", "org_unit_id", "due", "urgent", "caller_phone", "created_from", "created_to",
)  # fmt: skip


def _chosen_filters(query: QueryParams) -> dict[str, Any]:
    """What the form sent, as typed (shown again in the form); an empty field filters nothing."""
    chosen: dict[str, Any] = {name: query.get(name, "") for name in SINGLE_FILTERS}
    chosen["status"] = [s for s in query.getlist("status") if s]
    chosen["category"] = [c for c in query.getlist("category") if c]
    return chosen


def _filters(
    session: Session, viewer: Viewer, chosen: dict[str, Any], tz: str
) -> order_lists.OrderFilters:
    """The list's filters from the query; a value that is not one the form offers is a 422."""
    try:
        status = [lc.Status(s) for s in chosen["status"]]
        category = [Category(c) for c in chosen["category"]]
        due = DueState(chosen["due"]) if chosen["due"] else None
    except ValueError as exc:
        raise Invalid(f"not a filter value: {exc}") from None
    if due not in (None, *DUE_FILTERS):
        raise Invalid("the deadline filter is due_soon or overdue")
    unit_id = _unit_filter(session, viewer, chosen["org_unit_id"])
    urgent = _yes_no(chosen["urgent"])
    phone = _phone_filter(chosen["caller_phone"])
    start = _day(chosen["created_from"], tz)
    end = _day(chosen["created_to"], tz)
    return order_lists.OrderFilters(
        status=status,
        category=category,
        org_unit_id=unit_id,
        created_from=start,
        created_to=end + timedelta(days=1) if end else None,  # the "to" day is included
        due=due,
        urgent=urgent,
        caller_phone=phone,
        q=chosen["q"] or None,  # full-text search: backoffice/search.py checks it
    )


def _yes_no(raw: str) -> bool | None:
    if raw not in ("", "yes", "no"):
        raise Invalid("urgent is yes or no")
    return None if not raw else raw == "yes"


def _unit_filter(session: Session, viewer: Viewer, raw: str) -> int | None:
    if not raw:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_ID:
        raise Invalid(f"org unit {raw!r} is not a unit id")
    unit = session.get(OrgUnit, int(raw))
    if unit is None or not unit.path.startswith(viewer.org_path):
        raise Invalid(f"org unit {raw} is not in your part of the network")
    return unit.id


def _phone_filter(raw: str) -> str | None:
    if not raw.strip():
        return None
    try:
        return normalize_phone(raw)
    except ValueError as exc:
        raise Invalid(str(exc)) from None


def _day(raw: str, tz: str) -> datetime | None:
    if not raw:
        return None
    try:
        day = datetime.strptime(raw, "%Y-%m-%d")
    except ValueError:
        raise Invalid(f"not a date (YYYY-MM-DD): {raw!r}") from None
    return day.replace(tzinfo=ZoneInfo(tz))


def _next_url(request: Request, cursor: str | None) -> str | None:
    if cursor is None:
        return None
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"]
    return f"/orders?{urlencode([*kept, ('cursor', cursor)])}"


def _masks_all(viewer: Viewer) -> bool:
    return access.masks_number(viewer.role, anonymous=False)


def _subtree(session: Session, viewer: Viewer) -> list[OrgUnit]:
    return [u for u in org_units.list_units(session) if u.path.startswith(viewer.org_path)]


def _unit_names(session: Session) -> dict[int, str]:
    return {u.id: u.name for u in org_units.list_units(session) if u.id is not None}


# --- taking an order -----------------------------------------------------------------------

NEW_FIELDS = ("channel", "caller_name", "caller_phone", "category", "org_unit_id",
              "employer_name", "employer_credit_code", "summary")  # fmt: skip
NEW_FLAGS = ("anonymous", "confidential", "urgent")


@router.get("/orders/new")
def new_order_page(request: Request, session: SessionDep, user: PageUser) -> Response:
    _require_taker(user)
    return _new_form(request, session, user, {"channel": "phone", "category": "other"}, {})


@router.post("/orders/new", dependencies=[Csrf])
async def new_order(
    request: Request, session: SessionDep, backoffice: BackofficeDep, user: PageUser
) -> Response:
    _require_taker(user)
    form = await request.form()
    values = {name: str(form.get(name, "")) for name in NEW_FIELDS}
    flags = {name: form.get(name) == "on" for name in NEW_FLAGS}
    body: dict[str, Any] = {k: v for k, v in values.items() if k != "org_unit_id"}
    body["org_unit_id"] = values["org_unit_id"] or None
    try:
        data = WorkOrderCreate.model_validate({**body, **flags})
        created = orders.create(session, data, user, config=backoffice.orders)
    except ValidationError as exc:
        errors = {str(e["loc"][0]) if e["loc"] else "form": e["msg"] for e in exc.errors()}
        return _new_form(request, session, user, {**values, **flags}, errors, 422)
    except Invalid as exc:
        session.rollback()
        return _new_form(request, session, user, {**values, **flags}, {"form": str(exc)}, 422)
    response = redirect(f"/orders/{created.order.id}")
    flash(response, "flash.order_taken")
    return response


def _require_taker(user: User) -> None:
    if user.role not in ORDER_TAKERS:
        raise Forbidden(f"a {user.role} does not take work orders")


def _new_form(
    request: Request, session: Session, user: User, values: dict[str, Any],
    errors: dict[str, str], status: int = 200,
) -> Response:  # fmt: skip
    viewer = access.viewer_of(session, user)
    context = {
        "values": values,
        "errors": errors,
        "channels": TAKEN_CHANNELS,
        "categories": CATEGORIES,
        "units": _subtree(session, viewer),
    }
    return render(request, "order_new.html", context, status=status)


# --- one order -----------------------------------------------------------------------------


@router.get("/orders/{order_id}")
def order_page(
    request: Request, order_id: OrderId, session: SessionDep, backoffice: BackofficeDep,
    user: PageUser, viewer: PageViewer, client: ClientIp,
) -> Response:  # fmt: skip
    context = _detail(session, backoffice, user, viewer, order_id, client)
    return render(request, "order_detail.html", context)


@router.post("/orders/{order_id}/actions/{action}", dependencies=[Csrf])
async def order_action(
    request: Request, order_id: OrderId, action: lc.Action, session: SessionDep,
    backoffice: BackofficeDep, user: PageUser, viewer: PageViewer, client: ClientIp,
) -> Response:  # fmt: skip
    """The action through the API's own command; a refusal shows the page again, the form
    still filled in, with the reason beside the field (422) or above the form (403, 409)."""
    form = await request.form()
    parsed = action_forms.parse(action, {k: str(v) for k, v in form.items()})
    if parsed.request is None:
        state = {"action": action, "errors": parsed.errors, "values": parsed.values,
                 "message": ""}  # fmt: skip
        return _again(request, session, backoffice, user, viewer, order_id, client, state, 422)
    try:
        proposed = orders.proposed_unit(session, order_id, user)
        command, extras = command_for(action, parsed.request, proposed)
        orders.act(session, order_id, command, user, extras=extras, config=backoffice.orders)
    except NotFound:
        raise
    except (BackofficeError, lc.LifecycleError) as exc:
        session.rollback()
        status = exc.status_code if isinstance(exc, BackofficeError) else _lifecycle_status(exc)
        state = {"action": action, "errors": {}, "values": parsed.values, "message": str(exc)}
        return _again(request, session, backoffice, user, viewer, order_id, client, state, status)
    response = redirect(f"/orders/{order_id}#timeline")
    flash(response, f"flash.action.{action.value}")
    return response


def _lifecycle_status(exc: lc.LifecycleError) -> int:
    return 403 if isinstance(exc, lc.NotAllowed) else 409


def _again(
    request: Request, session: Session, backoffice: BackofficeDep, user: User, viewer: Viewer,
    order_id: int, client: str, state: dict[str, Any], status: int,
) -> Response:  # fmt: skip
    context = _detail(session, backoffice, user, viewer, order_id, client)
    return render(request, "order_detail.html", {**context, "form_state": state}, status=status)


def _detail(
    session: Session, backoffice: BackofficeDep, user: User, viewer: Viewer, order_id: int,
    client: str,
) -> dict[str, Any]:  # fmt: skip
    order, events = orders.timeline(session, order_id, user, ip=client)
    shown = views.present(order, viewer)
    masked = access.masks_phone(viewer, order)
    linked = [views.present_item(o, viewer) for o in orders.linked(session, order_id, user)]
    ids = {i for i in (order.assignee_id, order.created_by_id) if i is not None}
    listen = recordings.may_listen(viewer.role)
    legs = recordings.legs_of(order, backoffice.settings.recordings_dir) if listen else []
    return {
        "order": shown,
        "events": [views.present_event(e, viewer, order) for e in events],
        "linked": linked,
        "unit_names": _unit_names(session),
        "user_names": users.display_names(session, ids),
        "legs": legs,
        "may_listen": listen,
        "segments": _segments(session, order.call_id, masked),
        # In the lifecycle's own order (dispatch before close), not alphabetical.
        "actions": [a for a in lc.Action if a in shown.allowed_actions],
        "fields": action_forms.FIELDS,
        "required": action_forms.REQUIRED,
        "targets": _subtree(session, viewer),
        "assignable": users.assignable_under(session, viewer.org_path),
        "outcomes": OUTCOMES,
        "not_reached": action_forms.NOT_REACHED,
        "form_state": {"action": None, "errors": {}, "values": {}, "message": ""},
    }


def _segments(session: Session, call_id: str | None, masked: bool) -> list[dict[str, Any]]:
    """Who said what on the call, numbers and IDs redacted for those who see them masked."""
    row = transcripts.transcript_for(session, call_id) if call_id else None
    if row is None:
        return []
    shown = []
    for seg in row.segments:
        text = str(seg.get("text", ""))
        shown.append({**seg, "text": redact_text(text) if masked else text})
    return shown


# --- recordings ----------------------------------------------------------------------------


@router.get("/orders/{order_id}/recording/{leg}")
def recording(
    order_id: OrderId, leg: str, session: SessionDep, backoffice: BackofficeDep,
    user: PageUser, client: ClientIp,
    range_header: Annotated[str | None, Header(alias="range", max_length=200)] = None,
) -> Response:  # fmt: skip
    """The WAV of one leg (mixed, caller, agent), with byte ranges so players can seek."""
    if leg not in recordings.LEGS:
        raise NotFound(f"no such recording leg {leg!r}")
    found = recordings.open_leg(session, order_id, leg, user, backoffice.settings.recordings_dir,
                                ip=client, byte_range=range_header or "")  # fmt: skip
    headers = {"Accept-Ranges": "bytes", "Cache-Control": "private, no-store"}
    try:
        wanted = parse_range(range_header, found.size)
    except Unsatisfiable:
        headers["Content-Range"] = f"bytes */{found.size}"
        return Response(status_code=416, headers=headers)
    if wanted is None:
        headers["Content-Length"] = str(found.size)
        return StreamingResponse(_read(found.path, 0, found.size), media_type="audio/wav",
                                 headers=headers)  # fmt: skip
    headers["Content-Range"] = wanted.content_range(found.size)
    headers["Content-Length"] = str(wanted.length)
    body = _read(found.path, wanted.start, wanted.length)
    return StreamingResponse(body, status_code=206, media_type="audio/wav", headers=headers)


def _read(path: FilePath, start: int, length: int) -> Iterator[bytes]:
    with open(path, "rb") as audio:
        audio.seek(start)
        left = length
        while left > 0:
            chunk = audio.read(min(CHUNK, left))
            if not chunk:
                return
            left -= len(chunk)
            yield chunk
