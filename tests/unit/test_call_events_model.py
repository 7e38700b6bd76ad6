"""Call events encode to flat stream fields and back; facts summarise a call for consumers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hotline.callevents.model import (
    CallEvent,
    CallEventType,
    CallFacts,
    MalformedEvent,
    decode,
    encode,
)
from hotline.callevents.stream import RetryPolicy

pytestmark = pytest.mark.unit

AT = datetime(2026, 12, 2, 3, 4, 5, tzinfo=UTC)


def test_an_event_survives_the_round_trip_with_chinese_text() -> None:
    ev = CallEvent(CallEventType.ENDED, "1795457417.12", AT, {"summary": "老板拖欠工资", "n": 2})
    fields = encode(ev)
    assert all(isinstance(v, str) for v in fields.values())
    assert decode(fields) == ev


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"type": "exploded", "call_id": "1", "at": AT.isoformat(), "data": "{}"},
        {"type": "ended", "call_id": "1", "at": "yesterday", "data": "{}"},
        {"type": "ended", "call_id": "1", "at": AT.isoformat(), "data": "[1, 2]"},
        {"type": "ended", "call_id": "1", "at": AT.isoformat(), "data": "{not json"},
        {"type": "ended", "call_id": "", "at": AT.isoformat(), "data": "{}"},
        {"type": "ended", "call_id": "1", "at": "2026-12-02T03:04:05", "data": "{}"},
    ],
)
def test_what_is_not_a_call_event_is_refused_with_a_reason(fields: dict[str, str]) -> None:
    with pytest.raises(MalformedEvent):
        decode(fields)


def test_facts_of_an_answered_call() -> None:
    facts = CallFacts(caller="13800001234", started_at=1000.0, queue="wage_arrears",
                      queued_at=1010.0, agent="1003", answered_at=1022.5)  # fmt: skip
    data = facts.as_data(1100.0, "done", [{"node": "welcome"}])
    assert data["answered"] is True and data["abandoned"] is False
    assert data["wait_s"] == 12.5 and data["talk_s"] == 77.5
    assert data["ivr_path"] == [{"node": "welcome"}]
    assert data["started_at"] == "1970-01-01T00:16:40+00:00"


def test_facts_of_a_caller_who_never_reached_a_queue() -> None:
    data = CallFacts(started_at=1000.0).as_data(1030.0, "hangup", [])
    assert data["wait_s"] is None and data["talk_s"] is None and data["answered"] is False


def test_a_caller_still_waiting_has_waited_until_the_end() -> None:
    assert CallFacts(queued_at=100.0).wait_s(160.0) == 60.0


def test_retry_delay_doubles_up_to_the_cap() -> None:
    policy = RetryPolicy(base_delay_s=1.0, max_delay_s=5.0)
    assert [policy.delay_s(n) for n in (1, 2, 3, 4, 5)] == [1.0, 2.0, 4.0, 5.0, 5.0]
