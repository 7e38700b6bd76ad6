"""The whole hotline on one machine: Redis, Asterisk, the FastAGI server; up, down, status."""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from urllib.parse import urlsplit

from hotline import bootstrap
from hotline.daemon import Daemon, port_open
from hotline.errors import DependencyDown
from hotline.settings import Settings

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass
class Component:
    name: str
    running: bool
    detail: str


def _hotline_daemon(
    settings: Settings, name: str, command: str, port: tuple[str, int] | None = None
) -> Daemon:
    """A `hotline COMMAND` running in the background, with its pid file and log under var/."""
    return Daemon(
        name=name,
        argv=(sys.executable, "-m", "hotline.cli", command),
        pid_file=settings.var_dir / "run" / f"{command}.pid",
        log_file=settings.var_dir / "log" / f"{command}.log",
        port=port,
    )


def agi_daemon(settings: Settings) -> Daemon:
    return _hotline_daemon(
        settings, "FastAGI server", "agi", (settings.agi_host, settings.agi_port)
    )


def web_daemon(settings: Settings) -> Daemon:
    return _hotline_daemon(settings, "back office", "web", (settings.web_host, settings.web_port))


def intake_daemon(settings: Settings) -> Daemon:
    return Daemon(
        name="order intake",
        argv=(sys.executable, "-m", "hotline.cli", "backoffice", "intake"),
        pid_file=settings.var_dir / "run" / "intake.pid",
        log_file=settings.var_dir / "log" / "intake.log",
        port=None,
    )


def ami_daemon(settings: Settings) -> Daemon:
    return _hotline_daemon(settings, "AMI listener", "ami")


def worker_daemon(settings: Settings) -> Daemon:
    return _hotline_daemon(settings, "transcription worker", "worker")


def speech_configured(settings: Settings) -> bool:
    """`up` starts the worker only where a model is set up: transcription is optional."""
    from hotline.speech.errors import ModelMissing
    from hotline.speech.worker import check_models

    try:
        check_models(settings)
    except ModelMissing:
        return False
    return True


def redis_address(settings: Settings) -> tuple[str, int]:
    url = urlsplit(settings.redis_url)
    return url.hostname or "127.0.0.1", url.port or 6379


def redis_daemon(settings: Settings) -> Daemon:
    host, port = redis_address(settings)
    data = settings.var_dir / "redis"
    data.mkdir(parents=True, exist_ok=True)
    argv = ("redis-server", "--bind", host, "--port", str(port), "--dir", str(data),
            "--save", "", "--appendonly", "yes", "--daemonize", "no")  # fmt: skip
    return Daemon(
        "Redis",
        argv,
        settings.var_dir / "run" / "redis.pid",
        settings.var_dir / "log" / "redis.log",
        port=(host, port),
    )


def ensure_redis(settings: Settings) -> str:
    host, port = redis_address(settings)
    if port_open(host, port):
        return f"using the Redis at {host}:{port}"
    if host not in LOCAL_HOSTS or shutil.which("redis-server") is None:
        raise DependencyDown(
            f"Redis at {host}:{port} is not reachable: start it, apt-get install redis-server, "
            "or set HOTLINE_REDIS_URL"
        )
    redis_daemon(settings).start()
    return f"started Redis at {host}:{port} (data in {settings.var_dir / 'redis'})"


def up(settings: Settings) -> list[str]:
    notes = [ensure_redis(settings)]
    pbx = bootstrap.pbx(settings, build=True)
    status = pbx.start()
    notes.append(f"Asterisk {pbx.inst.mode} running (pid {status.pid})")
    pid = agi_daemon(settings).start()
    notes.append(f"FastAGI server on {settings.agi_host}:{settings.agi_port} (pid {pid})")
    notes.append(f"AMI listener (pid {ami_daemon(settings).start(ready_s=1)})")
    pid = web_daemon(settings).start(ready_s=60)
    notes.append(f"back office on http://{settings.web_host}:{settings.web_port}/ (pid {pid})")
    notes.append(f"order intake (pid {intake_daemon(settings).start(ready_s=1)})")
    if speech_configured(settings):
        notes.append(f"transcription worker (pid {worker_daemon(settings).start(ready_s=1)})")
    else:
        notes.append("no transcription worker: no Vosk model (see `hotline models list`)")
    return notes


def down(settings: Settings) -> list[str]:
    notes = []
    if worker_daemon(settings).stop():
        notes.append("transcription worker stopped")
    if intake_daemon(settings).stop():
        notes.append("order intake stopped")
    if web_daemon(settings).stop():
        notes.append("back office stopped")
    if ami_daemon(settings).stop():
        notes.append("AMI listener stopped")
    if agi_daemon(settings).stop():
        notes.append("FastAGI server stopped")
    bootstrap.pbx(settings).stop()
    notes.append("Asterisk stopped")
    if redis_daemon(settings).stop():
        notes.append("Redis (started by hotline) stopped")
    return notes


def status(settings: Settings) -> list[Component]:
    host, port = redis_address(settings)
    pbx = bootstrap.pbx(settings).status()
    agi = agi_daemon(settings).pid()
    listener = ami_daemon(settings).pid()
    web = web_daemon(settings).pid()
    worker = worker_daemon(settings).pid()
    intake = intake_daemon(settings).pid()
    return [
        Component("redis", port_open(host, port), f"{host}:{port}"),
        Component("asterisk", pbx.running, pbx.version.split(" built")[0] if pbx.running else ""),
        Component(
            "agi",
            agi is not None and port_open(settings.agi_host, settings.agi_port),
            f"{settings.agi_host}:{settings.agi_port}",
        ),
        Component("ami", listener is not None, f"pid {listener}" if listener else ""),
        Component(
            "web",
            web is not None and port_open(settings.web_host, settings.web_port),
            f"http://{settings.web_host}:{settings.web_port}/",
        ),
        Component("intake", intake is not None, f"pid {intake}" if intake else ""),
        Component("worker", worker is not None, f"pid {worker}" if worker else "no model"),
    ]
