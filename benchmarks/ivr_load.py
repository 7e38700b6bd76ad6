"""IVR load: SIPp callers at a rising rate through the default menu, Hotline vs native dialplan.

Each step offers RATE new calls per second for DURATION seconds. A caller waits out the
welcome, presses 1 (Mandarin) while the language menu plays and 2 (unpaid wages) while the
main menu plays, holds 2 s in the queue and hangs up. The same menu runs twice on one Asterisk:
through the FastAGI IVR (a separate `hotline agi` process) and as plain dialplan
(Background/WaitExten, the `hotline-native-menu` context rendered for this instance only).
A call counts as successful only if SIPp finished it cleanly (the caller, not Asterisk, hung
up) and it reached the wage-arrears queue: the IVR's call record plus Asterisk's queue_log (or
the IVR's ACD log) for Hotline calls, the native menu's queue_log lines for native calls.

Run (as root, from the checkout): .venv/bin/python benchmarks/ivr_load.py
    [--rates 10,20,30,35,40,45,50] [--duration 30] [--work-dir /var/tmp/hotline-bench] [--nice N]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

# Runs as a plain script from a checkout: make the project importable without installing.
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from asterisk_conf.render import NativeMenu  # noqa: E402
from hotline import bootstrap  # noqa: E402
from hotline.pbx.runner import Pbx  # noqa: E402
from hotline.settings import Settings, load_settings  # noqa: E402
from hotline.sip.caller import free_port  # noqa: E402
from hotline.sip.scenario import CallerScript, caller_scenario  # noqa: E402
from ivr.flow import Flow, load_flow  # noqa: E402
from ivr.flow.model import (  # noqa: E402
    GotoNode,
    HandoffNode,
    HoursNode,
    LanguageNode,
    MenuNode,
    PlayNode,
    SetNode,
)
from ivr.flowstore import ActiveFlowCache  # noqa: E402
from ivr.prompts import resolve  # noqa: E402
from ivr.publishing import ensure_flow  # noqa: E402

INSTANCE = "bench"
NATIVE_NUMBER = "12399"
KEYS = "12"
TARGET_NODE = "wage_arrears_queue"
TARGET_QUEUE = "wage_arrears"
FIRST_KEY_AFTER_WELCOME_MS = 800
KEY_GAP_MS = 1200
HOLD_MS = 2000
RTP_PORTS = (22000, 31999)  # 5000 calls' worth; the test suite uses 21000-21999
SIDES = ("native", "hotline")
CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------------------- results
@dataclass
class Step:
    side: str
    rate: int
    duration_s: int
    attempted: int = 0
    successful: int = 0
    failed: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    sipp_failures: dict[str, int] = field(default_factory=dict)
    retransmissions: int = 0
    peak_concurrent: int = 0
    wall_s: float = 0.0
    # % of one core, mean while every call of the step is up at once, and the busiest second
    cpu: dict[str, float] = field(default_factory=dict)
    cpu_peak: dict[str, float] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------- CPU
def _proc_ticks(pid: int) -> int | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[11]) + int(fields[12])  # utime + stime, every thread


def _system_ticks() -> tuple[int, int, int]:
    """All CPU time, idle time and softirq time (network receive work) of the machine."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:8]]
    return sum(values), values[3] + values[4], values[6]


