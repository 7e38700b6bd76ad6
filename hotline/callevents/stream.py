"""The call-event stream on Redis: publish (spooling to disk while Redis is down) and consume.

Consumers read through a consumer group, so events wait in the stream while a consumer is
down and several workers share the load. Delivery is at least once: a handler must be
idempotent per call id. A failed entry stays pending and is retried with backoff; after
`max_attempts` deliveries it moves to the group's dead-letter stream with the error, and is
acknowledged, so one bad entry never stops the consumer. Entries a dead consumer held are
claimed by the others once they have been idle for the retry delay.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import redis

from hotline.callevents.keys import CallEventKeys
from hotline.callevents.model import CallEvent, MalformedEvent, decode, encode
from hotline.logs import event

log = logging.getLogger("hotline.callevents")

# Far above a day of a provincial hotline's events; the cap only bounds a forgotten stream.
DEFAULT_MAX_LEN = 1_000_000
SPOOL_NAME = "call-events.spool.jsonl"

Handler = Callable[[CallEvent], None]


class GiveUp(Exception):
    """Raised by a handler when retrying can't help (a setting is missing): dead-letter it now."""


class CallEventLog:
    """Appends call events; while Redis is down they go to a spool file and are sent later."""

    def __init__(
        self,
        client: redis.Redis,
        spool_dir: Path,
        keys: CallEventKeys | None = None,
        max_len: int = DEFAULT_MAX_LEN,
    ) -> None:
        self.client = client
        self.keys = keys or CallEventKeys()
        self.max_len = max_len
        self.spool = spool_dir / SPOOL_NAME
        self._lock = threading.Lock()
        # Known rather than looked up on every publish: only this log writes its spool.
        self._spooled = self.spool.exists()

    def publish(self, ev: CallEvent) -> str | None:
        """The entry id, or None when the event was spooled (Redis down)."""
        fields = encode(ev)
        with self._lock:
            try:
                self._drain_spool()
                return self._add(fields)
            except redis.RedisError as exc:
                self._to_spool(fields)
                event(log, "callevents.spooled", level=logging.WARNING,
                      call_id=ev.call_id, type=ev.type.value, error=str(exc))  # fmt: skip
                return None

    def flush_spool(self) -> int:
        """Send what was spooled; the number of events sent (startup, or after an outage)."""
        with self._lock:
            return self._drain_spool()

    def _add(self, fields: dict[str, str]) -> str:
        stream = self.keys.stream()
        entry = self.client.xadd(stream, fields, maxlen=self.max_len, approximate=True)  # type: ignore[arg-type]
        return str(entry)

    def _to_spool(self, fields: dict[str, str]) -> None:
        self.spool.parent.mkdir(parents=True, exist_ok=True)
        with self.spool.open("a", encoding="utf-8") as out:
            out.write(json.dumps(fields, ensure_ascii=False) + "\n")
            out.flush()
            os.fsync(out.fileno())
        self._spooled = True

    def _drain_spool(self) -> int:
        if not self._spooled:
            return 0
        lines = self.spool.read_text(encoding="utf-8").splitlines()
        sent = 0
        for line in lines:
            if line.strip():
                self._add(json.loads(line))  # raises while Redis is still down: spool kept
                sent += 1
        self.spool.unlink()
        self._spooled = False
        event(log, "callevents.spool_sent", events=sent)
        return sent


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_delay_s: float = 2.0
    max_delay_s: float = 300.0
    # Another consumer's entry is taken over only when it has been idle this long: longer than
    # any handler runs, so a slow job is not done twice, and a dead consumer's jobs still finish.
    stale_after_s: float = 60.0

    def delay_s(self, deliveries: int) -> float:
        """Wait before delivery number `deliveries + 1`: doubling from the base."""
        return float(min(self.max_delay_s, self.base_delay_s * 2 ** max(0, deliveries - 1)))


@dataclass(frozen=True)
class DeadLetter:
    entry_id: str
    fields: dict[str, str]
    error: str
    attempts: int


