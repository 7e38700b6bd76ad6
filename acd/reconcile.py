"""Re-sync the ACD's calls with the channels Asterisk really has (after a restart or a crash).

When Asterisk or a FastAGI server dies, callers it held can't hang up through their AGI
thread, so their calls would wait in Redis forever and their seats would stay ringing or
on a call. After every AMI (re)connection the listener lists the live channels and hands the
unique ids here: a call whose channel is gone is removed (waiting or ringing) or finished
(answered), and its seat is free again.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping

from acd.model import AgentState
from acd.store import AcdStore
from hotline.logs import event

log = logging.getLogger("hotline.acd")


def gone_calls(
    known: Mapping[str, float], live_channels: Collection[str], listed_at: float
) -> list[str]:
    """Calls (id -> enqueued_at) with no live channel. A call enqueued after the channel list
    was asked for may be missing from it only because it is new, so it is kept."""
    return sorted(c for c, at in known.items() if c not in live_channels and at < listed_at)


def reconcile_calls(store: AcdStore, live_channels: Iterable[str], listed_at: float) -> list[str]:
    """Drop the ACD's calls whose channel is gone; the call ids dropped. A caller who hung up
    for a callback has no channel on purpose and keeps their place."""
    live = set(live_channels) | store.kept_callbacks(listed_at)
    known = {c.call.call_id: c.call.enqueued_at for c in store.live_calls()}
    dropped = []
    for call_id in gone_calls(known, live, listed_at):
        if _drop(store, call_id):
            dropped.append(call_id)
    if dropped:
        event(log, "acd.reconciled", level=logging.WARNING, dropped=dropped)
    return dropped


def _drop(store: AcdStore, call_id: str) -> bool:
    queued = store.get_call(call_id)
    if queued is None:
        return False
    if store.remove_call(call_id):
        return True
    # Answered: the conversation ended with the channel; nobody is left to run its wrap-up.
    seat = queued.agent_id
    if seat is None or not store.finish(call_id, seat):
        return False
    agent = store.get_agent(seat)
    if agent is not None and agent.state is AgentState.WRAP_UP:
        store.set_state(seat, AgentState.AVAILABLE)
        store.try_match_agent(seat)
    return True
