"""Seat available -> INVITE at that seat's phone: Hotline's ACD against Asterisk's app_queue.

One Asterisk, one SIPp softphone for one seat, one SIPp caller at a time. Each repetition
puts a caller in a queue while the seat is paused, waits a random 1-2 s, then makes the seat
available at t0 and takes t1 = the moment the seat's SIPp received the INVITE (SIPp's own
message trace, gettimeofday). Both clocks are this host's wall clock.

- hotline: the caller dials the hotline number; the IVR (a separate `hotline agi` process)
  runs a one-node flow that hands the call to the ACD queue (ivr/acd_queue.py: enqueue, hold
  music, BLPOP on the call's offer list). t0: `SeatDesk.ready(seat)`, what `hotline agent ready`
  runs (Lua state change, then try_match_agent + the Lua assignment pushing the offer).
- app_queue: the caller dials the benchmark number into the queue `hotline-bench`
  (asterisk_conf BenchQueue: the same seats as members, tuned to be as fast as app_queue
  gets). t0: AMI `QueuePause Paused=false` for the seat.

The two sides alternate repetition by repetition, so both see the same machine load.

Run (as root, from the checkout): .venv/bin/python benchmarks/acd_invite.py
    [--reps 50] [--redis-url URL] [--work-dir DIR] [--instance NAME] [--json FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

# Runs as a plain script from a checkout: make the project importable without installing.
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from acd.desk import SeatDesk  # noqa: E402
from acd.model import AgentState  # noqa: E402
from acd.store import AcdStore  # noqa: E402
from asterisk_conf.render import BenchQueue  # noqa: E402
from hotline import bootstrap  # noqa: E402
from hotline.pbx import ami  # noqa: E402
from hotline.pbx.runner import Pbx  # noqa: E402
from hotline.settings import Settings, load_settings  # noqa: E402
from hotline.sip.caller import free_port  # noqa: E402
from hotline.sip.scenario import CallerScript, caller_scenario  # noqa: E402
from hotline.sip.seat import SeatPhone, answering_scenario, registration_scenario  # noqa: E402
from ivr.publishing import publish_flow  # noqa: E402

BENCH_NUMBER = "12398"
BENCH_QUEUE = "hotline-bench"
FLOW_ID = "acdinvite"
SIDES = ("hotline", "app_queue")
RING_TIMEOUT_S = 8  # the ACD's ring timeout and app_queue's `timeout`, the same
WRAP_UP_S = 1.0
APP_QUEUE_STRATEGY = "leastrecent"
APP_QUEUE_RETRY_S = 1  # the smallest app_queue takes
APP_QUEUE_WRAPUP_S = 0
APP_QUEUE = {"strategy": APP_QUEUE_STRATEGY, "retry_s": APP_QUEUE_RETRY_S,
             "wrapup_s": APP_QUEUE_WRAPUP_S}  # fmt: skip
DWELL_S = (1.0, 2.0)  # the caller waits this long (uniform) before the seat becomes available

FLOW_YAML = f"""\
id: {FLOW_ID}
version: 1
description: benchmarks/acd_invite.py - the caller goes straight into the ACD queue
languages: [zh]
default_language: zh
timezone: Asia/Shanghai
start: queue
operator: queue
prompts: {{}}
nodes:
  queue:
    type: queue
    params: {{queue: wage_arrears, skills: [wage_arrears], priority: 0}}
    on: {{answered: done, timeout: done, hangup: done}}
  done:
    type: hangup
    result: completed
