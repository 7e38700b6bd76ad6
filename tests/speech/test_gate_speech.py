"""The silence gate with the real Korean model: segment times stay those of the recording."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

from hotline.speech.config import SpeechConfig
from hotline.speech.vosk import ModelCache, Transcriber, transcriber_for
from tests.speech.voice import RATE, Speak, wav_seconds

pytestmark = pytest.mark.integration

WAGES = "안녕하세요 임금 체불 때문에 전화했어요"
NO_PAY = "사장님이 석 달째 월급을 안 줘요"


@pytest.fixture(scope="module")
def gated(ko_model_dir: Path, model_cache: ModelCache) -> Transcriber:
    return Transcriber(ko_model_dir, "ko", cache=model_cache, skip_silence=True)


def frames(path: Path) -> bytes:
    with wave.open(str(path)) as audio:
        data: bytes = audio.readframes(audio.getnframes())
        return data


def joined(path: Path, *parts: Path | float) -> Path:
    """Recordings and seconds of digital silence, one after the other, as one 8 kHz WAV."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        for part in parts:
            out.writeframes(frames(part) if isinstance(part, Path) else bytes(2 * int(part * RATE)))
    return path


def test_speech_after_a_long_quiet_gets_its_real_start_time(
    gated: Transcriber, speak: Speak
) -> None:
    recording = speak(WAGES, before_s=25.0, after_s=5.0)
    transcript = gated.transcribe(recording)
    assert transcript.audio_s == pytest.approx(wav_seconds(recording))
    (segment,) = transcript.segments
    # espeak-ng's speech starts at the 25 s of silence put before it.
    assert 24.9 < segment.start_s < 25.6
    assert segment.end_s < transcript.audio_s - 4.5
    assert segment.text


def test_two_turns_far_apart_keep_their_times_and_agree_with_decoding_everything(
    ko_model_dir: Path, model_cache: ModelCache, speak: Speak, tmp_path: Path
) -> None:
    first, second = speak(WAGES), speak(NO_PAY)
    gap_s = 12.0
    recording = joined(tmp_path / "leg.wav", first, gap_s, second)
    gated = Transcriber(ko_model_dir, "ko", cache=model_cache).transcribe(recording)
    full = Transcriber(ko_model_dir, "ko", cache=model_cache, skip_silence=False).transcribe(
        recording
    )
    assert len(gated.segments) == len(full.segments) == 2
    second_starts = wav_seconds(first) + gap_s + 0.5  # speak() puts 0.5 s before its speech
    assert gated.segments[1].start_s == pytest.approx(second_starts, abs=0.4)
    for ours, everything in zip(gated.segments, full.segments, strict=True):
        assert ours.start_s == pytest.approx(everything.start_s, abs=0.3)
        assert ours.end_s == pytest.approx(everything.end_s, abs=0.3)


def test_times_do_not_drift_over_recordings_decoded_one_after_another(
    gated: Transcriber, speak: Speak
) -> None:
    # The words may differ from run to run (Vosk's search depends on what the shared model
    # decoded before), the times must not.
    recording = speak(NO_PAY, before_s=6.0, after_s=0.5)
    first = gated.transcribe(recording)
    gated.transcribe(speak(WAGES, before_s=3.0))
    again = gated.transcribe(recording)
    assert 5.9 < first.segments[0].start_s < 6.6
    assert again.segments[0].start_s == pytest.approx(first.segments[0].start_s, abs=0.05)


def test_a_quiet_leg_has_no_segments_but_its_length(gated: Transcriber, tmp_path: Path) -> None:
    silent = tmp_path / "quiet.wav"
    with wave.open(str(silent), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(bytes(2 * RATE * 30))
    transcript = gated.transcribe(silent)
    assert transcript.segments == ()
    assert transcript.audio_s == pytest.approx(30.0)


def test_the_setting_reaches_the_transcriber(ko_model_dir: Path, model_cache: ModelCache) -> None:
    models = {"ko": ko_model_dir}
    on = SpeechConfig(models_dir=ko_model_dir, models=models, skip_silence=True)
    off = SpeechConfig(models_dir=ko_model_dir, models=models)
    assert transcriber_for(on, "ko", cache=model_cache).skip_silence
    assert not transcriber_for(off, "ko", cache=model_cache).skip_silence
