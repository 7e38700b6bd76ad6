"""Transcript segments: recogniser words grouped into timed, redacted lines per speaker (pure)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from statistics import fmean

from backoffice.domain.masking import redact_text

CALLER = "caller"
AGENT = "agent"
# A single recording of both sides (no separate legs): nobody can tell who spoke.
MIXED = "mixed"
# A caller pausing this long has usually finished a thought; shorter gaps are breaths.
PAUSE_S = 0.8
MAX_SEGMENT_S = 15.0
UNKNOWN_WORD = "[unk]"
MASK = "*"

# Some models (the Korean one) write numbers as "[22]"; the masking rules only see bare digits,
# so a bracketed phone number would slip through unmasked.
_BRACKETED_NUMBER = re.compile(r"^\[([0-9]+)\]$")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3007]")


@dataclass(frozen=True)
class Word:
    text: str
    start_s: float
    end_s: float
    confidence: float


@dataclass(frozen=True)
class Segment:
    start_s: float
    end_s: float
    text: str
    confidence: float
    speaker: str


@dataclass(frozen=True)
class Transcript:
    """A call's segments in time order; `audio_s` is the longest leg."""

    segments: tuple[Segment, ...]
    audio_s: float
    language: str

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.segments)

    def text_of(self, speaker: str) -> str:
        return " ".join(s.text for s in self.segments if s.speaker == speaker)

    def to_dict(self) -> dict[str, object]:
        return {
            "language": self.language,
            "audio_s": round(self.audio_s, 3),
            "segments": [_rounded(asdict(s)) for s in self.segments],
        }


def words_from_results(results: Iterable[Mapping[str, object]]) -> list[Word]:
    """The words of Vosk results (`SetWords(True)` JSON objects), in order."""
    words: list[Word] = []
    for result in results:
        entries = result.get("result")
        if not isinstance(entries, list):
            continue  # a result with no speech in it
        words += [_word(entry) for entry in entries if isinstance(entry, dict)]
    return words


def clean_words(words: Iterable[Word]) -> list[Word]:
    """Drop the recogniser's unknown-word markers and unbracket numbers."""
    cleaned: list[Word] = []
    for word in words:
        if not word.text or word.text == UNKNOWN_WORD:
            continue
        number = _BRACKETED_NUMBER.match(word.text)
        cleaned.append(_with_text(word, number.group(1)) if number else word)
    return cleaned


def redact_words(words: Sequence[Word], redact: Callable[[str], str] = redact_text) -> list[Word]:
    """Mask phone numbers and national IDs across the whole leg, then split back into words.

    The leg is redacted as one text because callers pause inside a number, so its digits can
    land in different segments; each part alone may look too short to be a number.
    """
    joined = " ".join(w.text for w in words)
    masked = redact(joined)
    if len(masked) != len(joined):
        raise ValueError("redaction must keep the text's length to map back to words")
    redacted: list[Word] = []
    start = 0
    for word in words:
        end = start + len(word.text)
        redacted.append(_with_text(word, masked[start:end]))
        start = end + 1
    return redacted


def segments_from_words(
    words: Sequence[Word],
    speaker: str,
    *,
    pause_s: float = PAUSE_S,
    max_s: float = MAX_SEGMENT_S,
) -> list[Segment]:
    """Group words into segments, starting a new one at a pause or when one gets too long."""
    groups: list[list[Word]] = []
    for word in words:
        if groups and _continues(groups[-1], word, pause_s, max_s):
            groups[-1].append(word)
        else:
            groups.append([word])
    return [_segment(group, speaker) for group in groups]


def merge_legs(*legs: Sequence[Segment]) -> tuple[Segment, ...]:
    """All legs' segments by start time; on a tie the earlier leg speaks first."""
    tagged = [(s.start_s, leg, s.end_s, s) for leg, segments in enumerate(legs) for s in segments]
    return tuple(item[3] for item in sorted(tagged, key=lambda t: t[:3]))


def merge_call(caller: Transcript, agent: Transcript) -> Transcript:
    """A call's transcript from its two legs' transcripts."""
    segments = merge_legs(caller.segments, agent.segments)
    return Transcript(segments, max(caller.audio_s, agent.audio_s), caller.language)


def join_words(texts: Sequence[str]) -> str:
    """Words joined by spaces, except between Chinese characters (and masked digits)."""
    parts: list[str] = []
    for text in texts:
        if parts and not (_glues(parts[-1][-1]) and _glues(text[0])):
            parts.append(" ")
        parts.append(text)
    return "".join(parts)


def has_han(text: str) -> bool:
    return _HAN.search(text) is not None


def format_segment(segment: Segment) -> str:
    """One line of a transcript as people read it: `[00:01.2-00:03.4] caller: ...`."""
    return f"[{_clock(segment.start_s)}-{_clock(segment.end_s)}] {segment.speaker}: {segment.text}"


def _word(entry: Mapping[str, object]) -> Word:
    return Word(
        text=str(entry.get("word", "")),
        start_s=_number(entry.get("start")),
        end_s=_number(entry.get("end")),
        confidence=_number(entry.get("conf"), default=1.0),
    )


def _number(value: object, default: float = 0.0) -> float:
    return float(value) if isinstance(value, int | float) else default


def _with_text(word: Word, text: str) -> Word:
    return Word(text, word.start_s, word.end_s, word.confidence)


def _continues(group: list[Word], word: Word, pause_s: float, max_s: float) -> bool:
    return word.start_s - group[-1].end_s <= pause_s and word.end_s - group[0].start_s <= max_s


def _segment(group: list[Word], speaker: str) -> Segment:
    return Segment(
        start_s=group[0].start_s,
        end_s=group[-1].end_s,
        text=join_words([w.text for w in group]),
        confidence=fmean(w.confidence for w in group),
        speaker=speaker,
    )


def _glues(char: str) -> bool:
    return char == MASK or _HAN.match(char) is not None


def _clock(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes):02d}:{rest:04.1f}"


def _rounded(fields: dict[str, object]) -> dict[str, object]:
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in fields.items()}