"""


# ---------------------------------------------------------------------------------- results
@dataclass
class Rep:
    side: str
    index: int
    dwell_s: float
    t0: float = 0.0
    t_action_done: float = 0.0  # the ready() / QueuePause call returned
    t_dial_begin: float | None = None  # Asterisk's DialBegin event (its own Timestamp)
    t_invite: float | None = None  # the seat's SIPp received the INVITE
    error: str = ""
    seat_before: str = ""  # the ACD's view of the seat just before t0

    @property
    def latency_ms(self) -> float | None:
        return None if self.t_invite is None else (self.t_invite - self.t0) * 1000


@dataclass
class Run:
    machine: dict[str, str]
    settings: dict[str, Any]
    reps: list[Rep] = field(default_factory=list)
    load_before: str = ""
    load_after: str = ""
    busy_pct: float = 0.0  # whole machine during the run, % of all cores
    ami_drops: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------- AMI events
class AmiEvents:
    """Every AMI event with its arrival time; waiters look for one after a given index.

    asterisk-ami's reader thread ends for good on a socket error (seen here now and then on a
    loaded machine), so the client is replaced whenever it stops and an action is retried once.
    """

    def __init__(self, connect: Callable[[], Any]) -> None:
        self.connect = connect
        self.cond = threading.Condition()
        self.seen: list[tuple[float, str, dict[str, str]]] = []
        self.drops: list[str] = []
        self.client: Any = None
        self._closing = False
        self._open()

    def _open(self) -> None:
        client = self.connect()
        client.add_event_listener(self._on_event)
        client.add_listener(on_disconnect=self._on_dropped)
        self.client = client

    def _on_dropped(self, source: Any, error: Exception | None = None, **_: Any) -> None:
        # The reader ends without marking the client finished: mark it, so ensure() sees it.
        source.finished.set()
        if not self._closing:
            self.drops.append(f"{time.strftime('%H:%M:%S')} {error!r}")

    def _on_event(self, event: Any, **_: Any) -> None:
        with self.cond:
            self.seen.append((time.time(), str(event.name), dict(event.keys)))
            self.cond.notify_all()

    def mark(self) -> int:
        with self.cond:
            return len(self.seen)

    def wait_for(
        self, since: int, match: Callable[[str, dict[str, str]], bool], timeout: float
    ) -> dict[str, str] | None:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for _, name, keys in self.seen[since:]:
                    if match(name, keys):
                        return keys
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def renew(self) -> None:
        """A fresh connection for each repetition: a long-lived asterisk-ami client stopped
        getting action responses after a few calls in trial runs."""
        self.close()
        with self.cond:
            self.seen.clear()
        self._open()

    def ensure(self) -> None:
        """A live client before an action whose timing counts."""
        if self.client is None or self.client.finished.is_set():
            self.close()
            self._open()

    def action(self, name: str, **fields: str) -> dict[str, str]:
        self.ensure()
        try:
            return ami.send(self.client, name, **fields)
        except ami.AmiError:
            if not self.client.finished.is_set():
                raise
            self.ensure()
            return ami.send(self.client, name, **fields)

    def close(self) -> None:
        if self.client is not None:
            self._closing = True
            with contextlib.suppress(Exception):
                self.client.disconnect()
            self.client = None
            self._closing = False


# ---------------------------------------------------------------------------------- the stack
@dataclass
class Stack:
    settings: Settings
    pbx: Pbx
    store: AcdStore
    events: AmiEvents
    seat: str
    invites_log: Path
    work: Path


def _free_tcp() -> int:
    return free_port(socket.SOCK_STREAM)


def _env_for(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    values = {
        "VAR_DIR": settings.var_dir,
        "RECORDINGS_DIR": settings.recordings_dir,
        "SIP_PORT": settings.sip_port,
        "AMI_PORT": settings.ami_port,
        "AGI_PORT": settings.agi_port,
        "RTP_PORT_START": settings.rtp_port_start,
        "RTP_PORT_END": settings.rtp_port_end,
        "ASTERISK_INSTANCE": settings.asterisk_instance,
        "REDIS_URL": settings.redis_url,
        "IVR_FLOW": settings.ivr_flow,
        "ACD_RING_TIMEOUT_SECONDS": settings.acd_ring_timeout_seconds,
        "ACD_WRAP_UP_SECONDS": settings.acd_wrap_up_seconds,
        "AGI_DRAIN_SECONDS": 2,
    }
    env.update({f"HOTLINE_{k}": str(v) for k, v in values.items()})
    return env


def _wait_tcp(port: int, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the FastAGI server exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.2)
    raise RuntimeError("the FastAGI server did not start listening")


def _stop(proc: subprocess.Popen[bytes] | None, timeout: float = 10) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _sipp(args: list[str], cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        ["sipp", *args, "-i", "127.0.0.1", "-nostdin"], cwd=cwd, stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def _settings(work: Path, instance: str, redis_url: str, rtp_start: int) -> Settings:
    return load_settings(
        var_dir=work / "var",
        recordings_dir=work / "recordings",
        sip_port=free_port(),
        ami_port=_free_tcp(),
        agi_port=_free_tcp(),
        rtp_port_start=rtp_start,
        rtp_port_end=rtp_start + 199,
        asterisk_instance=instance,
        redis_url=redis_url,
        ivr_flow=FLOW_ID,
        acd_ring_timeout_seconds=RING_TIMEOUT_S,
        acd_wrap_up_seconds=WRAP_UP_S,
    )


@contextlib.contextmanager
def stack(work: Path, instance: str, redis_url: str, seat: str, rtp_start: int) -> Iterator[Stack]:
    shutil.rmtree(work / "var", ignore_errors=True)
    settings = _settings(work, instance, redis_url, rtp_start)
    engine = bootstrap.database(settings)
    publish_flow(engine, settings.recordings_dir, FLOW_YAML, by="benchmarks/acd_invite.py")
    pbx = bootstrap.pbx(settings, build=True)
    seats = tuple(sorted(pbx.creds.seat_passwords))
    queue = BenchQueue(BENCH_NUMBER, seats, APP_QUEUE_STRATEGY, RING_TIMEOUT_S,
                       APP_QUEUE_RETRY_S, APP_QUEUE_WRAPUP_S)  # fmt: skip
    pbx.extra = {"bench_queue": queue}
    if pbx.status().running:  # left over from an interrupted run
        pbx.stop()
    procs: list[subprocess.Popen[bytes]] = []
    events: AmiEvents | None = None
    try:
        pbx.start()
        store = AcdStore.from_url(settings.redis_url)
        store.purge()  # the benchmark's own Redis database: nothing left from an earlier run
        log_dir = settings.var_dir / "log"
        log_dir.mkdir(parents=True, exist_ok=True)
        with (log_dir / "agi.log").open("ab") as agi_log:
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "hotline.cli", "agi"], env=_env_for(settings), cwd=work,
                stdin=subprocess.DEVNULL, stdout=agi_log, stderr=subprocess.STDOUT,
                start_new_session=True,
            ))  # fmt: skip
        _wait_tcp(settings.agi_port, procs[0], 60)
        s = settings
        secret = pbx.creds.ami_secret
        # asterisk-ami's reader gives up after `timeout` s without a byte: quiet moments last.
        events = AmiEvents(
            lambda: ami.login(s.ami_host, s.ami_port, s.ami_user, secret, timeout=120)
        )
        phone_dir = work / "seat"
        shutil.rmtree(phone_dir, ignore_errors=True)
        phone_dir.mkdir(parents=True)
        invites_log = phone_dir / "messages.log"
        procs += _softphone(settings, pbx, seat, phone_dir, invites_log)
        _wait(lambda: f" {seat}/sip:" in pbx.rx("pjsip show contacts", check=False).stdout, 30,
              f"seat {seat}'s SIPp phone to register")  # fmt: skip
        # What `hotline ami` does on the ContactStatus event. Not run here: its asterisk-ami
        # client reconnects after every 5 s of AMI silence and re-syncs registrations, which
        # flipped this seat to unregistered for seconds at a time in trial runs.
        store.set_registered(seat, True)
        yield Stack(settings, pbx, store, events, seat, invites_log, work)
    finally:
        if events is not None:
            events.close()
        for proc in reversed(procs):
            _stop(proc)
        pbx.stop()
        engine.dispose()


def _softphone(
    settings: Settings, pbx: Pbx, seat: str, work: Path, trace: Path
) -> list[subprocess.Popen[bytes]]:
    """The same SIPp softphone the ACD tests use: one process answers, one registers."""
    target = f"{settings.sip_bind}:{settings.sip_port}"
    port = free_port()
    (work / "answer.xml").write_text(answering_scenario(ring_ms=100))
    # Registered once for the whole run (the scenario does not refresh): long enough expiry.
    phone = SeatPhone(seat, pbx.creds.seat_passwords[seat], port, expires_s=7200,
                      registered_ms=2 * 3600_000)  # fmt: skip
    (work / "register.xml").write_text(registration_scenario(phone))
    # -aa answers Asterisk's qualify OPTIONS; -trace_msg timestamps every message received.
    answering = _sipp([target, "-sf", "answer.xml", "-p", str(port), "-mp", str(free_port()),
                       "-aa", "-trace_msg", "-message_file", str(trace)], work)  # fmt: skip
    registering = _sipp([target, "-sf", "register.xml", "-p", str(free_port()), "-m", "1"], work)
    return [answering, registering]


# ---------------------------------------------------------------------------------- one rep
def _start_caller(st: Stack, number: str, tag: str) -> subprocess.Popen[bytes]:
    d = st.work / "callers"
    d.mkdir(exist_ok=True)
    scenario = d / "caller.xml"
    if not scenario.exists():
        scenario.write_text(caller_scenario(CallerScript(keys="", hold_ms=60_000)))
    target = f"{st.settings.sip_bind}:{st.settings.sip_port}"
    return _sipp([target, "-sf", str(scenario), "-s", number, "-m", "1", "-p", str(free_port()),
                  "-mp", str(free_port()), "-cid_str", f"{tag}.%u@%s",
                  "-timeout", "90s"], d)  # fmt: skip


def _dial_to(seat: str) -> Callable[[str, dict[str, str]], bool]:
    def match(name: str, keys: dict[str, str]) -> bool:
        return name == "DialBegin" and keys.get("DestChannel", "").startswith(f"PJSIP/{seat}-")

    return match


def _answered(channel: str) -> Callable[[str, dict[str, str]], bool]:
    def match(name: str, keys: dict[str, str]) -> bool:
        return name == "DialEnd" and keys.get("DestChannel") == channel

    return match


def _wait(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.02)


def _queue_pause(st: Stack, paused: bool) -> None:
    st.events.action("QueuePause", Queue=BENCH_QUEUE, Interface=f"PJSIP/{st.seat}",
                     Paused="true" if paused else "false", Reason="bench")  # fmt: skip


def run_rep(st: Stack, rep: Rep) -> None:
    desk = SeatDesk(st.store)
    hotline = rep.side == "hotline"
    st.events.renew()
    try:
        if hotline:
            _wait(lambda: _state(st) is AgentState.AVAILABLE, 15, "the seat to be available")
            desk.pause(st.seat, "bench")
        else:
            _queue_pause(st, True)
    except RuntimeError as exc:
        rep.error = str(exc)
        _clean_up(st)
        return
    mark = st.events.mark()
    before = {c.call_id for c in st.store.waiting_calls()}
    tag = f"r{rep.index}{rep.side[0]}"
    caller = _start_caller(st, st.settings.hotline_number if hotline else BENCH_NUMBER, tag)
    try:
        if hotline:
            _wait(lambda: bool({c.call_id for c in st.store.waiting_calls()} - before), 20,
                  "the caller to wait in the ACD")  # fmt: skip
        elif st.events.wait_for(mark, lambda n, k: n == "QueueCallerJoin", 20) is None:
            raise RuntimeError("the caller did not join app_queue")
        time.sleep(rep.dwell_s)
        if hotline:  # a seat whose phone is not registered is never offered a call
            _wait(lambda: bool((a := st.store.get_agent(st.seat)) and a.registered), 10,
                  "the ACD to see the seat registered")  # fmt: skip
        agent = st.store.get_agent(st.seat)
        rep.seat_before = f"{agent.state.value} registered={agent.registered}" if agent else "-"
        st.events.ensure()
        mark = st.events.mark()
        rep.t0 = time.time()
        if hotline:
            desk.ready(st.seat)
        else:
            _queue_pause(st, False)
        rep.t_action_done = time.time()
        dial = st.events.wait_for(mark, _dial_to(st.seat), RING_TIMEOUT_S + 5)
        if dial is None:
            raise RuntimeError("the seat was never dialled")
        rep.t_dial_begin = float(dial.get("Timestamp", "nan"))
        channel = dial["DestChannel"]
        if st.events.wait_for(mark, _answered(channel), RING_TIMEOUT_S + 5) is None:
            raise RuntimeError("the seat's phone did not answer")
        if not hotline:
            _queue_pause(st, True)
        st.events.action("Hangup", Channel=channel)
        caller.wait(20)
    except (RuntimeError, ami.AmiError, subprocess.TimeoutExpired) as exc:
        rep.error = f"{exc} (seat before t0: {rep.seat_before})"
        _clean_up(st)
    finally:
        _stop(caller)


def _clean_up(st: Stack) -> None:
    """After a failed repetition: no call left in Asterisk or in the ACD for the next one."""
    with contextlib.suppress(ami.AmiError):
        st.events.action("Hangup", Channel="/^PJSIP\\/.*$/")
    with contextlib.suppress(RuntimeError):
        _wait(lambda: not st.store.waiting_calls() and _state(st) is not AgentState.ON_CALL,
              15, "the ACD to be empty")  # fmt: skip


def _state(st: Stack) -> AgentState | None:
    agent = st.store.get_agent(st.seat)
    return agent.state if agent else None


def _prepare(st: Stack) -> None:
    """Every app_queue member paused; the ACD seat available (it is paused before each rep)."""
    for seat in sorted(st.pbx.creds.seat_passwords):
        st.events.action("QueuePause", Queue=BENCH_QUEUE, Interface=f"PJSIP/{seat}",
                         Paused="true", Reason="bench")  # fmt: skip
    SeatDesk(st.store).ready(st.seat)


# ---------------------------------------------------------------------------------- INVITEs
_STAMP = re.compile(r"^-{20,} (.+)$")


def _stamp_epoch(text: str) -> float:
    """SIPp's trace stamp: 'YYYY-MM-DD<TAB>HH:MM:SS.ffffff<TAB>epoch.ffffff' (3.6)."""
    parts = text.strip().split("\t")
    with contextlib.suppress(ValueError):
        value = float(parts[-1])
        if value > 1e9:
            return value
    return datetime.strptime(" ".join(parts[:2]), "%Y-%m-%d %H:%M:%S.%f").timestamp()


