"""Prompt rendering with the real espeak-ng and sox, uploads, and resolution on disk."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from array import array
from pathlib import Path

import pytest

from ivr import prompts
from ivr.prompts import PromptError, PromptMissing, PromptsFailed, PromptText, ToolMissing

pytestmark = pytest.mark.integration

ZH = PromptText("welcome", "zh", "您好，欢迎致电职工服务热线。")
EN = PromptText("welcome", "en", "Welcome to the workers' service hotline.")


@pytest.fixture(autouse=True)
def _tools() -> None:
    missing = [tool for tool in ("espeak-ng", "sox") if shutil.which(tool) is None]
    if missing and os.environ.get("CI") == "true":
        pytest.fail(f"CI needs {', '.join(missing)}: apt-get install espeak-ng sox")
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed")


@pytest.fixture
def rec(tmp_path: Path) -> Path:
    return tmp_path / "recordings"


def test_renders_mandarin_and_english_as_8k_mono_slin(rec: Path, tmp_path: Path) -> None:
    paths = prompts.render_prompts([ZH, EN], rec)
    assert set(paths) == {("welcome", "zh"), ("welcome", "en")}
    for prompt in (ZH, EN):
        path = paths[(prompt.prompt_id, prompt.language)]
        assert path.parent == rec / "prompts" and path.suffix == ".sln"
        seconds = _slin_seconds(path)
        # Same length as espeak's own output proves 8 kHz, mono, 16-bit.
        reference = _espeak_seconds(prompt, tmp_path / f"ref-{prompt.language}.wav")
        assert seconds == pytest.approx(reference, rel=0.02)
        assert 0.8 < seconds < 15
        assert _peak(path) > 3000  # speech, not silence
    assert sorted(p.name for p in (rec / "prompts").iterdir()) == sorted(
        p.name for p in paths.values()
    )  # no temp files left behind


def test_cached_prompt_spawns_nothing(rec: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = prompts.render_prompts([ZH], rec)
    mtime = first[("welcome", "zh")].stat().st_mtime_ns

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("cache hit must not spawn a subprocess")

    monkeypatch.setattr(subprocess, "run", refuse)
    folded = PromptText("welcome", "zh", ZH.text + "\n")
    assert prompts.render_prompts([ZH, folded], rec) == first
    assert first[("welcome", "zh")].stat().st_mtime_ns == mtime


def test_same_text_renders_once_for_two_prompts(rec: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real_espeak = prompts._espeak

    def counting(text: str, voice: str, wav: Path) -> None:
        calls.append(text)
        real_espeak(text, voice, wav)

    monkeypatch.setattr(prompts, "_espeak", counting)
    batch = [PromptText("a", "en", "Please hold."), PromptText("b", "en", "Please hold.")]
    paths = prompts.render_prompts(batch, rec)
    assert paths[("a", "en")] == paths[("b", "en")] and len(calls) == 1


def test_prompts_render_in_parallel(rec: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    running, peak = [0], [0]
    lock = threading.Lock()
    real_espeak = prompts._espeak

    def tracking(text: str, voice: str, wav: Path) -> None:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.1)
        real_espeak(text, voice, wav)
        with lock:
            running[0] -= 1

    monkeypatch.setattr(prompts, "_espeak", tracking)
    batch = [PromptText(f"p{n}", "en", f"Press {n}.") for n in range(4)]
    assert len(prompts.render_prompts(batch, rec)) == 4
    assert peak[0] > 1


def test_concurrent_callers_rendering_the_same_prompt_both_succeed(rec: Path) -> None:
    results: list[Path] = []

    def render() -> None:
        results.append(prompts.render_prompts([EN], rec)[("welcome", "en")])

    threads = [threading.Thread(target=render) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(results)) == 1 and len(results) == 3
    assert _slin_seconds(results[0]) > 0.8


def test_too_little_audio_is_an_error(rec: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prompts, "MIN_TTS_SECONDS", 60.0)
    with pytest.raises(PromptsFailed, match=r"prompt 'welcome' \(en\): audio is only"):
        prompts.render_prompts([EN], rec)
    assert list((rec / "prompts").iterdir()) == []


def test_failures_are_listed_after_the_rest_is_rendered(rec: Path) -> None:
    voices = {**prompts.DEFAULT_VOICES, "xx": "nosuchvoice"}
    batch = [EN, PromptText("menu", "xx", "Press one."), PromptText("bye", "zh", "   ")]
    with pytest.raises(PromptsFailed) as info:
        prompts.render_prompts(batch, rec, voices=voices)
    message = str(info.value)
    assert message.startswith("2 prompts failed to render: ")
    assert "prompt 'menu' (xx): espeak-ng failed: " in message
    assert "prompt 'bye' (zh): text is empty" in message
    assert info.value.rendered[("welcome", "en")].is_file()


def test_missing_espeak_says_how_to_install(rec: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda _tool: None)
    with pytest.raises(ToolMissing, match=r"^espeak-ng is not installed: apt-get install"):
        prompts.render_prompts([ZH, EN], rec)


def test_resolve_returns_the_tts_file_without_extension(rec: Path) -> None:
    rendered = prompts.render_prompts([ZH], rec)[("welcome", "zh")]
    found = prompts.resolve("welcome", "zh", ZH.text, rec)
    assert found == rendered.with_suffix("") and found.with_suffix(".sln").is_file()


def test_upload_converts_any_wav_and_wins_over_tts(rec: Path, tmp_path: Path) -> None:
    prompts.render_prompts([ZH], rec)
    wav = _tone(tmp_path / "upload.wav", seconds=1.5, rate=44100, channels=2)
    stored = prompts.store_upload("welcome", "zh", wav, rec)
    assert stored == rec / "uploads" / "welcome.zh.sln"
    assert _slin_seconds(stored) == pytest.approx(1.5, abs=0.01)
    assert prompts.resolve("welcome", "zh", ZH.text, rec) == rec / "uploads" / "welcome.zh"
    assert [p.name for p in (rec / "uploads").iterdir()] == ["welcome.zh.sln"]


def test_upload_in_slin_is_stored_as_is(rec: Path) -> None:
    data = array("h", [1000, -1000] * 8000).tobytes()  # 1 s at 8 kHz
    stored = prompts.store_upload("menu", "en", data, rec, fmt="sln")
    assert stored.read_bytes() == data


@pytest.mark.parametrize(("seconds", "reason"), [(0.1, "at least 0.2 s"), (121, "under 120 s")])
def test_upload_of_wrong_length_is_refused(
    rec: Path, tmp_path: Path, seconds: float, reason: str
) -> None:
    wav = _tone(tmp_path / "bad.wav", seconds=seconds, rate=8000, channels=1)
    with pytest.raises(PromptError, match=rf"^prompt 'welcome' \(zh\): .*{reason}"):
        prompts.store_upload("welcome", "zh", wav, rec)
    assert not prompts.upload_path(rec, "welcome", "zh").exists()


def test_upload_sox_cannot_read_is_refused(rec: Path) -> None:
    junk = b"RIFF\x24\0\0\0WAVEjunk" + os.urandom(64)
    with pytest.raises(PromptError, match=r"^prompt 'welcome' \(zh\): sox failed: "):
        prompts.store_upload("welcome", "zh", junk, rec)
    assert list((rec / "uploads").iterdir()) == []


def test_missing_audio_is_an_error_not_silence(rec: Path) -> None:
    with pytest.raises(PromptMissing, match=r"^prompt 'welcome' \(zh\): no audio"):
        prompts.resolve("welcome", "zh", ZH.text, rec)
    with pytest.raises(PromptMissing, match=r"^prompt 'welcome' \(fr\): no upload and no TTS"):
        prompts.resolve("welcome", "fr", "Bonjour", rec)


def _slin_seconds(path: Path) -> float:
    size = path.stat().st_size
    assert size % 2 == 0
    return size / 16000


def _peak(path: Path) -> int:
    samples = array("h", path.read_bytes())
    if sys.byteorder == "big":
        samples.byteswap()
    return max(abs(s) for s in samples)


def _espeak_seconds(prompt: PromptText, wav: Path) -> float:
    voice = prompts.voice_for(prompt.language)
    subprocess.run(
        ["espeak-ng", "-b", "1", "-v", voice, "--stdin", "-w", str(wav)],
        input=prompts.normalize_text(prompt.text).encode(),
        check=True,
    )
    out = subprocess.run(["soxi", "-D", str(wav)], capture_output=True, text=True, check=True)
    return float(out.stdout)


def _tone(path: Path, *, seconds: float, rate: int, channels: int) -> bytes:
    subprocess.run(
        ["sox", "-n", "-r", str(rate), "-c", str(channels), "-b", "16", str(path),
         "synth", str(seconds), "sine", "440"],
        check=True,
    )  # fmt: skip
    return path.read_bytes()
