"""Work orders through their life: taken in, read under the access rules, acted on, linked.

Every change goes through here: the route hands over what the user asked for, this module
loads the order, lets the pure lifecycle (`backoffice.domain.lifecycle.apply`) decide, and
stores the new state together with its timeline entry in one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy import ColumnElement, or_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, select

from backoffice import access, jurisdiction
from backoffice.access import ORDER_EDITORS, ORDER_TAKERS, ORG_UNIT_ROLES, Viewer, viewer_of
from backoffice.domain import lifecycle as lc
from backoffice.domain.deadlines import SHANGHAI, Deadlines
from backoffice.domain.numbering import format_number, parse_number
from backoffice.errors import Conflict, Forbidden, Invalid, NotFound
from backoffice.identifiers import caller_id_phone
from backoffice.models import (
    AuditAction,
    CallEvent,
    Channel,
    OrgUnit,
    User,
    WebOrderCreate,
    WorkOrder,
    WorkOrderCreate,
    WorkOrderEvent,
    WorkOrderUpdate,
    utcnow,
)
from backoffice.numbering import allocate, local_day
from backoffice.services import audit, transcripts
from backoffice.services.commands import Extras
from hotline import holidays

FEN_PER_YUAN = 100
NO_EXTRAS = Extras()


@dataclass(frozen=True)
class WorkOrderConfig:
    """Centre-wide settings the service needs: the calendar's zone and the lifecycle rules."""

    tz: str = SHANGHAI
    rules: lc.LifecycleRules = field(default_factory=lambda: lc.DEFAULT_RULES)


DEFAULT_CONFIG = WorkOrderConfig()


def _rules(session: Session, config: WorkOrderConfig) -> lc.LifecycleRules:
    """The lifecycle rules with the centre's calendar overrides (admin holidays page) as of now."""
    policy = replace(config.rules.deadlines, workday_overrides=holidays.overrides_in(session))
    return replace(config.rules, deadlines=policy)


@dataclass(frozen=True)
class Origin:
    """Who an order came from: a user, or a channel with nobody signed in."""

    user_id: int | None
    name: str
    role: lc.Role | None


IVR = Origin(None, "ivr", None)
WEB_FORM = Origin(None, "web form", None)


@dataclass(frozen=True)
class Creation:
    order: WorkOrder
    created: bool  # False: an order for this call already existed and is returned as it is


# --- taking orders in -----------------------------------------------------------------------


def create(
    session: Session,
    data: WorkOrderCreate,
    actor: User,
    *,
    config: WorkOrderConfig = DEFAULT_CONFIG,
    now: datetime | None = None,
) -> Creation:
    """An order taken by an operator or lawyer, or transferred from 12345 through the API."""
    require_taker(actor)
    existing = _by_call_id(session, data.call_id)
    if existing is not None:
        return shown_to(session, Creation(existing, False), actor)
    _require_unit(session, data.org_unit_id)
    _require_user(session, data.assignee_id)
    fields = data.model_dump(exclude={"urgent", "org_unit_id"})
    order = WorkOrder(**fields, created_by_id=actor.id)
    origin = Origin(actor.id, actor.display_name, actor.role)
    return _take_in(session, order, origin, data.urgent, data.org_unit_id, config, now)


def require_taker(actor: User) -> None:
    if actor.role not in ORDER_TAKERS:
        raise Forbidden(f"a {actor.role} does not take work orders")


def create_from_web(
    session: Session,
    form: WebOrderCreate,
    *,
    config: WorkOrderConfig = DEFAULT_CONFIG,
    now: datetime | None = None,
) -> WorkOrder:
    """An order left on the public web form (channel web), for the unit the worker chose."""
    _require_unit(session, form.org_unit_id)
    order = WorkOrder(**form.model_dump(exclude={"org_unit_id"}), channel=Channel.WEB)
    return _take_in(session, order, WEB_FORM, False, form.org_unit_id, config, now).order