class CpuSampler:
    """Once a second: CPU of named processes (all threads) and of the whole machine.

    Every figure is in % of one core, as top shows it (this 2-core machine tops out at 200);
    'softirq' is kernel network work (loopback SIP and RTP) charged to no process; 'others' is
    the rest of the machine's busy time: other programs.
    """

    def __init__(self, pids: Mapping[str, int]) -> None:
        self.pids = dict(pids)
        self.samples: list[tuple[float, dict[str, float]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._started = 0.0

    def add(self, name: str, pid: int) -> None:
        self.pids[name] = pid

    def __enter__(self) -> CpuSampler:
        self._started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _snapshot(self) -> dict[str, int]:
        out = {}
        for name, pid in list(self.pids.items()):
            ticks = _proc_ticks(pid)
            if ticks is not None:
                out[name] = ticks
        return out

    def _run(self) -> None:
        ncpu = os.cpu_count() or 1
        before, sys_before, at = self._snapshot(), _system_ticks(), time.monotonic()
        while not self._stop.wait(1.0):
            now, sys_now, t = self._snapshot(), _system_ticks(), time.monotonic()
            sample = {
                name: 100 * (ticks - before[name]) / CLK_TCK / (t - at)
                for name, ticks in now.items()
                if name in before
            }
            total, idle, softirq = (a - b for a, b in zip(sys_now, sys_before, strict=True))
            ours = sum(sample.values())
            sample["machine"] = 100 * ncpu * (total - idle) / max(1, total)
            sample["softirq"] = 100 * ncpu * softirq / max(1, total)
            sample["others"] = max(0.0, sample["machine"] - sample["softirq"] - ours)
            self.samples.append((t - self._started, sample))
            before, sys_before, at = now, sys_now, t

    def summary(self, start_s: float, end_s: float) -> tuple[dict[str, float], dict[str, float]]:
        """Mean over [start_s, end_s] (every call of the step up at once), and the busiest 1 s."""
        window = [v for t, v in self.samples if start_s <= t <= end_s]
        if len(window) < 3:  # a short step never reaches a plateau: use its middle third
            n = len(self.samples)
            window = [v for _, v in self.samples[n // 3 : max(n // 3 + 1, 2 * n // 3)]]
        names = {k for _, v in self.samples for k in v}
        mean = {k: round(sum(v.get(k, 0) for v in window) / max(1, len(window)), 1) for k in names}
        peak = {k: round(max((v.get(k, 0) for _, v in self.samples), default=0), 1) for k in names}
        return mean, peak


# ---------------------------------------------------------------------------------- the menu
def _queue_behind(flow: Flow, node_id: str) -> str | None:
    """The queue a menu choice ends in, following set/goto/hours(open) nodes."""
    seen: set[str] = set()
    while node_id not in seen:
        seen.add(node_id)
        node = flow.node(node_id)
        if isinstance(node, SetNode):
            node_id = node.next
        elif isinstance(node, GotoNode):
            node_id = node.target
        elif isinstance(node, HoursNode):
            node_id = node.open
        elif isinstance(node, HandoffNode) and node.type == "queue":
            return str(node.params.get("queue", "operator"))
        else:
            return None
    return None


def native_menu(flow: Flow, recordings_dir: Path) -> NativeMenu:
    """The default flow's welcome, language and main menu as the renderer's NativeMenu."""
    welcome = flow.node("welcome")
    language = flow.node("choose_language")
    menu = flow.node("main_menu")
    assert isinstance(welcome, PlayNode) and welcome.next == "choose_language"
    assert isinstance(language, LanguageNode) and language.next == "main_menu"
    assert isinstance(menu, MenuNode) and menu.timeout_prompt and menu.invalid_prompt
    assert language.max_tries == 1, "the native menu gives the language menu one try"
    prompt_ids = {
        "welcome": welcome.prompt,
        "choose_language": language.prompt,
        "main_menu": menu.prompt,
        "invalid_key": menu.invalid_prompt,
        "no_key": menu.timeout_prompt,
    }
    prompts = {}
    for name, ids in prompt_ids.items():
        assert len(ids) == 1, f"{name}: the native menu plays one prompt per step"
        for lang in flow.languages:
            text_ = flow.prompts[ids[0]].get(lang) or flow.prompts[ids[0]][flow.default_language]
            prompts[f"{name}.{lang}"] = str(resolve(ids[0], lang, text_, recordings_dir))
    menu_keys = {k: q for k, t in menu.choices.items() if (q := _queue_behind(flow, t))}
    operator = _queue_behind(flow, flow.operator) or "operator"
    menu_keys.setdefault("0", operator)  # the engine's operator key
    assert menu_keys.get("2") == TARGET_QUEUE
    for seconds in (language.timeout_s, menu.timeout_s):
        assert seconds == int(seconds), "WaitExten here takes whole seconds"
    return NativeMenu(
        number=NATIVE_NUMBER,
        prompts=prompts,
        languages=tuple(flow.languages),
        default_language=flow.default_language,
        language_keys=dict(language.choices),
        language_timeout_s=int(language.timeout_s),
        menu_keys=menu_keys,
        menu_timeout_s=int(menu.timeout_s),
        menu_tries=menu.max_tries,
        exit_queue=operator,
    )


def prompt_ms(path_without_ext: str) -> int:
    return Path(path_without_ext + ".sln").stat().st_size // 16  # 8 kHz 16-bit slin


def scenario_xml(welcome_ms: int) -> str:
    """The caller; logs 'ok' when it hung up itself, 'bye' when Asterisk hung up first."""
    script = CallerScript(
        keys=KEYS,
        dtmf="info",
        waits_ms=(welcome_ms + FIRST_KEY_AFTER_WELCOME_MS, KEY_GAP_MS),
        hold_ms=HOLD_MS,
    )
    xml = caller_scenario(script)
    ok = '<nop><action><log message="ok [call_id]"/></action></nop>\n'
    bye = '\n<nop><action><log message="bye [call_id]"/></action></nop>'
    for anchor in ('<label id="done"/>', '<label id="got_bye"/>'):
        assert xml.count(anchor) == 1, f"scenario changed: {anchor} not found once"
    xml = xml.replace('<nop next="done"/>', ok + '<nop next="done"/>')
    xml = xml.replace('<label id="got_bye"/>', '<label id="got_bye"/>' + bye)
    assert len(xml) < 64 * 1024
    return xml


# ---------------------------------------------------------------------------------- the stack
@dataclass
class Stack:
    settings: Settings
    pbx: Pbx
    agi: subprocess.Popen[bytes]
    engine: Any
    welcome_ms: int
    work: Path

    @property
    def asterisk_pid(self) -> int:
        return int(self.pbx.pid_file.read_text())

    @property
    def agi_log(self) -> Path:
        return self.settings.var_dir / "log" / "agi.log"

    @property
    def queue_log(self) -> Path:
        return self.pbx._dir("astlogdir") / "queue_log"

    def channels(self) -> int:
        out = self.pbx.rx("core show channels count", check=False, timeout=10).stdout
        for line in out.splitlines():
            if "active channel" in line:
                return int(line.split()[0])
        return -1


def _raise_fd_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else 1 << 20
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target  # Asterisk, SIPp and the AGI server inherit it


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


@contextlib.contextmanager
def stack(work: Path, redis_url: str) -> Iterator[Stack]:
    run_dir = work / "var"
    shutil.rmtree(run_dir, ignore_errors=True)
    settings = load_settings(
        var_dir=run_dir,
        recordings_dir=work / "recordings",  # kept between runs: the rendered prompts
        sip_port=free_port(),
        ami_port=_free_tcp(),
        agi_port=_free_tcp(),
        rtp_port_start=RTP_PORTS[0],
        rtp_port_end=RTP_PORTS[1],
        asterisk_instance=INSTANCE,
        redis_url=redis_url,
    )
    _raise_fd_limit()
    engine = bootstrap.database(settings)
    print("publishing the default flow (renders prompts the first time)...", flush=True)
    ensure_flow(engine, settings.recordings_dir, settings.ivr_flow)
    flow = ActiveFlowCache(engine, load_flow).get(settings.ivr_flow).flow
    menu = native_menu(flow, settings.recordings_dir)
    pbx = bootstrap.pbx(settings, build=True)
    pbx.extra = {"native_menu": menu}
    if pbx.status().running:  # left over from an interrupted run
        pbx.stop()
    agi: subprocess.Popen[bytes] | None = None
    try:
        pbx.start()
        (settings.var_dir / "log").mkdir(parents=True, exist_ok=True)
        with (settings.var_dir / "log" / "agi.log").open("ab") as agi_log:
            agi = subprocess.Popen(
                [sys.executable, "-m", "hotline.cli", "agi"],
                env=_env_for(settings),
                cwd=work,
                stdin=subprocess.DEVNULL,
                stdout=agi_log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _wait_tcp(settings.agi_port, agi, 60)
        yield Stack(settings, pbx, agi, engine, prompt_ms(menu.prompts["welcome.zh"]), work)
    finally:
        if agi is not None and agi.poll() is None:
            agi.send_signal(signal.SIGTERM)
            try:
                agi.wait(15)
            except subprocess.TimeoutExpired:
                agi.kill()
                agi.wait()
        pbx.stop()
        engine.dispose()


# ---------------------------------------------------------------------------------- a step
def _sipp_stats(stat_file: Path) -> tuple[dict[str, str], int]:
    """The last statistics row, and the most calls open at once over all rows."""
    lines = [ln for ln in stat_file.read_text(errors="replace").splitlines() if ln.strip()]
    header = lines[0].rstrip(";").split(";")
    rows = [dict(zip(header, ln.rstrip(";").split(";"), strict=False)) for ln in lines[1:]]
    peak = max((int(r.get("CurrentCall", "0") or 0) for r in rows), default=0)
    return (rows[-1] if rows else {}), peak


@dataclass
class QueueLog:
    entered: set[str] = field(default_factory=set)  # unique ids that joined a queue
    native: dict[str, tuple[str, str]] = field(default_factory=dict)  # call id -> (uid, queue)
    hangups: dict[str, str] = field(default_factory=dict)  # call id -> where it hung up


def _queue_log(path: Path) -> QueueLog:
    """Asterisk's queue_log, with the native menu's own lines (NATIVEMENU, NATIVEHANGUP)."""
    out = QueueLog()
    with contextlib.suppress(FileNotFoundError), path.open(errors="replace") as log:
        for line in log:
            parts = line.rstrip("\n").split("|")
            if len(parts) < 5:
                continue
            if parts[4] == "ENTERQUEUE":
                out.entered.add(parts[1])
            elif parts[4] == "NATIVEMENU" and len(parts) >= 7:
                out.native[parts[5]] = (parts[1], parts[6])
            elif parts[4] == "NATIVEHANGUP" and len(parts) >= 8:
                where = parts[6].removeprefix("hotline-native-")
                where = "language_menu" if where == "menu" else f"main_menu_{parts[7]}"
                out.hangups[parts[5]] = where
    return out


def _hotline_records(engine: Any, tag: str) -> dict[str, dict[str, Any]]:
    query = text(
        "SELECT sip_call_id, uniqueid, result, language, path_json FROM call_record "
        "WHERE sip_call_id LIKE :tag"
    )
    with engine.connect() as conn:
        rows = conn.execute(query, {"tag": f"{tag}.%"}).all()
    return {
        r[0]: {"uniqueid": r[1], "result": r[2], "language": r[3], "path": json.loads(r[4])}
        for r in rows
    }


def _acd_queued(agi_log: Path) -> set[str]:
    """Unique ids the IVR's own ACD queue took (when the queue handoff waits in the AGI)."""
    queued = set()
    with contextlib.suppress(FileNotFoundError), agi_log.open(errors="replace") as log:
        for line in log:
            if '"acd.queued"' in line:
                with contextlib.suppress(ValueError):
                    queued.add(str(json.loads(line).get("uniqueid", "")))
    return queued


def _hotline_path_ok(record: dict[str, Any] | None, qlog: QueueLog, acd: set[str]) -> str:
    """'' when the IVR took this call down the benchmark's path into the queue, else why not.

    The queue is either Asterisk's (the IVR ends with HOTLINE_IVR_RESULT=queue and the call
    must show up in queue_log) or the IVR's own ACD queue inside the AGI (the call must have
    been queued there; the caller then hangs up while waiting, so the record says 'hangup').
    """
    if record is None:
        return "no_ivr_record"
    steps = [(s["node"], s["input"], s["outcome"]) for s in record["path"]]
    if not steps or steps[-1][0] != TARGET_NODE:
        where = steps[-1][0] if steps else "nothing"
        if where in ("choose_language", "main_menu"):
            where += f"_{record['language']}"
        return f"hung_up_in_{where}"
    if record["result"] == "queue":
        return "" if record["uniqueid"] in qlog.entered else "not_in_queue_log"
    if record["uniqueid"] in acd:
        return ""
    return f"queue_handoff_{record['result']}"


def _native_path_ok(call_id: str, qlog: QueueLog) -> str:
    line = qlog.native.get(call_id)
    if line is None:
        return f"hung_up_in_{qlog.hangups.get(call_id, 'unknown')}"
    uniqueid, queue = line
    if queue != TARGET_QUEUE:
        return f"went_to_{queue}"
    if uniqueid not in qlog.entered:
        return "not_in_queue_log"
    return ""


_SIPP_REASONS = (
    "FailedCannotSendMessage",
    "FailedMaxUDPRetrans",
    "FailedUnexpectedMessage",
    "FailedCallRejected",
    "FailedCmdNotSent",
    "FailedOutboundCongestion",
    "FailedTimeoutOnRecv",
    "FailedTimeoutOnSend",
    "FailedTcpConnect",
    "FailedTcpClosed",
)


def run_step(st: Stack, side: str, rate: int, duration: int, index: int) -> Step:
    step = Step(side=side, rate=rate, duration_s=duration)
    _wait_idle(st)
    tag = f"b{index}{side[0]}{secrets.token_hex(3)}"
    d = st.work / "steps" / f"{index:02d}-{side}-{rate}"
    d.mkdir(parents=True, exist_ok=True)
    (d / "caller.xml").write_text(scenario_xml(st.welcome_ms))
    total = rate * duration
    number = NATIVE_NUMBER if side == "native" else st.settings.hotline_number
    cmd = [
        "sipp", f"127.0.0.1:{st.settings.sip_port}", "-sf", str(d / "caller.xml"),
        "-s", number, "-r", str(rate), "-m", str(total), "-l", str(max(rate * 60, 100)),
        "-i", "127.0.0.1", "-p", str(free_port()), "-mp", str(free_port()),
        "-cid_str", f"{tag}.%u@%s", "-nostdin",
        "-trace_stat", "-stf", str(d / "stat.csv"), "-fd", "1",
        "-trace_err", "-error_file", str(d / "errors.log"),
        "-trace_logs", "-log_file", str(d / "calls.log"),
        "-recv_timeout", "30000", "-timeout", f"{duration + 120}s",
    ]  # fmt: skip
    print(f"[{time.strftime('%H:%M:%S')}] {side:7s} {rate:3d} calls/s x {duration} s", flush=True)
    pids = {"asterisk": st.asterisk_pid, "agi": st.agi.pid}
    started = time.monotonic()
    with CpuSampler(pids) as cpu:
        proc = subprocess.Popen(
            cmd, cwd=d, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=(d / "sipp.stderr").open("wb"),
        )  # fmt: skip
        cpu.add("sipp", proc.pid)
        try:
            proc.wait(timeout=duration + 180)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    step.wall_s = round(time.monotonic() - started, 1)
    call_s = (st.welcome_ms + FIRST_KEY_AFTER_WELCOME_MS + KEY_GAP_MS + HOLD_MS) / 1000
    step.cpu, step.cpu_peak = cpu.summary(call_s + 1, duration)
    stats, step.peak_concurrent = _sipp_stats(d / "stat.csv")
    step.attempted = int(stats.get("TotalCallCreated", "0") or 0)
    step.retransmissions = int(stats.get("Retransmissions(C)", "0") or 0)
    step.sipp_failures = {
        r.removeprefix("Failed"): n
        for r in _SIPP_REASONS
        if (n := int(stats.get(f"{r}(C)", "0") or 0))
    }
    _verify(st, step, tag, d)
    (d / "step.json").write_text(json.dumps(asdict(step), indent=1))
    return step


def _verify(st: Stack, step: Step, tag: str, d: Path) -> None:
    outcome: dict[str, str] = {}
    with contextlib.suppress(FileNotFoundError):
        for line in (d / "calls.log").read_text(errors="replace").splitlines():
            word, _, call_id = line.strip().partition(" ")
            if word in ("ok", "bye"):
                outcome[call_id] = word
    records: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + 15
    while True:  # call records and queue_log lines land a moment after the calls end
        qlog = _queue_log(st.queue_log)
        if step.side == "hotline":
            records = _hotline_records(st.engine, tag)
            done = len(records) >= len(outcome)
        else:
            seen = {*qlog.native, *qlog.hangups}
            done = sum(1 for c in seen if c.startswith(tag + ".")) >= len(outcome)
        if done or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    acd = _acd_queued(st.agi_log) if step.side == "hotline" else set()
    reasons: Counter[str] = Counter()
    for n in range(1, step.attempted + 1):
        call_id = f"{tag}.{n}@127.0.0.1"
        sip = outcome.get(call_id)
        if step.side == "hotline":
            why = _hotline_path_ok(records.get(call_id), qlog, acd)
        else:
            why = _native_path_ok(call_id, qlog)
        if sip is None:
            reasons["sipp_failed"] += 1
        elif sip == "bye":
            reasons[f"asterisk_hung_up({why or 'after_queue'})"] += 1
        elif why:
            reasons[why] += 1
        else:
            step.successful += 1
            continue
        if len(step.examples) < 5:
            step.examples.append(f"{call_id}: {sip or 'sipp failed'} {why}")
    step.failed = step.attempted - step.successful
    step.failures = dict(reasons)


def _wait_idle(st: Stack, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while st.channels() > 0 and time.monotonic() < deadline:
        time.sleep(1)
    time.sleep(2)


# ---------------------------------------------------------------------------------- report
def machine(st: Stack | None) -> dict[str, str]:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next((ln.split(":", 1)[1].strip() for ln in cpuinfo.splitlines()
                  if ln.startswith("model name")), platform.processor())  # fmt: skip
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    sipp = subprocess.run(["sipp", "-v"], capture_output=True, text=True).stdout
    info = {
        "cpus": str(os.cpu_count()),
        "cpu_model": model,
        "ram_gib": f"{mem_kb / 2**20:.1f}",
        "kernel": platform.release(),
        "python": platform.python_version(),
        "sipp": next((ln.strip() for ln in sipp.splitlines() if "SIPp v" in ln), "?"),
    }
    if st is not None:
        info["asterisk"] = st.pbx.rx("core show version", check=False).stdout.strip()
    return info


def _fmt_reasons(step: Step) -> str:
    parts = [f"{k}: {v}" for k, v in sorted(step.failures.items())]
    parts += [f"SIPp {k}: {v}" for k, v in sorted(step.sipp_failures.items())]
    return ", ".join(parts) or "-"


def table(steps: list[Step]) -> str:
    head = (
        "| offered calls/s | side | attempted | successful | failed | failures (reason: n) "
        "| peak concurrent | SIP retrans | Asterisk CPU % | FastAGI CPU % | SIPp CPU % "
        "| softirq % | other programs % | machine busy % |\n"
        "|---:|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    )

    def cpu(s: Step, name: str) -> str:
        return f"{s.cpu.get(name, 0):.0f} / {s.cpu_peak.get(name, 0):.0f}"

    rows = [
        f"| {s.rate} | {s.side} | {s.attempted} | {s.successful} | {s.failed} "
        f"| {_fmt_reasons(s)} | {s.peak_concurrent} | {s.retransmissions} "
        f"| {cpu(s, 'asterisk')} | {cpu(s, 'agi')} | {cpu(s, 'sipp')} | {cpu(s, 'softirq')} "
        f"| {cpu(s, 'others')} "
        f"| {cpu(s, 'machine')} |"
        for s in steps
    ]
    return "\n".join([head, *rows])


def best_clean_rate(steps: list[Step], side: str) -> int:
    """The highest rate with 0 failures below the first rate that failed."""
    best = 0
    for s in sorted((s for s in steps if s.side == side), key=lambda s: s.rate):
        if s.failed or s.attempted == 0:
            break
        best = s.rate
    return best


def summary(steps: list[Step]) -> str:
    ours, native = best_clean_rate(steps, "hotline"), best_clean_rate(steps, "native")
    ratio = f"{ours / native:.2f}" if native else "n/a"
    return (
        f"highest rate with 0 failed calls: Hotline (FastAGI) {ours} calls/s, "
        f"native dialplan {native} calls/s, ratio {ratio}"
    )


# ---------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rates", default="10,20,30,35,40,45,50", help="calls/s, rising")
    parser.add_argument("--duration", type=int, default=30, help="seconds of new calls per step")
    parser.add_argument("--work-dir", type=Path, default=Path("/var/tmp/hotline-bench"))
    parser.add_argument("--keep-going", action="store_true", help="run every rate for both")
    parser.add_argument(
        "--redis-url",
        default="redis://127.0.0.1:6379/12",
        help="for the ACD (its own database: the demo hotline uses 0, the tests 13-15)",
    )
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="scheduling priority for Asterisk, the FastAGI server and SIPp (they inherit it); "
        "e.g. -10 on a machine shared with other work",
    )
    args = parser.parse_args(argv)
    rates = sorted({int(r) for r in args.rates.split(",") if r.strip()})
    if os.geteuid() != 0 or shutil.which("sipp") is None:
        print("needs root (the Asterisk sandbox) and sipp (apt-get install sip-tester)")
        return 2
    if args.nice:
        os.setpriority(os.PRIO_PROCESS, 0, args.nice)
    work: Path = args.work_dir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(work / "steps", ignore_errors=True)
    steps: list[Step] = []
    began = time.monotonic()
    with stack(work, args.redis_url) as st:
        info = machine(st)
        print(json.dumps(info, indent=1), flush=True)
        print(f"welcome prompt {st.welcome_ms} ms; keys {KEYS!r} via SIP INFO", flush=True)
        failed: set[str] = set()
        for i, rate in enumerate(rates):
            # Alternate which side goes first, so neither always runs on a warmer machine.
            for side in SIDES if i % 2 == 0 else SIDES[::-1]:
                step = run_step(st, side, rate, args.duration, len(steps))
                steps.append(step)
                print(
                    f"    attempted {step.attempted} ok {step.successful} failed {step.failed} "
                    f"({_fmt_reasons(step)}) peak {step.peak_concurrent} cpu {step.cpu} "
                    f"peak {step.cpu_peak}",
                    flush=True,
                )
                if step.failed:
                    failed.add(side)
            if failed >= set(SIDES) and not args.keep_going:
                break
    result = {
        "when": datetime.now().isoformat(timespec="seconds"),
        "machine": info,
        "duration_s": args.duration,
        "nice": args.nice,
        "minutes": round((time.monotonic() - began) / 60, 1),
        "welcome_ms": st.welcome_ms,
        "steps": [asdict(s) for s in steps],
        "summary": summary(steps),
    }
    out = work / f"ivr_load-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(result, indent=1, ensure_ascii=False))
    print()
    print(table(steps))
    print()
    print(summary(steps))
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
