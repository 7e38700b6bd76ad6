"""CPU per back-office API request, one at a time, without HTTP: where a request's time goes.

Drives the real app (`backoffice.app.create_app`) with raw ASGI calls on uvloop in this
process, against a database that `benchmarks/backoffice.py` generated (its cache under
/var/tmp/hotline-bench/backoffice), with the same scenarios and fixtures. For each request
kind it prints the median and p90 of CPU time (`time.process_time`, this process: the app's
Python and, on SQLite, the database's C code) and of wall time. `--profile KIND` also prints a
pyinstrument call tree of that kind's requests.

Run (from the checkout, after the load benchmark has generated its databases):
    .venv/bin/python benchmarks/backoffice_profile.py [--backend sqlite|postgresql]
        [--scenarios list,detail,search,list-handler] [--requests 400]
        [--profile list-first [--flat]] [--inline]

`--inline` runs FastAPI's thread-pool calls in line, so the call tree sees them (and the
difference shows what the trips cost). pyinstrument comes with the `bench` extra.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import uvloop

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _load_benchmark() -> Any:
    # benchmarks/backoffice.py shares its name with the package: load it by path.
    spec = importlib.util.spec_from_file_location("bench_load", ROOT / "benchmarks/backoffice.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_load"] = module
    spec.loader.exec_module(module)
    return module


async def call(app: Any, path: str, token: str) -> tuple[int, bytes]:
    """One GET through the ASGI app, as uvicorn would make it."""
    raw_path, _, query = path.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": raw_path,
        "raw_path": raw_path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"bench"), (b"authorization", f"Bearer {token}".encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    status = 0
    body = bytearray()

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            body.extend(message.get("body", b""))

    await app(scope, receive, send)
    return status, bytes(body)


async def measure(
    app: Any,
    scenario: Any,
    token: str,
    requests: int,
    profile_kind: str | None,
    flat: bool = False,
) -> dict[str, list[tuple[float, float]]]:
    times: dict[str, list[tuple[float, float]]] = {}
    profiler = None
    if profile_kind:
        from pyinstrument import Profiler

        profiler = Profiler(async_mode="disabled", interval=0.0002)
    for _ in range(requests):
        request = scenario.next()
        timed = profiler is not None and request.kind == profile_kind
        if timed:
            profiler.start()
        cpu, wall = time.process_time(), time.perf_counter()
        status, body = await call(app, request.path, token)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        if timed:
            profiler.stop()
        if status != 200:
            raise SystemExit(f"{request.path}: HTTP {status}: {body[:300]!r}")
        scenario.done(request, body)
        times.setdefault(request.kind, []).append((cpu * 1000, wall * 1000))
    if profiler is not None:
        print(profiler.output_text(unicode=True, color=False, flat=flat))
    return times


def report(name: str, times: dict[str, list[tuple[float, float]]]) -> None:
    for kind, pairs in sorted(times.items()):
        cpu = sorted(p[0] for p in pairs)
        wall = sorted(p[1] for p in pairs)
        p90 = max(0, int(len(cpu) * 0.9) - 1)
        print(
            f"{name:13} {kind:15} n={len(pairs):4}  CPU ms median {statistics.median(cpu):6.2f}"
            f" p90 {cpu[p90]:6.2f}   wall ms median {statistics.median(wall):6.2f}"
            f" p90 {wall[p90]:6.2f}"
        )


def _run_sync_inline() -> None:
    import fastapi.dependencies.utils
    import fastapi.routing

    import backoffice.api.deps

    async def inline(func: Any, *args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    fastapi.routing.run_in_threadpool = inline  # type: ignore[assignment]
    fastapi.dependencies.utils.run_in_threadpool = inline  # type: ignore[assignment]
    backoffice.api.deps.run_in_threadpool = inline  # type: ignore[assignment]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", default="sqlite", choices=("sqlite", "postgresql"))
    parser.add_argument("--scenarios", default="list,detail,search,list-handler")
    parser.add_argument("--requests", type=int, default=400, help="per scenario")
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--profile", default=None, help="a request kind, e.g. list-first")
    parser.add_argument("--flat", action="store_true", help="--profile: functions by own time")
    parser.add_argument(
        "--inline",
        action="store_true",
        help="run FastAPI's thread-pool calls inline (what the hops cost; call trees see them)",
    )
    args = parser.parse_args(argv)
    load = _load_benchmark()
    tgt = load.target(args.backend, args.orders)
    if load.cached(tgt, args.orders) is None:
        raise SystemExit(f"no generated database: run benchmarks/backoffice.py first ({tgt.url})")
    os.environ["HOTLINE_DATABASE_URL"] = tgt.url
    os.environ["HOTLINE_VAR_DIR"] = str(load.WORK_DIR / "var")
    from backoffice.app import create_app_from_environment

    if args.inline:
        _run_sync_inline()

    rng = random.Random(7)
    fx = load.fixtures(tgt.url, rng)
    tokens = load.issue_tokens(tgt.url, ["supervisor", "handler"])
    print(
        f"Method: {args.requests} requests per scenario, one at a time, raw ASGI calls into the"
        f" app on uvloop in one process ({args.backend}, {args.orders:,} orders); the first"
        " 10% are a warm-up and not counted. CPU is this process's."
    )

    async def run() -> None:
        app = create_app_from_environment()
        for name in [s for s in args.scenarios.split(",") if s]:
            scenario = load.SCENARIOS[name](fx, rng)
            token = tokens[scenario.user]
            await measure(app, scenario, token, max(1, args.requests // 10), None)
            times = await measure(app, scenario, token, args.requests, args.profile, args.flat)
            report(name, times)

    uvloop.run(run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
