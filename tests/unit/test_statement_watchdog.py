"""The watchdog under SQLite's statement limit and PostgreSQL's search guard: a stop (a
PostgreSQL cancel is a connection of its own, ms on a busy server) holds up only the
connection it stops, and that connection's next statement waits until the stop is done."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from hotline.db import _Watchdog

pytestmark = pytest.mark.unit


class HeldStop(_Watchdog):
    """A watchdog whose stops last until the test lets them go."""

    def __init__(self) -> None:
        super().__init__(0.005)
        self.stopping = threading.Event()
        self.release = threading.Event()
        self.stopped: list[Any] = []

    def _expired(self, key: int, connection: Any) -> None:
        self.stopped.append(connection)
        self.stopping.set()
        self.release.wait(10)


def in_thread(work: Any) -> threading.Event:
    done = threading.Event()

    def run() -> None:
        work()
        done.set()

    threading.Thread(target=run, daemon=True).start()
    return done


@pytest.fixture
def dog() -> Any:
    watchdog = HeldStop()
    yield watchdog
    watchdog.release.set()


def test_other_connections_start_and_finish_while_a_stop_is_under_way(dog: HeldStop) -> None:
    slow, other = object(), object()
    dog.started(slow, 0.0)
    assert dog.stopping.wait(5)
    done = in_thread(lambda: (dog.started(other, 10), dog.finished(other)))
    # The stop is still held: had `other` waited for it, it could not be done.
    assert done.wait(5)
    assert dog.stopped == [slow]


def test_the_stopped_connections_next_statement_waits_for_the_stop(dog: HeldStop) -> None:
    slow = object()
    dog.started(slow, 0.0)
    assert dog.stopping.wait(5)
    next_statement = in_thread(lambda: dog.started(slow, 10))
    assert not next_statement.wait(0.3)
    dog.release.set()
    assert next_statement.wait(5)
    dog.finished(slow)
    assert dog.stopped == [slow]  # its new deadline was not stopped


def test_the_stopped_statement_is_not_finished_before_its_stop(dog: HeldStop) -> None:
    slow = object()
    dog.started(slow, 0.0)
    assert dog.stopping.wait(5)
    finishing = in_thread(lambda: dog.finished(slow))
    assert not finishing.wait(0.3)
    dog.release.set()
    assert finishing.wait(5)
