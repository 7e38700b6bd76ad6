"""Priority of a waiting caller: the queue's own, urgent matters and repeat callers (pure)."""

from __future__ import annotations

import pytest

from acd.priority import PriorityRules, caller_priority

pytestmark = pytest.mark.unit

RULES = PriorityRules(repeat_calls=3, repeat_days=7, repeat_bonus=1, urgent_bonus=2)


@pytest.mark.parametrize(
    "base,earlier,urgent,expected",
    [
        (0, 0, None, 0),
        (0, 2, None, 0),  # twice before: not yet a repeat caller
        (0, 3, None, 1),
        (1, 5, "1", 4),
        (0, 0, "yes", 2),
        (0, 0, "no", 0),
        (0, 0, "garbage", 0),
    ],
)
def test_priority(base: int, earlier: int, urgent: str | None, expected: int) -> None:
    assert caller_priority(base, earlier_calls=earlier, urgent=urgent, rules=RULES) == expected


def test_rules_refuse_nonsense() -> None:
    with pytest.raises(ValueError):
        PriorityRules(repeat_calls=0)
