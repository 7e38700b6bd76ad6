"""Placing real SIPp calls into the test hotline and reading what the IVR recorded."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hotline.settings import Settings
from hotline.sip.caller import CallResult, place_call
from hotline.sip.scenario import CallerScript
from ivr import callrecord
from ivr.app import IvrService
from ivr.flow import Prompt
from tests.conftest import prompt_ms


@dataclass
class Dialer:
    settings: Settings
    ivr: IvrService

    def prompt_ms(self, prompt_id: str, language: str = "zh") -> int:
        flow = self.ivr.flows.get(self.ivr.flow_id).flow
        text = flow.prompts[prompt_id][language]
        path = self.ivr.audio.path(Prompt(prompt_id, language, text))
        return prompt_ms(self.settings.recordings_dir, path)

    def after_welcome_ms(self) -> int:
        """When the language menu starts listening: the welcome plays without barge-in."""
        return self.prompt_ms("welcome") + 800

    def call(
        self,
        keys: str = "",
        *,
        dtmf: str = "info",
        hold_ms: int = 3000,
        first_key_ms: int | None = None,
        gap_ms: int = 1200,
        caller: str = "13800138000",
        number: str | None = None,
        waits_ms: tuple[int, ...] = (),
    ) -> CallResult:
        script = CallerScript(
            keys=keys,
            dtmf=dtmf,
            hold_ms=hold_ms,
            key_gap_ms=gap_ms,
            caller=caller,
            first_key_ms=self.after_welcome_ms() if first_key_ms is None else first_key_ms,
            waits_ms=waits_ms,
        )
        target = f"{self.settings.sip_bind}:{self.settings.sip_port}"
        return place_call(
            target, number or self.settings.hotline_number, script, self.lookup, timeout_s=90
        )

    def lookup(self, sip_call_id: str) -> dict[str, Any] | None:
        record = callrecord.find_by_sip_call_id(self.ivr.engine, sip_call_id)
        return record.as_dict() if record else None


def steps(result: CallResult) -> list[tuple[str, str | None, str | None]]:
    assert result.record is not None, f"the IVR kept no record of the call: {result.as_dict()}"
    return [(s["node"], s["input"], s["outcome"]) for s in result.record["path"]]


def nodes(result: CallResult) -> list[str]:
    return [node for node, _, _ in steps(result)]


def acd_events(ivr: IvrService, call_id: str) -> list[str]:
    """What the ACD did with this call: enqueue, offer, release, finish, abandon."""
    return [fields["type"] for _, fields in ivr.acd.events() if fields.get("call") == call_id]
