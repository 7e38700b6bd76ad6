"""Prompt hashing, paths, voices and the checks that run before any subprocess."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Literal

import pytest

from ivr import prompts
from ivr.prompts import PromptError, PromptsFailed, PromptText

pytestmark = pytest.mark.unit

REC = Path("/srv/recordings")


def test_default_voices() -> None:
    assert [prompts.voice_for(lang) for lang in ("zh", "en", "ko")] == ["cmn", "en", "ko"]


def test_unknown_language_names_it_and_the_known_ones() -> None:
    with pytest.raises(PromptError, match=r"'fr'.*en, ko, zh"):
        prompts.voice_for("fr")


def test_voices_can_be_extended() -> None:
    voices = {**prompts.DEFAULT_VOICES, "yue": "yue"}
    assert prompts.voice_for("yue", voices) == "yue"


def test_hash_is_16_hex_and_stable() -> None:
    digest = prompts.prompt_hash("欢迎致电", "cmn")
    assert re.fullmatch(r"[0-9a-f]{16}", digest)
    assert prompts.prompt_hash("欢迎致电", "cmn") == digest


@pytest.mark.parametrize(
    ("text", "voice"), [("欢迎致电!", "cmn"), ("欢迎致电", "yue"), ("欢迎", "致电cmn")]
)
def test_hash_changes_with_text_or_voice(text: str, voice: str) -> None:
    assert prompts.prompt_hash(text, voice) != prompts.prompt_hash("欢迎致电", "cmn")


def test_hash_ignores_line_breaks_and_outer_whitespace() -> None:
    folded = "Welcome to\n  the hotline.\n"
    assert prompts.prompt_hash(folded, "en") == prompts.prompt_hash("Welcome to the hotline.", "en")


def test_hash_changes_with_format_version(monkeypatch: pytest.MonkeyPatch) -> None:
    before = prompts.prompt_hash("hi", "en")
    monkeypatch.setattr(prompts, "FORMAT_VERSION", "sln8k-2")
    assert prompts.prompt_hash("hi", "en") != before


def test_tts_path_layout() -> None:
    path = prompts.tts_path(REC, "hi", "en")
    assert path == REC / "prompts" / f"{prompts.prompt_hash('hi', 'en')}.sln"


def test_upload_path_layout() -> None:
    assert prompts.upload_path(REC, "welcome", "zh") == REC / "uploads" / "welcome.zh.sln"
    assert prompts.upload_path(REC, "menu_2-b", "zh-HK").name == "menu_2-b.zh-HK.sln"


@pytest.mark.parametrize(
    ("prompt_id", "language"),
    [("../etc", "zh"), ("a/b", "zh"), ("", "zh"), (".hidden", "zh"), ("ok", "../x"), ("ok", "")],
)
def test_upload_path_refuses_names_that_leave_the_folder(prompt_id: str, language: str) -> None:
    with pytest.raises(PromptError, match="bad"):
        prompts.upload_path(REC, prompt_id, language)


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_text_is_refused(text: str) -> None:
    with pytest.raises(PromptError, match="empty"):
        prompts.checked_text(text)


def test_long_text_is_refused() -> None:
    with pytest.raises(PromptError, match="501 characters"):
        prompts.checked_text("字" * 501)
    assert prompts.checked_text("字" * 500) == "字" * 500


def test_render_collects_failures_that_need_no_subprocess(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(subprocess, "run", _no_subprocess)
    batch = [PromptText("welcome", "zh", " "), PromptText("menu", "fr", "Bonjour")]
    with pytest.raises(PromptsFailed) as info:
        prompts.render_prompts(batch, REC)
    message = str(info.value)
    assert message.startswith("2 prompts failed to render: ")
    assert "prompt 'menu' (fr): no TTS voice" in message
    assert "prompt 'welcome' (zh): text is empty" in message
    assert info.value.rendered == {}


def test_render_of_nothing_is_nothing() -> None:
    assert prompts.render_prompts([], REC) == {}


@pytest.mark.parametrize(
    ("data", "fmt", "reason"),
    [
        (b"", "wav", "empty"),
        (b"ID3\x03" + b"\0" * 100, "wav", "not a WAV"),
        (b"\0" * 101, "sln", "odd byte count"),
    ],
)
def test_upload_checks_before_converting(
    data: bytes, fmt: Literal["wav", "sln"], reason: str
) -> None:
    with pytest.raises(PromptError, match=rf"^prompt 'welcome' \(zh\): .*{reason}"):
        prompts.store_upload("welcome", "zh", data, REC, fmt=fmt)


def test_oversized_upload_is_refused_before_writing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prompts, "MAX_UPLOAD_BYTES", 10)
    with pytest.raises(PromptError, match="trim it"):
        prompts.store_upload("welcome", "zh", b"RIFF\0\0\0\0WAVE" + b"\0" * 10, REC)


def _no_subprocess(*_: object, **__: object) -> None:
    raise AssertionError("no subprocess expected")
