"""A waiting caller's priority: the queue's own, raised for urgent matters and repeat callers.

Pure. A worker who has called several times in a few days has usually not been helped yet:
serving them first is what the 12351 service standards ask for (急事急办, and no caller
left to call again and again).
"""

from __future__ import annotations

from dataclasses import dataclass

TRUE_WORDS = frozenset({"1", "true", "yes"})


@dataclass(frozen=True)
class PriorityRules:
    repeat_calls: int = 3  # this many earlier calls ...
    repeat_days: int = 7  # ... within these days make a repeat caller
    repeat_bonus: int = 1
    urgent_bonus: int = 2  # the flow set `urgent` (a key, or the speech node's category)

    def __post_init__(self) -> None:
        if self.repeat_calls < 1 or self.repeat_days < 1:
            raise ValueError("repeat_calls and repeat_days must be at least 1")


def caller_priority(
    base: int, *, earlier_calls: int, urgent: str | None, rules: PriorityRules
) -> int:
    priority = base
    if earlier_calls >= rules.repeat_calls:
        priority += rules.repeat_bonus
    if urgent is not None and urgent.lower() in TRUE_WORDS:
        priority += rules.urgent_bonus
    return priority
