"""pyst2's AGI over a FastAGI socket: no signal handler, no stderr chatter, typed hangups."""

from __future__ import annotations

import io
from typing import Any, TextIO

from asterisk.agi import (
    AGI,
    AGIAppError,
    AGIError,
    AGIHangup,
    AGIInvalidCommand,
    AGIResultHangup,
    AGIUnknownError,
    AGIUsageError,
    re_code,
    re_kv,
)

__all__ = ["AGIAppError", "AGIError", "AGIHangup", "ChannelGone", "SocketAGI"]


class ChannelGone(AGIHangup):  # type: ignore[misc]
    """The caller hung up or Asterisk closed the connection."""


class _Discard(io.TextIOBase):
    def write(self, s: str) -> int:
        return len(s)


class SocketAGI(AGI):  # type: ignore[misc]
    """AGI over any pair of text streams.

    pyst2's constructor installs a SIGHUP handler (only legal in the main thread, and meaningless
    for FastAGI, where Asterisk sends 'HANGUP' on the socket instead) and echoes every line to
    stderr; this subclass keeps pyst2's command API and replaces those two parts.
    """

    def __init__(self, rfile: TextIO, wfile: TextIO) -> None:
        self.stdin = rfile
        self.stdout = wfile
        self.stderr = _Discard()
        self._got_sighup = False
        self.env: dict[str, str] = {}
        self._read_env()

    def _read_env(self) -> None:
        while True:
            line = self.stdin.readline()
            if not line:
                raise ChannelGone("connection closed before the AGI environment")
            line = line.strip()
            if not line:
                return
            key, _, value = line.partition(":")
            self.env[key.strip()] = value.strip()

    def send_command(self, command: str, *args: Any) -> None:
        text = " ".join([command.strip(), *map(str, args)]).strip()
        self.stdout.write(text + "\n")
        self.stdout.flush()

    def execute(self, command: str, *args: Any) -> dict[str, tuple[str, str]]:
        try:
            self.send_command(command, *args)
        except (BrokenPipeError, ConnectionError, ValueError) as exc:
            raise ChannelGone(f"connection lost sending {command}") from exc
        return self.get_result()

    def get_result(self, stdin: object = None) -> dict[str, tuple[str, str]]:
        line = self._read_reply_line()
        match = re_code.search(line)
        code = int(match.group(1)) if match and match.group(1) else 0
        response = match.group(2) if match else ""
        if code == 200:
            return self._parse_200(response)
        if code == 511:
            raise ChannelGone("command on a dead channel (511)")
        if code == 510:
            raise AGIInvalidCommand(response)
        if code == 520:
            raise AGIUsageError(self._read_usage(line))
        raise AGIUnknownError(code, f"unexpected AGI reply {line!r}")

    def _read_reply_line(self) -> str:
        while True:
            try:
                raw = self.stdin.readline()
            except (ConnectionError, ValueError, OSError) as exc:
                raise ChannelGone("connection lost") from exc
            if not raw:
                raise ChannelGone("Asterisk closed the AGI connection")
            line = raw.strip()
            if line == "HANGUP":
                # Asterisk tells FastAGI about a hangup in-band; the reply to our command follows.
                self._got_sighup = True
                continue
            return line

    def _channel_alive(self) -> bool:
        try:
            self.send_command("CHANNEL STATUS")
            line = self._read_reply_line()
        except ChannelGone:
            return False
        return line.startswith("200") and not self._got_sighup

    def _read_usage(self, first: str) -> str:
        lines = [first]
        while not lines[-1].startswith("520 "):
            lines.append(self._read_reply_line())
        return "\n".join(lines)

    @property
    def hung_up(self) -> bool:
        return self._got_sighup

    def _parse_200(self, response: str) -> dict[str, tuple[str, str]]:
        result: dict[str, tuple[str, str]] = {"result": ("", "")}
        for key, value, data in re_kv.findall(response):
            result[key] = (value, data)
            if data == "hangup":
                raise AGIResultHangup("caller hung up during the command")
            if key == "result" and value == "-1":
                # -1 means 'failed' or 'hung up'; ask whether the channel still lives.
                if self._got_sighup or not self._channel_alive():
                    raise ChannelGone("the caller hung up")
                raise AGIAppError(f"command failed: {response}")
        return result
