"""Work orders, their timeline, and the per-day counter their numbers come from."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import ConfigDict, field_validator
from sqlalchemy import JSON, BigInteger, Column, Index, Integer, Text
from sqlmodel import Field

from backoffice.domain.deadlines import Category, DueState
from backoffice.domain.lifecycle import Action, Role, Status
from backoffice.identifiers import check_credit_code, normalize_phone
from backoffice.models.base import (
    MAX_ID,
    REQUEST_CONFIG,
    BackofficeModel,
    UTCDateTime,
    enum_column,
    utcnow,
)


class Channel(StrEnum):
    PHONE = "phone"
    WEB = "web"  # the public web form
    TRANSFER_12345 = "12345"  # handed over by the 12345 government service hotline
    APP = "app"


class Outcome(StrEnum):
    """How the matter ended for the worker, as the provincial reports count it."""

    WAGES_RECOVERED = "wages_recovered"
    MEDIATED = "mediated"
    REFERRED_TO_ARBITRATION = "referred_to_arbitration"
    REFERRED_TO_LEGAL_AID = "referred_to_legal_aid"
    ANSWERED = "answered"  # a consultation answered, nothing to pursue
    OTHER = "other"


MAX_TEXT = 20_000
# Call events carry more than an order needs (the IVR path, timings): ignore the rest.
EVENT_CONFIG: Any = ConfigDict(extra="ignore", str_strip_whitespace=True)


class WorkOrderBase(BackofficeModel):
    channel: Channel = Field(default=Channel.PHONE, sa_type=enum_column(Channel))
    caller_name: str = Field(default="", max_length=50)
    caller_phone: str = Field(default="", max_length=32, index=True)
    # Anonymous: the caller gave no name and the number stays with the provincial centre.
    anonymous: bool = False
    # Confidential (保密): only the assignee, supervisors and admins may open the order.
    confidential: bool = False
    employer_name: str = Field(default="", max_length=200, index=True)
    employer_credit_code: str = Field(default="", max_length=18, index=True)
    category: Category = Field(default=Category.OTHER, sa_type=enum_column(Category), index=True)
    summary: str = Field(default="", max_length=MAX_TEXT, sa_type=Text)
    transcript: str = Field(default="", max_length=MAX_TEXT, sa_type=Text)


class _Validated(BackofficeModel):
    """Checks shared by every way a work order comes in."""

    model_config = REQUEST_CONFIG

    @field_validator("caller_phone", check_fields=False)
    @classmethod
    def _phone(cls, value: str) -> str:
        return normalize_phone(value)

    @field_validator("employer_credit_code", check_fields=False)
    @classmethod
    def _credit_code(cls, value: str | None) -> str | None:
        return check_credit_code(value) if value else value


class WorkOrderCreate(_Validated, WorkOrderBase):
    """A work order taken by an operator or lawyer, or transferred by 12345 through the API."""

    urgent: bool = False
    # Where the order should go; when left out it is proposed from the caller's number.
    org_unit_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    assignee_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    # The call it was taken on: a second create with the same call_id returns the first order.
    call_id: str | None = Field(default=None, min_length=1, max_length=128)


class WebOrderCreate(_Validated):
    """The public web form: a worker leaves a message and a number to call back."""

    caller_name: str = Field(default="", max_length=50)
    caller_phone: str = Field(min_length=3, max_length=32)
    anonymous: bool = False
    confidential: bool = False
    employer_name: str = Field(default="", max_length=200)
    employer_credit_code: str = Field(default="", max_length=18)
    category: Category = Category.OTHER
    summary: str = Field(min_length=5, max_length=4000)
    # The city or county the worker chose; left out, it is proposed from their number.
    org_unit_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class CallEvent(BackofficeModel):
    """What the call-event stream says about a finished call; unknown keys are ignored."""

    model_config = EVENT_CONFIG

    call_id: str = Field(min_length=1, max_length=128)
    caller: str = Field(default="", max_length=64)
    category: Category = Category.OTHER
    summary: str = Field(default="", max_length=MAX_TEXT)
    transcript: str = Field(default="", max_length=MAX_TEXT)
    urgent: bool = False
    anonymous: bool = False


class WorkOrderUpdate(_Validated):
    """Corrections by the provincial centre; status and org unit change only through actions."""

    caller_name: str | None = Field(default=None, max_length=50)
    anonymous: bool | None = None
    confidential: bool | None = None
    employer_name: str | None = Field(default=None, max_length=200)
    employer_credit_code: str | None = Field(default=None, max_length=18)
    category: Category | None = None
    summary: str | None = Field(default=None, max_length=MAX_TEXT)
    assignee_id: int | None = Field(default=None, ge=1, le=MAX_ID)


# Optimistic lock: two people acting on one order at once cannot both win, even on SQLite,
# which has no SELECT ... FOR UPDATE; the loser gets a 409 and reloads.
_VERSION = Column("version", Integer, nullable=False)


class WorkOrder(WorkOrderBase, table=True):
    __tablename__ = "work_order"
    __table_args__ = (
        # The list's keyset order, alone and behind each filter column (revision 0004).
        Index("ix_work_order_created_at_id", "created_at", "id"),
        Index("ix_work_order_status_created_at_id", "status", "created_at", "id"),
        Index("ix_work_order_org_unit_id_created_at_id", "org_unit_id", "created_at", "id"),
        Index("ix_work_order_assignee_id_created_at_id", "assignee_id", "created_at", "id"),
        # The pages' order, urgent first (revision 0010).
        Index("ix_work_order_urgent_created_at_id", "urgent", "created_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(default="", max_length=16, unique=True)  # allocated on insert
    call_id: str | None = Field(default=None, max_length=128, unique=True)
    status: Status = Field(default=Status.ACCEPTED, sa_type=enum_column(Status))
    org_unit_id: int | None = Field(default=None, foreign_key="org_unit.id")
    assignee_id: int | None = Field(default=None, foreign_key="user.id")
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    urgent: bool = False
    urgent_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    dispatched_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sign_due: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reply_due: datetime | None = Field(default=None, sa_type=UTCDateTime)
    return_due: datetime | None = Field(default=None, sa_type=UTCDateTime)
    extension_pending_days: int = 0
    extension_pending_reason: str = Field(default="", max_length=2000)
    extension_approved_days: int = 0
    supervised: bool = False
    remind_count: int = 0
    reopen_count: int = 0
    satisfaction: int | None = None
    outcome: Outcome | None = Field(default=None, sa_type=enum_column(Outcome))
    # Money in fen (分): exact on both databases, where SQLite would round a NUMERIC.
    wages_recovered_fen: int | None = Field(default=None, sa_type=BigInteger)
    # Indexed together with id below: the list's keyset order.
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    version: int = Field(default=1, sa_column=_VERSION)

    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": _VERSION}


class WorkOrderListItem(BackofficeModel):
    id: int
    number: str
    channel: Channel
    caller_phone: str
    anonymous: bool
    confidential: bool
    category: Category
    # Withheld for confidential orders in lists: reading one is audited, listing it is not.
    summary: str
    status: Status
    org_unit_id: int | None
    assignee_id: int | None
    urgent: bool
    sign_due: datetime | None
    reply_due: datetime | None
    due_state: DueState
    created_at: datetime


class WorkOrderPublic(WorkOrderListItem):
    caller_name: str
    employer_name: str
    employer_credit_code: str
    transcript: str
    call_id: str | None
    created_by_id: int | None
    dispatched_at: datetime | None
    return_due: datetime | None
    supervised: bool
    remind_count: int
    reopen_count: int
    extension_pending_days: int
    extension_pending_reason: str
    extension_approved_days: int
    satisfaction: int | None
    outcome: Outcome | None
    wages_recovered: Decimal | None
    updated_at: datetime
    # What the viewer's role may do from this status (buttons); data checks still apply.
    allowed_actions: list[Action]


class WorkOrderPage(BackofficeModel):
    items: list[WorkOrderListItem]
    # Pass back as ?cursor= for the next page; None on the last page.
    next_cursor: str | None


class WorkOrderEvent(BackofficeModel, table=True):
    """One line of an order's timeline: created, dispatched, signed for, replied, visited..."""

    __tablename__ = "work_order_event"

    id: int | None = Field(default=None, primary_key=True)
    work_order_id: int = Field(foreign_key="work_order.id", index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor_id: int | None = Field(default=None, foreign_key="user.id")
    actor_name: str = Field(max_length=64)
    actor_role: Role | None = Field(default=None, sa_type=enum_column(Role))
    # A lifecycle Action, or "create" / "update" for what happens outside the lifecycle.
    action: str = Field(max_length=32)
    from_status: Status | None = Field(default=None, sa_type=enum_column(Status))
    to_status: Status = Field(sa_type=enum_column(Status))
    note: str = Field(default="", sa_type=Text)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class WorkOrderEventPublic(BackofficeModel):
    id: int
    at: datetime
    actor_id: int | None
    actor_name: str
    actor_role: Role | None
    action: str
    from_status: Status | None
    to_status: Status
    note: str
    data: dict[str, Any]


class ActionRequest(BackofficeModel):
    """The body of POST /work-orders/{id}/actions/{action}; each action reads what it needs."""

    model_config = REQUEST_CONFIG

    note: str = Field(default="", max_length=2000)
    text: str = Field(default="", max_length=MAX_TEXT)
    reason: str = Field(default="", max_length=2000)
    org_unit_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    # dispatch/redispatch: a handler of the target unit (required for confidential orders)
    assignee_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    satisfaction: int | None = Field(default=None, ge=1, le=5)
    working_days: int | None = Field(default=None, ge=1, le=10)
    outcome: Outcome | None = None
    # Yuan with at most 2 decimals; max_digits also rules out NaN and infinity.
    wages_recovered: Decimal | None = Field(default=None, ge=0, max_digits=14, decimal_places=2)


class OrderSequence(BackofficeModel, table=True):
    """The last sequence number handed out per local day (GH + yyyymmdd + sequence)."""

    __tablename__ = "order_sequence"

    day: date = Field(primary_key=True)
    last_seq: int = 0
