"""The IVR's speech nodes: the caller describes the problem after the tone, or answers yes/no.

`speech`: Asterisk records the caller (RECORD FILE: a maximum length, and it stops after some
seconds of silence), the recording is transcribed at once with the model the server loaded once
(one vosk.Model shared by every call; each call gets its own recogniser), the text is classified
into a work-order category and the call goes on by the category's name in the node's `on`
(else 'matched'). Unclear, empty or without a model: 'no_match', which flows send to the keys.
What was heard is kept in the flow's variables, so the call's `ended` event carries it.

`speech_confirm`: a short answer recognised with a grammar of the yes and no words (where the
model compiles grammars), for confirmations: 'yes', 'no' or 'unclear'.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hotline.logs import event
from hotline.speech.classify import Classification, RuleBook, classify
from hotline.speech.config import SpeechConfig
from hotline.speech.errors import ModelMissing, RulesInvalid, SpeechError
from hotline.speech.segments import CALLER
from hotline.speech.vosk import ModelCache, Transcriber, shared_models, transcriber_for
from ivr.fastagi import AgiCall
from ivr.flow import Handoff, Outcome

log = logging.getLogger("hotline.ivr.speech")

SPEECH_SUBDIR = "speech"
NO_MATCH = "no_match"
MATCHED = "matched"
# Flow variables a speech node sets (the journal puts them in the call's ended event).
TEXT_VAR = "speech_text"
CATEGORY_VAR = "speech_category"
CONFIDENCE_VAR = "speech_confidence"
MATCHED_VAR = "speech_matched"
SKILLS_VAR = "speech_skills"
RESULT_VAR = "speech_result"  # heard / unclear / silent / unavailable
ANSWER_VAR = "speech_answer"

DEFAULT_MAX_SECONDS = 15
DEFAULT_SILENCE_SECONDS = 3
DEFAULT_MIN_CONFIDENCE = 0.5
# Yes and no words per language, where a node names none; the model must know them to be used
# as a grammar, and those it does not know are left out (Vosk would only warn and ignore them).
DEFAULT_ANSWERS: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "zh": (("是", "对", "好"), ("不是", "不对", "不")),
    "en": (("yes", "yeah", "correct"), ("no", "wrong")),
    "ko": (("네", "예"), ("아니요", "아니오")),
}


@dataclass(frozen=True)
class RecordSpec:
    max_seconds: float
    silence_seconds: int

    @classmethod
    def from_params(cls, params: Mapping[str, Any], default_max: float) -> RecordSpec:
        return cls(
            max_seconds=_number(params.get("max_seconds"), default_max, 1, 120),
            silence_seconds=int(
                _number(params.get("silence_seconds"), DEFAULT_SILENCE_SECONDS, 1, 30)
            ),
        )


def route(verdict: Classification, min_confidence: float, outcomes: Sequence[str]) -> str:
    """Where a classified description goes: its category's own route, else 'matched'; an
    unsure or unrouted one is 'no_match' (pure)."""
    if verdict.category is None or verdict.confidence < min_confidence:
        return NO_MATCH
    if verdict.category.value in outcomes:
        return verdict.category.value
    return MATCHED if MATCHED in outcomes else NO_MATCH


def heard_variables(text: str, verdict: Classification | None, result: str) -> dict[str, str]:
    """The flow variables a description leaves behind (the text is already redacted)."""
    found = {TEXT_VAR: text, RESULT_VAR: result}
    if verdict is not None:
        found[CATEGORY_VAR] = verdict.category.value if verdict.category else ""
        found[CONFIDENCE_VAR] = f"{verdict.confidence:.2f}"
        found[MATCHED_VAR] = ",".join(verdict.matched)
        found[SKILLS_VAR] = ",".join(verdict.skills)
    return found


class SpeechRecognizers:
    """The server's models, loaded once and shared by all calls; one transcriber per language.

    A language without a model is logged once, in one line naming HOTLINE_VOSK_MODELS, and its
    calls go on with keys.
    """

    def __init__(self, config: SpeechConfig, cache: ModelCache | None = None) -> None:
        self.config = config
        self.cache = cache or shared_models()
        self._found: dict[str, Transcriber | None] = {}
        self._lock = threading.Lock()

    def get(self, language: str) -> Transcriber | None:
        with self._lock:
            if language not in self._found:
                self._found[language] = self._find(language)
            found = self._found[language]
        if found is not None:
            _ = found.model  # loads once (ModelCache); later calls find it loaded
        return found

    def _find(self, language: str) -> Transcriber | None:
        try:
            return transcriber_for(self.config, language, cache=self.cache, reuse=False)
        except ModelMissing as exc:
            event(log, "speech.unavailable", level=logging.ERROR, language=language,
                  error=str(exc))  # fmt: skip
            return None

    def preload_in_background(self) -> threading.Thread:
        """Load the default language's model beside the starting server (it takes seconds)."""
        thread = threading.Thread(
            target=self.get, args=(self.config.language,), name="speech-preload", daemon=True
        )
        thread.start()
        return thread


