"""The back-office web application, built from settings by `create_app` (nothing at import)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from backoffice import web
from backoffice.api import errors
from backoffice.api.routes import api_router
from backoffice.api.state import Backoffice
from backoffice.overload import InFlightLimit
from backoffice.ratelimit import SlidingWindowLimiter
from backoffice.services.work_orders import WorkOrderConfig
from hotline.db import make_engine, merge_text_indexes, refresh_statistics, web_engine
from hotline.settings import Settings

SECRET_FILE = "backoffice-secret.key"
FIRST_ANALYZE_S = 300
log = logging.getLogger(__name__)
# Server-sent event streams (desk, wallboard) stay open for hours: not counted as in flight.
STREAM_SUFFIXES = ("/events",)


def create_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    secret_key: bytes | None = None,
    freeze_gc: bool = False,
) -> FastAPI:
    """The app with its own engine (or the one given, which the caller then owns).

    ``freeze_gc`` (a serving process, not tests that build many apps): once started, what
    exists lives as long as the process and is moved out of the cycle collector's sight;
    otherwise a full collection walked it all mid-request (a 136 ms pause every few
    thousand requests, the benchmark's p99).

    The schema is not touched here: run `python -m backoffice migrate` (or
    `backoffice.db.upgrade`) first, as a deploy step rather than on every start.
    """
    owns_engine = engine is None
    state = Backoffice(
        settings=settings,
        engine=engine if engine is not None else web_engine(settings),
        secret_key=secret_key or load_secret_key(settings.var_dir),
        login_limiter=SlidingWindowLimiter(limit=5, window_s=300),
        web_form_limiter=SlidingWindowLimiter(limit=5, window_s=600),
        orders=WorkOrderConfig(tz=settings.timezone),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        statistics = _keep_statistics(settings)
        if freeze_gc:
            gc.collect()
            gc.freeze()
        yield
        if statistics is not None:
            statistics.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await statistics
        if owns_engine:
            state.engine.dispose()

    app = FastAPI(
        title="Hotline back office",
        version="1",
        summary="Work orders of a worker-service hotline, from call to return visit.",
        lifespan=lifespan,
    )
    app.state.backoffice = state
    errors.install(app)
    app.include_router(api_router)
    web.install(app)
    app.add_middleware(
        InFlightLimit, limit=settings.web_max_in_flight, exempt_suffixes=STREAM_SUFFIXES
    )
    return app


def _keep_statistics(settings: Settings) -> asyncio.Task[None] | None:
    if settings.sqlite_path is None or settings.sqlite_analyze_interval_s == 0:
        return None
    return asyncio.create_task(_refresh_statistics(settings, settings.sqlite_analyze_interval_s))


async def _refresh_statistics(settings: Settings, every_s: int) -> None:
    # Soon after start too: a new deployment's tables grow from empty, and SQLite plans
    # without statistics read a list of two statuses through the wrong index.
    delay = min(every_s, FIRST_ANALYZE_S)
    while True:
        await asyncio.sleep(delay)
        delay = every_s
        # Its own engine: the web engine stops statements after a few seconds, and ANALYZE
        # reads every index.
        engine = make_engine(settings)
        try:
            await run_in_threadpool(merge_text_indexes, engine)
            await run_in_threadpool(refresh_statistics, engine)
        except OperationalError as exc:  # locked or busy: the next round will do
            log.warning("could not merge SQLite's text indexes or refresh its statistics: %s", exc)
        finally:
            engine.dispose()


def load_secret_key(var_dir: Path) -> bytes:
    """The key that signs session cookies: generated once, kept beside the other secrets."""
    path = var_dir / SECRET_FILE
    if not path.exists():
        _create_secret(path)
    return bytes.fromhex(path.read_text().strip())


def _create_secret(path: Path) -> None:
    # Written aside and linked into place: two workers starting together agree on one key.
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(secrets.token_bytes(32).hex())
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()


def create_app_from_environment() -> FastAPI:
    """The app from `HOTLINE_*` settings, for uvicorn's `--factory` with several workers:
    `uvicorn --factory backoffice.app:create_app_from_environment --workers 2`."""
    from hotline.settings import load_settings

    return create_app(load_settings(), freeze_gc=True)
