"""benchmarks/acd_invite.py runs end to end (2 repetitions a side) on the real Asterisk sandbox.

Only that it works and measures what it says: no timing is asserted here (figures belong in
the benchmark's own output). The benchmark empties the ACD keys of its Redis database, so it
gets a database of its own: BENCH_REDIS_TEST_URL (default db 11), never the suite's ACD one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from tests.conftest import need

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

ROOT = Path(__file__).resolve().parents[2]


def test_acd_invite_benchmark_runs_two_repetitions_a_side(tmp_path: Path) -> None:
    need(os.geteuid() == 0, "root (the Asterisk sandbox uses chroot and mount)")
    need(shutil.which("sipp") is not None, "SIPp (apt-get install sip-tester)")
    url = os.environ.get("BENCH_REDIS_TEST_URL", "redis://127.0.0.1:6379/11")
    try:
        redis.Redis.from_url(url).ping()
    except redis.RedisError as exc:
        need(False, f"Redis at {url} ({exc})")
    out = tmp_path / "results.json"
    cmd = [sys.executable, str(ROOT / "benchmarks" / "acd_invite.py"), "--reps", "2",
           "--redis-url", url, "--work-dir", str(tmp_path / "work"), "--json", str(out),
           "--instance", f"acdsmoke{os.getpid()}", "--rtp-start", "32600"]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "ratio app_queue / hotline" in proc.stdout
    assert "method:" in proc.stdout
    result = json.loads(out.read_text())
    assert result["errors"] == []
    reps = result["run"]["reps"]
    assert sorted(r["side"] for r in reps) == ["app_queue"] * 2 + ["hotline"] * 2
    for rep in reps:
        # The INVITE reached the seat's phone after the seat was made available, and Asterisk
        # dialled it in between (both stamps from this host's clock).
        assert rep["t0"] < rep["t_invite"], rep
        assert rep["t0"] < rep["t_dial_begin"] <= rep["t_invite"] + 0.005, rep
    table = result["table"]["t0 -> INVITE at the seat's phone (ms)"]
    assert table["hotline"]["n"] == 2 and table["app_queue"]["n"] == 2
