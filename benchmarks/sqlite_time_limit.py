"""What a SQLite statement time limit costs a statement that runs beside a busy Python thread.

The web app stops a statement that runs past `HOTLINE_WEB_STATEMENT_TIMEOUT_MS`. On SQLite that
was a progress handler: SQLite calls back into Python every N virtual-machine steps, and each
call must take the GIL from whichever request thread holds it. Under load some thread always
does. The engine now uses `hotline.db.SqliteWatchdog`, a thread that interrupts an overdue
statement, so nothing calls into Python while the statement runs.

Method: one file database with 300,000 rows; a statement that counts the rows matching a
condition (about 7 ms on its own). It is timed `--runs` times by itself, then `--runs` times
while another thread of the same process runs a pure-Python loop (a request rendering its
page, say), under each of: no limit, the progress handler (as before, N = 10,000 and
100,000 and 1,000,000) and the watchdog (as now), through `hotline.db.make_engine` with a 5 s
limit where the engine sets it. Prints the median and the worst in ms.

Run: .venv/bin/python benchmarks/sqlite_time_limit.py [--runs 15]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from hotline.db import make_engine  # noqa: E402
from hotline.settings import load_settings  # noqa: E402

ROWS = 300_000
STATEMENT = text("SELECT count(*) FROM t WHERE x % 7 = 3")
LIMIT_MS = 5000


def _progress_handler(steps: int) -> Callable[[Engine], None]:
    """The limit as it was: a deadline the handler compares with the clock every N steps."""

    def install(engine: Engine) -> None:
        deadline = [float("inf")]

        def on_connect(dbapi_connection: Any, _record: object) -> None:
            dbapi_connection.set_progress_handler(
                lambda: 1 if time.monotonic() > deadline[0] else 0, steps
            )

        def before_execute(*_: object) -> None:
            deadline[0] = time.monotonic() + LIMIT_MS / 1000

        event.listen(engine, "connect", on_connect)
        event.listen(engine, "before_cursor_execute", before_execute)

    return install


@contextmanager
def busy_thread(busy: bool) -> Iterator[None]:
    stop = threading.Event()

    def burn() -> None:
        while not stop.is_set():
            sum(range(1000))

    thread = threading.Thread(target=burn, daemon=True)
    if busy:
        thread.start()
        time.sleep(0.05)
    try:
        yield
    finally:
        stop.set()
        if busy:
            thread.join()


def timed(engine: Engine, runs: int, busy: bool) -> list[float]:
    with engine.connect() as conn:
        conn.execute(STATEMENT).scalar_one()  # warm: the pages are in the cache
        took = []
        with busy_thread(busy):
            for _ in range(runs):
                started = time.perf_counter()
                conn.execute(STATEMENT).scalar_one()
                took.append((time.perf_counter() - started) * 1000)
    return took


def fill(directory: Path) -> str:
    url = f"sqlite:///{directory / 'limit.db'}"
    engine = make_engine(load_settings(var_dir=directory, database_url=url))
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        conn.execute(
            text(
                "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < :n) "
                "INSERT INTO t SELECT x FROM c"
            ),
            {"n": ROWS},
        )
    engine.dispose()
    return url


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args(argv)
    print(__doc__.split("\n\n")[2].replace("\n", " "))
    print(
        f"Machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        url = fill(Path(tmp))
        settings = load_settings(var_dir=Path(tmp), database_url=url)
        setups: list[tuple[str, Callable[[], Engine]]] = [
            ("no limit", lambda: make_engine(settings)),
            *(
                (f"progress handler, N={n:,}", _with(settings, _progress_handler(n)))
                for n in (10_000, 100_000, 1_000_000)
            ),
            ("watchdog (hotline.db)", lambda: make_engine(settings, statement_timeout_ms=LIMIT_MS)),
        ]
        print(f"{'limit':32} {'alone median / worst':>22} {'beside a busy thread':>24}")
        for name, build in setups:
            engine = build()
            try:
                alone = timed(engine, args.runs, busy=False)
                beside = timed(engine, args.runs, busy=True)
            finally:
                engine.dispose()
            print(
                f"{name:32} {statistics.median(alone):10.1f} / {max(alone):7.1f} ms"
                f" {statistics.median(beside):10.1f} / {max(beside):7.1f} ms"
            )
    return 0


def _with(settings: Any, install: Callable[[Engine], None]) -> Callable[[], Engine]:
    def build() -> Engine:
        engine = make_engine(settings)
        install(engine)
        return engine

    return build


if __name__ == "__main__":
    sys.exit(main())
