"""Follows Asterisk over AMI: seat softphone registrations go to the ACD; reconnects and re-syncs.

Asterisk restarting, or the listener starting late, loses events; so every (re)connection asks
for the full contact list and sets every seat's registration from it before following events,
then lists the live channels so the ACD can drop calls whose channel died with Asterisk.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from asterisk.ami import AMIClient, SimpleAction

from hotline.logs import event
from hotline.pbx.ami import PING, SHOW_CHANNELS, SHOW_CONTACTS, AmiError

log = logging.getLogger("hotline.ami")

SYNC_TIMEOUT_S = 5.0
KEEPALIVE_S = 2.0  # well inside the AMI client's 5 s read timeout (hotline.pbx.ami.login)
NO_CONTACTS = "No Contacts found"
_UP = frozenset({"Created", "Reachable", "NonQualified", "Updated"})
_DOWN = frozenset({"Removed", "Unreachable", "Unknown"})


class SeatPresence(Protocol):
    def set_registered(self, agent_id: str, registered: bool) -> object: ...


# Live channels' unique ids, and when they were asked for.
ChannelsSeen = Callable[[set[str], float], object]


def registered_from(status: str) -> bool | None:
    """A ContactStatus value -> registered, unregistered, or None for 'no news'."""
    if status in _UP:
        return True
    if status in _DOWN:
        return False
    return None


def aor_of(contact_object_name: str) -> str:
    """'1001;@5f3c…' (a ContactList ObjectName) -> '1001'."""
    return contact_object_name.split(";@", 1)[0]


class SeatContacts:
    """Which contacts of each seat are up; a seat is registered while any one of them is.

    Asterisk reports each contact apart. A softphone that registers again from a new address
    gets its new contact before the old one is removed (remove_existing), and a stale
    contact's qualify can fail after the phone has moved on: neither may take the seat away
    from the contact it has now.
    """

    def __init__(self) -> None:
        self._up: dict[str, set[str]] = {}

    def reset(self, listed: dict[str, set[str]]) -> None:
        self._up = {aor: set(uris) for aor, uris in listed.items()}

    def update(self, aor: str, uri: str, status: str) -> bool | None:
        """The seat's registration after this ContactStatus, or None for 'no news'."""
        up = registered_from(status)
        if up is None:
            return None
        uris = self._up.setdefault(aor, set())
        if up:
            uris.add(uri)
        else:
            uris.discard(uri)
        return bool(uris)

    def registered(self, aor: str) -> bool:
        return bool(self._up.get(aor))


