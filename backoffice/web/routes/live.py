"""The agent desktop (/desk) and the supervisor wallboard (/wallboard), live over SSE.

Pages are rendered on the server; each stream sends ready-made HTML fragments by name and
`/static/live.js` (a dozen lines) puts them in place. State changes are plain forms (CSRF).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator
from html import escape
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlmodel import Session, col, select
from sse_starlette.sse import EventSourceResponse

from acd.consult import LawyerMode
from acd.desk import PAUSE_REASONS, SeatRefused
from acd.store import AcdStore
from backoffice.access import Viewer
from backoffice.api.deps import BackofficeDep, SessionDep
from backoffice.domain.deadlines import Category
from backoffice.domain.lifecycle import Role
from backoffice.errors import Forbidden, Invalid
from backoffice.identifiers import caller_id_phone
from backoffice.live.board import TICK_S, Board, SeatNotYours
from backoffice.live.screenpop import ScreenPop
from backoffice.models import WorkOrderCreate, WorkOrderUpdate
from backoffice.services import work_orders
from backoffice.web.flash import flash
from backoffice.web.i18n import language_of, translator
from backoffice.web.render import environment, redirect, render
from backoffice.web.security import Csrf, PageUser, PageViewer, csrf_for
from hotline import bootstrap
from hotline.callevents.figures import LiveFigures
from hotline.callevents.live import LiveCalls
from hotline.errors import DependencyDown
from hotline.pbx import ami
from hotline.pbx.originate import BadTarget, Originator, SpyMode
from ivr.handoffs import CallbackRequest

router = APIRouter()
DESK_ROLES = frozenset({Role.OPERATOR, Role.LAWYER, Role.SUPERVISOR, Role.ADMIN})
BOARD_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})
MAX_FIELD = 32
CATEGORIES = tuple(c.value for c in Category)


def board_of(backoffice: Any, request: Request) -> Board:
    """One board per app, built on first use from the app's settings."""
    board: Board | None = getattr(request.app.state, "live_board", None)
    if board is None:
        s = backoffice.settings
        store = AcdStore.from_url(s.redis_url)
        secret = bootstrap.credentials(s).ami_secret
        session = functools.partial(ami.ami_session, s.ami_host, s.ami_port, s.ami_user, secret)
        board = Board(store, LiveFigures(store.client, s.timezone), LiveCalls(store.client),
                      backoffice.engine, Originator(session))  # fmt: skip
        request.app.state.live_board = board
    return board


def _require(viewer: Viewer, roles: frozenset[Role], what: str) -> None:
    if viewer.role not in roles:
        raise Forbidden(f"a {viewer.role} may not open the {what}")


def _fragment(request: Request, template: str, context: dict[str, Any]) -> str:
    lang = language_of(request)
    full = {"t": translator(lang), "lang": lang, **context}
    return environment().get_template(template).render(full)


# --- desk --------------------------------------------------------------------------------


@router.get("/desk")
def desk_page(request: Request, backoffice: BackofficeDep, viewer: PageViewer) -> Response:
    _require(viewer, DESK_ROLES, "agent desktop")
    board = board_of(backoffice, request)
    seat = board.seat_of(viewer.user_id)
    context = {"seat": seat, "reasons": PAUSE_REASONS,
               "callbacks": open_callbacks(backoffice.engine)}  # fmt: skip
    return render(request, "desk.html", context)


@router.post("/desk/seat", dependencies=[Csrf])
def desk_seat(
    request: Request, backoffice: BackofficeDep, viewer: PageViewer,
    seat: Annotated[str, Form(max_length=MAX_FIELD)] = "",
) -> Response:  # fmt: skip
    _require(viewer, DESK_ROLES, "agent desktop")
    refusal = f"seat {seat!r} does not exist or is not a seat for a {viewer.role}"
    _bind_seat(request, backoffice, viewer, seat, refusal)
    return redirect("/desk")


@router.post("/desk/state", dependencies=[Csrf])
def desk_state(
    request: Request, backoffice: BackofficeDep, viewer: PageViewer,
    action: Annotated[str, Form(max_length=MAX_FIELD)] = "",
    reason: Annotated[str, Form(max_length=MAX_FIELD)] = "",
) -> Response:  # fmt: skip
    _require(viewer, DESK_ROLES, "agent desktop")
    board = board_of(backoffice, request)
    seat = board.seat_of(viewer.user_id)
    if seat is None:
        raise Invalid("choose your seat first")
    _change(board, seat, action, reason)
    return redirect("/desk")


def _change(board: Board, seat: str, action: str, reason: str) -> None:
    if action == "pause" and reason not in PAUSE_REASONS:
        raise Invalid(f"pause reason must be one of {', '.join(PAUSE_REASONS)}")
    try:
        if action == "ready":
            board.desk.ready(seat)
        elif action == "pause":
            board.desk.pause(seat, reason)
        elif action == "logout":
            board.desk.logout(seat)
        else:
            raise Invalid(f"unknown action {action!r}: ready, pause or logout")
    except SeatRefused as exc:
        raise Invalid(str(exc)) from None


