"""POST /api/v1/calls/{id}/lawyer: who may, and clear refusals (real Redis ACD, both databases).

The calls themselves (consult, conference, transfer on the real PBX) are in
tests/integration/test_lawyer_calls.py; here Asterisk is not running, which the API reports.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from fastapi.testclient import TestClient

from acd.model import Agent, AgentState, Role, WaitingCall
from acd.store import AcdStore
from backoffice.app import create_app
from backoffice.live.board import binding_key
from tests.backoffice.conftest import SECRET, Backend

pytestmark = pytest.mark.integration

SEAT, CALL = "1083", "1796000000.83"


@pytest.fixture
def on_call(
    db: Backend, redis_url: str, refused_port: int
) -> Iterator[tuple[TestClient, AcdStore]]:
    """Seat 1083 talking on call 1796000000.83 in the ACD, bound to the demo operator."""
    store = AcdStore(redis.Redis.from_url(redis_url, decode_responses=True))
    store.upsert_agent(Agent(SEAT, Role.OPERATOR, {"operator": 2}, AgentState.AVAILABLE,
                             registered=True))  # fmt: skip
    store.enqueue(WaitingCall(CALL, "calls_api_test", {"operator": 1}, enqueued_at=1.0))
    assert store.assign(CALL, SEAT) and store.set_state(SEAT, AgentState.ON_CALL)
    store.client.set(binding_key(db.users["operator"]), SEAT)
    # Asterisk is not running: nothing listens on this AMI port.
    settings = db.settings.model_copy(update={"redis_url": redis_url, "ami_port": refused_port})
    with TestClient(create_app(settings, engine=db.engine, secret_key=SECRET)) as client:
        yield client, store
    store.finish(CALL, SEAT)
    store.set_state(SEAT, AgentState.OFFLINE)
    store.client.delete(store.keys.agent(SEAT), binding_key(db.users["operator"]))
    store.client.hdel(store.keys.profiles(), SEAT)


def post(client: TestClient, db: Backend, user: str, call: str, **body: object) -> tuple[int, str]:
    reply = client.post(f"/api/v1/calls/{call}/lawyer", headers=db.headers[user], json=body)
    return reply.status_code, str(reply.json().get("detail", ""))


def test_only_the_operator_on_the_call_or_a_supervisor_gets_past_the_check(
    db: Backend, on_call: tuple[TestClient, AcdStore]
) -> None:
    client, store = on_call
    for user in ("lawyer", "handler", "viewer"):
        assert post(client, db, user, CALL, mode="consult")[0] == 403, user
    # Permitted, then refused by the PBX being down: nothing was changed in the ACD.
    for user in ("operator", "supervisor", "admin"):
        status, detail = post(client, db, user, CALL, mode="consult")
        assert status == 503 and "AMI" in detail, (user, detail)
    seat = store.get_agent(SEAT)
    assert seat is not None and seat.state is AgentState.ON_CALL
    assert store.get_call(f"{CALL}-lawyer") is None


def test_another_operator_may_not(db: Backend, on_call: tuple[TestClient, AcdStore]) -> None:
    client, store = on_call
    store.client.set(binding_key(db.users["operator"]), "1084")
    status, detail = post(client, db, "operator", CALL, mode="transfer")
    assert status == 403 and "only the operator on call" in detail


def test_unknown_calls_bad_modes_and_no_sign_in(
    db: Backend, on_call: tuple[TestClient, AcdStore]
) -> None:
    client, _ = on_call
    status, detail = post(client, db, "supervisor", "1796000000.99", mode="consult")
    assert status == 404 and "1796000000.99" in detail
    status, _ = post(client, db, "supervisor", CALL, mode="yell")
    assert status == 422
    assert post(client, db, "supervisor", "not-a-call", mode="consult")[0] == 422
    reply = client.post(f"/api/v1/calls/{CALL}/lawyer", json={"mode": "consult"})
    assert reply.status_code == 401