def invites(trace: Path) -> list[float]:
    """When the seat's SIPp received each INVITE (retransmissions and re-INVITEs skipped)."""
    out: list[float] = []
    seen: set[str] = set()
    stamp: float | None = None
    lines = trace.read_text(errors="replace").splitlines()
    for n, line in enumerate(lines):
        match = _STAMP.match(line)
        if match:
            stamp = _stamp_epoch(match.group(1)) if "received" in lines[n + 1] else None
            continue
        if stamp is not None and line.startswith("INVITE "):
            call_id = next((x.split(":", 1)[1].strip() for x in lines[n : n + 30]
                            if x.lower().startswith("call-id:")), "")  # fmt: skip
            if call_id not in seen:
                seen.add(call_id)
                out.append(stamp)
            stamp = None
    return out


def attach_invites(reps: list[Rep], stamps: list[float]) -> None:
    """Each rep gets the first INVITE after its t0 and before the next rep's t0."""
    ordered = sorted((r for r in reps if r.t0), key=lambda r: r.t0)
    for rep, after in zip(ordered, [*ordered[1:], None], strict=True):
        end = after.t0 if after else float("inf")
        rep.t_invite = next((s for s in sorted(stamps) if rep.t0 <= s < end), None)
        if rep.t_invite is None and not rep.error:
            rep.error = "no INVITE at the seat's phone"


