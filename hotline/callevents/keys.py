"""Every Redis key the call-event stream and the live figures use, under one prefix.

calls:events                 stream   one entry per call event (see model.py)
calls:dead:{group}           stream   entries a consumer group gave up on, with the error
figures:{yyyy-mm-dd}:{queue} hash     today's counters per queue (local day)
figures:queues:{yyyy-mm-dd}  set      the queues that have counters that day
calls:live:{call_id}         string   JSON of a call between the IVR and its end: caller,
                                      IVR path, flow variables, language (screen pop)
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_PREFIX = "hotline:"


@dataclass(frozen=True, slots=True)
class CallEventKeys:
    prefix: str = DEFAULT_PREFIX

    def stream(self) -> str:
        return f"{self.prefix}calls:events"

    def dead_letters(self, group: str) -> str:
        return f"{self.prefix}calls:dead:{group}"

    def figures(self, day: str, queue: str) -> str:
        return f"{self.prefix}figures:{day}:{queue}"

    def figure_queues(self, day: str) -> str:
        return f"{self.prefix}figures:queues:{day}"

    def live_call(self, call_id: str) -> str:
        return f"{self.prefix}calls:live:{call_id}"
