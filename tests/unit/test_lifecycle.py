"""The work-order state machine: transitions, roles, deadlines and the timeline it produces."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backoffice.domain.deadlines import Category, Deadlines
from backoffice.domain.lifecycle import (
    ALLOWED_FROM,
    PERMISSIONS,
    Action,
    Actor,
    ApproveExtension,
    Close,
    Command,
    Dispatch,
    Extension,
    IllegalTransition,
    LifecycleRules,
    MarkUrgent,
    NotAllowed,
    OrderState,
    RecordFeedback,
    Redispatch,
    RejectExtension,
    Remind,
    Reopen,
    Reply,
    RequestExtension,
    ReturnOrder,
    ReturnVisit,
    Role,
    Sign,
    StartHandling,
    Status,
    Supervise,
    allowed_actions,
    apply,
    new_order,
    with_deadlines,
)

pytestmark = pytest.mark.unit

SH = ZoneInfo("Asia/Shanghai")
ADMIN = Actor(1, "Zhao", Role.ADMIN)
SUPERVISOR = Actor(2, "Qian", Role.SUPERVISOR)
OPERATOR = Actor(3, "Sun", Role.OPERATOR)
HANDLER = Actor(4, "Li", Role.HANDLER)
LAWYER = Actor(5, "Zhou", Role.LAWYER)
VIEWER = Actor(6, "Wu", Role.VIEWER)


def at(y: int, m: int, d: int, hh: int = 9, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SH)


def eod(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, tzinfo=SH).replace(hour=23, minute=59, second=59, microsecond=999999)


def dispatched(
    category: Category = Category.WAGE_ARREARS, when: datetime | None = None
) -> OrderState:
    when = when or at(2026, 11, 23, 9)
    order = new_order(category, when - timedelta(hours=1))
    return apply(order, Dispatch(org_unit_id=7), OPERATOR, when).state


def signed(category: Category = Category.WAGE_ARREARS, when: datetime | None = None) -> OrderState:
    order = dispatched(category, when)
    return apply(order, Sign(), HANDLER, (when or at(2026, 11, 23, 9)) + timedelta(hours=1)).state


# --- the happy path ---------------------------------------------------------------------------


def test_full_lifecycle_from_acceptance_to_a_satisfied_return_visit() -> None:
    order = new_order(Category.WAGE_ARREARS, at(2026, 11, 20, 16))
    steps: list[tuple[Command, Actor, datetime, Status]] = [
        (
            Dispatch(org_unit_id=7, note="县总工会"),
            OPERATOR,
            at(2026, 11, 20, 17),
            Status.DISPATCHED,
        ),
        (Sign(), HANDLER, at(2026, 11, 23, 9), Status.SIGNED),
        (StartHandling(), HANDLER, at(2026, 11, 23, 10), Status.HANDLING),
        (Reply("已协调企业补发工资"), HANDLER, at(2026, 11, 25, 15), Status.REPLIED),
        (RecordFeedback("来电人表示已收到"), OPERATOR, at(2026, 11, 26, 9), Status.FEEDBACK),
        (ReturnVisit(satisfaction=4), OPERATOR, at(2026, 11, 27, 9), Status.CLOSED),
    ]
    for command, actor, now, expected in steps:
        transition = apply(order, command, actor, now)
        assert transition.entry.from_status is order.status
        assert transition.entry.to_status is expected is transition.state.status
        assert transition.entry.actor == actor and transition.entry.at == now
        order = transition.state
    assert order.satisfaction == 4
    assert order.org_unit_id == 7
    assert order.deadlines == Deadlines()


def test_dispatch_sets_the_deadlines_from_the_dispatch_time() -> None:
    # Dispatched on a Friday evening: sign by Monday, return by Tuesday, reply by Friday.
    order = dispatched(Category.WAGE_ARREARS, at(2026, 11, 20, 19))
    assert order.dispatched_at == at(2026, 11, 20, 19)
    assert order.deadlines == Deadlines(
        sign_due=eod(2026, 11, 23), reply_due=eod(2026, 11, 27), return_due=eod(2026, 11, 24)
    )


def test_signing_clears_the_sign_deadline_and_replying_clears_all() -> None:
    order = signed()
    assert order.deadlines.sign_due is None
    assert order.deadlines.reply_due == eod(2026, 11, 30)
    replied = apply(order, Reply("答复"), HANDLER, at(2026, 11, 24)).state
    assert replied.deadlines == Deadlines()


def test_reply_can_follow_signing_directly() -> None:
    transition = apply(signed(), Reply("已答复"), LAWYER, at(2026, 11, 24))
    assert transition.state.status is Status.REPLIED
    assert transition.entry.note == "已答复"


def test_timeline_entry_records_the_dispatch_target() -> None:
    order = new_order(Category.OTHER, at(2026, 11, 23, 8))
    entry = apply(
        order, Dispatch(org_unit_id=9, note="派往长沙市总"), OPERATOR, at(2026, 11, 23)
    ).entry
    assert entry.action is Action.DISPATCH
    assert entry.note == "派往长沙市总"
    assert entry.data == {"org_unit_id": 9, "previous_org_unit_id": None}


# --- illegal moves ----------------------------------------------------------------------------


def test_reply_to_a_dispatched_order_says_it_must_be_signed_for_first() -> None:
    with pytest.raises(IllegalTransition) as refused:
        apply(dispatched(), Reply("答复"), HANDLER, at(2026, 11, 23, 10))
    assert str(refused.value) == (
        "cannot reply to a work order that is 'dispatched': it must be signed for first"
    )


@pytest.mark.parametrize(
    ("status", "command", "message"),
    [
        (Status.DISPATCHED, Dispatch(org_unit_id=3), "use redispatch"),
        (Status.HANDLING, Redispatch(org_unit_id=3), "it must return the order first"),
        (Status.SIGNED, Sign(), "already been signed for"),
        (Status.HANDLING, StartHandling(), "handling has already started"),
        (Status.HANDLING, Close(), "'handling': the org unit has not replied yet"),
        (Status.CLOSED, Reply("x"), "a supervisor must reopen it first"),
        (Status.REPLIED, Reopen("x"), "only a closed work order can be reopened"),
        (Status.RETURNED, Sign(), "redispatch it first"),
        (Status.ACCEPTED, Remind(), "dispatched to an org unit first"),
    ],
)
def test_illegal_moves_explain_what_to_do(status: Status, command: Command, message: str) -> None:
    order = OrderState(Category.OTHER, status=status, org_unit_id=7, dispatched_at=at(2026, 11, 23))
    with pytest.raises(IllegalTransition, match=message):
        apply(order, command, ADMIN, at(2026, 11, 23, 10))


def _sample_command(action: Action) -> Command:
    samples: dict[Action, Command] = {
        Action.DISPATCH: Dispatch(org_unit_id=1),
        Action.REDISPATCH: Redispatch(org_unit_id=2),
        Action.SIGN: Sign(),
        Action.START_HANDLING: StartHandling(),
        Action.REPLY: Reply("答复"),
        Action.RETURN_ORDER: ReturnOrder("非本单位职责"),
        Action.RECORD_FEEDBACK: RecordFeedback("满意"),
        Action.RETURN_VISIT: ReturnVisit(satisfaction=5),
        Action.CLOSE: Close(),
        Action.REOPEN: Reopen("来电人再次投诉"),
        Action.REQUEST_EXTENSION: RequestExtension(working_days=3, reason="需调查"),
        Action.APPROVE_EXTENSION: ApproveExtension(),
        Action.REJECT_EXTENSION: RejectExtension("理由不足"),
        Action.REMIND: Remind(),
        Action.SUPERVISE: Supervise(),
        Action.MARK_URGENT: MarkUrgent("群体性欠薪"),
    }
    return samples[action]


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("status", list(Status))
def test_transition_table_is_enforced_for_every_pair(action: Action, status: Status) -> None:
    order = OrderState(
        Category.OTHER,
        status=status,
        org_unit_id=7,
        dispatched_at=at(2026, 11, 23),
        extension=Extension(pending_days=2, pending_reason="需调查"),
    )
    order = with_deadlines(order, LifecycleRules().deadlines)
    command = _sample_command(action)
    if status in ALLOWED_FROM[action]:
        if action is Action.REQUEST_EXTENSION:
            return  # refused for the pending request, tested below
        assert apply(order, command, ADMIN, at(2026, 11, 23, 10)).entry.action is action
    else:
        with pytest.raises(IllegalTransition, match=f"that is '{status}'"):
            apply(order, command, ADMIN, at(2026, 11, 23, 10))


# --- roles ------------------------------------------------------------------------------------


def test_viewer_may_do_nothing() -> None:
    with pytest.raises(NotAllowed, match=r"Wu \(viewer\) may not reply to a work order"):
        apply(signed(), Reply("答复"), VIEWER, at(2026, 11, 24))


@pytest.mark.parametrize(
    ("actor", "command"),
    [
        (HANDLER, Dispatch(org_unit_id=3)),
        (HANDLER, ApproveExtension()),
        (OPERATOR, Sign()),
        (OPERATOR, Reopen("再次投诉")),
        (OPERATOR, Supervise()),
        (SUPERVISOR, Reply("答复")),
        (SUPERVISOR, ReturnVisit(satisfaction=5)),
        (LAWYER, Close()),
    ],
)
def test_roles_are_checked_before_the_status(actor: Actor, command: Command) -> None:
    # An order in a status where the command would be illegal anyway: the role error wins.
    order = OrderState(Category.OTHER, status=Status.CLOSED)
    with pytest.raises(NotAllowed):
        apply(order, command, actor, at(2026, 11, 24))


def test_permission_table_matches_the_hotlines_division_of_work() -> None:
    assert PERMISSIONS[Role.HANDLER] == {
        Action.SIGN,
        Action.START_HANDLING,
        Action.REPLY,
        Action.RETURN_ORDER,
        Action.REQUEST_EXTENSION,
    }
    assert PERMISSIONS[Role.ADMIN] == set(Action)
    assert not PERMISSIONS[Role.VIEWER]
    assert {Action.APPROVE_EXTENSION, Action.SUPERVISE, Action.REOPEN} <= PERMISSIONS[
        Role.SUPERVISOR
    ]
    assert {Action.RECORD_FEEDBACK, Action.RETURN_VISIT, Action.CLOSE} <= PERMISSIONS[Role.OPERATOR]


def test_allowed_actions_for_showing_buttons() -> None:
    assert allowed_actions(dispatched(), HANDLER) == {Action.SIGN, Action.RETURN_ORDER}
    assert allowed_actions(dispatched(), VIEWER) == set()
    assert Action.REMIND in allowed_actions(dispatched(), OPERATOR)


# --- return to the dispatcher -----------------------------------------------------------------


def test_return_within_the_window_then_redispatch_restarts_the_clock() -> None:
    order = dispatched(Category.LABOR_CONTRACT, at(2026, 11, 23, 9))
    returned = apply(order, ReturnOrder("不属于本辖区"), HANDLER, at(2026, 11, 25, 17)).state
    assert returned.status is Status.RETURNED
    assert returned.deadlines == Deadlines()
    transition = apply(returned, Redispatch(org_unit_id=12), OPERATOR, at(2026, 11, 26, 9))
    assert transition.state.org_unit_id == 12
    assert transition.state.deadlines.sign_due == eod(2026, 11, 27)
    assert transition.state.deadlines.reply_due == eod(2026, 12, 3)
    assert transition.entry.data == {"org_unit_id": 12, "previous_org_unit_id": 7}


def test_return_after_the_window_is_refused() -> None:
    order = signed(Category.LABOR_CONTRACT, at(2026, 11, 23, 9))
    with pytest.raises(IllegalTransition, match="window for returning it closed at 2026-11-25"):
        apply(order, ReturnOrder("不属于本辖区"), HANDLER, at(2026, 11, 26, 9))


@pytest.mark.parametrize("reason", ["", "   \n"])
def test_return_needs_a_reason(reason: str) -> None:
    with pytest.raises(ValueError, match="reason for returning"):
        ReturnOrder(reason)


# --- return visit -----------------------------------------------------------------------------


def _replied() -> OrderState:
    return apply(signed(), Reply("已答复"), HANDLER, at(2026, 11, 24)).state


@pytest.mark.parametrize(
    ("score", "status"),
    [(1, Status.REOPENED), (2, Status.REOPENED), (3, Status.CLOSED), (5, Status.CLOSED)],
)
def test_unsatisfied_return_visit_reopens_the_order(score: int, status: Status) -> None:
    transition = apply(_replied(), ReturnVisit(satisfaction=score), OPERATOR, at(2026, 11, 25))
    assert transition.state.status is status
    assert transition.state.satisfaction == score
    assert transition.state.reopen_count == (1 if status is Status.REOPENED else 0)
    assert transition.entry.data["satisfied"] is (status is Status.CLOSED)


def test_satisfaction_threshold_is_a_rule() -> None:
    strict = LifecycleRules(satisfied_from=4)
    visit = ReturnVisit(satisfaction=3)
    assert apply(_replied(), visit, OPERATOR, at(2026, 11, 25), strict).state.status is (
        Status.REOPENED
    )


def test_unreached_caller_leaves_the_order_awaiting_another_visit() -> None:
    first = apply(_replied(), ReturnVisit(None, "无人接听"), OPERATOR, at(2026, 11, 25)).state
    assert first.status is Status.RETURN_VISIT
    second = apply(first, ReturnVisit(satisfaction=5), OPERATOR, at(2026, 11, 26)).state
    assert second.status is Status.CLOSED


def test_reopened_order_is_redispatched_and_closed_order_reopened_by_supervisor() -> None:
    reopened = apply(_replied(), ReturnVisit(satisfaction=1), OPERATOR, at(2026, 11, 25)).state
    again = apply(reopened, Redispatch(org_unit_id=7), SUPERVISOR, at(2026, 11, 25, 10)).state
    assert again.status is Status.DISPATCHED
    assert again.deadlines.reply_due == eod(2026, 12, 2)
    closed = apply(_replied(), Close("来电人撤诉"), OPERATOR, at(2026, 11, 25)).state
    transition = apply(closed, Reopen("来电人再次来电"), SUPERVISOR, at(2026, 12, 1))
    assert transition.state.status is Status.REOPENED
    assert transition.entry.data == {"reopen_count": 1}


@pytest.mark.parametrize("score", [0, 6, True])
def test_satisfaction_must_be_one_to_five(score: int) -> None:
    with pytest.raises(ValueError, match="satisfaction must be"):
        ReturnVisit(satisfaction=score)


def test_operator_may_close_an_order_answered_on_the_call() -> None:
    order = new_order(Category.LEGAL_CONSULTATION, at(2026, 11, 23, 9))
    assert apply(order, Close("电话中已解答"), OPERATOR, at(2026, 11, 23, 9, 5)).state.status is (
        Status.CLOSED
    )


# --- extensions -------------------------------------------------------------------------------


def test_approved_extension_moves_the_reply_deadline_across_spring_festival() -> None:
    order = signed(Category.LEGAL_CONSULTATION, at(2026, 2, 11, 9))
    assert order.deadlines.reply_due == eod(2026, 2, 13)
    requested = apply(order, RequestExtension(3, "需企业补充材料"), HANDLER, at(2026, 2, 12)).state
    assert requested.extension == Extension(pending_days=3, pending_reason="需企业补充材料")
    assert requested.deadlines.reply_due == eod(2026, 2, 13)  # not until approved
    transition = apply(requested, ApproveExtension("同意"), SUPERVISOR, at(2026, 2, 12, 15))
    assert transition.state.extension == Extension(approved_days=3)
    # Sat 02-14 (make-up day), then back after the holiday on 02-24 and 02-25.
    assert transition.state.deadlines.reply_due == eod(2026, 2, 25)
    assert transition.entry.data == {"working_days": 3, "approved_days": 3}


def test_rejected_extension_leaves_the_deadline() -> None:
    order = signed()
    requested = apply(order, RequestExtension(2, "案情复杂"), HANDLER, at(2026, 11, 24)).state
    rejected = apply(requested, RejectExtension("期限足够"), SUPERVISOR, at(2026, 11, 24, 12)).state
    assert rejected.extension == Extension()
    assert rejected.deadlines == order.deadlines


def test_extensions_total_at_most_ten_working_days() -> None:
    order = signed()
    for days, hour in ((6, 10), (4, 11)):
        order = apply(order, RequestExtension(days, "调查"), HANDLER, at(2026, 11, 24, hour)).state
        order = apply(order, ApproveExtension(), SUPERVISOR, at(2026, 11, 24, hour + 1)).state
    assert order.extension.approved_days == 10
    with pytest.raises(IllegalTransition, match="may total at most 10"):
        apply(order, RequestExtension(1, "调查"), HANDLER, at(2026, 11, 25))


def test_only_one_extension_request_at_a_time_and_only_before_the_deadline() -> None:
    order = signed(Category.LEGAL_CONSULTATION)
    pending = apply(order, RequestExtension(2, "调查"), HANDLER, at(2026, 11, 24)).state
    with pytest.raises(IllegalTransition, match="already waiting for a decision"):
        apply(pending, RequestExtension(1, "调查"), HANDLER, at(2026, 11, 24, 10))
    with pytest.raises(IllegalTransition, match="reply was due 2026-11-25 23:59"):
        apply(order, RequestExtension(2, "调查"), HANDLER, at(2026, 11, 26))


def test_deciding_without_a_request_is_refused() -> None:
    with pytest.raises(IllegalTransition, match="no extension request is waiting"):
        apply(signed(), ApproveExtension(), SUPERVISOR, at(2026, 11, 24))


def test_reply_drops_a_pending_request_but_keeps_approved_days() -> None:
    order = replace(
        signed(), extension=Extension(pending_days=2, pending_reason="x", approved_days=3)
    )
    assert apply(order, Reply("答复"), HANDLER, at(2026, 11, 24)).state.extension == Extension(
        approved_days=3
    )


@pytest.mark.parametrize(("days", "reason"), [(0, "调查"), (11, "调查"), (3, " ")])
def test_extension_request_is_validated(days: int, reason: str) -> None:
    with pytest.raises(ValueError, match=r"working_days must be 1\.\.10|reason for the extension"):
        RequestExtension(days, reason)


# --- remind, supervise, urgent ----------------------------------------------------------------


def test_remind_counts_and_supervise_flags() -> None:
    order = dispatched()
    for expected in (1, 2):
        transition = apply(order, Remind("请尽快签收"), OPERATOR, at(2026, 11, 23, 15))
        order = transition.state
        assert order.remind_count == expected
        assert transition.entry.data == {"remind_count": expected}
    supervised = apply(order, Supervise("列入督办"), SUPERVISOR, at(2026, 11, 23, 16)).state
    assert supervised.supervised
    assert supervised.status is Status.DISPATCHED
    with pytest.raises(IllegalTransition, match="already under supervision"):
        apply(supervised, Supervise(), SUPERVISOR, at(2026, 11, 23, 17))


def test_urgent_order_gets_hours_to_sign_even_at_the_weekend() -> None:
    order = new_order(Category.WAGE_ARREARS, at(2026, 11, 21, 20), urgent=True)
    assert order.urgent
    state = apply(order, Dispatch(org_unit_id=7), OPERATOR, at(2026, 11, 21, 20, 30)).state
    assert state.deadlines == Deadlines(
        sign_due=at(2026, 11, 21, 22, 30),
        reply_due=eod(2026, 11, 23),
        return_due=at(2026, 11, 21, 22, 30),
    )


def test_marking_urgent_after_dispatch_shortens_the_deadlines() -> None:
    order = dispatched(Category.WORK_INJURY, at(2026, 11, 23, 9))
    transition = apply(order, MarkUrgent("工伤者生命垂危"), SUPERVISOR, at(2026, 11, 23, 14))
    assert transition.state.urgent
    assert transition.state.deadlines.sign_due == at(2026, 11, 23, 16)
    assert transition.state.deadlines.reply_due == eod(2026, 11, 24)
    with pytest.raises(IllegalTransition, match="already urgent"):
        apply(transition.state, MarkUrgent("再次"), SUPERVISOR, at(2026, 11, 23, 15))


# --- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize("org_unit_id", [0, -3, True])
def test_dispatch_needs_a_real_org_unit(org_unit_id: int) -> None:
    with pytest.raises(ValueError, match="org_unit_id must be"):
        Dispatch(org_unit_id=org_unit_id)


@pytest.mark.parametrize(
    "make",
    [
        lambda: Reply(""),
        lambda: RecordFeedback(" "),
        lambda: Reopen(""),
        lambda: RejectExtension(""),
        lambda: MarkUrgent(""),
    ],
)
def test_text_carrying_commands_need_text(make: Callable[[], Command]) -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        make()


def test_naive_clock_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        apply(dispatched(), Sign(), HANDLER, datetime(2026, 11, 23, 10))


def test_satisfied_from_must_be_a_score() -> None:
    with pytest.raises(ValueError, match=r"satisfied_from must be 1\.\.5"):
        LifecycleRules(satisfied_from=0)


# --- invariants over random histories ---------------------------------------------------------

actors = st.sampled_from([ADMIN, SUPERVISOR, OPERATOR, HANDLER, LAWYER, VIEWER])
visits = st.builds(ReturnVisit, st.one_of(st.none(), st.integers(1, 5)))


def _draw_command(data: st.DataObject, order: OrderState, actor: Actor) -> Command:
    # Mostly actions the status allows, so that histories get past the first few steps.
    plausible = sorted(allowed_actions(order, actor))
    wander = data.draw(st.integers(0, 3)) == 0
    if plausible and not wander:
        action = data.draw(st.sampled_from(plausible))
    else:
        action = data.draw(st.sampled_from(list(Action)))
    if action is Action.RETURN_VISIT:
        return data.draw(visits)
    return _sample_command(action)


@settings(max_examples=300)
@given(data=st.data(), category=st.sampled_from(list(Category)), urgent=st.booleans())
def test_random_histories_keep_the_invariants(
    data: st.DataObject, category: Category, urgent: bool
) -> None:
    now = at(2026, 9, 28, 9)
    order = new_order(category, now, urgent=urgent)
    for _ in range(30):
        actor = data.draw(actors)
        command = _draw_command(data, order, actor)
        now += timedelta(seconds=data.draw(st.integers(0, 60 * 60 * 30)))
        try:
            transition = apply(order, command, actor, now)
        except NotAllowed:
            assert command.ACTION not in PERMISSIONS[actor.role]
            continue
        except IllegalTransition:
            continue
        assert command.ACTION in PERMISSIONS[actor.role]
        assert order.status in ALLOWED_FROM[command.ACTION]
        assert transition.entry.from_status is order.status
        assert transition.entry.to_status is transition.state.status
        order = transition.state
        _check_invariants(order)


def _check_invariants(order: OrderState) -> None:
    with_unit = order.status in {Status.DISPATCHED, Status.SIGNED, Status.HANDLING}
    assert (order.deadlines.reply_due is not None) is with_unit
    assert (order.deadlines.sign_due is not None) is (order.status is Status.DISPATCHED)
    assert order.extension.approved_days + order.extension.pending_days <= 10
    if order.deadlines.reply_due is not None:
        assert order.deadlines.reply_due.time() == time.max
    if order.status not in {Status.ACCEPTED, Status.CLOSED, Status.REOPENED}:
        assert order.org_unit_id is not None  # closed or reopened straight from acceptance
