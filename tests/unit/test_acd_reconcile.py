"""Which ACD calls the channel list proves gone (pure)."""

from __future__ import annotations

import pytest

from acd.reconcile import gone_calls

pytestmark = pytest.mark.unit


def test_a_call_without_a_channel_is_gone() -> None:
    known = {"1.1": 100.0, "1.2": 101.0}
    assert gone_calls(known, {"1.1"}, listed_at=200.0) == ["1.2"]


def test_a_call_newer_than_the_channel_list_is_kept() -> None:
    assert gone_calls({"1.3": 250.0}, set(), listed_at=200.0) == []


def test_nothing_is_gone_when_every_channel_is_live() -> None:
    assert gone_calls({"1.1": 1.0, "1.2": 2.0}, {"1.1", "1.2", "9.9"}, listed_at=5.0) == []
