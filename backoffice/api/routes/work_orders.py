"""Work orders: taking them in, finding them, and moving them through their lifecycle."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field
from sqlmodel import Session

from backoffice import search
from backoffice.access import Viewer
from backoffice.api.deps import (
    BackofficeDep,
    ClientIp,
    CurrentUser,
    CurrentViewer,
    SessionDep,
    TokenDep,
    json_answer,
    signed_in_read,
)
from backoffice.domain.deadlines import Category
from backoffice.domain.lifecycle import Action, Status
from backoffice.models import (
    ActionRequest,
    CallEvent,
    User,
    WorkOrderCreate,
    WorkOrderEventPublic,
    WorkOrderListItem,
    WorkOrderPage,
    WorkOrderPublic,
    WorkOrderUpdate,
    utcnow,
)
from backoffice.models.base import MAX_ID, Moment
from backoffice.services import order_lists
from backoffice.services import order_views as views
from backoffice.services import work_orders as orders
from backoffice.services.commands import command_for

router = APIRouter(prefix="/work-orders", tags=["work orders"])
OrderId = Annotated[int, Path(ge=1, le=MAX_ID)]
_EXISTING: dict[int | str, dict[str, Any]] = {
    200: {"model": WorkOrderPublic, "description": "an order for this call existed"}
}


@router.post("", response_model=WorkOrderPublic, status_code=201, responses=_EXISTING)
def create_order(
    data: WorkOrderCreate,
    response: Response,
    session: SessionDep,
    user: CurrentUser,
    viewer: CurrentViewer,
    backoffice: BackofficeDep,
) -> WorkOrderPublic:
    """Take an order (operator, lawyer) or accept a 12345 transfer (channel `12345`).

    Without `org_unit_id` the responsible unit is proposed from the caller's number.
    """
    creation = orders.create(session, data, user, config=backoffice.orders)
    if not creation.created:
        response.status_code = 200
    return views.present(creation.order, viewer)


@router.post("/from-call", response_model=WorkOrderPublic, status_code=201, responses=_EXISTING)
def create_from_call(
    event: CallEvent,
    response: Response,
    session: SessionDep,
    user: CurrentUser,
    viewer: CurrentViewer,
    backoffice: BackofficeDep,
) -> WorkOrderPublic:
    """The order for a finished call; posting the same `call_id` again returns that order."""
    orders.require_taker(user)
    creation = orders.take_call(session, event.model_dump(), config=backoffice.orders)
    creation = orders.shown_to(session, creation, user)
    if not creation.created:
        response.status_code = 200
    return views.present(creation.order, viewer)


SEARCH_HELP = (
    "Search number, caller's number and name, employer, summary and transcripts: every word "
    "must occur (Chinese needs no spaces)."
)


class OrderQuery(BaseModel):
    """The list's filters as query parameters, shared by the JSON list and the CSV export.

    One model: FastAPI validates it in one call, where it took each parameter through its
    own steps (about a fifth of a list request's Python on the event loop).
    """

    status: list[Status] = []
    category: list[Category] = []
    org_unit_id: Annotated[int | None, Field(ge=1, le=MAX_ID)] = None
    assignee_id: Annotated[int | None, Field(ge=1, le=MAX_ID)] = None
    overdue: bool | None = None
    created_from: Moment | None = None
    created_to: Moment | None = None
    q: Annotated[str | None, Field(max_length=search.MAX_QUERY, description=SEARCH_HELP)] = None

    def filters(self) -> order_lists.OrderFilters:
        return order_lists.OrderFilters(
            status=self.status,
            category=self.category,
            org_unit_id=self.org_unit_id,
            assignee_id=self.assignee_id,
            overdue=self.overdue,
            created_from=self.created_from,
            created_to=self.created_to,
            q=self.q,
        )


class ListQuery(OrderQuery):
    """The filters, then the page."""

    limit: Annotated[int, Field(ge=1, le=order_lists.MAX_PAGE)] = 20
    cursor: Annotated[str | None, Field(max_length=200)] = None


@router.get("", response_model=WorkOrderPage)
async def list_orders(
    backoffice: BackofficeDep,
    token: TokenDep,
    query: Annotated[ListQuery, Query()],
) -> Response:
    """Newest first. `org_unit_id` includes the units under it; pass `next_cursor` back as
    `cursor` for the next page."""
    filters = query.filters()

    def page_of(session: Session, user: User, viewer: Viewer) -> dict[str, Any]:
        page = order_lists.list_rows(
            session, user, filters, views.LIST_COLUMNS, limit=query.limit, cursor=query.cursor
        )
        now = utcnow()
        items = [views.item_fields(row, viewer, now) for row in page.items]
        return {"items": items, "next_cursor": page.next_cursor}

    # The items are WorkOrderListItem's fields (`views.item_fields`), encoded as they are.
    return json_answer(await signed_in_read(backoffice, token, page_of))


@router.get("/by-number/{number}", response_model=WorkOrderPublic)
async def get_by_number(
    number: Annotated[str, Path(max_length=32)],
    backoffice: BackofficeDep,
    token: TokenDep,
    client: ClientIp,
) -> Response:
    """The order a caller quotes: `GH20261123000042` or the 14 digits alone."""

    def find(session: Session, user: User, viewer: Viewer) -> WorkOrderPublic:
        return views.present(orders.get_by_number(session, number, user, ip=client), viewer)

    return json_answer(await signed_in_read(backoffice, token, find))


@router.get("/{order_id}", response_model=WorkOrderPublic)
async def get_order(
    order_id: OrderId,
    backoffice: BackofficeDep,
    token: TokenDep,
    client: ClientIp,
) -> Response:
    """Opening a confidential order is written to the audit log."""

    def find(session: Session, user: User, viewer: Viewer) -> WorkOrderPublic:
        return views.present(orders.get(session, order_id, user, ip=client), viewer)

    return json_answer(await signed_in_read(backoffice, token, find))


@router.patch("/{order_id}", response_model=WorkOrderPublic)
def update_order(
    order_id: OrderId,
    changes: WorkOrderUpdate,
    session: SessionDep,
    user: CurrentUser,
    viewer: CurrentViewer,
    backoffice: BackofficeDep,
) -> WorkOrderPublic:
    """Corrections by the provincial centre; the status changes only through actions."""
    order = orders.update(session, order_id, changes, user, config=backoffice.orders)
    return views.present(order, viewer)


@router.get("/{order_id}/events", response_model=list[WorkOrderEventPublic])
def order_timeline(
    order_id: OrderId,
    session: SessionDep,
    user: CurrentUser,
    viewer: CurrentViewer,
    client: ClientIp,
) -> list[WorkOrderEventPublic]:
    order, events = orders.timeline(session, order_id, user, ip=client)
    return [views.present_event(event, viewer, order) for event in events]


@router.get("/{order_id}/linked", response_model=list[WorkOrderListItem])
def linked_orders(
    order_id: OrderId, session: SessionDep, user: CurrentUser, viewer: CurrentViewer
) -> list[WorkOrderListItem]:
    """Earlier and later orders of the same caller or employer."""
    return [views.present_item(o, viewer) for o in orders.linked(session, order_id, user)]


@router.post("/{order_id}/actions/{action}", response_model=WorkOrderPublic)
def take_action(
    order_id: OrderId,
    action: Action,
    session: SessionDep,
    user: CurrentUser,
    viewer: CurrentViewer,
    backoffice: BackofficeDep,
    body: ActionRequest | None = None,
) -> WorkOrderPublic:
    """Dispatch, sign, reply, return visit, close... Each action reads the fields it needs:

    - dispatch (`org_unit_id`, default: the proposed unit; `assignee_id`), redispatch
      (`org_unit_id`, `assignee_id`), sign, start_handling, close, approve_extension, remind,
      supervise (`note`)
    - reply (`text`, `outcome`, `wages_recovered` in yuan), record_feedback (`text`)
    - return_order, reopen, reject_extension, mark_urgent (`reason`)
    - return_visit (`satisfaction` 1-5, or null when the caller was not reached; `note`)
    - request_extension (`working_days`, `reason`)

    409 carries the lifecycle's explanation when the status does not allow the action.
    """
    proposed = orders.proposed_unit(session, order_id, user)
    command, extras = command_for(action, body or ActionRequest(), proposed)
    order = orders.act(session, order_id, command, user, extras=extras, config=backoffice.orders)
    return views.present(order, viewer)
