"""ACD state in Redis: seats, waiting calls and the atomic offer of one call to one seat.

Every change that touches a seat or a call runs as one Lua script, so no seat can be offered
two calls and no call two seats however many processes route at once. Routing choices come
from the pure `acd.policy`; this module only loads candidates and commits the choice.
Event-driven: call `try_match_call` when a call arrives and `try_match_agent` when a seat
frees up; nothing here polls.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, cast

import redis

from acd.keys import AcdKeys, enqueued_us, queue_member, queue_score
from acd.model import (
    MIN_LEVEL,
    Agent,
    AgentState,
    CallStatus,
    QueueRules,
    ReleaseOutcome,
    Role,
    WaitingCall,
    language_skill,
    rules_from_json,
    rules_to_json,
)
from acd.policy import (
    call_rank,
    choose_agent,
    eligible,
    requirement_at,
    rules_for,
    state_after_release,
)

Client = redis.Redis


class Refusal(StrEnum):
    """Why a store operation changed nothing."""

    NO_AGENT = "no_agent"
    NO_CALL = "no_call"
    CALL_EXISTS = "call_exists"
    AGENT_NOT_AVAILABLE = "agent_not_available"
    AGENT_UNREGISTERED = "agent_unregistered"
    CALL_NOT_WAITING = "call_not_waiting"
    NOT_OFFERED_TO_AGENT = "not_offered_to_agent"
    AGENT_NOT_RINGING = "agent_not_ringing"
    CALL_CONNECTED = "call_connected"
    HOLDS_CALL = "holds_call"
    NO_CALL_HELD = "no_call_held"
    # The seat's skills or the call's offer changed between our read and the script; the
    # store re-reads and retries, so a caller sees this only under sustained churn.
    STALE = "stale"


@dataclass(frozen=True, slots=True)
class Result:
    """What a store operation did; truthy when it changed state."""

    ok: bool
    reason: str = "ok"

    def __bool__(self) -> bool:
        return self.ok


@dataclass(frozen=True, slots=True)
class Assignment:
    call_id: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class QueuedCall:
    call: WaitingCall
    status: CallStatus
    agent_id: str | None


def connect(url: str) -> Client:
    """The one way to get a Redis client for the ACD (strings in, strings out)."""
    return redis.Redis.from_url(url, decode_responses=True)


# --- Lua ----------------------------------------------------------------------------------
# Keys arrive in KEYS (formats live in acd.keys only); ARGV[1] agent id, ARGV[2] the seat's
# skills JSON as the caller read it, ARGV[3] now, ARGV[4] events stream cap.

_PRELUDE = """
local function event(...)
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], '*', ...)
end

