"""Speech keyword rules as edited on the admin page: every save is a new row (a version), and the
newest row is what the FastAGI server and the transcription worker classify with.

Why the database rather than a file and a reload signal: the FastAGI server and any number of
worker processes (possibly on other hosts) already share the database, a row is written
atomically, and the history of who changed which rule comes for free. Each process checks the
newest version id at most every REFRESH_S (one indexed query) and parses the text only when it
changed. With no saved version, the file of the `speech_rules` setting (or the shipped
default.yaml) applies, so a fresh install behaves as before.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, col, select

from hotline.logs import event
from hotline.speech.classify import RuleBook, load_rules, load_rules_file
from hotline.speech.errors import RulesInvalid

log = logging.getLogger(__name__)
REFRESH_S = 2.0
MAX_TEXT = 200_000


class SpeechRulesVersion(SQLModel, table=True):
    __tablename__ = "speech_rules_version"

    id: int | None = Field(default=None, primary_key=True)
    text: str = Field(max_length=MAX_TEXT)
    saved_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    saved_by: str = Field(default="", max_length=64)


def save_rules(engine: Engine, text: str, saved_by: str) -> SpeechRulesVersion:
    """Store `text` as the new rules; RulesInvalid (nothing stored) if it does not validate."""
    if len(text) > MAX_TEXT:
        raise RulesInvalid(f"rules: longer than {MAX_TEXT} characters")
    load_rules(text)
    row = SpeechRulesVersion(text=text, saved_by=saved_by[:64])
    with Session(engine) as session:
        session.add(row)
        session.commit()
        session.refresh(row)
    return row


def latest(engine: Engine) -> SpeechRulesVersion | None:
    with Session(engine) as session:
        query = select(SpeechRulesVersion).order_by(col(SpeechRulesVersion.id).desc()).limit(1)
        return session.exec(query).first()


def latest_id(engine: Engine) -> int | None:
    with Session(engine) as session:
        return session.exec(select(func.max(SpeechRulesVersion.id))).one()


def current_text(engine: Engine, fallback: Path | None) -> str:
    """The text the admin page starts from: the newest version, else the rules file."""
    row = latest(engine)
    if row is not None:
        return row.text
    from hotline.speech.classify import DEFAULT_RULES

    return (fallback or DEFAULT_RULES).read_text(encoding="utf-8")


class RulesSource:
    """The rules a running process classifies with, following the newest saved version."""

    def __init__(
        self,
        engine: Engine,
        fallback: RuleBook | Path | None = None,
        refresh_s: float = REFRESH_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._fallback = fallback if isinstance(fallback, RuleBook) else None
        self._fallback_path = fallback if isinstance(fallback, Path) else None
        self._refresh_s = refresh_s
        self._clock = clock
        self._lock = threading.Lock()
        self._version: int | None = None
        self._rules: RuleBook | None = None
        self._checked_at: float | None = None

    @property
    def version(self) -> int | None:
        return self._version

    def get(self) -> RuleBook:
        with self._lock:
            now = self._clock()
            if self._checked_at is None or now - self._checked_at >= self._refresh_s:
                self._checked_at = now
                self._refresh()
            if self._rules is None:
                self._rules = self._file_rules()
            return self._rules

    def _refresh(self) -> None:
        try:
            newest = latest_id(self._engine)
            if newest is None or newest == self._version:
                return
            row = latest(self._engine)
            if row is None or row.id is None:
                return
            self._rules = load_rules(row.text, source=f"speech rules version {row.id}")
            self._version = row.id
            event(log, "speech.rules_loaded", version=row.id)
        except RulesInvalid as exc:
            # Saved rules are validated first; keep the last good ones rather than fail calls.
            event(log, "speech.rules_invalid", level=logging.ERROR, error=str(exc))
        except Exception as exc:  # a database hiccup must not fail a call
            event(log, "speech.rules_unreadable", level=logging.WARNING, error=str(exc))

    def _file_rules(self) -> RuleBook:
        if self._fallback is not None:
            return self._fallback
        return load_rules_file(self._fallback_path)
