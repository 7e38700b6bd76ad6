"""Wires the IVR route of the FastAGI server: flow cache, prompt audio, handoffs, call records."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from redis import RedisError
from sqlalchemy.engine import Engine

from acd import seats
from acd.priority import PriorityRules
from acd.store import AcdStore
from backoffice.services import order_status
from hotline.callevents.figures import LiveFigures
from hotline.callevents.live import LiveCalls
from hotline.callevents.stream import CallEventLog
from hotline.holidays import OverridesCache
from hotline.logs import event
from hotline.settings import Settings
from hotline.workdays import NO_OVERRIDES, Overrides
from ivr import callrecord
from ivr import channel_vars as cv
from ivr.acd_queue import (
    ANSWERED_ROUTE,
    AcdQueue,
    DialBack,
    QueueContext,
    QueuePolicy,
    WrapUp,
    flow_queue_rules,
    seat_answered,
)
from ivr.callrecord import CallRecord
from ivr.fastagi import AgiCall, Handler
from ivr.flow import Flow, FlowRun, Handoff, Outcome, Prompt, load_flow
from ivr.flowstore import ActiveFlowCache
from ivr.handoffs import callback_booker, message_recorder, to_operator
from ivr.journal import CallJournal
from ivr.lawyer import LawyerService
from ivr.order_status import order_status_reader
from ivr.prompts import PromptMissing, PromptText, render_prompts, resolve
from ivr.session import CallSession, DialplanTransfer, HandoffHandler, SessionEnd

log = logging.getLogger("hotline.ivr")

_CALLER = re.compile(r"[^0-9+]")


def clean_caller(raw: str) -> str:
    """Digits and '+' only, at most 20: whatever a carrier or an attacker put in the caller ID."""
    return _CALLER.sub("", raw)[:20]


class TtsPromptAudio:
    """Prompt audio from uploads or the TTS cache; renders on a miss (variable-filled texts)."""

    def __init__(self, recordings_dir: Path) -> None:
        self.recordings_dir = recordings_dir

    def path(self, prompt: Prompt) -> str:
        try:
            return str(resolve(prompt.id, prompt.language, prompt.text, self.recordings_dir))
        except PromptMissing:
            render_prompts(
                [PromptText(prompt.id, prompt.language, prompt.text)], self.recordings_dir
            )
            return str(resolve(prompt.id, prompt.language, prompt.text, self.recordings_dir))


@dataclass
class IvrService:
    engine: Engine
    flows: ActiveFlowCache[Flow]
    flow_id: str
    audio: TtsPromptAudio
    acd: AcdStore
    handoffs: dict[str, HandoffHandler]
    clock: Callable[[], datetime]
    journal: CallJournal
    # The centre's closures and extra working days (admin holidays page), for hours nodes.
    workdays: Callable[[], Overrides] = field(default=lambda: NO_OVERRIDES)
    # Operator -> lawyer (ivr/lawyer.py), with the wrap-up its legs go to when they leave.
    lawyers: tuple[LawyerService, WrapUp] | None = None

    def handle(self, call: AgiCall) -> None:
        loaded = self.flows.get(self.flow_id)
        caller = clean_caller(call.env.get("agi_callerid", ""))
        run = FlowRun(
            loaded.flow, clock=self.clock(), caller=caller, workday_overrides=self.workdays()
        )
        record = CallRecord(
            uniqueid=call.uniqueid,
            sip_call_id=call.env.get("agi_arg_1", "")[:255],
            caller=caller,
            flow_id=loaded.flow_id,
            flow_version=loaded.version,
            started_at=callrecord.now_utc(),
        )
        self.journal.started(call.uniqueid, caller=caller, sip_call_id=record.sip_call_id,
                             flow_id=loaded.flow_id, flow_version=loaded.version)  # fmt: skip
        end = SessionEnd(result="hangup")
        try:
            handoffs = {**self.handoffs, "queue": self._to_person(call, run, loaded.flow)}
            end = CallSession(call, self.audio, handoffs, to_operator).drive(run)
            self._leave_ivr(call, end)
        finally:
            self._save(record, run, end)

    def _to_person(self, call: AgiCall, run: FlowRun, flow: Flow) -> HandoffHandler:
        """The queue handoff, telling the journal first what the seat's screen pop shows."""
        queue = self.handoffs["queue"]

        def hand_over(agi_call: AgiCall, handoff: Handoff) -> Outcome | DialplanTransfer:
            self.journal.leaving_ivr(call.uniqueid, language=run.language,
                                     path=run.path_as_dicts(), variables=run.variables)  # fmt: skip
            if not isinstance(queue, AcdQueue):
                return queue(agi_call, handoff)
            # The running flow's queue rules route this call and every seat's next match.
            self.acd.configure(flow_queue_rules(flow, queue.policy.wrap_up_s))
            name = str(handoff.params.get("queue", "operator"))
            context = QueueContext(flow.queues.get(name), self._speaker(flow, run.language))
            return queue(agi_call, handoff, context)

        return hand_over

    def _speaker(self, flow: Flow, language: str) -> Callable[[str, Mapping[str, str]], str | None]:
        """Speaks the flow's prompts with values filled in, as the engine does for a node."""

        def speak(prompt_id: str, values: Mapping[str, str]) -> str | None:
            texts = flow.prompts.get(prompt_id)
            if not texts:
                return None
            text = texts.get(language) or texts.get(flow.default_language, "")
            filled = re.sub(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", lambda m: values.get(m[1], ""), text)
            return self.audio.path(Prompt(prompt_id, language, filled))

        return speak

    def _leave_ivr(self, call: AgiCall, end: SessionEnd) -> None:
        for name, value in (end.transfer.variables if end.transfer else {}).items():
            call.agi.set_variable(name, value)
        result = end.transfer.result if end.transfer else cv.RESULT_DONE
        call.agi.set_variable(cv.IVR_RESULT, result)

    def _save(self, record: CallRecord, run: FlowRun, end: SessionEnd) -> None:
        record.language = run.language
        record.result = end.result
        record.ended_at = callrecord.now_utc()
        path = run.path_as_dicts()
        record.path_json = json.dumps(path, ensure_ascii=False)
        self.journal.ended(record.uniqueid, result=end.result, language=run.language,
                           path=path, variables=run.variables)  # fmt: skip
        try:
            callrecord.save(self.engine, record)
        except Exception as exc:  # a lost record must not turn into a dropped call
            event(
                log,
                "ivr.record_failed",
                level=logging.ERROR,
                uniqueid=record.uniqueid,
                error=str(exc),
            )


def service_clock(settings: Settings) -> Callable[[], datetime]:
    zone = ZoneInfo(settings.timezone)
    fixed = settings.ivr_clock
    if fixed is not None:
        pinned = fixed if fixed.tzinfo else fixed.replace(tzinfo=zone)
        return lambda: pinned
    return lambda: datetime.now(zone)


def build_journal(settings: Settings, store: AcdStore) -> CallJournal:
    """The call journal on the ACD's Redis; spooled under var/ while Redis is down."""
    events = CallEventLog(store.client, settings.var_dir / "spool")
    figures = LiveFigures(store.client, settings.timezone)
    return CallJournal(events, figures, live=LiveCalls(store.client))


def ami_dial_back(settings: Settings) -> DialBack:
    """Kept-place callbacks ring the seat through AMI Originate (secret read when dialling)."""
    from hotline import bootstrap
    from hotline.pbx import ami
    from hotline.pbx.originate import Originator

    def session() -> AbstractContextManager[Any]:
        secret = bootstrap.credentials(settings).ami_secret
        return ami.ami_session(settings.ami_host, settings.ami_port, settings.ami_user, secret)

    originator = Originator(session)
    return lambda seat, number: originator.call_back(seat, number, settings.hotline_number)


def build_acd_queue(
    settings: Settings, store: AcdStore, journal: CallJournal, engine: Engine | None = None
) -> AcdQueue:
    # A queue the flow configures uses its own wrap-up; the setting is for the others.
    default_rules = {"wrap_up_s": settings.acd_wrap_up_seconds}
    wrap_up = WrapUp(store, seconds=lambda queue: _wrap_up_s(store, queue, default_rules))
    policy = QueuePolicy(
        ring_timeout_s=settings.acd_ring_timeout_seconds,
        max_wait_s=settings.acd_max_wait_seconds,
        wrap_up_s=settings.acd_wrap_up_seconds,
    )
    rules = PriorityRules()
    history = (
        None
        if engine is None
        else lambda caller: callrecord.earlier_calls(engine, caller, rules.repeat_days)
    )
    return AcdQueue(store, settings.recordings_dir, wrap_up, policy, journal, history, rules,
                    dial_back=ami_dial_back(settings))  # fmt: skip


def _wrap_up_s(store: AcdStore, queue: str, defaults: Mapping[str, float]) -> float:
    configured = store.configured(queue)
    return configured.wrap_up_s if configured is not None else defaults["wrap_up_s"]


def build_ivr(settings: Settings, engine: Engine, store: AcdStore | None = None) -> IvrService:
    store = store or AcdStore.from_url(
        settings.redis_url, no_answer_pause_after=settings.acd_no_answer_pause_after
    )
    journal = build_journal(settings, store)
    return IvrService(
        engine=engine,
        flows=ActiveFlowCache(engine, load_flow),
        flow_id=settings.ivr_flow,
        audio=TtsPromptAudio(settings.recordings_dir),
        acd=store,
        handoffs={
            "queue": build_acd_queue(settings, store, journal, engine),
            "message": message_recorder(settings.recordings_dir, journal),
            "callback": callback_booker(engine, journal),
            "order_status": order_status_reader(
                lambda digits: order_status.lookup(engine, digits), settings.timezone
            ),
            **build_speech(settings, engine),
        },
        clock=service_clock(settings),
        journal=journal,
        workdays=OverridesCache(engine).get,
        lawyers=build_lawyers(settings, store, engine, journal),
    )


def build_lawyers(
    settings: Settings, store: AcdStore, engine: Engine, journal: CallJournal
) -> tuple[LawyerService, WrapUp]:
    import functools

    from hotline import bootstrap
    from hotline.pbx import ami

    secret = bootstrap.credentials(settings).ami_secret
    session = functools.partial(ami.ami_session, settings.ami_host, settings.ami_port,
                                settings.ami_user, secret)  # fmt: skip
    service = LawyerService(
        store,
        lambda timeout: session(timeout=timeout),
        engine,
        journal.transferred,
        ring_timeout_s=settings.acd_ring_timeout_seconds,
        caller_id=settings.hotline_number,
    )
    return service, WrapUp(store, seconds=lambda _queue: settings.acd_wrap_up_seconds)


def build_speech(settings: Settings, engine: Engine | None = None) -> dict[str, HandoffHandler]:
    """The speech nodes; a bad speech setting or rules file is logged and calls use keys."""
    from hotline.errors import ConfigError
    from hotline.speech.classify import load_rules_file
    from hotline.speech.config import speech_config
    from ivr.speech_node import speech_handoffs

    try:
        config = speech_config(settings)
    except ConfigError as exc:
        event(log, "speech.unavailable", level=logging.ERROR, error=str(exc))
        return {}
    try:
        rules = load_rules_file(config.rules)
    except ConfigError as exc:
        event(log, "speech.no_rules", level=logging.ERROR, error=str(exc))
        rules = None
    if engine is not None and rules is not None:
        # The admin's saved rules win over the file from the next call on.
        from hotline.speech.rulestore import RulesSource

        return speech_handoffs(config, RulesSource(engine, rules).get, settings.recordings_dir)
    return speech_handoffs(config, rules, settings.recordings_dir)


def routes(service: IvrService) -> dict[str, Handler]:
    from acd.desk import SeatDesk
    from ivr import lawyer_agi, seat_control

    return {
        "ivr": service.handle,
        ANSWERED_ROUTE: seat_answered(service.acd, service.journal),
        seat_control.ROUTE: seat_control.seat_control(SeatDesk(service.acd), service.audio.path),
        **(lawyer_agi.routes(*service.lawyers, service.audio.path) if service.lawyers else {}),
    }


def prepare_seats(engine: Engine, store: AcdStore) -> None:
    """Demo seats on a fresh install; every configured seat mirrored to the ACD."""
    seats.seed_demo_seats(engine)
    try:
        seats.mirror(store, seats.seats(engine))
    except RedisError as exc:
        event(log, "acd.down", level=logging.ERROR, error=str(exc))