def create_from_call(
    session: Session,
    call_event: Mapping[str, Any],
    *,
    config: WorkOrderConfig = DEFAULT_CONFIG,
    now: datetime | None = None,
) -> WorkOrder:
    """The order for a finished call; the same call_id always gives back the same order."""
    return take_call(session, call_event, config=config, now=now).order


def take_call(
    session: Session,
    call_event: Mapping[str, Any],
    *,
    config: WorkOrderConfig = DEFAULT_CONFIG,
    now: datetime | None = None,
) -> Creation:
    try:
        event = CallEvent.model_validate(call_event)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise Invalid(f"not a call event: {where}: {first['msg']}") from exc
    existing = _by_call_id(session, event.call_id)
    if existing is not None:
        return Creation(existing, False)
    order = WorkOrder(
        channel=Channel.PHONE,
        call_id=event.call_id,
        caller_phone=caller_id_phone(event.caller),
        anonymous=event.anonymous,
        category=event.category,
        summary=event.summary,
        transcript=event.transcript,
    )
    transcripts.prefill_order(session, order)  # transcribed before the order came in
    return _take_in(session, order, IVR, event.urgent, None, config, now)


def _take_in(
    session: Session,
    order: WorkOrder,
    origin: Origin,
    urgent: bool,
    org_unit_id: int | None,
    config: WorkOrderConfig,
    now: datetime | None,
) -> Creation:
    now = now or utcnow()
    proposal = (
        jurisdiction.Proposal(org_unit_id, "")
        if org_unit_id is not None
        else jurisdiction.propose(session, order.caller_phone)
    )
    state = lc.new_order(order.category, now, urgent=urgent)
    state = replace(state, org_unit_id=proposal.org_unit_id)
    _store(order, state)
    order.created_at = order.updated_at = now
    data = {"channel": order.channel.value, "org_unit_id": proposal.org_unit_id}
    if proposal.region:
        data["proposed_from_region"] = proposal.region
    try:
        order.number = allocate(session, local_day(now, config.tz))
        session.add(order)
        session.flush()
        session.add(_event(order, origin, "create", None, "", data, now))
        session.commit()
    except IntegrityError:
        # Another worker took the same call in meanwhile: its order is the one.
        session.rollback()
        existing = _by_call_id(session, order.call_id)
        if existing is None:
            raise
        return Creation(existing, False)
    return Creation(order, True)


def shown_to(session: Session, creation: Creation, actor: User) -> Creation:
    """The creation as ``actor`` may learn of it: an existing order they may not open (a
    confidential one, another unit's) is only said to exist, without its content."""
    if creation.created or creation.order.id is None:
        return creation
    try:
        _visible_order(session, creation.order.id, viewer_of(session, actor))
    except NotFound:
        raise Conflict(f"call {creation.order.call_id} already has a work order") from None
    return creation


def _by_call_id(session: Session, call_id: str | None) -> WorkOrder | None:
    if not call_id:
        return None
    return session.exec(select(WorkOrder).where(WorkOrder.call_id == call_id)).first()


# --- reading --------------------------------------------------------------------------------


def get(session: Session, order_id: int, actor: User, *, ip: str = "") -> WorkOrder:
    """The order if ``actor`` may see it (NotFound otherwise); opening a confidential one is
    written to the audit log."""
    order = _visible_order(session, order_id, viewer_of(session, actor))
    _audit_confidential(session, order, actor, ip, "order")
    return order


def get_by_number(session: Session, number: str, actor: User, *, ip: str = "") -> WorkOrder:
    """The order a caller or handler quotes, with or without the GH prefix."""
    try:
        canonical = format_number(*parse_number(number))
    except ValueError as exc:
        raise NotFound(f"work order {number} not found: {exc}") from exc
    query = select(WorkOrder.id).where(WorkOrder.number == canonical)
    order_id = session.exec(query).first()
    if order_id is None:
        raise NotFound(f"work order {canonical} not found")
    return get(session, order_id, actor, ip=ip)