class SpeechNode:
    """The `speech` handoff: record, transcribe, classify, route."""

    def __init__(
        self,
        recognizers: SpeechRecognizers,
        rules: RuleBook | Callable[[], RuleBook],
        recordings_dir: Path,
    ):
        self.recognizers = recognizers
        # A callable follows the rules the admin saves (hotline/speech/rulestore.py).
        self._rules = rules if callable(rules) else (lambda: rules)
        self.folder = recordings_dir / SPEECH_SUBDIR

    @property
    def rules(self) -> RuleBook:
        return self._rules()

    def __call__(self, call: AgiCall, handoff: Handoff) -> Outcome:
        params = handoff.params
        language = str(params.get("language") or handoff.language)
        transcriber = self.recognizers.get(language)
        if transcriber is None:
            return Outcome(NO_MATCH, {RESULT_VAR: "unavailable"})
        spec = RecordSpec.from_params(params, DEFAULT_MAX_SECONDS)
        audio = record(call, self.folder, spec)
        try:
            text = transcriber.transcribe(audio, CALLER).text
        except SpeechError as exc:
            event(log, "speech.unreadable", level=logging.WARNING, uniqueid=call.uniqueid,
                  error=str(exc))  # fmt: skip
            return Outcome(NO_MATCH, {RESULT_VAR: "silent"})
        verdict = self._classify(text, language)
        min_conf = _number(params.get("min_confidence"), DEFAULT_MIN_CONFIDENCE, 0, 1)
        outcome = route(verdict, min_conf, handoff.outcomes) if verdict else NO_MATCH
        result = "heard" if outcome != NO_MATCH else ("unclear" if text else "silent")
        event(log, "speech.heard", uniqueid=call.uniqueid, node=handoff.node_id,
              category=verdict.category if verdict else None, outcome=outcome,
              confidence=round(verdict.confidence, 2) if verdict else 0.0)  # fmt: skip
        return Outcome(outcome, heard_variables(text, verdict, result))

    def _classify(self, text: str, language: str) -> Classification | None:
        try:
            return classify(text, self.rules.for_language(language))
        except RulesInvalid as exc:
            event(log, "speech.no_rules", level=logging.ERROR, language=language, error=str(exc))
            return None


class SpeechConfirm:
    """The `speech_confirm` handoff: yes, no or unclear, from a short spoken answer."""

    def __init__(self, recognizers: SpeechRecognizers, recordings_dir: Path) -> None:
        self.recognizers = recognizers
        self.folder = recordings_dir / SPEECH_SUBDIR

    def __call__(self, call: AgiCall, handoff: Handoff) -> Outcome:
        params = handoff.params
        language = str(params.get("language") or handoff.language)
        transcriber = self.recognizers.get(language)
        if transcriber is None:
            return Outcome("unclear", {RESULT_VAR: "unavailable"})
        yes, no = answer_words(params, language)
        audio = record(call, self.folder, RecordSpec.from_params(params, 4))
        try:
            answer = transcriber.recognize_short(audio, [*yes, *no])
        except SpeechError:
            return Outcome("unclear", {RESULT_VAR: "silent"})
        outcome = "yes" if answer.choice in yes else "no" if answer.choice in no else "unclear"
        event(log, "speech.answer", uniqueid=call.uniqueid, node=handoff.node_id,
              outcome=outcome, grammar=answer.used_grammar)  # fmt: skip
        return Outcome(outcome, {ANSWER_VAR: outcome})


def answer_words(params: Mapping[str, Any], language: str) -> tuple[list[str], list[str]]:
    """The node's yes and no words (a word or a list), else the language's defaults."""
    default_yes, default_no = DEFAULT_ANSWERS.get(language, ((), ()))
    return _words(params.get("yes"), default_yes), _words(params.get("no"), default_no)


def record(call: AgiCall, folder: Path, spec: RecordSpec) -> Path:
    """Record the caller after a beep into <folder>/<uniqueid>.wav; the file's path."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / _safe_name(call.uniqueid)
    call.agi.record_file(
        str(target), "wav", "#", int(spec.max_seconds * 1000), 0, "beep", spec.silence_seconds
    )
    # Asterisk appends the format; with_suffix would cut the '.0' off a unique id.
    return target.parent / f"{target.name}.wav"


def _words(value: Any, default: Sequence[str]) -> list[str]:
    if isinstance(value, str) and value.strip():
        return [value.strip()]
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return list(default)


def _number(value: Any, default: float, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    return float(min(high, max(low, value)))


def _safe_name(uniqueid: str) -> str:
    return re.sub(r"[^0-9A-Za-z.]", "_", uniqueid) or "unknown"


def speech_handoffs(
    config: SpeechConfig, rules: RuleBook | Callable[[], RuleBook] | None, recordings_dir: Path
) -> dict[str, Any]:
    """The two speech handoffs, sharing the server's models; the default language's model is
    loaded beside the starting server, or its absence logged in one line."""
    recognizers = SpeechRecognizers(config)
    recognizers.preload_in_background()
    empty = RuleBook(version=1, languages={})
    return {
        "speech": SpeechNode(recognizers, rules or empty, recordings_dir),
        "speech_confirm": SpeechConfirm(recognizers, recordings_dir),
    }
