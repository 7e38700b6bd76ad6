"""The FastAGI server: one thread per call, routed by script path (agi://host/ivr -> handler)."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from hotline.errors import ConfigError
from hotline.logs import event
from ivr import channel_vars as cv
from ivr.agi import AGIError, AGIHangup, ChannelGone, SocketAGI

log = logging.getLogger("hotline.agi")

ACCEPT_BACKLOG = 512
# Longest an AGI command may block (a queue wait with hold music is the longest).
READ_TIMEOUT_S = 4 * 3600


@dataclass
class AgiCall:
    """One call as the handler sees it."""

    agi: SocketAGI
    script: str
    params: dict[str, str]
    started: float = field(default_factory=time.monotonic)

    @property
    def env(self) -> Mapping[str, str]:
        return self.agi.env

    @property
    def uniqueid(self) -> str:
        return self.agi.env.get("agi_uniqueid", "")

    def elapsed_ms(self) -> int:
        return int((time.monotonic() - self.started) * 1000)


Handler = Callable[[AgiCall], None]


def parse_script(network_script: str) -> tuple[str, dict[str, str]]:
    """'ivr?lang=en' -> ('ivr', {'lang': 'en'}); the route is the path without slashes."""
    parts = urlsplit("//x/" + network_script.lstrip("/"))
    return parts.path.strip("/"), dict(parse_qsl(parts.query))


class FastAgiServer:
    """Accepts Asterisk's FastAGI connections and runs the handler for the script path."""

    def __init__(
        self,
        routes: Mapping[str, Handler],
        host: str = "127.0.0.1",
        port: int = 4573,
        max_calls: int = 1000,
        drain_s: float = 30.0,
    ) -> None:
        self.routes = dict(routes)
        self.host, self.port = host, port
        self.drain_s = drain_s
        self._slots = threading.BoundedSemaphore(max_calls)
        self._active: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._listener: socket.socket | None = None
        self._acceptor: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        assert self._listener is not None, "server not started"
        host, port = self._listener.getsockname()[:2]
        return str(host), int(port)

    @property
    def active_calls(self) -> int:
        with self._lock:
            return len(self._active)

    def start(self) -> None:
        """Start listening (again, after a shutdown)."""
        self._stopping.clear()
        self._listener = _listen(self.host, self.port)
        self._acceptor = threading.Thread(target=self._accept_loop, name="agi-accept", daemon=True)
        self._acceptor.start()
        event(
            log, "agi.listening", host=self.host, port=self.address[1], routes=sorted(self.routes)
        )

    def shutdown(self) -> None:
        """Stop taking calls, let running calls finish for up to drain_s, then cut them."""
        self._stopping.set()
        if self._listener is not None:
            # shutdown() wakes the thread blocked in accept(); close() alone does not on Linux.
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
        if self._acceptor is not None:
            self._acceptor.join(timeout=5)
        with self._idle:
            self._idle.wait_for(lambda: not self._active, timeout=self.drain_s)
            leftover = list(self._active)
        for conn in leftover:
            _close_quietly(conn)
        event(log, "agi.stopped", cut_calls=len(leftover))

    # ------------------------------------------------------------------ connections
    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                if self._stopping.is_set():
                    return
                time.sleep(0.01)  # EMFILE and friends: back off instead of spinning
                continue
            self._spawn(conn)

    def _spawn(self, conn: socket.socket) -> None:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.settimeout(READ_TIMEOUT_S)
        with self._lock:
            self._active.add(conn)
        threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        rfile = conn.makefile("r", encoding="utf-8", errors="replace", newline="\n")
        wfile = conn.makefile("w", encoding="utf-8", newline="\n")
        try:
            self._run_call(rfile, wfile)
        finally:
            for stream in (rfile, wfile):
                _close_quietly(stream)
            _close_quietly(conn)
            with self._idle:
                self._active.discard(conn)
                self._idle.notify_all()

    def _run_call(self, rfile: object, wfile: object) -> None:
        try:
            agi = SocketAGI(rfile, wfile)  # type: ignore[arg-type]
        except (ChannelGone, OSError, ValueError):
            event(log, "call.gone_before_start")
            return
        script, params = parse_script(agi.env.get("agi_network_script", ""))
        call = AgiCall(agi=agi, script=script, params=params)
        if not self._slots.acquire(blocking=False):
            _refuse(call, cv.RESULT_OVERLOAD, "call.overload")
            return
        try:
            run_call(self.routes, call)
        finally:
            self._slots.release()


def run_call(routes: Mapping[str, Handler], call: AgiCall) -> None:
    """Run the handler for the call's script; a hangup or a bug ends this call only."""
    handler = routes.get(call.script)
    if handler is None:
        _refuse(call, cv.RESULT_ERROR, "call.unknown_script")
        return
    fields: dict[str, Any] = {"uniqueid": call.uniqueid, "script": call.script}
    event(log, "call.start", **fields, channel=call.env.get("agi_channel", ""))
    try:
        handler(call)
    except (ChannelGone, AGIHangup) as exc:
        event(log, "call.hangup", **fields, ms=call.elapsed_ms(), detail=str(exc))
    except Exception as exc:  # a bug must cost one call, not the server
        error = f"{type(exc).__name__}: {exc}"
        event(log, "call.error", level=logging.ERROR, **fields, error=error)
        _try_set(call.agi, cv.IVR_RESULT, cv.RESULT_ERROR)
    else:
        event(log, "call.end", **fields, ms=call.elapsed_ms())


def _refuse(call: AgiCall, result: str, name: str) -> None:
    event(log, name, level=logging.WARNING, uniqueid=call.uniqueid, script=call.script)
    _try_set(call.agi, cv.IVR_RESULT, result)


def _listen(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise ConfigError(
            f"port {port}/tcp on {host} is taken by another program: "
            "stop it or set HOTLINE_AGI_PORT"
        ) from None
    sock.listen(ACCEPT_BACKLOG)
    return sock


def _try_set(agi: SocketAGI, name: str, value: str) -> None:
    # If the channel is already gone, the dialplan's fallback covers it.
    with contextlib.suppress(AGIError, OSError, ValueError):
        agi.set_variable(name, value)


def _close_quietly(thing: object) -> None:
    with contextlib.suppress(OSError):
        thing.close()  # type: ignore[attr-defined]
