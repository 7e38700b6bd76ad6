"""Calls the back office asks Asterisk to place: a supervisor's listen-in and click-to-call.

Both ring the staff member's own softphone first (AMI Originate), so nobody is connected to
anything before they picked up. The field sets are pure and tested; `Originator` sends them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from enum import StrEnum

from asterisk.ami import AMIClient

from hotline.pbx import ami

SEAT = re.compile(r"^[0-9]{3,8}$")
# What a callback may dial: digits with an optional leading '+', as the IVR stores callers.
DIALLABLE = re.compile(r"^\+?[0-9]{3,20}$")
CALLBACK_CONTEXT = "hotline-callback"
RING_TIMEOUT_MS = 30_000


class SpyMode(StrEnum):
    """ChanSpy options: q no beep or name, E end with the spied call; w whisper, B barge."""

    LISTEN = "listen"
    WHISPER = "whisper"
    BARGE = "barge"


_SPY_OPTIONS = {SpyMode.LISTEN: "qE", SpyMode.WHISPER: "qEw", SpyMode.BARGE: "qEB"}


class BadTarget(ValueError):
    """A seat or number that must never reach Asterisk as it is."""


def _seat(value: str, what: str) -> str:
    if not SEAT.match(value):
        raise BadTarget(f"{what} {value!r} is not a seat (3 to 8 digits)")
    return value


def spy_fields(supervisor: str, seat: str, mode: SpyMode) -> dict[str, str]:
    """Ring the supervisor's phone; when answered, ChanSpy on the seat's current call."""
    _seat(supervisor, "supervisor phone")
    _seat(seat, "seat")
    return {
        "Channel": f"PJSIP/{supervisor}",
        "Application": "ChanSpy",
        # The trailing '-' makes the prefix one seat's channels only (1001-..., not 10010-...).
        "Data": f"PJSIP/{seat}-,{_SPY_OPTIONS[mode]}",
        "CallerID": f"{mode.value} {seat} <{seat}>",
        "Timeout": str(RING_TIMEOUT_MS),
        "Async": "true",
    }


def callback_fields(agent: str, number: str, hotline_number: str) -> dict[str, str]:
    """Ring the agent's phone; when answered, the callback context dials the caller."""
    _seat(agent, "agent phone")
    if not DIALLABLE.match(number):
        raise BadTarget(f"number {number!r} can't be dialled (digits and a leading + only)")
    return {
        "Channel": f"PJSIP/{agent}",
        "Context": CALLBACK_CONTEXT,
        "Exten": number.lstrip("+"),
        "Priority": "1",
        "CallerID": f"{hotline_number} <{hotline_number}>",
        "Timeout": str(RING_TIMEOUT_MS),
        "Async": "true",
    }


Session = Callable[[], AbstractContextManager[AMIClient]]


@dataclass
class Originator:
    """Sends Originate through one short AMI session per request (a click, not a stream)."""

    session: Session

    def listen_in(self, supervisor: str, seat: str, mode: SpyMode) -> None:
        self._originate(spy_fields(supervisor, seat, mode))

    def call_back(self, agent: str, number: str, hotline_number: str) -> None:
        self._originate(callback_fields(agent, number, hotline_number))

    def _originate(self, fields: dict[str, str]) -> None:
        with self.session() as client:
            ami.send(client, ami.ORIGINATE, **fields)
