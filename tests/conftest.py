"""Shared fixtures: the real components (Asterisk sandbox, FastAGI server, Redis, PostgreSQL).

A component that is missing fails the run on CI (CI=true) and skips, saying why, elsewhere.
"""

from __future__ import annotations

import os
import shutil
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from redis import RedisError

from hotline import bootstrap
from hotline.callevents.keys import CallEventKeys
from hotline.pbx.runner import Pbx
from hotline.settings import Settings, load_settings
from hotline.sip.caller import free_port
from ivr.app import IvrService, build_ivr, prepare_seats, routes
from ivr.fastagi import FastAgiServer
from ivr.publishing import ensure_flow


def on_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def need(ok: bool, what: str) -> None:
    """Fail on CI, skip with the reason elsewhere."""
    if ok:
        return
    if on_ci():
        pytest.fail(f"{what} is required on CI", pytrace=False)
    print(f"\nSKIP: {what} is not available on this machine")
    pytest.skip(f"{what} is not available")


@pytest.fixture(scope="session")
def stack_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings for a test hotline beside any hotline already running on this machine."""
    base = tmp_path_factory.mktemp("hotline")
    return load_settings(
        var_dir=base / "var",
        recordings_dir=base / "recordings",
        sip_port=free_port(),
        ami_port=_free_tcp(),
        agi_port=_free_tcp(),
        rtp_port_start=21000,
        rtp_port_end=21999,
        asterisk_instance=f"test{os.getpid()}",
        # The test hotline's ACD lives in its own Redis database, emptied at the start.
        redis_url=os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/13"),
        acd_wrap_up_seconds=2,
        acd_ring_timeout_seconds=8,
        carrier_address=f"127.0.0.1:{free_port()}",  # a SIPp phone plays the caller called back
    )


def _free_tcp() -> int:
    return free_port(socket.SOCK_STREAM)


@pytest.fixture(scope="session")
def refused_port() -> Iterator[int]:
    """A TCP port on which every connection is refused, for a service that is down.

    The port stays bound, never listening, for the whole run. A port that is merely free
    lies in the ephemeral range: a client that keeps reconnecting is sooner or later given
    that same port as its own and connects to itself (TCP simultaneous open), reading back
    its own request as the server's reply. A bound port is never handed out that way.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("127.0.0.1", 0))
        yield int(held.getsockname()[1])


@pytest.fixture(scope="session")
def asterisk(stack_settings: Settings) -> Iterator[Pbx]:
    need(os.geteuid() == 0, "root (the Asterisk sandbox uses chroot and mount)")
    need(shutil.which("sipp") is not None, "SIPp (apt-get install sip-tester)")
    pbx = bootstrap.pbx(stack_settings, build=True)
    pbx.start()
    yield pbx
    pbx.stop()


@pytest.fixture(scope="session")
def ivr_service(stack_settings: Settings) -> IvrService:
    need(shutil.which("espeak-ng") is not None, "espeak-ng (apt-get install espeak-ng sox)")
    engine = bootstrap.database(stack_settings)
    ensure_flow(engine, stack_settings.recordings_dir, stack_settings.ivr_flow)
    service = build_ivr(stack_settings, engine)
    try:
        service.acd.purge()
        prepare_seats(engine, service.acd)
    except RedisError as exc:
        need(False, f"Redis at {stack_settings.redis_url} ({exc})")
    return service


@pytest.fixture(scope="session")
def agi_server(stack_settings: Settings, ivr_service: IvrService) -> Iterator[FastAgiServer]:
    server = FastAgiServer(
        routes(ivr_service), host=stack_settings.agi_host, port=stack_settings.agi_port, drain_s=5
    )
    server.start()
    yield server
    server.shutdown()


def prompt_ms(recordings_dir: Path, path_without_ext: str) -> int:
    """How long a rendered prompt plays: 8 kHz 16-bit slin is 16 bytes per millisecond."""
    return Path(path_without_ext + ".sln").stat().st_size // 16


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A PostgreSQL database created for this test run and dropped after it.

    PG_TEST_URL names an account that may create databases (scripts/test.sh sets one up).
    """
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    admin_url = os.environ.get("PG_TEST_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"hotline_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        need(False, f"PostgreSQL at {admin_url} ({str(exc).splitlines()[0]})")
    yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The test Redis (scripts/test.sh starts one when none runs); tests use unique key prefixes."""
    import redis

    url = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/14")
    try:
        redis.Redis.from_url(url).ping()
    except redis.RedisError as exc:
        need(False, f"Redis at {url} ({exc})")
    return url


def eventually(check: Callable[[], bool], timeout: float = 10) -> bool:
    """True as soon as `check()` is, False if it never is within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def event_redis(redis_url: str) -> Iterator[redis.Redis]:
    """A client for the call-event stream tests (strings in, strings out)."""
    r = redis.Redis.from_url(redis_url, decode_responses=True)
    yield r
    r.close()


@pytest.fixture
def event_keys(event_redis: redis.Redis) -> Iterator[CallEventKeys]:
    """Call-event keys under a prefix of this test's own, removed afterwards."""
    import uuid

    k = CallEventKeys(prefix=f"test:{uuid.uuid4().hex[:10]}:")
    yield k
    for key in event_redis.scan_iter(match=k.prefix + "*"):
        event_redis.delete(key)