class AmiListener:
    def __init__(
        self,
        connect: Callable[[], AMIClient],
        presence: SeatPresence,
        seats: Iterable[str],
        retry_s: float = 1.0,
        on_channels: ChannelsSeen | None = None,
    ) -> None:
        self.connect = connect
        self.on_channels = on_channels
        self.presence = presence
        self.seats = frozenset(seats)
        self.retry_s = retry_s
        self.synced = threading.Event()
        self._listed: dict[str, set[str]] = {}
        self._contacts = SeatContacts()
        self._list_done = threading.Event()
        self._channels: set[str] = set()
        self._channels_done = threading.Event()
        self.connections = 0  # logged-in sessions so far: 1 while nothing ever dropped

    def run(self, stop: threading.Event) -> None:
        """Follow Asterisk until `stop` is set, reconnecting whenever the connection drops."""
        while not stop.is_set():
            try:
                self._follow(stop)
            except (OSError, AmiError) as exc:
                event(log, "ami.unreachable", level=logging.WARNING, error=str(exc))
            self.synced.clear()
            stop.wait(self.retry_s)

    def _follow(self, stop: threading.Event) -> None:
        client = self.connect()
        self.connections += 1
        try:
            # asterisk-ami's reader thread ends on any error (a pack it can't parse, an
            # exception in a handler) without marking the client finished: mark it, so this
            # loop reconnects and re-syncs instead of waiting on a client that hears nothing.
            client.add_listener(on_disconnect=self._on_dropped)
            client.add_event_listener(self._on_event_safely)
            self._resync(client)
            ping_at = time.monotonic() + KEEPALIVE_S
            while not stop.is_set() and not client.finished.wait(0.5):
                if time.monotonic() >= ping_at:
                    self._keep_alive(client)
                    ping_at = time.monotonic() + KEEPALIVE_S
            event(log, "ami.disconnected", level=logging.WARNING)
        finally:
            client.disconnect()

    @staticmethod
    def _keep_alive(client: AMIClient) -> None:
        # asterisk-ami reads with the client's socket timeout: a quiet AMI (no calls, no
        # registrations) would end its reader thread and force a reconnect and a re-sync every
        # few seconds. A Ping answered within the timeout keeps bytes coming; an Asterisk that
        # is gone does not answer, the read times out and the loop reconnects as it should.
        try:
            client.send_action(SimpleAction(PING, ActionID=f"hotline-ping-{time.monotonic_ns()}"))
        except OSError:
            client.finished.set()

    def _resync(self, client: AMIClient) -> None:
        self._listed.clear()
        self._list_done.clear()
        response = client.send_action(SimpleAction(SHOW_CONTACTS, ActionID="hotline-sync")).response
        if response is None:
            raise AmiError(f"{SHOW_CONTACTS} got no answer")
        if response.is_error():
            # Asterisk answers an empty contact list with an error rather than an empty list.
            if response.keys.get("Message") != NO_CONTACTS:
                raise AmiError(f"{SHOW_CONTACTS} refused: {response.keys.get('Message', '')}")
        elif not self._list_done.wait(SYNC_TIMEOUT_S):
            raise AmiError("Asterisk did not finish listing contacts")
        self._contacts.reset(self._listed)
        for seat in sorted(self.seats):
            self.presence.set_registered(seat, self._contacts.registered(seat))
        if self.on_channels is not None:
            listed_at = time.time()
            self.on_channels(self._live_channels(client), listed_at)
        self.synced.set()
        event(log, "ami.synced", registered=sorted(self.seats & self._listed.keys()))

    def _live_channels(self, client: AMIClient) -> set[str]:
        self._channels.clear()
        self._channels_done.clear()
        action = SimpleAction(SHOW_CHANNELS, ActionID="hotline-channels")
        response = client.send_action(action).response
        if response is None or response.is_error():
            raise AmiError(f"{SHOW_CHANNELS} refused or got no answer")
        if not self._channels_done.wait(SYNC_TIMEOUT_S):
            raise AmiError("Asterisk did not finish listing channels")
        return set(self._channels)

    def _on_dropped(self, source: Any, error: Exception | None = None, **_: Any) -> None:
        event(log, "ami.reader_stopped", level=logging.WARNING, error=str(error))
        source.finished.set()

    def _on_event_safely(self, event: Any, **extra: Any) -> None:
        try:
            self.on_event(event, **extra)
        except Exception as exc:  # one odd event must not stop presence for every seat
            _log_event_error(getattr(event, "name", "?"), exc)

    def on_event(self, event: Any, **_: Any) -> None:
        keys: dict[str, str] = event.keys
        if keys.get("ActionID") == "hotline-channels":
            self._on_channel_listed(event.name, keys)
            return
        if event.name == "ContactList" and keys.get("ActionID") == "hotline-sync":
            if registered_from(keys.get("Status", "")):
                aor = aor_of(keys.get("ObjectName", ""))
                self._listed.setdefault(aor, set()).add(keys.get("Uri", ""))
        elif event.name == "ContactListComplete" and keys.get("ActionID") == "hotline-sync":
            self._list_done.set()
        elif event.name == "ContactStatus":
            self.on_contact_status(
                keys.get("AOR", ""), keys.get("URI", ""), keys.get("ContactStatus", "")
            )

    def _on_channel_listed(self, name: str, keys: dict[str, str]) -> None:
        if name == "CoreShowChannel":
            self._channels.add(keys.get("Uniqueid", ""))
        elif name == "CoreShowChannelsComplete":
            self._channels_done.set()

    def on_contact_status(self, aor: str, uri: str, status: str) -> None:
        if aor not in self.seats:
            return
        registered = self._contacts.update(aor, uri, status)
        if registered is not None:
            self.presence.set_registered(aor, registered)
            event(log, "ami.seat_registration", seat=aor, registered=registered, status=status,
                  contact=uri)  # fmt: skip


def _log_event_error(name: str, exc: Exception) -> None:
    event(log, "ami.event_failed", level=logging.ERROR, ami_event=name, error=repr(exc))
