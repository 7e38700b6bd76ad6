"""Every Redis key and sorted-set member format the ACD uses, under one configurable prefix.

Layout (prefix `hotline:acd:` by default):

    agent:{agent_id}        hash   state, role, skills (JSON), idle_since, registered (1/0),
                                   call (current call id or ""), reason, state_since,
                                   misses (offers in a row that rang out)
    profiles                hash   agent id -> {"role", "skills"} JSON: every known seat, read
                                   in one HMGET when choosing among free seats
    avail:all               zset   seats free to ring now (available + registered), by idle_since
    avail:skill:{s}:{L}     zset   the same seats holding skill s at level >= L, by idle_since
    call:{call_id}          hash   queue, required (JSON), priority, language, enqueued_at,
                                   member, score, status (waiting/offered), agent, offered_at
    routing                 hash   call id -> the call's routing fields as JSON, read in one
                                   HMGET when choosing among waiting calls
    queue:{queue}           zset   waiting calls; score -priority, member `{enqueued_us}:{call_id}`
                                   so equal priorities sort by wait time, then call id, exactly
    queues                  set    every queue name that has had a call
    offer:{call_id}         list   the offered seat id, pushed by the assign script; the call's
                                   AGI thread blocks on it with BLPOP
    events                  stream offer / release / finish / abandon notices (capped)
    recent:{queue}:{kind}   list   the queue's last handle times / answered waits in seconds,
                                   newest first, capped (the estimated wait announced)

For Redis Cluster, use a hash-tagged prefix such as `{hotline:acd}:` so every key one script
touches lives in one slot.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_PREFIX = "hotline:acd:"
_GLOB = frozenset("*?[]\\^")
_ENQUEUED_DIGITS = 17  # microseconds since the epoch, zero-padded so text order is time order


def enqueued_us(enqueued_at: float) -> int:
    """Wait-order timestamps are kept to the microsecond, the resolution Redis stores."""
    return round(enqueued_at * 1_000_000)


@dataclass(frozen=True, slots=True)
class AcdKeys:
    prefix: str = DEFAULT_PREFIX

    def agent(self, agent_id: str) -> str:
        return f"{self.prefix}agent:{agent_id}"

    def profiles(self) -> str:
        return f"{self.prefix}profiles"

    def available(self) -> str:
        return f"{self.prefix}avail:all"

    def available_with(self, skill: str, level: int) -> str:
        """Free seats holding `skill` at `level` or above (a seat is in levels 1..its own)."""
        return f"{self.prefix}avail:skill:{skill}:{level}"

    def call(self, call_id: str) -> str:
        return f"{self.prefix}call:{call_id}"

    def queue(self, queue: str) -> str:
        return f"{self.prefix}queue:{queue}"

    def queues(self) -> str:
        return f"{self.prefix}queues"

    def routing(self) -> str:
        return f"{self.prefix}routing"

    def offer(self, call_id: str) -> str:
        return f"{self.prefix}offer:{call_id}"

    def events(self) -> str:
        return f"{self.prefix}events"

    def kept_callbacks(self) -> str:
        """Sorted set call id -> epoch until which a hung-up caller's place is kept."""
        return f"{self.prefix}kept_callbacks"

    def rules(self) -> str:
        """Hash queue -> rules JSON: the active flow's queue rules, shared by every process."""
        return f"{self.prefix}rules"

    def recent(self, queue: str, kind: str) -> str:
        return f"{self.prefix}recent:{queue}:{kind}"

    def everything(self) -> str:
        """A SCAN pattern matching every key under this prefix (tests, benchmarks)."""
        return "".join(f"\\{c}" if c in _GLOB else c for c in self.prefix) + "*"


def queue_member(enqueued_at_us: int, call_id: str) -> str:
    return f"{enqueued_at_us:0{_ENQUEUED_DIGITS}d}:{call_id}"


def queue_score(priority: int) -> int:
    # Sorted sets ascend, and higher priority is served first.
    return -priority
