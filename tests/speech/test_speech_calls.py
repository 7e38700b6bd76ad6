"""Speech in real calls: the real Asterisk sandbox, SIPp callers streaming espeak-ng Korean,
a SIPp seat, Redis, the real Korean Vosk model.

- a call answered by a seat is recorded by MixMonitor and the worker stores its transcript by
  call id;
- the speech node records what the caller says after the tone, transcribes and classifies it
  with a Korean rules file made for the test and routes the call by it;
- without a model the speech node falls back to the keys, with one log line naming the setting.
"""

from __future__ import annotations

import logging
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import pytest
from sqlmodel import Session, select

from acd.desk import SeatDesk
from backoffice.db import upgrade
from backoffice.models import CallTranscript
from hotline.callevents.model import CallEvent
from hotline.callevents.stream import RetryPolicy, StreamConsumer, read_all
from hotline.pbx.runner import Pbx
from hotline.settings import Settings
from hotline.sip.caller import CallResult, place_call
from hotline.sip.scenario import CallerScript
from hotline.speech.classify import load_rules_file
from hotline.speech.config import SpeechConfig
from hotline.speech.vosk import ModelCache, Transcriber
from hotline.speech.worker import GROUP, TranscriptionWorker
from ivr.app import IvrService
from ivr.fastagi import FastAgiServer
from ivr.publishing import publish_flow
from ivr.speech_node import SpeechNode, SpeechRecognizers
from tests.conftest import eventually
from tests.integration.calls import Dialer, nodes, steps
from tests.integration.test_acd_calls import Softphone, desk, presence, softphones  # noqa: F401
from tests.speech.voice import Speak

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

DATA = Path(__file__).with_name("data")
WAGES = "안녕하세요 임금 체불 때문에 전화했어요"


def g711(speak: Speak, text: str, out: Path, *, before_s: float, after_s: float) -> Path:
    """Korean speech as a caller's phone sends it: an 8 kHz mu-law WAV for SIPp's rtp_stream."""
    pcm = speak(text, before_s=before_s, after_s=after_s)
    subprocess.run(["sox", "-V1", str(pcm), "-r", "8000", "-c", "1", "-e", "u-law", str(out)],
                   check=True)  # fmt: skip
    return out


def ko_config(ko_model_dir: Path, tmp: Path, **models: Path) -> SpeechConfig:
    return SpeechConfig(
        models_dir=tmp / "models",
        models=MappingProxyType(models or {"ko": ko_model_dir}),
        language="ko",
    )


def call(settings: Settings, dialer: Dialer, script: CallerScript) -> CallResult:
    target = f"{settings.sip_bind}:{settings.sip_port}"
    return place_call(target, settings.hotline_number, script, dialer.lookup, timeout_s=120)


def ended_event(ivr: IvrService, call_id: str) -> CallEvent | None:
    found = [e for e in read_all(ivr.acd.client) if e.call_id == call_id and e.type == "ended"]
    return found[-1] if found else None


@pytest.fixture(scope="module")
def call_dialer(asterisk: Pbx, agi_server: FastAgiServer, stack_settings: Settings,
                ivr_service: IvrService) -> Dialer:  # fmt: skip
    return Dialer(stack_settings, ivr_service)


def test_the_worker_transcribes_a_real_calls_mixmonitor_recording_into_the_database(
    call_dialer: Dialer, ivr_service: IvrService, stack_settings: Settings,
    presence: object, softphones: Callable[..., Softphone], desk: SeatDesk,  # noqa: F811
    speak: Speak, ko_model_dir: Path, model_cache: ModelCache, tmp_path: Path,
) -> None:  # fmt: skip
    store = ivr_service.acd
    softphones("1003")  # wage_arrears:1
    assert eventually(lambda: bool((a := store.get_agent("1003")) and a.registered), 15)
    desk.ready("1003")
    voice = g711(speak, WAGES, tmp_path / "caller.wav", before_s=0.3, after_s=0.7)
    script = CallerScript(keys="12", first_key_ms=call_dialer.after_welcome_ms(), key_gap_ms=1200,
                          hold_ms=9000, audio_wav=str(voice), audio_loops=-1)  # fmt: skip
    result = call(stack_settings, call_dialer, script)
    assert result.record is not None, result.as_dict()
    uniqueid = result.record["uniqueid"]
    assert nodes(result)[-1] == "wage_arrears_queue"
    assert eventually(lambda: ended_event(ivr_service, uniqueid) is not None, 15)
    ended = ended_event(ivr_service, uniqueid)
    assert ended is not None and ended.data["answered"] is True
    # The worker, as `hotline worker` runs it, on the hotline's own database and recordings.
    upgrade(ivr_service.engine)
    # The Mandarin menu was used, so the call's language is zh: the Korean model serves it here.
    config = ko_config(ko_model_dir, tmp_path, zh=ko_model_dir, ko=ko_model_dir)
    worker = TranscriptionWorker(
        config, stack_settings.recordings_dir, ivr_service.engine, cache=model_cache
    )
    consumer = StreamConsumer(
        store.client, GROUP, "e2e-worker", retry=RetryPolicy(base_delay_s=0.5, stale_after_s=60)
    )
    consumer.ensure_group()

    def transcript() -> CallTranscript | None:
        with Session(ivr_service.engine) as session:
            query = select(CallTranscript).where(CallTranscript.call_id == uniqueid)
            return session.exec(query).first()

    deadline = time.monotonic() + 120
    while transcript() is None and time.monotonic() < deadline:
        consumer.step(worker.handle, block_ms=200)
    row = transcript()
    assert row is not None, "the worker stored no transcript for the call"
    # The yardstick is what the same model hears in the caller's voice file itself: espeak-ng's
    # Korean is barely Korean to the model, and its words come out otherwise with where in the
    # loop the recording starts (CI once heard 임금 as 인품 in both loops, and once only 4 of
    # the 9 words whole). Its syllables are steadier: 13-14 of 19 in the runs seen.
    said = heard_syllables(Transcriber(ko_model_dir, "ko", cache=model_cache), voice, tmp_path)
    assert len(said) >= 10, said
    legs = {leg: syllables(" ".join(s["text"] for s in row.segments if s["speaker"] == leg))
            for leg in ("caller", "agent")}  # fmt: skip
    # Most of it is on the caller's leg, hardly any on the seat's, which sent silence.
    assert len(said & legs["caller"]) * 2 >= len(said), (said, row.segments)
    assert len(said & legs["agent"]) * 4 < len(said), (said, row.segments)
    assert row.duration_s >= 5 and row.language == "zh"


