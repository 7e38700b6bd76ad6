"""Recordings to recogniser input: sox turns any file into 16-bit mono PCM at the model's rate."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from hotline.errors import ConfigError
from hotline.speech.errors import AudioUnreadable, EmptyAudio
from hotline.tools import ToolTimedOut, failure_reason, run_tool

SOX_TIMEOUT_S = 120
BYTES_PER_SAMPLE = 2
# "/usr/bin/sox FAIL formats: " says nothing a person can act on; what follows does.
_SOX_PREFIX = re.compile(r"^\S*sox (FAIL|WARN) \w+: ")
# Asterisk names some formats differently from sox; headerless ones need their shape spelled out.
_ASTERISK_FORMATS: dict[str, list[str]] = {
    ".slin": ["-t", "sln"],
    ".sln16": ["-t", "raw", "-r", "16000", "-e", "signed-integer", "-b", "16", "-c", "1"],
    ".ulaw": ["-t", "ul", "-r", "8000", "-c", "1"],
    ".alaw": ["-t", "al", "-r", "8000", "-c", "1"],
}


def read_pcm(path: Path, rate: int) -> bytes:
    """The recording as signed 16-bit mono little-endian samples at `rate` Hz.

    Raises AudioUnreadable for a missing, empty, corrupt or unknown file.
    """
    if not path.is_file():
        raise AudioUnreadable(f"can't read audio {path}: no such file")
    out = ["-t", "raw", "-r", str(rate), "-c", "1", "-b", "16", "-e", "signed-integer", "-L"]
    # -D: no dither, whose random noise the recogniser doesn't need and tests can't repeat;
    # -G: guard against clipping when resampling; -V1: errors only.
    cmd = [_sox(), "-V1", "-D", "-G", *_input_type(path), str(path), *out, "-"]
    try:
        done = run_tool(cmd, SOX_TIMEOUT_S)
    except ToolTimedOut:
        raise AudioUnreadable(f"can't read audio {path}: sox took over {SOX_TIMEOUT_S} s") from None
    if done.returncode != 0:
        reason = _SOX_PREFIX.sub("", failure_reason(done, default="sox failed"))
        raise AudioUnreadable(f"can't read audio {path}: {reason}")
    if len(done.stdout) < BYTES_PER_SAMPLE:
        raise EmptyAudio(f"can't read audio {path}: it holds no sound")
    return done.stdout


def pcm_seconds(pcm: bytes, rate: int) -> float:
    return len(pcm) / (BYTES_PER_SAMPLE * rate)


def _input_type(path: Path) -> list[str]:
    return _ASTERISK_FORMATS.get(path.suffix.lower(), [])


def _sox() -> str:
    exe = shutil.which("sox")
    if exe is None:
        raise ConfigError("sox is not installed: apt-get install sox")
    return exe