def timeline(
    session: Session, order_id: int, actor: User, *, ip: str = ""
) -> tuple[WorkOrder, list[WorkOrderEvent]]:
    """The order and its timeline, oldest first; audited like opening it."""
    order = _visible_order(session, order_id, viewer_of(session, actor))
    _audit_confidential(session, order, actor, ip, "timeline")
    query = (
        select(WorkOrderEvent)
        .where(WorkOrderEvent.work_order_id == order_id)
        .order_by(col(WorkOrderEvent.id))
    )
    return order, list(session.exec(query).all())


def linked(session: Session, order_id: int, actor: User, limit: int = 50) -> list[WorkOrder]:
    """Other orders of the same caller (number) or employer (name or credit code), newest first.

    A viewer who sees the order's number masked does not get it linked by number: that would
    tell an anonymous caller's other, named orders.
    """
    viewer = viewer_of(session, actor)
    order = _visible_order(session, order_id, viewer)
    same = _same_party(order, by_phone=not access.masks_phone(viewer, order))
    if not same:
        return []
    query = (
        select(WorkOrder)
        .where(or_(*same), WorkOrder.id != order_id, access.visible(viewer))
        .order_by(col(WorkOrder.created_at).desc(), col(WorkOrder.id).desc())
        .limit(limit)
    )
    return list(session.exec(query).all())


def _same_party(order: WorkOrder, *, by_phone: bool) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if by_phone and order.caller_phone:
        clauses.append(col(WorkOrder.caller_phone) == order.caller_phone)
    if order.employer_credit_code:
        clauses.append(col(WorkOrder.employer_credit_code) == order.employer_credit_code)
    if order.employer_name:
        clauses.append(col(WorkOrder.employer_name) == order.employer_name)
    return clauses


def _visible_order(
    session: Session, order_id: int, viewer: Viewer, *, for_update: bool = False
) -> WorkOrder:
    query = select(WorkOrder).where(WorkOrder.id == order_id, access.visible(viewer))
    if for_update:
        # PostgreSQL queues concurrent actions on one order here; SQLite, which ignores FOR
        # UPDATE, relies on the version column and answers the loser with a 409.
        query = query.with_for_update(of=WorkOrder).execution_options(populate_existing=True)
    order = session.exec(query).first()
    if order is None:
        raise NotFound(f"work order {order_id} not found")
    return order


def _audit_confidential(
    session: Session, order: WorkOrder, actor: User, ip: str, what: str
) -> None:
    if not order.confidential:
        return
    audit.record(
        session,
        actor.id,
        AuditAction.VIEW_CONFIDENTIAL_ORDER,
        "work_order",
        str(order.id),
        ip=ip,
        data={"number": order.number, "what": what},
    )
    session.commit()


# --- acting ---------------------------------------------------------------------------------


def act(
    session: Session,
    order_id: int,
    command: lc.Command,
    actor: User,
    *,
    extras: Extras = NO_EXTRAS,
    config: WorkOrderConfig = DEFAULT_CONFIG,
    now: datetime | None = None,
) -> WorkOrder:
    """Take a lifecycle action on an order and record it on the timeline, in one transaction.

    Refusals, in this order: NotFound (cannot see it), NotAllowed (the role may not),
    Forbidden (a handler acting for another unit), Invalid (a target that does not exist),
    IllegalTransition (not from this status), Conflict (someone else changed it meanwhile).
    """
    now = now or utcnow()
    viewer = viewer_of(session, actor)
    order = _visible_order(session, order_id, viewer, for_update=True)
    _check_actor(viewer, order, command)
    assignee = _assignee_after(session, viewer, order, command, extras)
    transition = lc.apply(state_of(order), command, viewer.actor, now, _rules(session, config))
    _store(order, transition.state)
    order.assignee_id = assignee
    _record_outcome(order, command, extras)
    order.updated_at = now
    session.add(_entry_event(order, transition.entry, extras))
    _commit(session)
    return order