# ---------------------------------------------------------------------------------- report
def machine() -> dict[str, str]:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next((ln.split(":", 1)[1].strip() for ln in cpuinfo.splitlines()
                  if ln.startswith("model name")), platform.processor())  # fmt: skip
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    sipp = subprocess.run(["sipp", "-v"], capture_output=True, text=True).stdout
    return {
        "cpus": str(os.cpu_count()),
        "cpu_model": model,
        "ram_gib": f"{mem_kb / 2**20:.1f}",
        "kernel": platform.release(),
        "python": platform.python_version(),
        "sipp": next((ln.strip() for ln in sipp.splitlines() if "SIPp v" in ln), "?"),
    }


def _busy_ticks() -> tuple[int, int]:
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:8]]
    return sum(values), values[3] + values[4]


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile: with N samples, p99 is the largest unless N >= 100."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil
    return ordered[int(rank) - 1]


def figures(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "mean": statistics.fmean(values),
        "min": min(values),
        "max": max(values),
    }


def _column(reps: list[Rep], side: str, value: Callable[[Rep], float | None]) -> list[float]:
    return [v for r in reps if r.side == side and not r.error and (v := value(r)) is not None]


def report(run: Run) -> dict[str, Any]:
    measures: dict[str, Callable[[Rep], float | None]] = {
        "t0 -> INVITE at the seat's phone (ms)": lambda r: r.latency_ms,
        "t0 -> Asterisk's DialBegin (ms)": lambda r: (
            None if r.t_dial_begin is None else (r.t_dial_begin - r.t0) * 1000),
        "DialBegin -> INVITE at the phone (ms)": lambda r: (
            None if r.t_dial_begin is None or r.t_invite is None
            else (r.t_invite - r.t_dial_begin) * 1000),
        "the t0 call itself (ms)": lambda r: (r.t_action_done - r.t0) * 1000,
    }  # fmt: skip
    table: dict[str, dict[str, dict[str, float]]] = {}
    for name, value in measures.items():
        table[name] = {}
        for side in SIDES:
            col = _column(run.reps, side, value)
            if col:
                table[name][side] = figures(col)
    print(f"\nmachine: {json.dumps(run.machine)}")
    print(f"load average before / after: {run.load_before} / {run.load_after}; "
          f"whole machine busy during the run: {run.busy_pct:.0f} % of 2 cores")  # fmt: skip
    for name, sides in table.items():
        print(f"\n{name}")
        print(f"  {'side':10s} {'n':>4s} {'p50':>9s} {'p95':>9s} {'p99':>9s} {'mean':>9s} "
              f"{'min':>9s} {'max':>9s}")  # fmt: skip
        for side, f in sides.items():
            print(f"  {side:10s} {f['n']:4.0f} {f['p50']:9.1f} {f['p95']:9.1f} {f['p99']:9.1f} "
                  f"{f['mean']:9.1f} {f['min']:9.1f} {f['max']:9.1f}")  # fmt: skip
    main = table["t0 -> INVITE at the seat's phone (ms)"]
    ratio: dict[str, float] = {}
    if len(main) == 2:
        for k in ("p50", "p95", "p99", "mean"):
            ratio[k] = main["app_queue"][k] / main["hotline"][k]
        print("\nratio app_queue / hotline: "
              + ", ".join(f"{k} {v:.1f}x" for k, v in ratio.items()))  # fmt: skip
    print(f"AMI event connection lost {len(run.ami_drops)} times: {run.ami_drops}")
    errors = [f"{r.side} #{r.index}: {r.error}" for r in run.reps if r.error]
    print(f"failed repetitions: {len(errors)}" + "".join(f"\n  {e}" for e in errors))
    return {"table": table, "ratio": ratio, "errors": errors}