def heard_syllables(model: Transcriber, g711_wav: Path, tmp: Path) -> set[str]:
    """The syllables ``model`` hears in a caller's voice file, decoded as Asterisk does."""
    linear = tmp / "heard.wav"
    subprocess.run(["sox", "-V1", str(g711_wav), "-e", "signed", "-b", "16", str(linear)],
                   check=True)  # fmt: skip
    return syllables(" ".join(s.text for s in model.transcribe(linear).segments))


def syllables(text: str) -> set[str]:
    """The Hangul syllables in ``text``."""
    return {ch for ch in text if "\uac00" <= ch <= "\ud7a3"}


@dataclass
class SpeechHotline:
    settings: Settings
    dialer: Dialer
    ivr: IvrService

    def use(self, node: SpeechNode) -> None:
        self.ivr.handoffs["speech"] = node


@pytest.fixture
def speech_hotline(
    call_dialer: Dialer, ivr_service: IvrService, stack_settings: Settings
) -> Iterator[SpeechHotline]:
    """The test hotline answering with the speech test flow, its speech node swapped in."""
    text = (DATA / "speech_flow.yaml").read_text(encoding="utf-8")
    publish_flow(ivr_service.engine, stack_settings.recordings_dir, text, by="test")
    saved_flow, saved_node = ivr_service.flow_id, ivr_service.handoffs.get("speech")
    ivr_service.flow_id = "speechtest"
    yield SpeechHotline(stack_settings, call_dialer, ivr_service)
    ivr_service.flow_id = saved_flow
    if saved_node is not None:
        ivr_service.handoffs["speech"] = saved_node


def test_the_speech_node_routes_a_spoken_description_by_the_configured_keywords(
    speech_hotline: SpeechHotline, speak: Speak, ko_model_dir: Path, model_cache: ModelCache,
    tmp_path: Path,
) -> None:  # fmt: skip
    rules = load_rules_file(DATA / "ko_rules.yaml")
    recognizers = SpeechRecognizers(ko_config(ko_model_dir, tmp_path), cache=model_cache)
    recordings = speech_hotline.settings.recordings_dir
    speech_hotline.use(SpeechNode(recognizers, rules, recordings))
    # Said three times with pauses: wherever after the tone the recording starts, one whole
    # description is in it; then the caller waits, and the silence ends the recording.
    said = f"{WAGES}. {WAGES}. {WAGES}."
    voice = g711(speak, said, tmp_path / "describe.wav", before_s=0.8, after_s=6.0)
    script = CallerScript(hold_ms=30000, audio_wav=str(voice))
    result = call(speech_hotline.settings, speech_hotline.dialer, script)
    assert result.record is not None, result.as_dict()
    uniqueid = result.record["uniqueid"]
    assert steps(result)[0] == ("describe", None, "wage_arrears"), steps(result)
    assert nodes(result) == ["describe", "wage"]
    assert result.record["result"] == "speech_wage"
    assert (recordings / "speech" / f"{uniqueid}.wav").stat().st_size > 8000
    assert eventually(lambda: ended_event(speech_hotline.ivr, uniqueid) is not None, 15)
    ended = ended_event(speech_hotline.ivr, uniqueid)
    assert ended is not None
    heard = ended.data["variables"]
    assert heard["speech_category"] == "wage_arrears" and "임금" in heard["speech_text"]
    assert "임금" in heard["speech_matched"].split(",") and heard["speech_result"] == "heard"
    assert float(heard["speech_confidence"]) >= 0.3


def test_without_a_model_the_speech_node_falls_back_to_the_keys(
    speech_hotline: SpeechHotline, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    missing = tmp_path / "vosk-model-gone"
    config = SpeechConfig(models_dir=tmp_path / "models", models=MappingProxyType({"ko": missing}),
                          language="ko")  # fmt: skip
    rules = load_rules_file(DATA / "ko_rules.yaml")
    node = SpeechNode(SpeechRecognizers(config), rules, speech_hotline.settings.recordings_dir)
    speech_hotline.use(node)
    caplog.set_level(logging.ERROR, logger="hotline.ivr.speech")
    menu_ms = speech_hotline.dialer.prompt_ms("keys_menu", "ko")
    script = CallerScript(keys="1", first_key_ms=menu_ms + 1500, hold_ms=8000)
    result = call(speech_hotline.settings, speech_hotline.dialer, script)
    assert result.record is not None, result.as_dict()
    assert steps(result)[:2] == [("describe", None, "no_match"), ("keys", "1", "choice")], steps(
        result
    )
    assert result.record["result"] == "key_wage"
    lines = [r for r in caplog.records if r.getMessage() == "speech.unavailable"]
    assert len(lines) == 1
    error = str(lines[0].__dict__["error"])
    assert "HOTLINE_VOSK_MODELS" in error and str(missing) in error
