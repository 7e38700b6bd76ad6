"""Runs one caller's flow against Asterisk: executes the engine's instructions over AGI."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from hotline.logs import event
from ivr.fastagi import AgiCall
from ivr.flow import (
    Ask,
    Digits,
    Finish,
    FlowRun,
    Handoff,
    Instruction,
    Outcome,
    Play,
    Played,
    Prompt,
    Reply,
    SayDigits,
)

log = logging.getLogger("hotline.ivr")

ALL_KEYS = "0123456789*#"


class PromptAudio(Protocol):
    def path(self, prompt: Prompt) -> str:
        """The audio file for this prompt, without extension, as Asterisk sees it."""
        ...


@dataclass(frozen=True)
class DialplanTransfer:
    """The call leaves the IVR for a dialplan destination (a queue, the fallback)."""

    result: str
    variables: Mapping[str, str] = field(default_factory=dict)


HandoffHandler = Callable[[AgiCall, Handoff], "Outcome | DialplanTransfer"]


@dataclass
class SessionEnd:
    """How the IVR part of the call ended."""

    result: str
    transfer: DialplanTransfer | None = None


class CallSession:
    """Drives one FlowRun with one AGI channel."""

    def __init__(
        self,
        call: AgiCall,
        audio: PromptAudio,
        handoffs: Mapping[str, HandoffHandler],
        fallback: HandoffHandler,
    ) -> None:
        self.call = call
        self.agi = call.agi
        self.audio = audio
        self.handoffs = handoffs
        self.fallback = fallback

    def drive(self, run: FlowRun) -> SessionEnd:
        instruction = run.start(self.call.elapsed_ms())
        while True:
            if isinstance(instruction, Finish):
                self._play(instruction.prompts, escape="")
                return SessionEnd(result=instruction.result)
            reply = self._execute(instruction)
            if isinstance(reply, DialplanTransfer):
                return SessionEnd(result=reply.result, transfer=reply)
            instruction = run.resume(reply, self.call.elapsed_ms())

    def _execute(self, instruction: Instruction) -> Reply | DialplanTransfer:
        if isinstance(instruction, Play):
            self._play(instruction.prompts, escape="")
            return Played()
        if isinstance(instruction, Ask):
            return Digits(self._ask(instruction))
        if isinstance(instruction, SayDigits):
            return Digits(self._say_then_ask(instruction))
        assert isinstance(instruction, Handoff)
        return self._handoff(instruction)

    def _play(self, prompts: tuple[Prompt, ...], escape: str) -> str:
        for prompt in prompts:
            key = str(self.agi.stream_file(self.audio.path(prompt), escape))
            if key:
                return key
        return ""

    def _ask(self, ask: Ask) -> str:
        if ask.max_digits > 1 and ask.prompts and ask.terminator in ("#", None):
            # GET DATA plays with barge-in and reads keys up to '#', max digits or the timeout.
            lead = self._play(ask.prompts[:-1], ALL_KEYS)
            if not lead:
                path = self.audio.path(ask.prompts[-1])
                # One more than the maximum, so a caller who types every digit and then '#'
                # ends the entry with '#' instead of having it taken as the next answer.
                limit = ask.max_digits + (1 if ask.terminator else 0)
                return str(self.agi.get_data(path, int(ask.timeout_s * 1000), limit))
            return lead + self._more_keys(ask, len(lead))
        # Single keys read by STREAM FILE so '*' and '#' work as menu choices too.
        keys = self._play(ask.prompts, ALL_KEYS)
        return keys + self._more_keys(ask, len(keys))

    def _more_keys(self, ask: Ask, have: int) -> str:
        keys = ""
        while have + len(keys) < ask.max_digits:
            key = str(self.agi.wait_for_digit(int(ask.timeout_s * 1000)))
            if not key or key == ask.terminator:
                break
            keys += key
        return keys

    def _say_then_ask(self, say: SayDigits) -> str:
        # Digits are spoken by the same TTS voice as the prompts: Asterisk's own digit sounds
        # exist only in English.
        spoken = Prompt(id="digits", language=say.language, text=" ".join(say.digits))
        key = self._play((*say.intro, spoken), ALL_KEYS)
        return key if key else self._ask(say.then)

    def _handoff(self, handoff: Handoff) -> Outcome | DialplanTransfer:
        handler = self.handoffs.get(handoff.kind)
        if handler is None:
            event(
                log,
                "ivr.handoff_unavailable",
                level=logging.WARNING,
                kind=handoff.kind,
                node=handoff.node_id,
                uniqueid=self.call.uniqueid,
            )
            handler = self.fallback
        return handler(self.call, handoff)
