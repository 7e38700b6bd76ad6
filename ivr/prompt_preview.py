"""A prompt as the caller will hear it, for the browser: the IVR's TTS file wrapped as WAV.

The preview renders through `render_prompts`, so it shares the publish-time cache (keyed by
the hash of text and voice): previewing a prompt renders the very file a call will play,
and publishing it afterwards costs nothing.
"""

from __future__ import annotations

import array
import io
import sys
import wave
from pathlib import Path

from ivr.prompts import SAMPLE_RATE, PromptText, checked_text, render_prompts


def slin_to_wav(slin: bytes) -> bytes:
    """8 kHz 16-bit mono slin (host byte order, as rendered) -> a WAV file's bytes."""
    samples = array.array("h")
    samples.frombytes(slin[: len(slin) - len(slin) % 2])
    if sys.byteorder == "big":
        samples.byteswap()  # WAV is little-endian
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(samples.tobytes())
    return out.getvalue()


def preview_wav(text: str, language: str, recordings_dir: Path) -> bytes:
    """The prompt's WAV; PromptError (bad text, unknown language, TTS failure) otherwise."""
    clean = checked_text(text)
    paths = render_prompts([PromptText("preview", language, clean)], recordings_dir)
    return slin_to_wav(paths["preview", language].read_bytes())
