"""A call's transcript and topic, kept by call id whether or not its work order exists yet."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field

from backoffice.models.base import BackofficeModel, UTCDateTime, utcnow

MAX_TRANSCRIPT = 20_000


class CallTranscript(BackofficeModel, table=True):
    """Written by the transcription worker; one row per call, overwritten on re-delivery."""

    __tablename__ = "call_transcript"

    id: int | None = Field(default=None, primary_key=True)
    call_id: str = Field(max_length=128, unique=True)
    language: str = Field(default="", max_length=16)
    # [{"speaker", "start", "end", "text", "confidence"}], already redacted.
    segments: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    text: str = Field(default="", max_length=MAX_TRANSCRIPT, sa_type=Text)
    duration_s: float = 0.0
    category: str | None = Field(default=None, max_length=32)
    skills: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    matched: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    confidence: float = 0.0
    model: str = Field(default="", max_length=255)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