def proposed_unit(session: Session, order_id: int, actor: User) -> int | None:
    """Where a first dispatch goes by default: the unit proposed when the order came in."""
    return _visible_order(session, order_id, viewer_of(session, actor)).org_unit_id


def _check_actor(viewer: Viewer, order: WorkOrder, command: lc.Command) -> None:
    action = command.ACTION
    if action not in lc.PERMISSIONS[viewer.role]:
        raise lc.NotAllowed(f"{viewer.name} ({viewer.role}) may not {action} a work order")
    if viewer.role in ORG_UNIT_ROLES and not access.acts_for_unit(viewer, order):
        raise Forbidden(
            f"work order {order.number} is with another org unit; only its handlers may {action}"
        )


def _assignee_after(
    session: Session, viewer: Viewer, order: WorkOrder, command: lc.Command, extras: Extras
) -> int | None:
    """Who holds the order after the action.

    A new org unit starts without an assignee unless one of its own is named (or already
    holds it); whoever of the unit signs for an unassigned order takes it; a returned order
    is nobody's.
    """
    match command:
        case lc.Dispatch() | lc.Redispatch():
            return _dispatch_assignee(session, viewer, order, command.org_unit_id, extras)
        case lc.Sign() | lc.StartHandling() if viewer.role in ORG_UNIT_ROLES:
            return order.assignee_id or viewer.user_id
        case lc.ReturnOrder():
            return None
    return order.assignee_id


def _dispatch_assignee(
    session: Session, viewer: Viewer, order: WorkOrder, unit_id: int, extras: Extras
) -> int | None:
    unit = session.get(OrgUnit, unit_id)
    if unit is None:
        raise Invalid(f"org unit {unit_id} does not exist")
    if not unit.path.startswith(viewer.org_path):
        raise Forbidden(f"{unit.name} is outside {viewer.name}'s part of the network")
    candidate = extras.assignee_id or order.assignee_id
    holder = session.get(User, candidate) if candidate is not None else None
    if extras.assignee_id is not None and (holder is None or holder.org_unit_id != unit_id):
        raise Invalid(f"user {extras.assignee_id} is not a member of {unit.name}")
    if holder is not None and holder.org_unit_id == unit_id and holder.active:
        return holder.id
    if order.confidential:
        raise Invalid("a confidential order goes to a named handler: give assignee_id")
    return None


def _record_outcome(order: WorkOrder, command: lc.Command, extras: Extras) -> None:
    if isinstance(command, lc.Reply):
        order.outcome = extras.outcome
        order.wages_recovered_fen = _fen(extras.wages_recovered)


def _commit(session: Session) -> None:
    try:
        session.commit()
    except StaleDataError as exc:
        session.rollback()
        raise Conflict("the work order was changed meanwhile; reload it and try again") from exc


def update(
    session: Session,
    order_id: int,
    changes: WorkOrderUpdate,
    actor: User,
    *,
    config: WorkOrderConfig = DEFAULT_CONFIG,
    now: datetime | None = None,
) -> WorkOrder:
    """Corrections by the provincial centre: category (deadlines follow), summary, employer,
    flags, assignee. A field given as null is left alone, except assignee_id, which null clears."""
    if actor.role not in ORDER_EDITORS:
        raise Forbidden(f"a {actor.role} does not edit work orders")
    now = now or utcnow()
    order = _visible_order(session, order_id, viewer_of(session, actor), for_update=True)
    if order.status is lc.Status.CLOSED:
        raise Conflict(f"work order {order.number} is closed; reopen it to change it")
    fields = changes.model_dump(exclude_unset=True)
    fields = {k: v for k, v in fields.items() if v is not None or k == "assignee_id"}
    _require_user(session, fields.get("assignee_id"))
    changed = sorted(k for k, v in fields.items() if getattr(order, k) != v)
    for name in changed:
        setattr(order, name, fields[name])
    if "category" in changed:
        _store(order, lc.with_deadlines(state_of(order), _rules(session, config).deadlines))
    if changed:
        order.updated_at = now
        origin = Origin(actor.id, actor.display_name, actor.role)
        session.add(_event(order, origin, "update", order.status, "", {"fields": changed}, now))
    _commit(session)
    return order


