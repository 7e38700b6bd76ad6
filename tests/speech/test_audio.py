"""Recordings in Asterisk's formats to recogniser PCM with sox; unreadable ones are typed errors."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from hotline.speech.audio import pcm_seconds, read_pcm
from hotline.speech.errors import AudioUnreadable
from tests.conftest import need

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def tone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One second of 440 Hz at 44.1 kHz stereo: nothing like what the model wants."""
    need(shutil.which("sox") is not None, "sox (apt-get install sox)")
    path = tmp_path_factory.mktemp("audio") / "tone.wav"
    subprocess.run(
        ["sox", "-V1", "-n", "-r", "44100", "-c", "2", str(path), "synth", "1", "sine", "440"],
        check=True,
    )
    return path


def convert(src: Path, dst: Path, *args: str) -> Path:
    subprocess.run(["sox", "-V1", str(src), *args, str(dst)], check=True)
    return dst


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("call.wav", ["-r", "8000", "-c", "1", "-b", "16"]),  # MixMonitor's default
        ("call.sln", ["-t", "sln", "-r", "8000", "-c", "1"]),
        ("call.gsm", ["-r", "8000", "-c", "1"]),
        ("call.ulaw", ["-t", "ul", "-r", "8000", "-c", "1"]),
        ("call.alaw", ["-t", "al", "-r", "8000", "-c", "1"]),
        ("call.sln16", ["-t", "raw", "-r", "16000", "-c", "1", "-b", "16", "-e", "signed"]),
        ("call.wav", []),  # 44.1 kHz stereo as it is
    ],
)
def test_formats_become_16_bit_mono_at_the_model_rate(
    tone: Path, tmp_path: Path, name: str, args: list[str]
) -> None:
    recording = convert(tone, tmp_path / name, *args)
    for rate in (8000, 16000):
        pcm = read_pcm(recording, rate)
        assert pcm_seconds(pcm, rate) == pytest.approx(1.0, abs=0.03)


def test_an_empty_file_is_unreadable(tmp_path: Path) -> None:
    for name in ("empty.wav", "empty.sln", "empty.gsm"):
        (tmp_path / name).write_bytes(b"")
        with pytest.raises(AudioUnreadable) as caught:
            read_pcm(tmp_path / name, 16000)
        assert str(caught.value).startswith(f"can't read audio {tmp_path / name}: ")


def test_a_corrupt_file_is_unreadable_in_one_line(tmp_path: Path) -> None:
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" + bytes(range(256)) * 20)
    with pytest.raises(AudioUnreadable) as caught:
        read_pcm(junk, 16000)
    line = str(caught.value)
    assert "\n" not in line and "sox FAIL" not in line and "Traceback" not in line


def test_a_missing_file_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(AudioUnreadable, match="no such file"):
        read_pcm(tmp_path / "gone.wav", 16000)
