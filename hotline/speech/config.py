"""What the speech package reads from the settings: models per language, language, rules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from pydantic import TypeAdapter, ValidationError

from hotline.errors import ConfigError
from hotline.settings import Settings

MODELS_SETTING = "HOTLINE_VOSK_MODELS"
DEFAULT_LANGUAGE = "zh"
MODELS_SUBDIR = "models"

_MODELS = TypeAdapter(dict[str, Path])
_LANGUAGE = TypeAdapter(str)
_RULES = TypeAdapter(Path | None)


@dataclass(frozen=True)
class SpeechConfig:
    """Where the models are and which language a call is in when nobody says."""

    models_dir: Path
    models: Mapping[str, Path] = field(default_factory=lambda: MappingProxyType({}))
    language: str = DEFAULT_LANGUAGE
    rules: Path | None = None
    # Decode only the speech in a recording (hotline.speech.gate), not the quiet around it.
    skip_silence: bool = False
    # Recordings one recogniser decodes in the worker before it is replaced (0: one each).
    recognizer_reuse: int = 0


def models_setting_example(language: str, path: str = "/path/to/the/model") -> str:
    """How to point HOTLINE_VOSK_MODELS at a model for `language`, for one-line errors."""
    return f'{MODELS_SETTING}=\'{{"{language}": "{path}"}}\''


def speech_config(settings: Settings) -> SpeechConfig:
    """The speech part of the settings (HOTLINE_VOSK_MODELS, _SPEECH_LANGUAGE, _SPEECH_RULES)."""
    try:
        models = _MODELS.validate_python(settings.vosk_models)
        language = _LANGUAGE.validate_python(settings.speech_language)
        rules = _RULES.validate_python(settings.speech_rules)
    except ValidationError as exc:
        raise ConfigError(f"bad speech setting: {exc.errors()[0]['msg']}") from None
    return SpeechConfig(
        models_dir=settings.var_dir / MODELS_SUBDIR,
        models=MappingProxyType({lang: _absolute(path) for lang, path in models.items()}),
        language=language,
        rules=_absolute(rules) if rules is not None else None,
        skip_silence=settings.speech_skip_silence,
        recognizer_reuse=settings.speech_recognizer_reuse,
    )


def _absolute(path: Path) -> Path:
    # As the other path settings: relative to where hotline was started, fixed once.
    return path.expanduser().resolve()