# --- state mapping --------------------------------------------------------------------------


def state_of(order: WorkOrder) -> lc.OrderState:
    """The pure lifecycle's view of a stored order."""
    return lc.OrderState(
        category=order.category,
        status=order.status,
        urgent_since=order.urgent_since,
        org_unit_id=order.org_unit_id,
        dispatched_at=order.dispatched_at,
        deadlines=Deadlines(order.sign_due, order.reply_due, order.return_due),
        extension=lc.Extension(
            order.extension_pending_days,
            order.extension_pending_reason,
            order.extension_approved_days,
        ),
        supervised=order.supervised,
        remind_count=order.remind_count,
        satisfaction=order.satisfaction,
        reopen_count=order.reopen_count,
    )


def _store(order: WorkOrder, state: lc.OrderState) -> None:
    order.category = state.category
    order.status = state.status
    order.urgent = state.urgent
    order.urgent_since = _utc(state.urgent_since)
    order.org_unit_id = state.org_unit_id
    order.dispatched_at = _utc(state.dispatched_at)
    order.sign_due = _utc(state.deadlines.sign_due)
    order.reply_due = _utc(state.deadlines.reply_due)
    order.return_due = _utc(state.deadlines.return_due)
    order.extension_pending_days = state.extension.pending_days
    order.extension_pending_reason = state.extension.pending_reason
    order.extension_approved_days = state.extension.approved_days
    order.supervised = state.supervised
    order.remind_count = state.remind_count
    order.satisfaction = state.satisfaction
    order.reopen_count = state.reopen_count


def _utc(moment: datetime | None) -> datetime | None:
    # Deadlines come back in Beijing time; the API speaks UTC throughout, as the database does.
    return None if moment is None else moment.astimezone(UTC)


def _event(
    order: WorkOrder,
    origin: Origin,
    action: str,
    from_status: lc.Status | None,
    note: str,
    data: dict[str, Any],
    now: datetime,
) -> WorkOrderEvent:
    assert order.id is not None
    return WorkOrderEvent(
        work_order_id=order.id,
        at=now,
        actor_id=origin.user_id,
        actor_name=origin.name,
        actor_role=origin.role,
        action=action,
        from_status=from_status,
        to_status=order.status,
        note=note,
        data=data,
    )


def _entry_event(order: WorkOrder, entry: lc.TimelineEntry, extras: Extras) -> WorkOrderEvent:
    data: dict[str, Any] = dict(entry.data)
    if entry.action in (lc.Action.DISPATCH, lc.Action.REDISPATCH):
        data["assignee_id"] = order.assignee_id
    if entry.action is lc.Action.REPLY and extras.outcome is not None:
        data["outcome"] = extras.outcome.value
        if extras.wages_recovered is not None:
            data["wages_recovered"] = str(extras.wages_recovered)
    origin = Origin(entry.actor.user_id, entry.actor.name, entry.actor.role)
    return _event(order, origin, entry.action.value, entry.from_status, entry.note, data, entry.at)


def _fen(yuan: Decimal | None) -> int | None:
    return None if yuan is None else int(yuan * FEN_PER_YUAN)


def _require_unit(session: Session, unit_id: int | None) -> None:
    if unit_id is not None and session.get(OrgUnit, unit_id) is None:
        raise Invalid(f"org unit {unit_id} does not exist")


def _require_user(session: Session, user_id: int | None) -> None:
    if user_id is None:
        return
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise Invalid(f"user {user_id} does not exist or is not active")
