"""The work-order lifecycle: which action moves a work order between which statuses, and who may.

``apply`` is pure: it gets the clock as ``now`` and returns the new state together with the
timeline entry to record; persisting both, and checking that a handler belongs to the org unit
the order was dispatched to, is the service layer's job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from backoffice.domain.deadlines import Category, DeadlinePolicy, Deadlines, require_aware, schedule
from hotline.errors import HotlineError


class Status(StrEnum):
    ACCEPTED = "accepted"  # taken from a call, not yet dispatched
    DISPATCHED = "dispatched"  # with an org unit that has not signed for it
    SIGNED = "signed"
    HANDLING = "handling"
    REPLIED = "replied"
    FEEDBACK = "feedback"  # the caller has reacted to the reply
    RETURN_VISIT = "return_visit"  # a return visit was tried but did not reach the caller
    CLOSED = "closed"
    RETURNED = "returned"  # handed back to the dispatcher by the org unit
    REOPENED = "reopened"  # back with the dispatcher after an unsatisfied visit or a reopen


class Action(StrEnum):
    DISPATCH = "dispatch"
    REDISPATCH = "redispatch"
    SIGN = "sign"
    START_HANDLING = "start_handling"
    REPLY = "reply"
    RETURN_ORDER = "return_order"
    RECORD_FEEDBACK = "record_feedback"
    RETURN_VISIT = "return_visit"
    CLOSE = "close"
    REOPEN = "reopen"
    REQUEST_EXTENSION = "request_extension"
    APPROVE_EXTENSION = "approve_extension"
    REJECT_EXTENSION = "reject_extension"
    REMIND = "remind"  # 催办
    SUPERVISE = "supervise"  # 督办
    MARK_URGENT = "mark_urgent"  # 急事急办


class Role(StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    OPERATOR = "operator"
    LAWYER = "lawyer"
    HANDLER = "handler"
    VIEWER = "viewer"


@dataclass(frozen=True)
class Actor:
    """Who takes an action; ``user_id`` is None for the system itself."""

    user_id: int | None
    name: str
    role: Role


class LifecycleError(HotlineError):
    """An action on a work order was refused; the message says what to do instead."""


class IllegalTransition(LifecycleError):
    """The action does not fit the work order's current status or data."""


class NotAllowed(LifecycleError):
    """The actor's role may not take this action."""


_HANDLER_ACTIONS = frozenset(
    {
        Action.SIGN,
        Action.START_HANDLING,
        Action.REPLY,
        Action.RETURN_ORDER,
        Action.REQUEST_EXTENSION,
    }
)

PERMISSIONS: Mapping[Role, frozenset[Action]] = {
    Role.ADMIN: frozenset(Action),
    Role.SUPERVISOR: frozenset(
        {
            Action.APPROVE_EXTENSION,
            Action.REJECT_EXTENSION,
            Action.SUPERVISE,
            Action.REMIND,
            Action.CLOSE,
            Action.REOPEN,
            Action.DISPATCH,
            Action.REDISPATCH,
            Action.MARK_URGENT,
        }
    ),
    Role.OPERATOR: frozenset(
        {
            Action.DISPATCH,
            Action.REDISPATCH,
            Action.RECORD_FEEDBACK,
            Action.RETURN_VISIT,
            Action.REMIND,
            Action.CLOSE,
            Action.MARK_URGENT,
        }
    ),
    # Duty lawyers (值班律师) take legal-consultation orders the way a handler does.
    Role.LAWYER: _HANDLER_ACTIONS,
    Role.HANDLER: _HANDLER_ACTIONS,
    Role.VIEWER: frozenset(),
}

_WITH_ORG_UNIT = frozenset({Status.DISPATCHED, Status.SIGNED, Status.HANDLING})
_AWAITING_VISIT = frozenset({Status.REPLIED, Status.FEEDBACK, Status.RETURN_VISIT})
_BEING_HANDLED = frozenset({Status.SIGNED, Status.HANDLING})

