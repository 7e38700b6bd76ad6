"""Speech errors; each message is one line that says what to do."""

from __future__ import annotations

from hotline.errors import ConfigError, HotlineError


class SpeechError(HotlineError):
    """Speech recognition or classification can't go on; the message says why."""


class ModelMissing(ConfigError):
    """No usable Vosk model for a language; the message names the setting to set."""


class ModelInstallFailed(SpeechError):
    """`hotline models install` could not fetch, verify or unpack a model."""


class AudioUnreadable(SpeechError):
    """A recording is empty, corrupt or in a format sox can't read."""


class RulesInvalid(ConfigError):
    """The classification rules file is wrong; the message names the rule."""


class EmptyAudio(AudioUnreadable):
    """A readable recording without a single sample (a seat that never sent audio)."""