@router.get("/desk/events")
async def desk_events(
    request: Request, backoffice: BackofficeDep, viewer: PageViewer
) -> EventSourceResponse:
    _require(viewer, DESK_ROLES, "agent desktop")
    board = board_of(backoffice, request)
    seat = await asyncio.to_thread(board.seat_of, viewer.user_id)
    wrap_up_s = backoffice.settings.acd_wrap_up_seconds
    csrf = csrf_for(request, backoffice.secret_key)

    async def stream() -> AsyncIterator[dict[str, str]]:
        shown_call: str | None = None
        while seat is not None:
            await asyncio.to_thread(board.latest)
            row = board.seat_row(seat) or {}
            ctx = {"row": row, "wrap_up_s": wrap_up_s}
            yield {"event": "desk-state", "data": _fragment(request, "desk_state.html", ctx)}
            call = row.get("call")
            if call and call != shown_call:
                pop = await asyncio.to_thread(board.screen_pop, call, viewer)
                if pop is not None:
                    shown_call = call
                    ctx = {"pop": pop, "csrf": csrf, "category": _category(pop)}
                    html = _fragment(request, "desk_pop.html", ctx)
                    yield {"event": "desk-pop", "data": html}
            await asyncio.sleep(TICK_S)

    return EventSourceResponse(stream(), ping=15)


def _category(pop: ScreenPop) -> str:
    if pop.spoken_category in CATEGORIES:
        return pop.spoken_category
    return TOPIC_CATEGORY.get(pop.topic, "other")


# --- wallboard ---------------------------------------------------------------------------


@router.get("/wallboard")
def wallboard_page(request: Request, backoffice: BackofficeDep, viewer: PageViewer) -> Response:
    _require(viewer, BOARD_ROLES, "wallboard")
    phone = board_of(backoffice, request).seat_of(viewer.user_id)
    return render(request, "wallboard.html", {"phone": phone, "reasons": PAUSE_REASONS})


@router.post("/wallboard/phone", dependencies=[Csrf])
def wallboard_phone(
    request: Request, backoffice: BackofficeDep, viewer: PageViewer,
    seat: Annotated[str, Form(max_length=MAX_FIELD)] = "",
) -> Response:  # fmt: skip
    _require(viewer, BOARD_ROLES, "wallboard")
    _bind_seat(request, backoffice, viewer, seat, f"seat {seat!r} is not a supervisor's phone")
    return redirect("/wallboard")


def _bind_seat(
    request: Request, backoffice: BackofficeDep, viewer: PageViewer, seat: str, refusal: str
) -> None:
    """The phone on this person's desk, for their screen pops and listen-ins."""
    try:
        board_of(backoffice, request).bind(viewer.user_id, viewer.role.value, seat.strip())
    except SeatNotYours:
        raise Invalid(refusal) from None


@router.post("/wallboard/seats/{seat}/state", dependencies=[Csrf])
def force_state(
    request: Request, seat: str, backoffice: BackofficeDep, viewer: PageViewer,
    action: Annotated[str, Form(max_length=MAX_FIELD)] = "",
    reason: Annotated[str, Form(max_length=MAX_FIELD)] = "",
) -> Response:  # fmt: skip
    _require(viewer, BOARD_ROLES, "wallboard")
    if action not in ("pause", "logout"):
        raise Invalid("a supervisor may force pause or logout")
    _change(board_of(backoffice, request), seat, action, reason or "supervisor")
    return redirect("/wallboard")


@router.post("/wallboard/seats/{seat}/spy", dependencies=[Csrf])
def spy(
    request: Request, seat: str, backoffice: BackofficeDep, viewer: PageViewer,
    mode: Annotated[str, Form(max_length=MAX_FIELD)] = "",
) -> Response:  # fmt: skip
    _require(viewer, BOARD_ROLES, "wallboard")
    board = board_of(backoffice, request)
    phone = board.seat_of(viewer.user_id)
    if phone is None:
        raise Invalid("set your own phone (seat) first: the listen-in rings it")
    try:
        board.originator.listen_in(phone, seat, SpyMode(mode))
    except (ValueError, BadTarget) as exc:
        raise Invalid(str(exc)) from None
    except DependencyDown as exc:
        raise Invalid(f"Asterisk did not take the listen-in: {exc}") from None
    response = redirect("/wallboard")
    flash(response, "flash.spy_started")
    return response


@router.get("/wallboard/events")
async def wallboard_events(
    request: Request, backoffice: BackofficeDep, viewer: PageViewer
) -> EventSourceResponse:
    _require(viewer, BOARD_ROLES, "wallboard")
    board = board_of(backoffice, request)
    csrf = csrf_for(request, backoffice.secret_key)

    async def stream() -> AsyncIterator[dict[str, str]]:
        while True:
            data = await asyncio.to_thread(board.latest)
            ctx = {"board": data, "csrf": csrf, "reasons": PAUSE_REASONS}
            yield {"event": "board", "data": _fragment(request, "wallboard_board.html", ctx)}
            await asyncio.sleep(TICK_S)

    return EventSourceResponse(stream(), ping=15)


# --- the work order taken on the call ----------------------------------------------------

