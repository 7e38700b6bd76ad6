"""The public web form: a worker leaves a message without an account."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter

from backoffice.api.deps import BackofficeDep, ClientIp, SessionDep
from backoffice.errors import TooManyAttempts
from backoffice.models import BackofficeModel, WebOrderCreate
from backoffice.services import work_orders

router = APIRouter(prefix="/public", tags=["public"])


class WebOrderReceipt(BackofficeModel):
    """What the worker gets back: the number to quote when calling 12351."""

    number: str
    created_at: datetime


@router.post(
    "/work-orders",
    response_model=WebOrderReceipt,
    status_code=201,
    responses={429: {"description": "too many messages from this address"}},
)
def leave_message(
    form: WebOrderCreate, session: SessionDep, backoffice: BackofficeDep, client: ClientIp
) -> WebOrderReceipt:
    limiter = backoffice.web_form_limiter
    wait = limiter.retry_after(client)
    if wait > 0:
        raise TooManyAttempts(f"too many messages; try again in {int(wait) + 1} s", wait)
    limiter.hit(client)
    order = work_orders.create_from_web(session, form, config=backoffice.orders)
    return WebOrderReceipt(number=order.number, created_at=order.created_at)