ALLOWED_FROM: Mapping[Action, frozenset[Status]] = {
    Action.DISPATCH: frozenset({Status.ACCEPTED}),
    Action.REDISPATCH: frozenset({Status.DISPATCHED, Status.RETURNED, Status.REOPENED}),
    Action.SIGN: frozenset({Status.DISPATCHED}),
    Action.START_HANDLING: frozenset({Status.SIGNED}),
    Action.REPLY: _BEING_HANDLED,
    Action.RETURN_ORDER: _WITH_ORG_UNIT,
    Action.RECORD_FEEDBACK: _AWAITING_VISIT,
    Action.RETURN_VISIT: _AWAITING_VISIT,
    Action.CLOSE: _AWAITING_VISIT | {Status.ACCEPTED, Status.RETURNED, Status.REOPENED},
    Action.REOPEN: frozenset({Status.CLOSED}),
    Action.REQUEST_EXTENSION: _BEING_HANDLED,
    Action.APPROVE_EXTENSION: _BEING_HANDLED,
    Action.REJECT_EXTENSION: _BEING_HANDLED,
    Action.REMIND: _WITH_ORG_UNIT,
    Action.SUPERVISE: frozenset(Status) - {Status.CLOSED},
    Action.MARK_URGENT: _WITH_ORG_UNIT | {Status.ACCEPTED, Status.RETURNED, Status.REOPENED},
}


# --- commands -------------------------------------------------------------------------------


def _require_text(value: str, what: str) -> None:
    if not value.strip():
        raise ValueError(f"{what} must not be empty")


def _require_int(value: int, what: str, low: int, high: int | None = None) -> None:
    # bool is an int in Python; True org units and satisfaction scores are bugs.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what} must be an integer, got {value!r}")
    if value < low or (high is not None and value > high):
        bounds = f"{low}..{high}" if high is not None else f"{low} or more"
        raise ValueError(f"{what} must be {bounds}, got {value}")


@dataclass(frozen=True)
class Dispatch:
    org_unit_id: int
    note: str = ""
    ACTION: ClassVar[Action] = Action.DISPATCH

    def __post_init__(self) -> None:
        _require_int(self.org_unit_id, "org_unit_id", 1)


@dataclass(frozen=True)
class Redispatch:
    org_unit_id: int
    note: str = ""
    ACTION: ClassVar[Action] = Action.REDISPATCH

    def __post_init__(self) -> None:
        _require_int(self.org_unit_id, "org_unit_id", 1)


@dataclass(frozen=True)
class Sign:
    note: str = ""
    ACTION: ClassVar[Action] = Action.SIGN


@dataclass(frozen=True)
class StartHandling:
    note: str = ""
    ACTION: ClassVar[Action] = Action.START_HANDLING


@dataclass(frozen=True)
class Reply:
    text: str
    ACTION: ClassVar[Action] = Action.REPLY

    def __post_init__(self) -> None:
        _require_text(self.text, "the reply text")


@dataclass(frozen=True)
class ReturnOrder:
    reason: str
    ACTION: ClassVar[Action] = Action.RETURN_ORDER

    def __post_init__(self) -> None:
        _require_text(self.reason, "the reason for returning the work order")


@dataclass(frozen=True)
class RecordFeedback:
    text: str
    ACTION: ClassVar[Action] = Action.RECORD_FEEDBACK

    def __post_init__(self) -> None:
        _require_text(self.text, "the caller's feedback")


@dataclass(frozen=True)
class ReturnVisit:
    """A return visit; ``satisfaction`` None means the caller could not be reached."""

    satisfaction: int | None
    note: str = ""
    ACTION: ClassVar[Action] = Action.RETURN_VISIT

    def __post_init__(self) -> None:
        if self.satisfaction is not None:
            _require_int(self.satisfaction, "satisfaction", 1, 5)


@dataclass(frozen=True)
class Close:
    note: str = ""
    ACTION: ClassVar[Action] = Action.CLOSE


@dataclass(frozen=True)
class Reopen:
    reason: str
    ACTION: ClassVar[Action] = Action.REOPEN

    def __post_init__(self) -> None:
        _require_text(self.reason, "the reason for reopening")


MAX_EXTENSION_REQUEST = 10


@dataclass(frozen=True)
class RequestExtension:
    working_days: int
    reason: str
    ACTION: ClassVar[Action] = Action.REQUEST_EXTENSION

    def __post_init__(self) -> None:
        _require_int(self.working_days, "working_days", 1, MAX_EXTENSION_REQUEST)
        _require_text(self.reason, "the reason for the extension")


@dataclass(frozen=True)
class ApproveExtension:
    note: str = ""
    ACTION: ClassVar[Action] = Action.APPROVE_EXTENSION


@dataclass(frozen=True)
class RejectExtension:
    reason: str
    ACTION: ClassVar[Action] = Action.REJECT_EXTENSION

    def __post_init__(self) -> None:
        _require_text(self.reason, "the reason for rejecting the extension")


@dataclass(frozen=True)
class Remind:
    note: str = ""
    ACTION: ClassVar[Action] = Action.REMIND


@dataclass(frozen=True)
class Supervise:
    note: str = ""
    ACTION: ClassVar[Action] = Action.SUPERVISE