TOPIC_CATEGORY = {"legal": "legal_consultation", "wage_arrears": "wage_arrears",
                  "work_injury": "work_injury", "other": "other"}  # fmt: skip


@router.post("/desk/order", dependencies=[Csrf])
def desk_order(
    request: Request, backoffice: BackofficeDep, session: SessionDep, user: PageUser,
    call_id: Annotated[str, Form(max_length=128)],
    category: Annotated[str, Form(max_length=MAX_FIELD)] = "other",
    caller_name: Annotated[str, Form(max_length=50)] = "",
    employer_name: Annotated[str, Form(max_length=200)] = "",
    employer_credit_code: Annotated[str, Form(max_length=18)] = "",
    summary: Annotated[str, Form(max_length=20_000)] = "",
    anonymous: Annotated[bool, Form()] = False,
    confidential: Annotated[bool, Form()] = False,
    urgent: Annotated[bool, Form()] = False,
) -> Response:  # fmt: skip
    """Save the order during the call: the first save takes it in, later ones correct it."""
    call = board_of(backoffice, request).calls.get(call_id)
    if call is None:
        raise Invalid(f"no live call {call_id!r}: take the order on the orders page")
    fields: dict[str, Any] = {
        "caller_name": caller_name,
        "employer_name": employer_name.strip(),
        "employer_credit_code": employer_credit_code.strip(),
        "summary": summary,
        "anonymous": anonymous,
        "confidential": confidential,
        "category": category,
    }
    try:
        phone = caller_id_phone(call.caller)
        extra = {"urgent": urgent, "call_id": call_id, "caller_phone": phone}
        data = WorkOrderCreate.model_validate({**fields, **extra})
        taken = work_orders.create(session, data, user, config=backoffice.orders)
        order = taken.order
        if not taken.created and order.id is not None:
            changes = WorkOrderUpdate.model_validate(fields)
            order = work_orders.update(session, order.id, changes, user,
                                       config=backoffice.orders)  # fmt: skip
    except ValidationError as exc:
        raise Invalid(f"the order is not complete: {exc.errors()[0]['msg']}") from None
    t = translator(language_of(request))
    return HTMLResponse(f'<p class="order-saved">{t("desk.order_saved", number=order.number)}</p>')


# --- bringing in a lawyer ---------------------------------------------------------------


@router.post("/desk/lawyer", dependencies=[Csrf])
def desk_lawyer(
    request: Request, backoffice: BackofficeDep, viewer: PageViewer,
    call_id: Annotated[str, Form(max_length=64)],
    mode: Annotated[str, Form(max_length=MAX_FIELD)] = "consult",
) -> Response:  # fmt: skip
    """The same service as the operator's *5 and POST /api/v1/calls/{id}/lawyer."""
    from backoffice.services import lawyers

    _require(viewer, DESK_ROLES, "agent desktop")
    try:
        chosen = LawyerMode(mode)
    except ValueError:
        raise Invalid(f"mode must be consult, conference or transfer, not {mode!r}") from None
    service = lawyers.service_of(backoffice, request.app.state)
    outcome = lawyers.bring_in(service, viewer, call_id, chosen)
    t = translator(language_of(request))
    if outcome.lawyer is None:
        text = t("lawyer.none_free", id=outcome.callback_id)
    else:
        stage = t(f"lawyer.stage.{outcome.stage}") if outcome.stage else ""
        text = t("lawyer.joined", seat=outcome.lawyer, stage=stage)
    return HTMLResponse(f'<p class="lawyer-result">{escape(text)}</p>')


# --- the agent's callbacks ---------------------------------------------------------------


def open_callbacks(engine: Any, limit: int = 20) -> list[CallbackRequest]:
    query = (
        select(CallbackRequest)
        .where(CallbackRequest.status == "open")
        .order_by(col(CallbackRequest.requested_at))
        .limit(limit)
    )
    with Session(engine) as session:
        return list(session.exec(query).all())


@router.post("/desk/callbacks/{request_id}/call", dependencies=[Csrf])
def call_back(
    request: Request, request_id: int, backoffice: BackofficeDep, viewer: PageViewer
) -> Response:
    """Click-to-call: the agent's phone rings first; when answered, the caller is dialled."""
    _require(viewer, DESK_ROLES, "agent desktop")
    board = board_of(backoffice, request)
    seat = board.seat_of(viewer.user_id)
    settings = backoffice.settings
    if seat is None or not settings.carrier_address:
        raise Invalid("choose your seat first; outgoing calls need HOTLINE_CARRIER_ADDRESS")
    with Session(backoffice.engine) as session:
        wanted = session.get(CallbackRequest, request_id)
    if wanted is None or wanted.status != "open":
        raise Invalid(f"callback request {request_id} is not open")
    try:
        board.originator.call_back(seat, wanted.caller, settings.hotline_number)
    except BadTarget as exc:
        raise Invalid(str(exc)) from None
    except DependencyDown as exc:
        raise Invalid(f"Asterisk did not take the call: {exc}") from None
    response = redirect("/desk")
    flash(response, "flash.callback_started")
    return response
