"""The speech settings, with the Settings fields this feature proposes."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import Field

from hotline.settings import Settings
from hotline.speech.config import speech_config

pytestmark = pytest.mark.unit


class SpeechSettings(Settings):
    """Settings as they will be once the speech fields are added to hotline/settings.py."""

    vosk_models: dict[str, Path] = Field(default_factory=dict)
    speech_language: str = "zh"
    speech_rules: Path | None = None


def test_defaults_without_the_new_fields(tmp_path: Path) -> None:
    config = speech_config(Settings(var_dir=tmp_path))
    assert config.models_dir == tmp_path / "models"
    assert dict(config.models) == {}
    assert config.language == "zh"
    assert config.rules is None


def test_models_mapping_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOTLINE_VOSK_MODELS", '{"zh": "models/cn", "ko": "/srv/ko"}')
    monkeypatch.setenv("HOTLINE_SPEECH_LANGUAGE", "ko")
    monkeypatch.setenv("HOTLINE_SPEECH_RULES", "rules.yaml")
    config = speech_config(SpeechSettings(var_dir=tmp_path / "var"))
    assert dict(config.models) == {"zh": tmp_path / "models" / "cn", "ko": Path("/srv/ko")}
    assert config.language == "ko"
    assert config.rules == tmp_path / "rules.yaml"
