"""Signing in over the API: tokens, the session cookie, the attempt limit, revocation."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from backoffice.sessions import SESSION_COOKIE, read_session
from tests.backoffice.conftest import SECRET, Backend
from tests.backoffice.helpers import API, ok, user

pytestmark = pytest.mark.integration


def login(client: TestClient, username: str, password: str) -> int:
    response = client.post(f"{API}/auth/login", data={"username": username, "password": password})
    return int(response.status_code)


def test_login_issues_a_bearer_token_and_a_session_cookie(client: TestClient) -> None:
    response = client.post(
        f"{API}/auth/login", data={"username": "operator", "password": "demo-operator-12351"}
    )
    token = ok(response)["access_token"]
    me = ok(client.get(f"{API}/users/me", headers={"Authorization": f"Bearer {token}"}))
    assert (me["username"], me["role"]) == ("operator", "operator")
    assert "password_hash" not in me
    cookie = response.cookies[SESSION_COOKIE]
    assert read_session(SECRET, cookie, max_age_s=60) == token
    assert "httponly" in response.headers["set-cookie"].lower()


def test_wrong_password_and_unknown_user_look_the_same(client: TestClient) -> None:
    wrong = client.post(f"{API}/auth/login", data={"username": "operator", "password": "nope"})
    unknown = client.post(f"{API}/auth/login", data={"username": "nobody", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"detail": "wrong username or password"}


def test_failed_logins_are_limited_per_username_and_address(client: TestClient) -> None:
    for _ in range(5):
        assert login(client, "lawyer", "wrong password") == 401
    limited = client.post(
        f"{API}/auth/login", data={"username": "lawyer", "password": "demo-lawyer-12351"}
    )
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    assert "too many" in limited.json()["detail"]
    # Another account from the same address is not locked out by someone guessing this one.
    assert login(client, "viewer", "demo-viewer-12351") == 200


def test_a_successful_login_clears_earlier_failures(client: TestClient) -> None:
    for _ in range(4):
        assert login(client, "viewer", "wrong password") == 401
    assert login(client, "viewer", "demo-viewer-12351") == 200
    for _ in range(4):
        assert login(client, "viewer", "wrong password") == 401
    assert login(client, "viewer", "demo-viewer-12351") == 200


def test_logout_revokes_the_token(client: TestClient) -> None:
    token = ok(
        client.post(
            f"{API}/auth/login", data={"username": "viewer", "password": "demo-viewer-12351"}
        )
    )["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post(f"{API}/auth/logout", headers=headers).status_code == 204
    assert client.get(f"{API}/users/me", headers=headers).status_code == 401


def test_requests_without_a_valid_token_are_401(client: TestClient) -> None:
    for headers in ({}, {"Authorization": "Bearer forged"}, {"Authorization": "Basic eDp5"}):
        response = client.get(f"{API}/work-orders", headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_deactivated_account_can_neither_sign_in_nor_use_its_tokens(
    client: TestClient, db: Backend, session: Session
) -> None:
    admin = db.headers["admin"]
    viewer_id = db.users["viewer"]
    ok(client.patch(f"{API}/users/{viewer_id}", headers=admin, json={"active": False}))
    try:
        assert client.get(f"{API}/users/me", headers=db.headers["viewer"]).status_code == 401
        assert login(client, "viewer", "demo-viewer-12351") == 401
    finally:
        ok(client.patch(f"{API}/users/{viewer_id}", headers=admin, json={"active": True}))
    assert user(session, "viewer").active


def test_only_admins_manage_accounts(client: TestClient, db: Backend) -> None:
    body = {
        "username": "handler2",
        "display_name": "新化县承办人",
        "role": "handler",
        "org_unit_id": db.units["新化县总工会"],
        "password": "a long enough password",
    }
    assert (
        client.post(f"{API}/users", headers=db.headers["supervisor"], json=body).status_code == 403
    )
    names = [
        u["username"] for u in ok(client.get(f"{API}/users", headers=db.headers["supervisor"]))
    ]
    assert "handler" in names
    assert client.get(f"{API}/users", headers=db.headers["handler"]).status_code == 403
    short = {**body, "password": "short"}
    assert client.post(f"{API}/users", headers=db.headers["admin"], json=short).status_code == 422
