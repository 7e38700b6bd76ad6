"""The one settings object: environment variables HOTLINE_* and an optional .env file."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hotline.errors import ConfigError

ENV_PREFIX = "HOTLINE_"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", extra="forbid", validate_default=True
    )

    var_dir: Path = Path("var")
    recordings_dir: Path = Path("recordings")
    database_url: str = ""
    redis_url: str = "redis://127.0.0.1:6379/0"
    timezone: str = "Asia/Shanghai"

    hotline_number: str = Field(default="12351", pattern=r"^[0-9]{3,15}$")
    sip_bind: str = "127.0.0.1"
    sip_port: int = Field(default=5060, ge=1, le=65535)
    rtp_port_start: int = Field(default=10000, ge=1024, le=65000)
    rtp_port_end: int = Field(default=10999, ge=1024, le=65535)
    ami_host: str = "127.0.0.1"
    ami_port: int = Field(default=5038, ge=1, le=65535)
    ami_user: str = Field(default="hotline", pattern=r"^[a-z][a-z0-9_-]{2,31}$")

    agi_host: str = "127.0.0.1"
    agi_port: int = Field(default=4573, ge=1, le=65535)
    agi_max_calls: int = Field(default=1000, ge=1, le=20000)
    agi_drain_seconds: float = Field(default=30.0, ge=0)

    # ACD: how long a seat rings before the call is offered again, and its wrap-up time.
    acd_ring_timeout_seconds: int = Field(default=20, ge=5, le=120)
    acd_wrap_up_seconds: float = Field(default=15.0, ge=0, le=600)
    acd_max_wait_seconds: float = Field(default=600.0, ge=10)
    # A seat is paused as 'no_answer' after this many offers in a row rang out.
    acd_no_answer_pause_after: int = Field(default=2, ge=1, le=10)

    # Speech: a Vosk model folder per language, e.g. {"zh": "/srv/vosk-model-small-cn-0.22"}.
    vosk_models: dict[str, Path] = Field(default_factory=dict)
    speech_language: str = Field(default="zh", pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
    speech_rules: Path | None = None  # None: the shipped hotline/speech/rules/default.yaml
    # Transcribe only the speech in a recording, skipping its quiet (hotline/speech/gate.py).
    speech_skip_silence: bool = False
    # `hotline worker`: recordings one Vosk recogniser decodes before a fresh one replaces it
    # (a warm one is much faster; hotline/speech/vosk.py). 0: a fresh one per recording.
    speech_recognizer_reuse: int = Field(default=200, ge=0)
    # `hotline worker`: transcription processes (None: one per core) at this nice level; a job
    # is retried with doubling delays, dead-lettered after the attempts, and taken over from a
    # dead worker once idle this long (keep it above the longest call's transcription).
    speech_workers: int | None = Field(default=None, ge=1, le=64)
    speech_worker_nice: int = Field(default=10, ge=0, le=19)
    speech_worker_attempts: int = Field(default=5, ge=1, le=50)
    speech_worker_retry_seconds: float = Field(default=5.0, gt=0)
    speech_worker_stale_seconds: float = Field(default=900.0, gt=0)

    # The order intake takes over a dead intake process's events after this long.
    intake_stale_seconds: float = Field(default=60.0, ge=0.5, le=3600)

    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8000, ge=1, le=65535)
    # Requests in flight per web process past which new ones get 503 (backoffice/overload.py).
    web_max_in_flight: int = Field(default=64, ge=1, le=10_000)
    # A web request's SQL statement running longer is stopped (503): a search whose client
    # gave up must not keep the database from the next requests. 0 = no limit.
    web_statement_timeout_ms: int = Field(default=5_000, ge=0, le=3_600_000)
    # SQLite: how often the web app merges the full-text indexes' segments and refreshes the
    # planner's statistics (hotline.db merge_text_indexes, refresh_statistics); the first
    # run comes at most 5 minutes after start. 0 = never.
    sqlite_analyze_interval_s: int = Field(default=86_400, ge=0, le=30 * 86_400)

    asterisk_mode: Literal["auto", "system", "sandbox"] = "auto"
    asterisk_sandbox_dir: Path = Path("/var/cache/hotline/asterisk-sid")
    # Several hotlines (a running demo and the test suite) can share one sandbox: each instance
    # has its own config, control socket, logs and spool inside it.
    asterisk_instance: str = Field(default="main", pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")
    asterisk_fallback: Literal["queue", "message"] = "queue"
    # host:port of the carrier gateway that takes outgoing calls (desk click-to-call); empty:
    # no outgoing calls.
    carrier_address: str = Field(default="", pattern=r"^$|^[A-Za-z0-9.-]{1,253}:[0-9]{1,5}$")

    # Lets tests and demos run the IVR as if it were another moment (after hours, a holiday).
    ivr_clock: datetime | None = None
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    ivr_flow: str = Field(default="default", pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")

    @field_validator("var_dir", "recordings_dir", "asterisk_sandbox_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @model_validator(mode="after")
    def _derived(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.var_dir / 'hotline.db'}"
        if self.rtp_port_end <= self.rtp_port_start:
            raise ValueError("rtp_port_end must be above rtp_port_start")
        return self

    @property
    def sqlite_path(self) -> Path | None:
        prefix = "sqlite:///"
        return (
            Path(self.database_url[len(prefix) :]) if self.database_url.startswith(prefix) else None
        )


def _unknown_env_keys() -> list[str]:
    known = {ENV_PREFIX + name.upper() for name in Settings.model_fields}
    return sorted(k for k in os.environ if k.startswith(ENV_PREFIX) and k not in known)


def load_settings(**overrides: object) -> Settings:
    """Build settings or raise ConfigError naming the variable to fix."""
    unknown = _unknown_env_keys()
    if unknown:
        raise ConfigError(f"unknown setting {unknown[0]}; see README 'Settings' for the known ones")
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc)) from None


def describe_validation_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or "settings"
    name = ENV_PREFIX + field.upper() if field in Settings.model_fields else field
    return f"bad setting {name}={first.get('input')!r}: {first['msg']}"
