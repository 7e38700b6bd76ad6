"""The silence gate on synthetic audio: where speech-like sound is, with padding and joining."""

from __future__ import annotations

import math
import random
from array import array

import pytest

from hotline.settings import Settings
from hotline.speech.config import speech_config
from hotline.speech.gate import (
    EDGE_KEEP_S,
    JOIN_GAP_S,
    PAD_S,
    Region,
    frame_levels,
    gated_seconds,
    speech_regions,
    threshold_dbfs,
)

pytestmark = pytest.mark.unit

RATE = 16000


def hiss(seconds: float, sigma: float = 30.0, seed: int = 7) -> list[int]:
    """Phone-line quiet: about -60 dBFS of noise."""
    rng = random.Random(seed)
    return [int(rng.gauss(0, sigma)) for _ in range(int(seconds * RATE))]


def voice(seconds: float, amplitude: float = 8000.0) -> list[int]:
    """A loud, changing tone standing in for a vowel-rich utterance."""
    n = int(seconds * RATE)
    return [
        int(amplitude * math.sin(2 * math.pi * (200 + 100 * (i / n)) * i / RATE)) for i in range(n)
    ]


def pcm(*parts: list[int]) -> bytes:
    samples = array("h", [s for part in parts for s in part])
    return samples.tobytes()  # the machines this runs on are little-endian, as the PCM is


def spans(regions: list[Region]) -> list[tuple[float, float]]:
    return [tuple(round(x, 2) for x in r.seconds(RATE)) for r in regions]  # type: ignore[misc]


def test_speech_after_long_quiet_is_found_where_it_is_with_padding() -> None:
    regions = speech_regions(pcm(hiss(20.0), voice(2.0), hiss(5.0)), RATE)
    ((start, end),) = spans(regions)
    assert start == pytest.approx(20.0 - PAD_S, abs=0.03)
    assert end == pytest.approx(22.0 + PAD_S, abs=0.03)


def test_a_leg_that_is_quiet_throughout_has_no_regions() -> None:
    assert speech_regions(pcm(hiss(10.0)), RATE) == []
    assert speech_regions(bytes(2 * RATE * 5), RATE) == []  # digital silence
    assert speech_regions(b"", RATE) == []


def test_turns_far_apart_are_two_regions_and_close_ones_are_joined() -> None:
    apart = speech_regions(pcm(hiss(5.0), voice(1.0), hiss(8.0), voice(1.5), hiss(5.0)), RATE)
    assert spans(apart) == [
        pytest.approx((5.0 - PAD_S, 6.0 + PAD_S), abs=0.03),
        pytest.approx((14.0 - PAD_S, 15.5 + PAD_S), abs=0.03),
    ]
    pause = 2 * PAD_S + JOIN_GAP_S - 0.2  # a pause within a sentence
    close = speech_regions(pcm(hiss(1.0), voice(1.0), hiss(pause), voice(1.0), hiss(1.0)), RATE)
    assert len(close) == 1


def test_a_short_quiet_at_either_end_is_decoded_with_the_speech() -> None:
    regions = speech_regions(pcm(hiss(EDGE_KEEP_S), voice(1.0), hiss(EDGE_KEEP_S)), RATE)
    assert spans(regions) == [(0.0, round(2 * EDGE_KEEP_S + 1.0, 2))]


def test_a_click_is_not_speech() -> None:
    assert speech_regions(pcm(hiss(3.0), voice(0.02, 20000.0), hiss(3.0)), RATE) == []


def test_speech_throughout_is_one_region_covering_the_recording() -> None:
    audio = pcm(voice(1.5), voice(0.05, 2000.0), voice(2.0), voice(1.0, 3000.0))
    assert spans(speech_regions(audio, RATE)) == [(0.0, 4.55)]


def test_quiet_speech_on_a_noisy_line_is_still_speech() -> None:
    noisy = hiss(12.0, sigma=100.0)  # about -50 dBFS
    audio = pcm(noisy[: 6 * RATE], voice(1.0, amplitude=1000.0), noisy[6 * RATE :])  # -30 dBFS
    ((start, end),) = spans(speech_regions(audio, RATE))
    assert (start, end) == pytest.approx((6.0 - PAD_S, 7.0 + PAD_S), abs=0.03)


def test_regions_stay_inside_the_recording() -> None:
    regions = speech_regions(pcm(voice(0.5), hiss(5.0), voice(0.5)), RATE)
    assert regions[0].start == 0
    assert regions[-1].end == len(pcm(voice(0.5), hiss(5.0), voice(0.5))) // 2
    assert gated_seconds(regions, RATE) == pytest.approx(2 * (0.5 + PAD_S), abs=0.03)


def test_levels_and_threshold() -> None:
    levels = frame_levels(pcm([16384] * 320, [0] * 320, [-16384] * 100), 320)
    assert levels == pytest.approx([-6.02, -120.0, -6.02], abs=0.01)
    # Mostly quiet: 10 dB above the floor; speech throughout: 12 dB under the peak.
    assert threshold_dbfs([-60.0] * 90 + [-10.0] * 10) == pytest.approx(-50.0)
    assert threshold_dbfs([-20.0] * 50 + [-10.0] * 50) == pytest.approx(-22.0)
    assert threshold_dbfs([-120.0] * 100) == pytest.approx(-55.0)  # never below line hiss


def test_malformed_audio_is_refused() -> None:
    with pytest.raises(ValueError, match="even number of bytes"):
        speech_regions(b"\x00\x01\x02", RATE)
    with pytest.raises(ValueError, match="sample rate"):
        speech_regions(b"\x00\x00", 0)


def test_the_gate_is_off_unless_the_setting_turns_it_on(monkeypatch: pytest.MonkeyPatch) -> None:
    assert speech_config(Settings()).skip_silence is False
    monkeypatch.setenv("HOTLINE_SPEECH_SKIP_SILENCE", "true")
    assert speech_config(Settings()).skip_silence is True
