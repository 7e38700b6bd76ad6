"""Where a recording has speech in it, so the recogniser is not run on the quiet (pure).

Each leg of a call is mostly quiet: its side listens while the other side talks. Vosk spends
the same CPU on a second of line hiss as on a second of speech, so the worker finds the
speech by its energy and decodes only that, with some padding. The gate is deliberately
generous: a region starts and ends well outside the loud part and close regions are joined,
because cutting a word costs more than decoding a little quiet.
"""

from __future__ import annotations

import math
import sys
from array import array
from dataclasses import dataclass
from operator import mul

FRAME_S = 0.02
# A frame this far above the line's quiet (its 10th-percentile frame) is speech...
ABOVE_FLOOR_DB = 10.0
# ...or this far below the loudest frames (99th percentile), whichever is lower: a recording
# that is speech throughout has its "floor" in the speech, while quiet speech on a noisy line
# is only a little above it. A frame under MIN_LEVEL_DBFS (phone-line hiss) is never speech.
BELOW_PEAK_DB = 12.0
MIN_LEVEL_DBFS = -55.0
FLOOR_PERCENTILE = 0.10
PEAK_PERCENTILE = 0.99
# Speech shorter than this is a click or a burst of noise.
MIN_SPEECH_S = 0.06
# Kept either side of speech: soft onsets and trailing consonants are quieter than vowels,
# and the recogniser decides better with some quiet around a word (with 0.3 s it already
# heard espeak-ng's Korean differently than with the whole recording).
PAD_S = 0.5
# Regions this close are decoded as one, so a pause inside a sentence isn't a cut.
JOIN_GAP_S = 0.6
# Quiet this short at the start or end of a recording is decoded with its speech: the
# recogniser settles on a recording's opening quiet, and with part of a 3 s lead-in cut away
# it heard the same espeak-ng sentence as different words. Only long quiet is worth skipping.
EDGE_KEEP_S = 3.0
_FULL_SCALE = 32768.0
_SILENT_DBFS = -120.0


@dataclass(frozen=True)
class Region:
    """Samples [start, end) of a recording."""

    start: int
    end: int

    def seconds(self, rate: int) -> tuple[float, float]:
        return self.start / rate, self.end / rate


@dataclass(frozen=True)
class GateSettings:
    frame_s: float = FRAME_S
    above_floor_db: float = ABOVE_FLOOR_DB
    below_peak_db: float = BELOW_PEAK_DB
    min_level_dbfs: float = MIN_LEVEL_DBFS
    min_speech_s: float = MIN_SPEECH_S
    pad_s: float = PAD_S
    join_gap_s: float = JOIN_GAP_S
    edge_keep_s: float = EDGE_KEEP_S


def speech_regions(pcm: bytes, rate: int, settings: GateSettings = GateSettings()) -> list[Region]:
    """The parts of signed 16-bit mono little-endian `pcm` at `rate` Hz that hold speech.

    Regions are padded, joined when close, in order, and within the recording; none for a
    recording that is quiet throughout.
    """
    if rate <= 0:
        raise ValueError(f"sample rate must be positive, not {rate}")
    if len(pcm) % 2:
        raise ValueError("16-bit PCM must have an even number of bytes")
    frame = max(1, round(rate * settings.frame_s))
    levels = frame_levels(pcm, frame)
    if not levels:
        return []
    threshold = threshold_dbfs(levels, settings)
    loud = [level >= threshold for level in levels]
    samples = len(pcm) // 2
    min_frames = max(1, round(settings.min_speech_s / settings.frame_s))
    runs = _runs(loud, frame, samples, min_frames=min_frames)
    padded = _pad(runs, round(settings.pad_s * rate), samples)
    joined = _join(padded, round(settings.join_gap_s * rate))
    return _keep_edges(joined, round(settings.edge_keep_s * rate), samples)


def frame_levels(pcm: bytes, frame: int) -> list[float]:
    """Each `frame`-sample frame's RMS level in dBFS (the last, partial one included)."""
    samples = array("h")
    samples.frombytes(pcm)
    if sys.byteorder == "big":
        samples.byteswap()  # the PCM is little-endian whatever the machine
    levels: list[float] = []
    for start in range(0, len(samples), frame):
        part = samples[start : start + frame]
        power = sum(map(mul, part, part)) / len(part)
        levels.append(_dbfs(power))
    return levels


def threshold_dbfs(levels: list[float], settings: GateSettings = GateSettings()) -> float:
    """The level from which a frame counts as speech, from the recording's own levels."""
    ordered = sorted(levels)
    floor = ordered[int(FLOOR_PERCENTILE * (len(ordered) - 1))]
    peak = ordered[int(PEAK_PERCENTILE * (len(ordered) - 1))]
    relative = min(floor + settings.above_floor_db, peak - settings.below_peak_db)
    return max(settings.min_level_dbfs, relative)


def gated_seconds(regions: list[Region], rate: int) -> float:
    """How much audio the regions hold, in seconds."""
    return sum(r.end - r.start for r in regions) / rate


def _dbfs(power: float) -> float:
    if power <= 0:
        return _SILENT_DBFS
    return max(_SILENT_DBFS, 10 * math.log10(power / (_FULL_SCALE * _FULL_SCALE)))


def _runs(loud: list[bool], frame: int, samples: int, *, min_frames: int) -> list[Region]:
    runs: list[Region] = []
    start: int | None = None
    for i, is_loud in enumerate([*loud, False]):  # the sentinel closes a run at the end
        if is_loud and start is None:
            start = i
        elif not is_loud and start is not None:
            if i - start >= min_frames:
                runs.append(Region(start * frame, min(i * frame, samples)))
            start = None
    return runs


def _pad(runs: list[Region], pad: int, samples: int) -> list[Region]:
    return [Region(max(0, r.start - pad), min(samples, r.end + pad)) for r in runs]


def _join(regions: list[Region], gap: int) -> list[Region]:
    joined: list[Region] = []
    for region in regions:
        if joined and region.start - joined[-1].end <= gap:
            joined[-1] = Region(joined[-1].start, max(joined[-1].end, region.end))
        else:
            joined.append(region)
    return joined


def _keep_edges(regions: list[Region], keep: int, samples: int) -> list[Region]:
    if not regions:
        return regions
    if regions[0].start <= keep:
        regions[0] = Region(0, regions[0].end)
    if samples - regions[-1].end <= keep:
        regions[-1] = Region(regions[-1].start, samples)
    return regions