@dataclass(frozen=True)
class MarkUrgent:
    reason: str
    ACTION: ClassVar[Action] = Action.MARK_URGENT

    def __post_init__(self) -> None:
        _require_text(self.reason, "the reason for marking the work order urgent")


Command = (
    Dispatch
    | Redispatch
    | Sign
    | StartHandling
    | Reply
    | ReturnOrder
    | RecordFeedback
    | ReturnVisit
    | Close
    | Reopen
    | RequestExtension
    | ApproveExtension
    | RejectExtension
    | Remind
    | Supervise
    | MarkUrgent
)


# --- state ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Extension:
    pending_days: int = 0
    pending_reason: str = ""
    approved_days: int = 0


@dataclass(frozen=True)
class OrderState:
    category: Category
    status: Status = Status.ACCEPTED
    # Set when the order was marked urgent (急事急办); the urgent clock starts there.
    urgent_since: datetime | None = None
    org_unit_id: int | None = None
    dispatched_at: datetime | None = None
    deadlines: Deadlines = field(default_factory=Deadlines)
    extension: Extension = field(default_factory=Extension)
    supervised: bool = False
    remind_count: int = 0
    satisfaction: int | None = None
    reopen_count: int = 0

    @property
    def urgent(self) -> bool:
        return self.urgent_since is not None


def new_order(category: Category, now: datetime, *, urgent: bool = False) -> OrderState:
    """A work order just accepted from a call."""
    require_aware(now, "now")
    return OrderState(category=category, urgent_since=now if urgent else None)


JsonScalar = str | int | bool | None


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    actor: Actor
    action: Action
    from_status: Status
    to_status: Status
    note: str = ""
    data: Mapping[str, JsonScalar] = field(default_factory=dict)


@dataclass(frozen=True)
class Transition:
    state: OrderState
    entry: TimelineEntry


@dataclass(frozen=True)
class LifecycleRules:
    """Centre-wide settings; ``satisfied_from`` is the lowest satisfaction that closes an order."""

    deadlines: DeadlinePolicy = field(default_factory=DeadlinePolicy)
    satisfied_from: int = 3

    def __post_init__(self) -> None:
        _require_int(self.satisfied_from, "satisfied_from", 1, 5)


DEFAULT_RULES = LifecycleRules()


# --- apply ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Effect:
    state: OrderState
    note: str = ""
    data: Mapping[str, JsonScalar] = field(default_factory=dict)


def apply(
    order: OrderState,
    command: Command,
    actor: Actor,
    now: datetime,
    rules: LifecycleRules = DEFAULT_RULES,
) -> Transition:
    """Take ``command`` on ``order`` as ``actor`` at ``now``.

    Raises NotAllowed if the actor's role may not take the action and IllegalTransition if the
    order's status or data do not allow it; the role is checked first so that a refused user
    learns nothing about the order.
    """
    require_aware(now, "now")
    action = command.ACTION
    if action not in PERMISSIONS[actor.role]:
        raise NotAllowed(f"{actor.name} ({actor.role}) may not {_VERBS[action]} a work order")
    if order.status not in ALLOWED_FROM[action]:
        raise IllegalTransition(_refusal(action, order.status, _hint(action, order.status)))
    effect = _effect(order, command, now, rules)
    state = with_deadlines(effect.state, rules.deadlines)
    entry = TimelineEntry(now, actor, action, order.status, state.status, effect.note, effect.data)
    return Transition(state, entry)


def allowed_actions(order: OrderState, actor: Actor) -> frozenset[Action]:
    """Actions the actor's role may take from the order's status (for showing buttons).

    Data checks (a pending extension, the return window) still apply when the action is taken.
    """
    return frozenset(a for a in PERMISSIONS[actor.role] if order.status in ALLOWED_FROM[a])


def with_deadlines(order: OrderState, policy: DeadlinePolicy) -> OrderState:
    """The order with the deadlines that bind it in its current status, and no others."""
    if order.dispatched_at is None or order.status not in _WITH_ORG_UNIT:
        return replace(order, deadlines=Deadlines())
    full = schedule(
        policy,
        order.category,
        order.dispatched_at,
        urgent_since=order.urgent_since,
        extension_days=order.extension.approved_days,
    )
    sign_due = full.sign_due if order.status is Status.DISPATCHED else None
    return replace(order, deadlines=replace(full, sign_due=sign_due))


