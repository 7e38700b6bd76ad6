"""AMI actions through asterisk-ami: one short session per command-line action."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from asterisk.ami import AMIClient, SimpleAction

from hotline.errors import DependencyDown

# Every AMI action name Hotline sends, in one place.
RELOAD = "Reload"
ORIGINATE = "Originate"
PING = "Ping"
SHOW_CONTACTS = "PJSIPShowContacts"
SHOW_CHANNELS = "CoreShowChannels"


class AmiError(DependencyDown):
    """Asterisk refused an AMI action or could not be reached."""


def login(host: str, port: int, user: str, secret: str, timeout: float = 5) -> AMIClient:
    """A logged-in client; the caller disconnects it."""
    client = AMIClient(address=host, port=port, timeout=timeout)
    try:
        response = client.login(username=user, secret=secret).response
    except OSError as exc:
        raise AmiError(
            f"AMI at {host}:{port} is not reachable ({exc}): is Asterisk running?"
        ) from None
    if response is None or response.is_error():
        client.disconnect()
        raise AmiError(
            f"AMI login as {user!r} failed: re-render the config (hotline asterisk render)"
        )
    return client


@contextmanager
def ami_session(
    host: str, port: int, user: str, secret: str, timeout: float = 5
) -> Iterator[AMIClient]:
    client = login(host, port, user, secret, timeout)
    try:
        yield client
    finally:
        try:
            client.logoff()
        finally:
            client.disconnect()


def send(client: AMIClient, action: str, **fields: Any) -> dict[str, str]:
    """Send one action and return the response's keys, raising AmiError on an error response."""
    response = client.send_action(SimpleAction(action, **fields)).response
    if response is None:
        raise AmiError(f"AMI action {action} got no response")
    if response.is_error():
        raise AmiError(f"AMI action {action} failed: {response.keys.get('Message', '')}")
    return dict(response.keys)
