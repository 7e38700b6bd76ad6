"""Korean speech made with espeak-ng and recorded as Asterisk records calls (8 kHz mono)."""

from __future__ import annotations

import subprocess
import wave
from collections.abc import Callable
from pathlib import Path

RATE = 8000

# speak(text, before_s=0.5, after_s=0.5, ext="wav") -> the recording
Speak = Callable[..., Path]
# hotline_cli("transcribe", ...) -> exit status
Cli = Callable[..., int]


def synthesize(path: Path, text: str, before_s: float, after_s: float) -> Path:
    """`text` spoken into `path` (.wav: 8 kHz 16-bit mono; .sln: Asterisk's raw slin)."""
    wav = subprocess.run(
        ["espeak-ng", "-v", "ko", "--stdin", "--stdout"],
        input=text.encode(),
        capture_output=True,
        check=True,
    ).stdout
    kind = ["-t", "sln"] if path.suffix == ".sln" else ["-r", str(RATE), "-c", "1", "-b", "16"]
    subprocess.run(
        ["sox", "-V1", "-t", "wav", "-", *kind, str(path), "pad", str(before_s), str(after_s)],
        input=wav,
        check=True,
    )
    return path


def wav_seconds(path: Path) -> float:
    with wave.open(str(path)) as audio:
        frames: int = audio.getnframes()
        rate: int = audio.getframerate()
        return frames / rate