def _effect(order: OrderState, command: Command, now: datetime, rules: LifecycleRules) -> _Effect:
    match command:
        case Dispatch() | Redispatch():
            return _dispatch(order, command, now)
        case Sign() | StartHandling() | Close():
            return _Effect(replace(order, status=_MOVES_TO[command.ACTION]), command.note)
        case Reply():
            state = replace(order, status=Status.REPLIED, extension=_settled(order.extension))
            return _Effect(state, command.text)
        case ReturnOrder():
            return _return(order, command, now)
        case RecordFeedback():
            return _Effect(replace(order, status=Status.FEEDBACK), command.text)
        case ReturnVisit():
            return _return_visit(order, command, rules)
        case Reopen():
            return _reopen(order, command.reason)
        case RequestExtension():
            return _request_extension(order, command, now, rules.deadlines)
        case ApproveExtension() | RejectExtension():
            return _decide_extension(order, command)
        case Remind():
            return _remind(order, command)
        case Supervise():
            return _supervise(order, command)
        case MarkUrgent():
            return _mark_urgent(order, command, now)


_MOVES_TO: Mapping[Action, Status] = {
    Action.SIGN: Status.SIGNED,
    Action.START_HANDLING: Status.HANDLING,
    Action.CLOSE: Status.CLOSED,
}


def _dispatch(order: OrderState, command: Dispatch | Redispatch, now: datetime) -> _Effect:
    # A new org unit starts with a fresh clock and no extension: it owes nothing yet.
    state = replace(
        order,
        status=Status.DISPATCHED,
        org_unit_id=command.org_unit_id,
        dispatched_at=now,
        extension=Extension(),
    )
    data = {"org_unit_id": command.org_unit_id, "previous_org_unit_id": order.org_unit_id}
    return _Effect(state, command.note, data)


def _return(order: OrderState, command: ReturnOrder, now: datetime) -> _Effect:
    window_end = order.deadlines.return_due
    if window_end is not None and now > window_end:
        raise IllegalTransition(
            _refusal(
                Action.RETURN_ORDER,
                order.status,
                f"the window for returning it closed at {window_end:%Y-%m-%d %H:%M}; "
                "reply, or ask the dispatcher to redispatch it",
            )
        )
    state = replace(order, status=Status.RETURNED, extension=_settled(order.extension))
    return _Effect(state, command.reason, {"org_unit_id": order.org_unit_id})


def _settled(ext: Extension) -> Extension:
    # Once the order leaves the org unit a pending request is moot; approved days stay on record.
    return Extension(approved_days=ext.approved_days)


def _return_visit(order: OrderState, command: ReturnVisit, rules: LifecycleRules) -> _Effect:
    if command.satisfaction is None:
        return _Effect(replace(order, status=Status.RETURN_VISIT), command.note, {"reached": False})
    satisfied = command.satisfaction >= rules.satisfied_from
    state = replace(order, satisfaction=command.satisfaction)
    state = replace(state, status=Status.CLOSED) if satisfied else _reopened(state)
    data = {"reached": True, "satisfaction": command.satisfaction, "satisfied": satisfied}
    return _Effect(state, command.note, data)


def _reopen(order: OrderState, reason: str) -> _Effect:
    state = _reopened(order)
    return _Effect(state, reason, {"reopen_count": state.reopen_count})


def _reopened(order: OrderState) -> OrderState:
    return replace(order, status=Status.REOPENED, reopen_count=order.reopen_count + 1)


def _request_extension(
    order: OrderState, command: RequestExtension, now: datetime, policy: DeadlinePolicy
) -> _Effect:
    ext = order.extension
    problem = _extension_problem(order, command.working_days, now, policy)
    if problem:
        raise IllegalTransition(_refusal(Action.REQUEST_EXTENSION, order.status, problem))
    state = replace(
        order,
        extension=replace(ext, pending_days=command.working_days, pending_reason=command.reason),
    )
    return _Effect(state, command.reason, {"working_days": command.working_days})


def _extension_problem(
    order: OrderState, days: int, now: datetime, policy: DeadlinePolicy
) -> str | None:
    ext = order.extension
    due = order.deadlines.reply_due
    if ext.pending_days:
        return f"a request for {ext.pending_days} working days is already waiting for a decision"
    if ext.approved_days + days > policy.max_extension_days:
        return (
            f"{ext.approved_days} working days are already approved and extensions may total "
            f"at most {policy.max_extension_days}"
        )
    if due is not None and now > due:
        return f"the reply was due {due:%Y-%m-%d %H:%M}; extensions must be asked for before that"
    return None


