"""The ACD-against-app_queue benchmark's queue renders only when asked for, as configured."""

from __future__ import annotations

import pytest

from asterisk_conf import render_config
from asterisk_conf.render import BenchQueue, UnsafeConfigValue
from tests.unit.test_asterisk_render import context

pytestmark = pytest.mark.unit


def bench(**changes: object) -> BenchQueue:
    base: dict[str, object] = dict(number="12398", members=("1001", "1003"), timeout_s=8)
    base.update(changes)
    return BenchQueue(**base)  # type: ignore[arg-type]


def _section(text: str, name: str) -> str:
    return text.split(f"[{name}]\n")[1].split("\n[")[0]


def test_bench_queue_renders_only_when_set() -> None:
    plain = render_config(context())
    assert "hotline-bench" not in plain["queues.conf"]
    assert "hotline-bench" not in plain["extensions.conf"]


def test_bench_queue_has_the_members_and_the_fast_settings() -> None:
    files = render_config(context(bench_queue=bench()))
    queue = _section(files["queues.conf"], "hotline-bench")
    lines = {line.strip() for line in queue.splitlines()}
    assert {"strategy = leastrecent", "timeout = 8", "retry = 1", "wrapuptime = 0",
            "ringinuse = no", "announce-frequency = 0", "periodic-announce-frequency = 0",
            "member => PJSIP/1001", "member => PJSIP/1003"} <= lines  # fmt: skip
    inbound = _section(files["extensions.conf"], "hotline-inbound")
    assert "exten => 12398,1,NoOp(bench queue)" in inbound
    assert "Queue(hotline-bench,,,,300)" in inbound
    # The fallback queue is untouched.
    assert "retry = 2" in _section(files["queues.conf"], "hotline-fallback")


@pytest.mark.parametrize(
    "changes",
    [
        {"number": "12351"},  # the hotline number itself
        {"number": "1;x"},
        {"members": ()},
        {"members": ("1001,PJSIP/evil",)},
        {"strategy": "random\nmember => PJSIP/9"},
        {"retry_s": 0},
        {"timeout_s": 0},
        {"wrapup_s": -1},
    ],
)
def test_unsafe_bench_queues_are_refused(changes: dict[str, object]) -> None:
    with pytest.raises(UnsafeConfigValue):
        render_config(context(bench_queue=bench(**changes)))
