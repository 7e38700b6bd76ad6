"""Prompt audio: TTS rendering at publish time, the hash-keyed cache, uploads and resolution.

Every prompt is text in a flow. Publishing renders it with espeak-ng and sox into
`<recordings>/prompts/<hash>.sln`; an uploaded recording at
`<recordings>/uploads/<prompt_id>.<language>.sln` overrides the TTS file. Only `.sln`
(signed linear 16-bit, 8 kHz, mono) is written: Asterisk turns it into A-law or u-law with a
table lookup, and Chinese trunks mostly run A-law, so a pre-encoded `.ulaw` would still be
transcoded on most calls while doubling the files to keep in step.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from hotline.errors import HotlineError
from hotline.tools import ToolTimedOut, failure_reason, run_tool

DEFAULT_VOICES: Mapping[str, str] = MappingProxyType({"zh": "cmn", "en": "en", "ko": "ko"})
# Bump when the rendering pipeline changes so every cached file is rendered again.
FORMAT_VERSION = "sln8k-1"
AUDIO_EXT = ".sln"
PROMPTS_SUBDIR = "prompts"
UPLOADS_SUBDIR = "uploads"
SAMPLE_RATE = 8000
BYTES_PER_SECOND = SAMPLE_RATE * 2
MAX_TEXT_CHARS = 500
MIN_TTS_SECONDS = 0.1
MIN_UPLOAD_SECONDS = 0.2
MAX_UPLOAD_SECONDS = 120.0
# 120 s of 48 kHz stereo 32-bit float is ~46 MB; anything bigger can't pass the length check.
MAX_UPLOAD_BYTES = 64 * 1024 * 1024
RENDER_WORKERS = 4
TOOL_TIMEOUT_SECONDS = 60

_PROMPT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")

PromptKey = tuple[str, str]


class PromptError(HotlineError):
    """A prompt can't be rendered, stored or played; the message names the prompt."""


class PromptMissing(PromptError):
    """Neither an upload nor a rendered TTS file exists for a prompt."""


class ToolMissing(PromptError):
    """espeak-ng or sox is not installed."""


class PromptsFailed(PromptError):
    """Some prompts of a batch failed; the others were rendered and are in `rendered`."""

    def __init__(self, failures: list[str], rendered: dict[PromptKey, Path]) -> None:
        count = len(failures)
        noun = "prompt" if count == 1 else "prompts"
        super().__init__(f"{count} {noun} failed to render: " + "; ".join(failures))
        self.failures = failures
        self.rendered = rendered


@dataclass(frozen=True)
class PromptText:
    prompt_id: str
    language: str
    text: str


def normalize_text(text: str) -> str:
    # YAML block scalars differ in line breaks and trailing newlines; TTS doesn't care, so
    # neither should the cache key.
    return " ".join(text.split())


def voice_for(language: str, voices: Mapping[str, str] | None = None) -> str:
    table = DEFAULT_VOICES if voices is None else voices
    try:
        return table[language]
    except KeyError:
        known = ", ".join(sorted(table))
        raise PromptError(f"no TTS voice for language {language!r}; use one of: {known}") from None


def prompt_hash(text: str, voice: str) -> str:
    # JSON keeps the fields apart even when the text itself contains separators.
    key = json.dumps([normalize_text(text), voice, FORMAT_VERSION], ensure_ascii=False)
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def tts_path(recordings_dir: Path, text: str, voice: str) -> Path:
    return recordings_dir / PROMPTS_SUBDIR / f"{prompt_hash(text, voice)}{AUDIO_EXT}"


def upload_path(recordings_dir: Path, prompt_id: str, language: str) -> Path:
    # Both parts become a file name, so refuse anything that could leave the folder.
    if not _PROMPT_ID.match(prompt_id):
        raise PromptError(f"bad prompt id {prompt_id!r}: use letters, digits, '_' and '-'")
    if not _LANGUAGE.match(language):
        raise PromptError(f"bad language {language!r}: use a code like 'zh' or 'en'")
    return recordings_dir / UPLOADS_SUBDIR / f"{prompt_id}.{language}{AUDIO_EXT}"


def checked_text(text: str) -> str:
    """The normalized text, or PromptError if TTS can't render it."""
    clean = normalize_text(text)
    if not clean:
        raise PromptError("text is empty; write the words the caller should hear")
    if len(clean) > MAX_TEXT_CHARS:
        raise PromptError(
            f"text is {len(clean)} characters; split it into prompts of at most {MAX_TEXT_CHARS}"
        )
    return clean


def render_prompts(
    prompts: Iterable[PromptText],
    recordings_dir: Path,
    *,
    voices: Mapping[str, str] | None = None,
    workers: int = RENDER_WORKERS,
) -> dict[PromptKey, Path]:
    """Render every prompt missing from the cache; return each prompt's `.sln` file.

    Raises PromptsFailed listing every failure after rendering all the others.
    """
    paths: dict[PromptKey, Path] = {}
    failures: dict[PromptKey, str] = {}
    jobs: dict[Path, tuple[str, str]] = {}
    for prompt in prompts:
        key = (prompt.prompt_id, prompt.language)
        try:
            voice = voice_for(prompt.language, voices)
            text = checked_text(prompt.text)
        except PromptError as exc:
            failures[key] = _label(key, exc)
            continue
        paths[key] = tts_path(recordings_dir, text, voice)
        if not paths[key].is_file():
            jobs.setdefault(paths[key], (text, voice))
    errors = _run_jobs(jobs, workers)
    for key, path in list(paths.items()):
        if path in errors:
            failures[key] = _label(key, errors[path])
            del paths[key]
    if failures:
        raise PromptsFailed([failures[k] for k in sorted(failures)], paths)
    return paths


