"""A fake Asterisk that speaks real FastAGI over a socket, scripted by the test."""

from __future__ import annotations

import socket
from collections.abc import Mapping


class FakeAsterisk:
    """Connects to a FastAGI server like Asterisk does and answers each command in turn."""

    def __init__(
        self, port: int, script: str = "ivr", env: Mapping[str, str] | None = None
    ) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.rfile = self.sock.makefile("r", encoding="utf-8", newline="\n")
        base = {
            "agi_network": "yes",
            "agi_network_script": script,
            "agi_request": f"agi://127.0.0.1:{port}/{script}",
            "agi_channel": "PJSIP/trunk-00000001",
            "agi_uniqueid": "1700000000.1",
            "agi_callerid": "13800138000",
        }
        base.update(env or {})
        self.send("".join(f"{k}: {v}\n" for k, v in base.items()) + "\n")
        self.commands: list[str] = []

    def send(self, text: str) -> None:
        self.sock.sendall(text.encode())

    def next_command(self) -> str:
        line = self.rfile.readline()
        self.commands.append(line.strip())
        return line.strip()

    def reply(self, text: str = "200 result=0") -> None:
        self.send(text + "\n")

    def answer_all(self, reply: str = "200 result=0", limit: int = 100) -> list[str]:
        """Answer every command until the server closes the connection."""
        seen = []
        for _ in range(limit):
            command = self.next_command()
            if not command:
                break
            seen.append(command)
            self.reply(reply)
        return seen

    def closed_by_server(self, timeout: float = 5) -> bool:
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(1) == b""
        except TimeoutError:
            return False

    def close(self) -> None:
        self.rfile.close()
        self.sock.close()