local function keys_from(first, count)
  local out = {}
  for i = first, first + count - 1 do out[#out + 1] = KEYS[i] end
  return out
end

-- Make the free-seat indexes agree with the seat's hash: listed iff available + registered.
local function reindex(old_keys, new_keys)
  redis.call('ZREM', KEYS[2], ARGV[1])
  for _, k in ipairs(old_keys) do redis.call('ZREM', k, ARGV[1]) end
  local f = redis.call('HMGET', KEYS[1], 'state', 'registered', 'idle_since')
  if f[1] == 'available' and f[2] == '1' then
    redis.call('ZADD', KEYS[2], f[3], ARGV[1])
    for _, k in ipairs(new_keys) do redis.call('ZADD', k, f[3], ARGV[1]) end
  end
end

-- The skill keys were derived from the skills the caller read; refuse if they changed.
local function seat_stale()
  local skills = redis.call('HGET', KEYS[1], 'skills')
  if not skills then return 'no_agent' end
  if skills ~= ARGV[2] then return 'stale' end
  return nil
end
"""

# Seat + call scripts: KEYS agent, avail:all, events, call, queue, offer, routing, then the
# seat's skill keys; ARGV 5 call id, 6 queue name.
_CALL_PRELUDE = (
    _PRELUDE
    + """
local SKILLS = keys_from(8, #KEYS - 7)

local function call_stale()
  local queue = redis.call('HGET', KEYS[4], 'queue')
  if not queue then return 'no_call' end
  if queue ~= ARGV[6] then return 'stale' end
  return nil
end
"""
)

# ARGV 7 offer list TTL (ms). Returns {1,'ok'} or {0, reason}; on refusal nothing changed.
ASSIGN_LUA = (
    _CALL_PRELUDE
    + """
local err = seat_stale() or call_stale()
if err then return {0, err} end
local seat = redis.call('HMGET', KEYS[1], 'state', 'registered')
if seat[1] ~= 'available' then return {0, 'agent_not_available'} end
if seat[2] ~= '1' then return {0, 'agent_unregistered'} end
local call = redis.call('HMGET', KEYS[4], 'status', 'member')
if call[1] ~= 'waiting' then return {0, 'call_not_waiting'} end
redis.call('HSET', KEYS[1], 'state', 'ringing', 'call', ARGV[5], 'reason', '',
           'state_since', ARGV[3])
redis.call('HSET', KEYS[4], 'status', 'offered', 'agent', ARGV[1], 'offered_at', ARGV[3])
redis.call('ZREM', KEYS[5], call[2])
reindex(SKILLS, SKILLS)
-- Exactly one seat id in the handoff list: a leftover from an earlier offer must not be popped.
redis.call('DEL', KEYS[6])
redis.call('RPUSH', KEYS[6], ARGV[1])
redis.call('PEXPIRE', KEYS[6], ARGV[7])
event('type', 'offer', 'call', ARGV[5], 'agent', ARGV[1])
return {1, 'ok'}
"""
)

# ARGV 7 seat's next state, 8 '1' to restart its idle clock, 9 reason, 10 '1' to count the
# miss, 11 misses in a row that pause the seat. Counting here, not in Python, keeps a release
# one round trip; the rule is acd.policy.state_after_release's.
RELEASE_LUA = (
    _CALL_PRELUDE
    + """
local err = seat_stale() or call_stale()
if err then return {0, err} end
local call = redis.call('HMGET', KEYS[4], 'status', 'agent', 'member', 'score')
if call[1] ~= 'offered' or call[2] ~= ARGV[1] then return {0, 'not_offered_to_agent'} end
local seat = redis.call('HMGET', KEYS[1], 'state', 'call')
if seat[1] ~= 'ringing' or seat[2] ~= ARGV[5] then return {0, 'agent_not_ringing'} end
-- Back where it was: same score and member, so the caller keeps its place in line.
redis.call('HSET', KEYS[4], 'status', 'waiting', 'agent', '', 'offered_at', '')
redis.call('ZADD', KEYS[5], call[4], call[3])
redis.call('DEL', KEYS[6])
local target, fresh = ARGV[7], ARGV[8]
if ARGV[10] == '1' then
  local misses = redis.call('HINCRBY', KEYS[1], 'misses', 1)
  if misses >= tonumber(ARGV[11]) then
    target, fresh = 'paused', '0'
    redis.call('HSET', KEYS[1], 'misses', 0)
  else
    target, fresh = 'available', '1'
  end
end
redis.call('HSET', KEYS[1], 'state', target, 'call', '', 'reason', ARGV[9],
           'state_since', ARGV[3])
if fresh == '1' then redis.call('HSET', KEYS[1], 'idle_since', ARGV[3]) end
reindex(SKILLS, SKILLS)
event('type', 'release', 'call', ARGV[5], 'agent', ARGV[1], 'reason', ARGV[9])
return {1, 'ok'}
"""
)

# ARGV 7 seat's next state (wrap_up, or available when the queue has no wrap-up time).
FINISH_LUA = (
    _CALL_PRELUDE
    + """
local err = seat_stale() or call_stale()
if err then return {0, err} end
local call = redis.call('HMGET', KEYS[4], 'agent', 'member')
local seat_call = redis.call('HGET', KEYS[1], 'call')
if call[1] ~= ARGV[1] or seat_call ~= ARGV[5] then return {0, 'not_offered_to_agent'} end
redis.call('DEL', KEYS[4], KEYS[6])
redis.call('ZREM', KEYS[5], call[2])
redis.call('HDEL', KEYS[7], ARGV[5])
redis.call('HSET', KEYS[1], 'state', ARGV[7], 'call', '', 'reason', '', 'state_since', ARGV[3],
           'misses', 0)
if ARGV[7] == 'available' then redis.call('HSET', KEYS[1], 'idle_since', ARGV[3]) end
reindex(SKILLS, SKILLS)
event('type', 'finish', 'call', ARGV[5], 'agent', ARGV[1])
return {1, 'ok'}
"""
)

# ARGV 1 is '' when the call was read as waiting. Returns {1, status the call had}.
ABANDON_LUA = (
    _CALL_PRELUDE
    + """
local err = call_stale()
if err then return {0, err} end
local call = redis.call('HMGET', KEYS[4], 'status', 'agent', 'member')
if (call[2] or '') ~= ARGV[1] then return {0, 'stale'} end
if ARGV[1] ~= '' then
  err = seat_stale()
  if err == 'stale' then return {0, err} end
  local seat = redis.call('HMGET', KEYS[1], 'state', 'call')
  if not err and seat[2] == ARGV[5] then
    if seat[1] ~= 'ringing' then return {0, 'call_connected'} end
    -- idle_since untouched: the seat never got to talk, so it keeps its place.
    redis.call('HSET', KEYS[1], 'state', 'available', 'call', '', 'reason', 'caller_abandoned',
               'state_since', ARGV[3])
    reindex(SKILLS, SKILLS)
  end
end
redis.call('ZREM', KEYS[5], call[3])
redis.call('DEL', KEYS[4], KEYS[6])
redis.call('HDEL', KEYS[7], ARGV[5])
event('type', 'abandon', 'call', ARGV[5], 'agent', ARGV[1])
return {1, call[1]}
"""
)

# KEYS agent, avail:all, events, profiles, old skill keys..., new skill keys...;
# ARGV 5 number of old keys, 6 role, 7 skills JSON, 8 registered, 9 state, 10 idle_since,
# 11 profile JSON.
UPSERT_AGENT_LUA = (
    _PRELUDE
    + """
local current = redis.call('HGET', KEYS[1], 'skills') or ''
if current ~= ARGV[2] then return {0, 'stale'} end
local n_old = tonumber(ARGV[5])
local old = keys_from(5, n_old)
local new = keys_from(5 + n_old, #KEYS - 4 - n_old)
redis.call('HSET', KEYS[1], 'role', ARGV[6], 'skills', ARGV[7], 'registered', ARGV[8])
local held = redis.call('HGET', KEYS[1], 'call')
local live = held and held ~= ''
if not live then
  redis.call('HSET', KEYS[1], 'state', ARGV[9], 'idle_since', ARGV[10], 'call', '',
             'reason', '', 'state_since', ARGV[3])
end
redis.call('HSET', KEYS[4], ARGV[1], ARGV[11])
reindex(old, new)
event('type', 'agent', 'agent', ARGV[1])
if live then return {1, 'kept_live_state'} end
return {1, 'ok'}
"""
)

# KEYS agent, avail:all, events, skill keys...; ARGV 5 state, 6 reason.
SET_STATE_LUA = (
    _PRELUDE
    + """
local err = seat_stale()
if err then return {0, err} end
local seat = redis.call('HMGET', KEYS[1], 'state', 'call')
local held = seat[2] and seat[2] ~= ''
local target = ARGV[5]
-- With a call, a seat may only answer it; finish/release end it. Without one it can't ring.
if held and target ~= 'on_call' and target ~= seat[1] then return {0, 'holds_call'} end
if not held and (target == 'ringing' or target == 'on_call') then
  return {0, 'no_call_held'}
end
redis.call('HSET', KEYS[1], 'state', target, 'reason', ARGV[6], 'state_since', ARGV[3])
if target == 'available' and seat[1] ~= 'available' then
  redis.call('HSET', KEYS[1], 'idle_since', ARGV[3])
end
local skills = keys_from(4, #KEYS - 3)
reindex(skills, skills)
event('type', 'state', 'agent', ARGV[1], 'state', target, 'reason', ARGV[6])
return {1, 'ok'}
"""
)

# KEYS agent, avail:all, events, skill keys...; ARGV 5 '1' or '0'.
SET_REGISTERED_LUA = (
    _PRELUDE
    + """
local err = seat_stale()
if err then return {0, err} end
redis.call('HSET', KEYS[1], 'registered', ARGV[5])
local skills = keys_from(4, #KEYS - 3)
reindex(skills, skills)
event('type', 'registered', 'agent', ARGV[1], 'registered', ARGV[5])
return {1, 'ok'}
"""
)

# KEYS agent, avail:all, events, profiles, skill keys...; refuses a seat holding a call.
REMOVE_AGENT_LUA = (
    _PRELUDE
    + """
local err = seat_stale()
if err then return {0, err} end
local held = redis.call('HGET', KEYS[1], 'call')
if held and held ~= '' then return {0, 'holds_call'} end
redis.call('ZREM', KEYS[2], ARGV[1])
for _, k in ipairs(keys_from(5, #KEYS - 4)) do redis.call('ZREM', k, ARGV[1]) end
redis.call('HDEL', KEYS[4], ARGV[1])
redis.call('DEL', KEYS[1])
event('type', 'removed', 'agent', ARGV[1])
return {1, 'ok'}
"""
)

# KEYS call, queue, queues, events, routing; ARGV 1 queue, 2 score, 3 member, 4 events cap,
# 5 call id, 6 routing JSON, 7.. the call hash's field/value pairs.
ENQUEUE_LUA = """
if redis.call('EXISTS', KEYS[1]) == 1 then return {0, 'call_exists'} end
redis.call('HSET', KEYS[1], unpack(ARGV, 7))
redis.call('HSET', KEYS[5], ARGV[5], ARGV[6])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
redis.call('SADD', KEYS[3], ARGV[1])
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[4], '*', 'type', 'enqueue', 'call', ARGV[5])
return {1, 'ok'}
"""

_CALL_GONE = frozenset({Refusal.NO_CALL, Refusal.CALL_NOT_WAITING})
_SEAT_GONE = frozenset({Refusal.NO_AGENT, Refusal.AGENT_NOT_AVAILABLE, Refusal.AGENT_UNREGISTERED})
_HASH_ONLY_STATES = frozenset({AgentState.RINGING, AgentState.ON_CALL})
_RULES_REFRESH_S = 1.0
_FIRST_PAGE = 16  # most decisions end on the first page; later pages grow fourfold
_MAX_PAGE = 1024

Prepared = tuple[list[str], list[Any]]
Event = tuple[str, dict[str, str]]
Scored = list[tuple[str, float]]


def skills_json(skills: Mapping[str, int]) -> str:
    """Canonical text, so the scripts can tell 'unchanged' by string equality."""
    return json.dumps(dict(sorted(skills.items())), separators=(",", ":"))


def _profile_json(agent: Agent) -> str:
    return json.dumps(
        {"role": agent.role.value, "skills": dict(sorted(agent.skills.items()))},
        separators=(",", ":"),
    )


def _routing_json(call: WaitingCall) -> str:
    fields = [
        call.queue,
        dict(sorted(call.required.items())),
        call.priority,
        call.language,
        call.enqueued_at,
    ]
    return json.dumps(fields, separators=(",", ":"))


def _agent_from(agent_id: str, h: Mapping[str, str]) -> Agent:
    return Agent(
        id=agent_id,
        role=Role(h["role"]),
        skills=json.loads(h["skills"]),
        state=AgentState(h["state"]),
        idle_since=float(h["idle_since"]),
        registered=h["registered"] == "1",
        current_call=h.get("call") or None,
    )


def _free_seat_from(agent_id: str, idle_since: float, profile: str) -> Agent:
    # Listed in a free-seat index means available and registered; the script re-checks.
    fields = json.loads(profile)
    return Agent(
        agent_id,
        Role(fields["role"]),
        fields["skills"],
        AgentState.AVAILABLE,
        idle_since,
        registered=True,
    )


def _queued_from(call_id: str, h: Mapping[str, str]) -> QueuedCall:
    call = WaitingCall(
        call_id=call_id,
        queue=h["queue"],
        required=json.loads(h["required"]),
        priority=int(h["priority"]),
        language=h["language"] or None,
        enqueued_at=float(h["enqueued_at"]),
    )
    return QueuedCall(call, CallStatus(h["status"]), h.get("agent") or None)


def _waiting_from(call_id: str, routing: str) -> WaitingCall:
    queue, required, priority, language, enqueued_at = json.loads(routing)
    return WaitingCall(call_id, queue, required, priority, language, enqueued_at)


def _result(reply: Sequence[Any]) -> Result:
    return Result(bool(reply[0]), str(reply[1]))


def _call_id_of(member: str) -> str:
    return member.split(":", 1)[1]


def _next_page(size: int) -> int:
    return min(size * 4, _MAX_PAGE)


class AcdStore:
    """Repository of seats and waiting calls, with atomic assignment (one client, any thread)."""

    def __init__(
        self,
        client: Client,
        rules_by_queue: Mapping[str, QueueRules] | None = None,
        *,
        keys: AcdKeys | None = None,
        clock: Callable[[], float] = time.time,
        offer_ttl_s: float = 120.0,
        events_maxlen: int = 10_000,
        max_attempts: int = 5,
        first_page: int = _FIRST_PAGE,
        no_answer_pause_after: int = 1,
    ) -> None:
        if no_answer_pause_after < 1:
            raise ValueError("no_answer_pause_after must be at least 1")
        self._pause_after = no_answer_pause_after
        if not client.get_connection_kwargs().get("decode_responses"):
            raise ValueError("AcdStore needs a client with decode_responses=True; use connect()")
        self._r = client
        self._rules = dict(rules_by_queue or {})
        self._rules_read_at = -_RULES_REFRESH_S
        self._k = keys or AcdKeys()
        self._clock = clock
        self._offer_ttl_ms = int(offer_ttl_s * 1000)
        self._events_maxlen = events_maxlen
        self._max_attempts = max_attempts
        self._first_page = first_page
        self._assign = client.register_script(ASSIGN_LUA)
        self._release = client.register_script(RELEASE_LUA)
        self._finish = client.register_script(FINISH_LUA)
        self._abandon = client.register_script(ABANDON_LUA)
        self._upsert = client.register_script(UPSERT_AGENT_LUA)
        self._set_state = client.register_script(SET_STATE_LUA)
        self._set_registered = client.register_script(SET_REGISTERED_LUA)
        self._enqueue = client.register_script(ENQUEUE_LUA)
        self._remove = client.register_script(REMOVE_AGENT_LUA)

    @classmethod
    def from_url(
        cls, url: str, rules_by_queue: Mapping[str, QueueRules] | None = None, **options: Any
    ) -> AcdStore:
        return cls(connect(url), rules_by_queue, **options)

    def configure(self, rules_by_queue: Mapping[str, QueueRules]) -> None:
        """Take these queues' rules from now on (the IVR's active flow names them), and share
        them through Redis with the processes that match seats without loading the flow (the
        AMI listener, the web desk, `hotline agent ready`)."""
        changed = {q: r for q, r in rules_by_queue.items() if self._rules.get(q) != r}
        self._rules.update(rules_by_queue)
        if changed:
            self._r.hset(self._k.rules(), mapping={q: rules_to_json(r) for q, r in changed.items()})

    def _current_rules(self) -> dict[str, QueueRules]:
        # Re-read at most once a second: a published flow reaches every process within that,
        # and a match costs no extra round trip the rest of the time.
        now = time.monotonic()
        if now - self._rules_read_at >= _RULES_REFRESH_S:
            self._rules_read_at = now
            shared = cast(dict[str, str], self._r.hgetall(self._k.rules()))
            for queue, text in shared.items():
                try:
                    self._rules[queue] = rules_from_json(text)
                except (ValueError, KeyError, TypeError):
                    continue  # a bad entry keeps the queue on what this process had
        return self._rules

    def rules(self, queue: str) -> QueueRules:
        return rules_for(self._current_rules(), queue)

    def keep_callback(self, call_id: str, until: float) -> None:
        """The caller hung up for a callback: the call has no channel on purpose until then."""
        self._r.zadd(self._k.kept_callbacks(), {call_id: until})

    def drop_kept_callback(self, call_id: str) -> None:
        self._r.zrem(self._k.kept_callbacks(), call_id)

    def kept_callbacks(self, now: float) -> set[str]:
        """Calls whose place is kept for a callback at ``now`` (expired ones are forgotten)."""
        key = self._k.kept_callbacks()
        self._r.zremrangebyscore(key, "-inf", f"({now}")
        return set(cast(list[str], self._r.zrange(key, 0, -1)))

    def configured(self, queue: str) -> QueueRules | None:
        """The queue's configured rules, None when it routes on defaults."""
        return self._current_rules().get(queue)

    @property
    def keys(self) -> AcdKeys:
        return self._k

    @property
    def client(self) -> Client:
        return self._r

    def events(self, after: str = "-", count: int | None = None) -> list[Event]:
        """Offer/release/finish/abandon/state notices in commit order (audit, wallboard)."""
        start = after if after == "-" else f"({after}"
        reply = self._r.xrange(self._k.events(), min=start, count=count)
        return cast("list[Event]", reply)

    # --- plumbing -------------------------------------------------------------------------
    # redis-py types replies as bytes | str; connect() guarantees str, these say so once.

    def _hget(self, key: str, name: str) -> str | None:
        return cast("str | None", self._r.hget(key, name))

    def _hgetall(self, key: str) -> dict[str, str]:
        return cast("dict[str, str]", self._r.hgetall(key))

    def _hmget(self, key: str, names: Sequence[str]) -> list[str | None]:
        return cast("list[str | None]", self._r.hmget(key, list(names))) if names else []

    def _zrange(self, key: str, start: int, stop: int) -> list[str]:
        return cast("list[str]", self._r.zrange(key, start, stop))

    def _now(self) -> str:
        return repr(float(self._clock()))

    def _retrying(
        self, script: Callable[..., Any], prepare: Callable[[], Prepared | Result]
    ) -> Result:
        """Run a script on a fresh read until what was read still holds (bounded)."""
        result = Result(False, Refusal.STALE)
        for _ in range(self._max_attempts):
            prepared = prepare()
            if isinstance(prepared, Result):
                return prepared
            result = _result(script(keys=prepared[0], args=prepared[1]))
            if result.reason != Refusal.STALE:
                return result
        return result

    def _seat_head(self, agent_id: str, raw_skills: str) -> Prepared:
        keys = [self._k.agent(agent_id), self._k.available(), self._k.events()]
        args = [agent_id, raw_skills, self._now(), self._events_maxlen]
        return keys, args

    def _skill_keys(self, raw_skills: str) -> list[str]:
        levels: dict[str, int] = json.loads(raw_skills or "{}")
        return [
            self._k.available_with(s, lv)
            for s, top in levels.items()
            for lv in range(MIN_LEVEL, top + 1)
        ]

    def _call_prepared(
        self, agent_id: str, raw_skills: str, call_id: str, queue: str, *extra: Any
    ) -> Prepared:
        keys, args = self._seat_head(agent_id, raw_skills)
        keys += [
            self._k.call(call_id),
            self._k.queue(queue),
            self._k.offer(call_id),
            self._k.routing(),
            *self._skill_keys(raw_skills),
        ]
        return keys, [*args, call_id, queue, *extra]

    def _read_pair(self, call_id: str, agent_id: str) -> tuple[str | None, str | None]:
        pipe = self._r.pipeline(transaction=False)
        pipe.hget(self._k.call(call_id), "queue")
        pipe.hget(self._k.agent(agent_id), "skills")
        queue, raw_skills = pipe.execute()
        return queue, raw_skills

    def _pair_prepared(self, call_id: str, agent_id: str, *extra: Any) -> Prepared | Result:
        queue, raw = self._read_pair(call_id, agent_id)
        if queue is None:
            return Result(False, Refusal.NO_CALL)
        if raw is None:
            return Result(False, Refusal.NO_AGENT)
        return self._call_prepared(agent_id, raw, call_id, queue, *extra)

    # --- seats ----------------------------------------------------------------------------

    def upsert_agent(self, agent: Agent) -> Result:
        """Create or update a seat's profile; its state too unless it holds a call right now.

        A seat holding a call keeps its live state (reason `kept_live_state`): ringing and
        talking are reached only through `assign`, never written from configuration.
        """
        if agent.state in _HASH_ONLY_STATES:
            raise ValueError(f"{agent.id}: a seat becomes {agent.state} only through assign")
        return self._retrying(self._upsert, lambda: self._upsert_prepared(agent))

    def _upsert_prepared(self, agent: Agent) -> Prepared:
        current = self._hget(self._k.agent(agent.id), "skills") or ""
        keys, args = self._seat_head(agent.id, current)
        old, new = self._skill_keys(current), self._skill_keys(skills_json(agent.skills))
        keys += [self._k.profiles(), *old, *new]
        args += [
            len(old),
            agent.role.value,
            skills_json(agent.skills),
            "1" if agent.registered else "0",
            agent.state.value,
            repr(agent.idle_since),
            _profile_json(agent),
        ]
        return keys, args

    def set_state(self, agent_id: str, state: AgentState, reason: str | None = None) -> Result:
        """Move a seat (available, paused, offline, wrap_up; on_call to answer its offer)."""
        return self._retrying(
            self._set_state, lambda: self._seat_prepared(agent_id, state.value, reason or "")
        )

    def set_registered(self, agent_id: str, registered: bool) -> Result:
        """Softphone registration from AMI ContactStatus; unregistered seats are never offered."""
        flag = "1" if registered else "0"
        return self._retrying(self._set_registered, lambda: self._seat_prepared(agent_id, flag))

    def _seat_prepared(self, agent_id: str, *extra: str) -> Prepared | Result:
        raw = self._hget(self._k.agent(agent_id), "skills")
        if raw is None:
            return Result(False, Refusal.NO_AGENT)
        keys, args = self._seat_head(agent_id, raw)
        return keys + self._skill_keys(raw), [*args, *extra]

    def remove_agent(self, agent_id: str) -> Result:
        """Forget a seat (its profile and indexes); refused (`holds_call`) while it has a call."""
        return self._retrying(self._remove, lambda: self._remove_prepared(agent_id))

    def _remove_prepared(self, agent_id: str) -> Prepared | Result:
        raw = self._hget(self._k.agent(agent_id), "skills")
        if raw is None:
            return Result(False, Refusal.NO_AGENT)
        keys, args = self._seat_head(agent_id, raw)
        return [*keys, self._k.profiles(), *self._skill_keys(raw)], args

    def get_agent(self, agent_id: str) -> Agent | None:
        h = self._hgetall(self._k.agent(agent_id))
        return _agent_from(agent_id, h) if h else None

    def available_agents(self) -> list[Agent]:
        """Seats free to ring now, longest idle first (e.g. to build an in-memory Router)."""
        return self._free_seats(self._scored(self._k.available(), 0, -1))

    def _scored(self, key: str, start: int, stop: int) -> Scored:
        return cast("Scored", self._r.zrange(key, start, stop, withscores=True))

    def _free_seats(self, entries: Scored) -> list[Agent]:
        profiles = self._hmget(self._k.profiles(), [agent_id for agent_id, _ in entries])
        return [
            _free_seat_from(agent_id, idle, profile)
            for (agent_id, idle), profile in zip(entries, profiles, strict=True)
            if profile
        ]

    # --- calls ----------------------------------------------------------------------------

    def enqueue(self, call: WaitingCall) -> Result:
        """Put a caller in line. `enqueued_at` is kept to the microsecond (see acd.keys)."""
        at_us = enqueued_us(call.enqueued_at)
        call = replace(call, enqueued_at=at_us / 1_000_000)
        member, score = queue_member(at_us, call.call_id), queue_score(call.priority)
        fields: dict[str, str | int] = {
            "queue": call.queue,
            "required": skills_json(call.required),
            "priority": call.priority,
            "language": call.language or "",
            "enqueued_at": repr(call.enqueued_at),
            "member": member,
            "score": score,
            "status": CallStatus.WAITING.value,
            "agent": "",
            "offered_at": "",
        }
        keys = [
            self._k.call(call.call_id),
            self._k.queue(call.queue),
            self._k.queues(),
            self._k.events(),
            self._k.routing(),
        ]
        args: list[str | int] = [
            call.queue,
            score,
            member,
            self._events_maxlen,
            call.call_id,
            _routing_json(call),
        ]
        args += [item for pair in fields.items() for item in pair]
        return _result(self._enqueue(keys=keys, args=args))

    def get_call(self, call_id: str) -> QueuedCall | None:
        h = self._hgetall(self._k.call(call_id))
        return _queued_from(call_id, h) if h else None

    def _waiting(self, call_ids: Sequence[str]) -> list[WaitingCall | None]:
        routing = self._hmget(self._k.routing(), call_ids)
        return [_waiting_from(i, r) if r else None for i, r in zip(call_ids, routing, strict=True)]

    def waiting_calls(self, queue: str | None = None) -> list[WaitingCall]:
        """Calls still waiting, in serving order within each queue."""
        queues = [queue] if queue is not None else sorted(self._queue_names())
        ids = [_call_id_of(m) for q in queues for m in self._zrange(self._k.queue(q), 0, -1)]
        return [call for call in self._waiting(ids) if call is not None]

    def live_calls(self) -> list[QueuedCall]:
        """Every call the ACD holds: waiting, ringing a seat or connected."""
        ids = cast("list[str]", self._r.hkeys(self._k.routing()))
        pipe = self._r.pipeline(transaction=False)
        for call_id in ids:
            pipe.hgetall(self._k.call(call_id))
        rows = cast("list[dict[str, str]]", pipe.execute())
        return [_queued_from(i, h) for i, h in zip(ids, rows, strict=True) if h]

    def _queue_names(self) -> set[str]:
        return cast("set[str]", self._r.smembers(self._k.queues()))

    def remove_call(self, call_id: str) -> Result:
        """The caller hung up. A seat that was ringing for it goes back to available, keeping
        its place in the idle order; a call already answered is refused (use `finish`).
        On success `reason` is the status the call had (waiting or offered)."""
        return self._retrying(self._abandon, lambda: self._abandon_prepared(call_id))

    def _abandon_prepared(self, call_id: str) -> Prepared | Result:
        queue, agent_id = self._hmget(self._k.call(call_id), ["queue", "agent"])
        if queue is None:
            return Result(False, Refusal.NO_CALL)
        raw = self._hget(self._k.agent(agent_id), "skills") if agent_id else ""
        return self._call_prepared(agent_id or "", raw or "", call_id, queue)

    # --- assignment -----------------------------------------------------------------------

    def assign(self, call_id: str, agent_id: str) -> Result:
        """Atomically offer the waiting call to the free seat, or change nothing.

        On success the seat is ringing with the call, the call is offered to the seat, both
        are out of the free/waiting indexes, the seat id is pushed on `offer:{call_id}` and
        an `offer` event is added to the stream.
        """
        return self._retrying(
            self._assign, lambda: self._pair_prepared(call_id, agent_id, self._offer_ttl_ms)
        )

    def _assign_known(self, call: WaitingCall, agent: Agent) -> Result:
        # The chooser just read both; skip the re-read unless the script says it's stale.
        keys, args = self._call_prepared(
            agent.id, skills_json(agent.skills), call.call_id, call.queue, self._offer_ttl_ms
        )
        result = _result(self._assign(keys=keys, args=args))
        return self.assign(call.call_id, agent.id) if result.reason == Refusal.STALE else result

    def release(self, call_id: str, agent_id: str, outcome: ReleaseOutcome) -> Result:
        """The offer went unanswered: the call keeps its place in line; the seat moves on
        (no answer -> paused after `no_answer_pause_after` in a row, else available at the
        back of the idle order, as after a decline)."""
        state = state_after_release(outcome)
        fresh = "1" if state is AgentState.AVAILABLE else "0"
        count = "1" if outcome is ReleaseOutcome.NO_ANSWER else "0"
        args = (state.value, fresh, outcome.value, count, self._pause_after)
        return self._retrying(self._release, lambda: self._pair_prepared(call_id, agent_id, *args))

    def finish(self, call_id: str, agent_id: str) -> Result:
        """The conversation ended: the call is gone, the seat goes to wrap-up (or straight
        to available when its queue has no wrap-up time)."""
        return self._retrying(self._finish, lambda: self._finish_prepared(call_id, agent_id))

    def _finish_prepared(self, call_id: str, agent_id: str) -> Prepared | Result:
        queue = self._hget(self._k.call(call_id), "queue")
        if queue is None:
            return Result(False, Refusal.NO_CALL)
        wrap_up = self.rules(queue).wrap_up_s > 0
        state = AgentState.WRAP_UP if wrap_up else AgentState.AVAILABLE
        return self._pair_prepared(call_id, agent_id, state.value)

    def wait_for_offer(self, call_id: str, timeout_s: float) -> str | None:
        """Block (the call's AGI thread) until a seat is offered, or None on timeout."""
        if timeout_s <= 0:
            raise ValueError("timeout_s must be > 0: BLPOP 0 would wait forever")
        reply = cast("list[str] | None", self._r.blpop([self._k.offer(call_id)], timeout_s))
        return None if reply is None else reply[1]

    # --- routing --------------------------------------------------------------------------

    def try_match_call(self, call_id: str) -> Assignment | None:
        """A call arrived (or escalated): offer it to the best free seat, if any."""
        passed: set[str] = set()
        for _ in range(self._max_attempts):
            queued = self.get_call(call_id)
            if queued is None or queued.status is not CallStatus.WAITING:
                return None
            agent = self._best_agent(queued.call, self._clock(), passed)
            if agent is None:
                return None
            result = self._assign_known(queued.call, agent)
            if result:
                return Assignment(call_id, agent.id)
            if result.reason in _CALL_GONE:
                return None
            passed.add(agent.id)  # lost that seat to another router: take the next best
        return None

    def try_match_agent(self, agent_id: str) -> Assignment | None:
        """A seat became free: offer it the best call it may take, if any."""
        passed: set[str] = set()
        for _ in range(self._max_attempts):
            agent = self.get_agent(agent_id)
            if agent is None or not agent.can_take_calls:
                return None
            call = self._best_call(agent, self._clock(), passed)
            if call is None:
                return None
            result = self._assign_known(call, agent)
            if result:
                return Assignment(call.call_id, agent_id)
            if result.reason in _SEAT_GONE:
                return None
            passed.add(call.call_id)
        return None

    def _best_agent(self, call: WaitingCall, now: float, passed: set[str]) -> Agent | None:
        """`choose_agent` over the free seats, read page by page in idle order."""
        rules = rules_for(self._current_rules(), call.queue)
        index, page = self._narrowest_index(call, rules, now)
        best: Agent | None = None
        start, size = 0, self._first_page
        while True:
            seats = [a for a in self._free_seats(page) if a.id not in passed]
            best = choose_agent(call, [*seats, *([best] if best else [])], rules, now)
            if len(page) < size or (best is not None and best.idle_since < page[-1][1]):
                return best  # later pages are idle no longer than this page's last seat
            start, size = start + size, _next_page(size)
            page = self._scored(index, start, start + size - 1)

    def _narrowest_index(
        self, call: WaitingCall, rules: QueueRules, now: float
    ) -> tuple[str, Scored]:
        """The smallest free-seat index every candidate must be in, with its first page."""
        needs = dict(requirement_at(call, rules, now))
        if call.language is not None:
            lang = language_skill(call.language)
            needs[lang] = max(needs.get(lang, 0), MIN_LEVEL)
        indexes = [self._k.available_with(s, lv) for s, lv in needs.items()]
        indexes = indexes or [self._k.available()]
        pipe = self._r.pipeline(transaction=False)
        for index in indexes:
            pipe.zcard(index)
            pipe.zrange(index, 0, self._first_page - 1, withscores=True)
        replies = pipe.execute()
        at = min(range(len(indexes)), key=lambda n: int(replies[2 * n]))
        return indexes[at], replies[2 * at + 1]

    def _best_call(self, agent: Agent, now: float, passed: set[str]) -> WaitingCall | None:
        """`choose_call` over every queue: each queue read in serving order, pages pipelined
        across queues, until each queue yields its first call the seat may take."""
        starts = dict.fromkeys(sorted(self._queue_names()), 0)
        best: WaitingCall | None = None
        size = self._first_page
        while starts:
            pages = self._queue_pages(starts, size)
            feed = iter(self._waiting([i for page in pages.values() for i in page]))
            unread: list[str] = []
            for queue, page in pages.items():
                hit, done = self._first_taker([next(feed) for _ in page], agent, now, passed, best)
                best = hit or best
                if not done and len(page) == size:
                    unread.append(queue)
            starts, size = {q: starts[q] + size for q in unread}, _next_page(size)
        return best

    def _queue_pages(self, starts: Mapping[str, int], size: int) -> dict[str, list[str]]:
        pipe = self._r.pipeline(transaction=False)
        for queue, start in starts.items():
            pipe.zrange(self._k.queue(queue), start, start + size - 1)
        replies = pipe.execute()
        return {q: [_call_id_of(m) for m in r] for q, r in zip(starts, replies, strict=True)}

    def _first_taker(
        self,
        calls: Sequence[WaitingCall | None],
        agent: Agent,
        now: float,
        passed: set[str],
        best: WaitingCall | None,
    ) -> tuple[WaitingCall | None, bool]:
        """The first call in the page the seat may take; done once calls rank behind `best`,
        since everything after them in this queue does too."""
        for call in calls:
            if call is None or call.call_id in passed:
                continue
            if best is not None and call_rank(call) >= call_rank(best):
                return None, True
            if eligible(agent, call, self.rules(call.queue), now):
                return call, True
        return None, False

    def purge(self) -> int:
        """Delete every key under this store's prefix (tests and benchmarks only)."""
        removed = 0
        batch: list[str] = []
        for key in self._r.scan_iter(match=self._k.everything(), count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                removed += int(self._r.unlink(*batch))
                batch.clear()
        if batch:
            removed += int(self._r.unlink(*batch))
        return removed