def store_upload(
    prompt_id: str,
    language: str,
    data: bytes,
    recordings_dir: Path,
    *,
    fmt: Literal["wav", "sln"] = "wav",
) -> Path:
    """Validate an uploaded recording, convert it to 8 kHz mono slin and store it atomically."""
    dst = upload_path(recordings_dir, prompt_id, language)
    try:
        _check_upload_bytes(data, fmt)
        dst.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".upload-", dir=dst.parent) as tmp:
            src = Path(tmp) / f"upload.{fmt}"
            src.write_bytes(data)
            part = Path(tmp) / f"converted{AUDIO_EXT}"
            if fmt == "wav":
                _to_slin(src, part)
            else:
                src.rename(part)
            _check_duration(part, MIN_UPLOAD_SECONDS, MAX_UPLOAD_SECONDS)
            os.replace(part, dst)
    except ToolMissing:
        raise
    except PromptError as exc:
        raise PromptError(_label((prompt_id, language), exc)) from None
    except OSError as exc:
        detail = f"can't write {dst.parent}: {exc.strerror or exc}"
        raise PromptError(_label((prompt_id, language), detail)) from None
    return dst


def resolve(
    prompt_id: str,
    language: str,
    text: str,
    recordings_dir: Path,
    *,
    voices: Mapping[str, str] | None = None,
) -> Path:
    """The file to play, without extension, as Asterisk's STREAM FILE wants it."""
    upload = upload_path(recordings_dir, prompt_id, language)
    if upload.is_file():
        return upload.with_suffix("")
    key = (prompt_id, language)
    try:
        tts = tts_path(recordings_dir, text, voice_for(language, voices))
    except PromptError as exc:
        raise PromptMissing(_label(key, f"no upload and {exc}")) from None
    if tts.is_file():
        return tts.with_suffix("")
    raise PromptMissing(
        _label(key, "no audio rendered or uploaded; publish the flow again to render it")
    )


def _label(key: PromptKey, detail: object) -> str:
    return f"prompt {key[0]!r} ({key[1]}): {detail}"


def _run_jobs(jobs: dict[Path, tuple[str, str]], workers: int) -> dict[Path, PromptError]:
    if not jobs:
        return {}
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(jobs)))) as pool:
        futures = {dst: pool.submit(_render, *job, dst) for dst, job in jobs.items()}
    errors: dict[Path, PromptError] = {}
    for dst, future in futures.items():
        exc = future.exception()
        if isinstance(exc, ToolMissing):
            raise exc  # the same one-line fix for every prompt; say it once
        if isinstance(exc, PromptError):
            errors[dst] = exc
        elif exc is not None:
            raise exc
    return errors


def _render(text: str, voice: str, dst: Path) -> None:
    try:
        dst.parent.mkdir(parents=True, exist_ok=True)
        # Build in a private folder on the same filesystem, then rename: a concurrent reader
        # sees either no file or the whole file.
        with tempfile.TemporaryDirectory(prefix=".render-", dir=dst.parent) as tmp:
            wav = Path(tmp) / "tts.wav"
            part = Path(tmp) / f"tts{AUDIO_EXT}"
            _espeak(text, voice, wav)
            _to_slin(wav, part)
            _check_duration(part, MIN_TTS_SECONDS, None)
            os.replace(part, dst)
    except OSError as exc:
        raise PromptError(f"can't write {dst.parent}: {exc.strerror or exc}") from None


def _check_upload_bytes(data: bytes, fmt: str) -> None:
    if not data:
        raise PromptError("the upload is empty")
    if len(data) > MAX_UPLOAD_BYTES:
        raise PromptError(f"the upload is over {MAX_UPLOAD_BYTES // 2**20} MB; trim it")
    if fmt == "wav" and (data[:4] != b"RIFF" or data[8:12] != b"WAVE"):
        raise PromptError("the upload is not a WAV file; export the recording as .wav")
    if fmt == "sln" and len(data) % 2:
        raise PromptError("the upload is not 16-bit slin (odd byte count)")


def _check_duration(sln: Path, minimum: float, maximum: float | None) -> None:
    seconds = sln.stat().st_size / BYTES_PER_SECOND
    if seconds < minimum:
        raise PromptError(f"audio is only {seconds:.2f} s; it must last at least {minimum} s")
    if maximum is not None and seconds > maximum:
        raise PromptError(f"audio is {seconds:.1f} s; keep it under {maximum:.0f} s")


def _espeak(text: str, voice: str, wav_path: Path) -> None:
    exe = _require("espeak-ng", "apt-get install espeak-ng")
    # Text goes through stdin so a prompt starting with '-' is never read as an option.
    cmd = [exe, "-b", "1", "-v", voice, "--stdin", "-w", str(wav_path)]
    _run(cmd, "espeak-ng", stdin=text.encode("utf-8"))


def _to_slin(src: Path, dst: Path) -> None:
    exe = _require("sox", "apt-get install sox")
    # -G guards against clipping from resampling. Raw output is host-endian, as Asterisk's
    # slin format expects on the same machine.
    out = ["-t", "raw", "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16", "-e", "signed-integer"]
    _run([exe, "-V1", "-G", str(src), *out, str(dst)], "sox")


def _require(tool: str, install: str) -> str:
    exe = shutil.which(tool)
    if exe is None:
        raise ToolMissing(f"{tool} is not installed: {install}")
    return exe


def _run(cmd: list[str], name: str, stdin: bytes | None = None) -> None:
    try:
        done = run_tool(cmd, TOOL_TIMEOUT_SECONDS, stdin)
    except ToolTimedOut:
        raise PromptError(f"{name} took over {TOOL_TIMEOUT_SECONDS} s") from None
    if done.returncode != 0:
        raise PromptError(f"{name} failed: {failure_reason(done)}")
