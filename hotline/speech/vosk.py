"""Vosk adapter: one loaded model per folder and process, a fresh recogniser per recording."""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from statistics import fmean
from typing import Any, Protocol

from hotline.speech.audio import pcm_seconds, read_pcm
from hotline.speech.config import SpeechConfig
from hotline.speech.errors import ModelMissing, SpeechError
from hotline.speech.gate import speech_regions
from hotline.speech.models import ModelLayout, find_model, inspect_model
from hotline.speech.segments import (
    AGENT,
    CALLER,
    MIXED,
    UNKNOWN_WORD,
    Transcript,
    Word,
    clean_words,
    has_han,
    join_words,
    merge_call,
    redact_words,
    segments_from_words,
    words_from_results,
)

# Bigger chunks mean fewer calls into Vosk; endpoints (where Result() is ready) are still
# found within a chunk's length, and word times don't depend on it.
CHUNK_SECONDS = 0.5


class VoskModel(Protocol):
    def vosk_model_find_word(self, word: str) -> int: ...


class Recognizer(Protocol):
    """The part of vosk.KaldiRecognizer used here (Vosk's method names)."""

    def SetWords(self, enable_words: bool) -> None: ...
    def AcceptWaveform(self, data: bytes) -> int: ...
    def Result(self) -> str: ...
    def FinalResult(self) -> str: ...


ModelLoader = Callable[[Path], VoskModel]


def load_vosk_model(path: Path) -> VoskModel:
    """Load a model with Vosk (seconds, hundreds of MB); Kaldi's log lines are silenced."""
    import vosk

    vosk.SetLogLevel(-1)
    try:
        model: VoskModel = vosk.Model(str(path))
    except Exception as exc:  # Vosk raises a bare Exception("Failed to create a model")
        raise ModelMissing(f"Vosk can't load the model in {path} ({exc}); reinstall it") from None
    return model


class ModelCache:
    """Loaded models by folder, so each is loaded once per process however many calls use it."""

    def __init__(self, loader: ModelLoader = load_vosk_model) -> None:
        self._loader = loader
        self._models: dict[Path, VoskModel] = {}
        # One lock for all folders: a second caller of the same model must wait for the load
        # anyway, and a process rarely uses more than one model.
        self._lock = threading.Lock()
        self.loads = 0

    def get(self, path: Path) -> VoskModel:
        key = path.resolve()
        with self._lock:
            model = self._models.get(key)
            if model is None:
                model = self._models[key] = self._loader(key)
                self.loads += 1
            return model


@functools.cache
def shared_models() -> ModelCache:
    """The process's model cache, made on first use."""
    return ModelCache()


@dataclass(frozen=True)
class ShortAnswer:
    """What a caller said to a yes/no or digit question; `choice` is None when unclear."""

    choice: str | None
    text: str
    confidence: float
    used_grammar: bool


class Transcriber:
    """Transcribes recordings with the model in one folder, for one language."""

    def __init__(
        self,
        model_dir: Path,
        language: str,
        *,
        cache: ModelCache | None = None,
        layout: ModelLayout | None = None,
        skip_silence: bool = False,
        recognizer_reuse: int = 0,
    ) -> None:
        if recognizer_reuse < 0:
            raise ValueError(f"recognizer_reuse must be 0 or more, not {recognizer_reuse}")
        self.model_dir = model_dir
        self.language = language
        # Decode only the speech in a recording (hotline.speech.gate); word times stay those of
        # the whole recording.
        self.skip_silence = skip_silence
        # How many recordings one recogniser decodes before a fresh one replaces it; 0: a
        # fresh one for each. See _Stream for why reuse pays and what it costs.
        self.recognizer_reuse = recognizer_reuse
        self._warm = threading.local()
        self.layout = layout or inspect_model(model_dir)
        if self.layout.problem is not None:
            raise ModelMissing(f"no Vosk model in {model_dir} ({self.layout.problem})")
        self._cache = cache or shared_models()

    @property
    def model(self) -> VoskModel:
        return self._cache.get(self.model_dir)

    def transcribe(self, audio: Path, speaker: str = MIXED) -> Transcript:
        """One recording; its segments are redacted and labelled with `speaker`."""
        rate = self.layout.sample_rate
        pcm = read_pcm(audio, rate)
        found = self._recording_words(pcm)
        words = redact_words(clean_words(found))
        return Transcript(
            tuple(segments_from_words(words, speaker)), pcm_seconds(pcm, rate), self.language
        )

    def transcribe_call(self, caller_leg: Path, agent_leg: Path | None = None) -> Transcript:
        """Both legs of a call (MixMonitor's r() and t() files), merged by time."""
        if agent_leg is None:
            return self.transcribe(caller_leg, MIXED)
        return merge_call(self.transcribe(caller_leg, CALLER), self.transcribe(agent_leg, AGENT))

    def recognize_short(self, audio: Path, choices: Sequence[str]) -> ShortAnswer:
        """Which of a few expected answers ("네"/"아니요", digits) a short recording holds.

        With a model that compiles grammars at run time, recognition is limited to the choices
        the model knows; otherwise (or if it knows none) free recognition is matched instead.
        The text is not redacted: it is for the IVR to act on at once, never stored.
        """
        known = [c for c in choices if self._knows(c)]
        grammar = known if self.layout.grammar and known else None
        if grammar is not None and self._knows(UNKNOWN_WORD):
            grammar = [*grammar, UNKNOWN_WORD]  # lets "none of these" win over a forced guess
        words = clean_words(self._words(read_pcm(audio, self.layout.sample_rate), grammar))
        return _answer(words, choices, used_grammar=grammar is not None)

    def _recording_words(self, pcm: bytes) -> list[Word]:
        """The words of one recording (only of its speech with the gate on), timed from its start.

        The whole recording goes through one recogniser, a warm one when reuse is on. A
        recording that fails drops the recogniser rather than hand a broken one to the next.
        """
        stream = self._stream()
        try:
            if not self.skip_silence:
                return stream.words(pcm)
            rate = self.layout.sample_rate
            words: list[Word] = []
            for region in speech_regions(pcm, rate):
                part = stream.words(pcm[2 * region.start : 2 * region.end])
                words += _shifted(part, region.start / rate)
            return words
        except BaseException:
            self._warm.stream = None
            raise

    def _stream(self) -> _Stream:
        # Per thread: a recogniser is not thread-safe, and a Transcriber may be shared.
        stream: _Stream | None = getattr(self._warm, "stream", None)
        if stream is None or stream.recordings >= self.recognizer_reuse:
            stream = _Stream(self._recognizer(None), self.layout.sample_rate)
            if self.recognizer_reuse:
                self._warm.stream = stream
        stream.recordings += 1
        return stream

    def _words(self, pcm: bytes, grammar: list[str] | None) -> list[Word]:
        return _decode(self._recognizer(grammar), pcm, self.layout.sample_rate)

    def _recognizer(self, grammar: list[str] | None) -> Recognizer:
        import vosk

        rate = float(self.layout.sample_rate)
        try:
            if grammar is None:
                recognizer: Recognizer = vosk.KaldiRecognizer(self.model, rate)
            else:
                spec = json.dumps(grammar, ensure_ascii=False)
                recognizer = vosk.KaldiRecognizer(self.model, rate, spec)
        except Exception as exc:  # Vosk raises a bare Exception("Failed to create a recognizer")
            detail = f"Vosk can't start recognition with {self.model_dir}: {exc}"
            raise SpeechError(detail) from None
        recognizer.SetWords(True)
        return recognizer

    def _knows(self, phrase: str) -> bool:
        words = phrase.split()
        return bool(words) and all(self.model.vosk_model_find_word(w) >= 0 for w in words)