def _decide_extension(order: OrderState, command: ApproveExtension | RejectExtension) -> _Effect:
    ext = order.extension
    if not ext.pending_days:
        raise IllegalTransition(
            _refusal(command.ACTION, order.status, "no extension request is waiting for a decision")
        )
    approving = isinstance(command, ApproveExtension)
    approved = ext.approved_days + (ext.pending_days if approving else 0)
    state = replace(order, extension=Extension(approved_days=approved))
    note = command.note if isinstance(command, ApproveExtension) else command.reason
    return _Effect(state, note, {"working_days": ext.pending_days, "approved_days": approved})


def _remind(order: OrderState, command: Remind) -> _Effect:
    count = order.remind_count + 1
    return _Effect(replace(order, remind_count=count), command.note, {"remind_count": count})


def _supervise(order: OrderState, command: Supervise) -> _Effect:
    if order.supervised:
        raise IllegalTransition(
            _refusal(Action.SUPERVISE, order.status, "it is already under supervision")
        )
    return _Effect(replace(order, supervised=True), command.note)


def _mark_urgent(order: OrderState, command: MarkUrgent, now: datetime) -> _Effect:
    if order.urgent:
        raise IllegalTransition(_refusal(Action.MARK_URGENT, order.status, "it is already urgent"))
    return _Effect(replace(order, urgent_since=now), command.reason)


# --- messages -------------------------------------------------------------------------------

_VERBS: Mapping[Action, str] = {
    Action.DISPATCH: "dispatch",
    Action.REDISPATCH: "redispatch",
    Action.SIGN: "sign for",
    Action.START_HANDLING: "start handling",
    Action.REPLY: "reply to",
    Action.RETURN_ORDER: "return",
    Action.RECORD_FEEDBACK: "record feedback on",
    Action.RETURN_VISIT: "make a return visit on",
    Action.CLOSE: "close",
    Action.REOPEN: "reopen",
    Action.REQUEST_EXTENSION: "request an extension for",
    Action.APPROVE_EXTENSION: "approve an extension for",
    Action.REJECT_EXTENSION: "reject an extension for",
    Action.REMIND: "send a reminder (催办) on",
    Action.SUPERVISE: "supervise (督办)",
    Action.MARK_URGENT: "fast-track (急事急办)",
}

# What to do instead, by the status the order is in.
_STATUS_HINTS: Mapping[Status, str] = {
    Status.ACCEPTED: "it must be dispatched to an org unit first",
    Status.DISPATCHED: "it must be signed for first",
    Status.SIGNED: "the org unit has not replied yet",
    Status.HANDLING: "the org unit has not replied yet",
    Status.REPLIED: "it has already been replied to",
    Status.FEEDBACK: "it has already been replied to",
    Status.RETURN_VISIT: "it has already been replied to and awaits a return visit",
    Status.CLOSED: "it is closed; a supervisor must reopen it first",
    Status.RETURNED: "it was returned to the dispatcher; redispatch it first",
    Status.REOPENED: "it was reopened; redispatch it first",
}

_USE_REDISPATCH = "dispatch is for newly accepted orders; use redispatch"
_MUST_RETURN = "the org unit has signed for it; it must return the order first"

# Where the status hint alone would mislead.
_HINTS: Mapping[tuple[Action, Status], str] = {
    (Action.DISPATCH, Status.DISPATCHED): _USE_REDISPATCH,
    (Action.DISPATCH, Status.RETURNED): _USE_REDISPATCH,
    (Action.DISPATCH, Status.REOPENED): _USE_REDISPATCH,
    (Action.DISPATCH, Status.SIGNED): _MUST_RETURN,
    (Action.DISPATCH, Status.HANDLING): _MUST_RETURN,
    (Action.REDISPATCH, Status.SIGNED): _MUST_RETURN,
    (Action.REDISPATCH, Status.HANDLING): _MUST_RETURN,
    (Action.REDISPATCH, Status.ACCEPTED): "it has not been dispatched yet; use dispatch",
    (Action.SIGN, Status.SIGNED): "it has already been signed for",
    (Action.SIGN, Status.HANDLING): "it has already been signed for",
    (Action.START_HANDLING, Status.HANDLING): "handling has already started",
    (Action.RETURN_VISIT, Status.DISPATCHED): "the org unit has not replied yet",
    (Action.RECORD_FEEDBACK, Status.DISPATCHED): "the org unit has not replied yet",
    (Action.CLOSE, Status.DISPATCHED): "the org unit has not replied yet",
}


def _hint(action: Action, status: Status) -> str:
    if action is Action.REOPEN:
        return "only a closed work order can be reopened"
    return _HINTS.get((action, status), _STATUS_HINTS[status])


def _refusal(action: Action, status: Status, why: str) -> str:
    return f"cannot {_VERBS[action]} a work order that is '{status}': {why}"