class StreamConsumer:
    """One consumer of a consumer group on the call-event stream."""

    def __init__(
        self,
        client: redis.Redis,
        group: str,
        consumer: str,
        keys: CallEventKeys | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.client = client
        self.group = group
        self.consumer = consumer
        self.keys = keys or CallEventKeys()
        self.retry = retry or RetryPolicy()

    def ensure_group(self) -> None:
        """Create the group at the start of the stream: a new consumer sees every kept event."""
        try:
            self.client.xgroup_create(self.keys.stream(), self.group, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def leave(self) -> None:
        """Drop this consumer from the group if it holds nothing (a clean stop): a restarted
        process has a new name, and the group should not collect the old ones."""
        try:
            if self.client.xpending_range(self.keys.stream(), self.group, min="-", max="+",
                                          count=1, consumername=self.consumer):  # fmt: skip
                return
            self.client.xgroup_delconsumer(self.keys.stream(), self.group, self.consumer)
        except redis.RedisError:
            pass  # Redis is down: the name stays, harmless

    def run(self, handle: Handler, stop: threading.Event, block_ms: int = 1000) -> None:
        self.ensure_group()
        while not stop.is_set():
            self.step(handle, block_ms)

    def step(self, handle: Handler, block_ms: int = 1000, count: int = 16) -> int:
        """Retry what is due, then read new entries (blocking up to `block_ms`); entries handled."""
        done = self._retry_due(handle)
        reply = self.client.xreadgroup(
            self.group, self.consumer, {self.keys.stream(): ">"}, count=count, block=block_ms
        )
        for _stream, entries in cast(list[Any], reply) or []:
            for entry_id, fields in entries:
                done += self._deliver(handle, entry_id, fields, attempts=1)
        return done

    def _retry_due(self, handle: Handler) -> int:
        pending = self.client.xpending_range(
            self.keys.stream(), self.group, min="-", max="+", count=32
        )
        done = 0
        for item in cast(list[dict[str, Any]], pending):
            deliveries = int(item["times_delivered"])
            idle_ms = int(item["time_since_delivered"])
            mine = item["consumer"] == self.consumer
            wait_s = self.retry.delay_s(deliveries) if mine else self.retry.stale_after_s
            if idle_ms < wait_s * 1000:
                continue
            claimed = self.client.xclaim(
                self.keys.stream(), self.group, self.consumer, idle_ms, [item["message_id"]]
            )
            for entry_id, fields in cast(list[Any], claimed):
                if fields is not None:  # trimmed away while pending
                    done += self._deliver(handle, entry_id, fields, attempts=deliveries + 1)
        return done

    def _deliver(
        self, handle: Handler, entry_id: str, fields: dict[str, str], attempts: int
    ) -> int:
        try:
            handle(decode(fields))
        except (MalformedEvent, GiveUp) as exc:
            self._bury(entry_id, fields, str(exc), attempts)  # retrying can't mend it
            return 0
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            event(log, "callevents.handler_failed", level=logging.WARNING, group=self.group,
                  entry=entry_id, attempt=attempts, error=error)  # fmt: skip
            if attempts >= self.retry.max_attempts:
                self._bury(entry_id, fields, error, attempts)
            return 0
        self.client.xack(self.keys.stream(), self.group, entry_id)
        return 1

    def _bury(self, entry_id: str, fields: dict[str, str], error: str, attempts: int) -> None:
        dead = {"entry": entry_id, "error": error[:1000], "attempts": str(attempts),
                "fields": json.dumps(fields, ensure_ascii=False)}  # fmt: skip
        pipe = self.client.pipeline()
        pipe.xadd(self.keys.dead_letters(self.group), dead, maxlen=100_000, approximate=True)  # type: ignore[arg-type]
        pipe.xack(self.keys.stream(), self.group, entry_id)
        pipe.execute()
        event(log, "callevents.dead_letter", level=logging.ERROR, group=self.group,
              entry=entry_id, attempts=attempts, error=error)  # fmt: skip


def dead_letters(
    client: redis.Redis, group: str, keys: CallEventKeys | None = None, count: int = 100
) -> list[DeadLetter]:
    """The newest dead letters of a group, for the back office to show."""
    keys = keys or CallEventKeys()
    rows = cast(Sequence[Any], client.xrevrange(keys.dead_letters(group), count=count))
    return [
        DeadLetter(
            entry_id=str(fields.get("entry", "")),
            fields=json.loads(fields.get("fields", "{}")),
            error=str(fields.get("error", "")),
            attempts=int(fields.get("attempts", "0")),
        )
        for _id, fields in rows
    ]


def read_all(client: redis.Redis, keys: CallEventKeys | None = None) -> list[CallEvent]:
    """Every kept event in order (tests, `hotline events`)."""
    keys = keys or CallEventKeys()
    rows = cast(Sequence[Any], client.xrange(keys.stream()))
    return [decode(fields) for _id, fields in rows]


def consumer_name(*parts: str) -> str:
    """Host, role parts and pid: a restarted process is a new consumer, which takes the dead
    one's pending entries over instead of inheriting them unseen."""
    return "-".join([socket.gethostname(), *parts, str(os.getpid())])