class _Stream:
    """One recogniser for piece after piece of audio, each piece a finished utterance.

    Vosk composes a lookahead model's decoding graph lazily and caches it in the recogniser,
    so a fresh recogniser starts cold: on the benchmark's recordings a warm one decoded with
    about 2.6x less CPU (docs/speech.md). That is why the speech regions of a recording share
    one, and why the worker keeps one for many recordings. The cost is memory (the cached
    graph: about 120 MB over 120 recordings, bounded by replacing the recogniser) and
    transcripts that depend a little on what the recogniser decoded before: the search breaks
    ties between equal hypotheses by state order. Vosk's transcripts already vary that way
    with fresh recognisers (the shared model holds state too), and accuracy measured the same
    either way. Vosk's word times run on across everything a recogniser was fed: each piece's
    times are made relative to its start.
    """

    def __init__(self, recognizer: Recognizer, rate: int) -> None:
        self.recognizer = recognizer
        self.rate = rate
        self.fed_bytes = 0
        self.recordings = 0

    def words(self, pcm: bytes) -> list[Word]:
        start_s = self.fed_bytes / (2 * self.rate)
        words = _decode(self.recognizer, pcm, self.rate)
        self.fed_bytes += len(pcm)
        return _shifted(words, -start_s)


def _decode(recognizer: Recognizer, pcm: bytes, rate: int) -> list[Word]:
    """Feed `pcm` in chunks and finish the utterance (FinalResult), so nothing carries over."""
    step = int(rate * CHUNK_SECONDS) * 2
    results: list[dict[str, Any]] = []
    for start in range(0, len(pcm), step):
        if recognizer.AcceptWaveform(pcm[start : start + step]):
            results.append(json.loads(recognizer.Result()))
    results.append(json.loads(recognizer.FinalResult()))
    return words_from_results(results)


def _shifted(words: list[Word], by_s: float) -> list[Word]:
    if not by_s:
        return words
    return [replace(w, start_s=w.start_s + by_s, end_s=w.end_s + by_s) for w in words]


def transcriber_for(
    config: SpeechConfig,
    language: str | None = None,
    *,
    cache: ModelCache | None = None,
    reuse: bool = True,
) -> Transcriber:
    """A transcriber for `language` (default: the configured one); ModelMissing says what to set.

    `reuse=False` gives every recording a fresh recogniser whatever the settings say.
    """
    lang = language or config.language
    return Transcriber(
        find_model(lang, config),
        lang,
        cache=cache,
        skip_silence=config.skip_silence,
        recognizer_reuse=config.recognizer_reuse if reuse else 0,
    )


def _answer(words: list[Word], choices: Sequence[str], *, used_grammar: bool) -> ShortAnswer:
    text = join_words([w.text for w in words])
    said = [c for c in dict.fromkeys(choices) if _says(text, c)]
    # Two different answers in one breath ("네 아니요") is no answer.
    if len(said) != 1:
        return ShortAnswer(None, text, 0.0, used_grammar)
    return ShortAnswer(said[0], text, fmean(w.confidence for w in words), used_grammar)


def _says(text: str, choice: str) -> bool:
    wanted = join_words(choice.split())
    if not wanted:
        return False
    # Chinese has no spaces between words, so a choice can only be looked for as a substring.
    if has_han(wanted):
        return wanted in text
    return f" {wanted} " in f" {text} "