def method(args: argparse.Namespace) -> str:
    return (
        f"method: {args.reps} repetitions per side, alternating sides; seat {args.seat} (one "
        "SIPp softphone, the ACD tests' answering scenario, 100 ms ring); each repetition: seat "
        "paused, one SIPp caller enters the queue, waits uniform "
        f"{DWELL_S[0]:.0f}-{DWELL_S[1]:.0f} s, t0 = time.time() just before the seat is made "
        "available (hotline: SeatDesk.ready, the `hotline agent ready` path; app_queue: AMI "
        "QueuePause Paused=false), t1 = the seat's SIPp -trace_msg stamp of the INVITE "
        "(gettimeofday at receipt). Cross-check: Asterisk's DialBegin event Timestamp. "
        f"app_queue queue {BENCH_QUEUE}: strategy {APP_QUEUE['strategy']}, "
        f"retry {APP_QUEUE['retry_s']} s (its minimum), timeout {RING_TIMEOUT_S} s, wrapuptime "
        f"{APP_QUEUE['wrapup_s']}, ringinuse no, autofill yes, memberdelay 0, no announcements, "
        f"every seat a member (all paused, only {args.seat} registered). ACD: ring timeout "
        f"{RING_TIMEOUT_S} s, wrap-up {WRAP_UP_S:.0f} s, MixMonitor started before Dial."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument("--seat", default="1003")  # holds wage_arrears, the flow's skill
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("HOTLINE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/12"),
    )
    parser.add_argument("--work-dir", type=Path, default=Path("/var/tmp/hotline-bench/acd-invite"))
    parser.add_argument("--instance", default="acdinvite")
    parser.add_argument("--rtp-start", type=int, default=32000)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--json", type=Path, default=None, help="results file (default: work dir)")
    args = parser.parse_args(argv)
    if args.reps < 1:
        parser.error("--reps must be at least 1")
    if os.geteuid() != 0:
        parser.error("run as root: the Asterisk sandbox uses chroot and mount")
    rng = random.Random(args.seed)
    work = args.work_dir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    print(method(args), flush=True)
    run = Run(machine(), {"reps": args.reps, "seat": args.seat, **APP_QUEUE,
                          "ring_timeout_s": RING_TIMEOUT_S, "wrap_up_s": WRAP_UP_S})  # fmt: skip
    with stack(work, args.instance, args.redis_url, args.seat, args.rtp_start) as st:
        run.machine["asterisk"] = st.pbx.rx("core show version", check=False).stdout.strip()
        _prepare(st)
        run.load_before = Path("/proc/loadavg").read_text().strip()
        ticks = _busy_ticks()
        for n in range(args.reps):
            order = SIDES if n % 2 == 0 else SIDES[::-1]
            for side in order:
                rep = Rep(side, n, round(rng.uniform(*DWELL_S), 3))
                run_rep(st, rep)
                run.reps.append(rep)
                late = f"{rep.t_dial_begin - rep.t0:.3f}" if rep.t_dial_begin else "-"
                print(f"[{time.strftime('%H:%M:%S')}] {side:9s} #{n:3d} dial after {late} s"
                      + (f"  ERROR {rep.error}" if rep.error else ""), flush=True)  # fmt: skip
        total, idle = (a - b for a, b in zip(_busy_ticks(), ticks, strict=True))
        run.busy_pct = 100 * (total - idle) / max(1, total)
        run.load_after = Path("/proc/loadavg").read_text().strip()
        trace = st.invites_log
        run.ami_drops = list(st.events.drops)
    attach_invites(run.reps, invites(trace))  # read once SIPp has exited and flushed it
    result = report(run)
    out = args.json or work / "results.json"
    out.write_text(json.dumps({"run": asdict(run), **result}, indent=1, default=str))
    print(f"results: {out}")
    return 0 if not result["errors"] and len(result["ratio"]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
