"""Wallboard alerts: a queue's service level below target, a caller waiting beyond it. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

ANSWER_TARGET_S = 15  # the 12351 standard: answered within 15 seconds
SERVICE_LEVEL_TARGET = 0.8  # share of callers answered within ANSWER_TARGET_S


@dataclass(frozen=True)
class Alert:
    kind: str  # "service_level" or "long_wait"
    queue: str
    value: float
    target: float


def alerts(
    queues: Sequence[Mapping[str, Any]],
    answer_target_s: int = ANSWER_TARGET_S,
    level_target: float = SERVICE_LEVEL_TARGET,
) -> list[Alert]:
    """The alerts for the queues of a snapshot (`hotline.callevents.figures.snapshot`)."""
    found: list[Alert] = []
    for q in queues:
        level = (q.get("service_level") or {}).get(str(answer_target_s))
        if level is not None and level < level_target:
            found.append(Alert("service_level", q["queue"], float(level), level_target))
        longest = float(q.get("longest_wait_s") or 0.0)
        if q.get("waiting") and longest > answer_target_s:
            found.append(Alert("long_wait", q["queue"], longest, float(answer_target_s)))
    return found
