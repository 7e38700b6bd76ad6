"""Supervisors see the call events the order intake or the worker gave up on (real Redis)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import redis
from fastapi.testclient import TestClient

from backoffice.app import create_app
from hotline.callevents.keys import CallEventKeys
from tests.backoffice.conftest import SECRET, Backend

pytestmark = pytest.mark.integration


@pytest.fixture
def app_client(db: Backend, redis_url: str) -> Iterator[tuple[TestClient, redis.Redis]]:
    settings = db.settings.model_copy(update={"redis_url": redis_url})
    r = redis.Redis.from_url(redis_url, decode_responses=True)
    dead = CallEventKeys().dead_letters("backoffice")
    r.delete(dead)
    with TestClient(create_app(settings, engine=db.engine, secret_key=SECRET)) as client:
        yield client, r
    r.delete(dead)
    r.close()


def test_a_supervisor_sees_the_failed_events(
    db: Backend, app_client: tuple[TestClient, redis.Redis]
) -> None:
    client, r = app_client
    fields = {"type": "ended", "call_id": "1795.7", "at": "x", "data": "{}"}
    r.xadd(CallEventKeys().dead_letters("backoffice"),
           {"entry": "1-0", "error": "Invalid: call_id too long", "attempts": "1",
            "fields": json.dumps(fields)})  # fmt: skip
    reply = client.get("/api/v1/dead-letters/backoffice", headers=db.headers["supervisor"])
    assert reply.status_code == 200, reply.text
    assert reply.json() == [{"entry": "1-0", "call_id": "1795.7", "type": "ended",
                             "attempts": 1, "error": "Invalid: call_id too long"}]  # fmt: skip


def test_others_may_not_and_unknown_groups_are_named(
    db: Backend, app_client: tuple[TestClient, redis.Redis]
) -> None:
    client, _ = app_client
    operator = client.get("/api/v1/dead-letters/backoffice", headers=db.headers["operator"])
    assert operator.status_code == 403
    unknown = client.get("/api/v1/dead-letters/nope", headers=db.headers["supervisor"])
    assert unknown.status_code == 404 and "transcription" in unknown.json()["detail"]


def test_redis_down_is_a_clear_503(db: Backend, refused_port: int) -> None:
    settings = db.settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{refused_port}/0"})
    with TestClient(create_app(settings, engine=db.engine, secret_key=SECRET)) as client:
        reply = client.get("/api/v1/dead-letters/backoffice", headers=db.headers["admin"])
    assert reply.status_code == 503 and "Redis is not answering" in reply.json()["detail"]
