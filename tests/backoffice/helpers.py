"""Small helpers the back-office tests share."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlmodel import Session, select

from backoffice.identifiers import credit_code_check_char
from backoffice.models import User

if TYPE_CHECKING:
    from tests.backoffice.conftest import Backend

API = "/api/v1"
LOUDI_MOBILE = "13873801234"  # geocodes to 湖南省娄底市
CHANGSHA_MOBILE = "13787001234"  # 湖南省长沙市
BEIJING_MOBILE = "13800138000"  # 北京市


def credit_code(first17: str = "91431300MA4L00001") -> str:
    return first17 + credit_code_check_char(first17)


def create(client: TestClient, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    body = {"caller_phone": LOUDI_MOBILE, "category": "wage_arrears", "summary": "欠薪", **fields}
    response = client.post(f"{API}/work-orders", headers=headers, json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def act(
    client: TestClient, headers: dict[str, str], order_id: int, action: str, **body: Any
) -> httpx.Response:
    response: httpx.Response = client.post(
        f"{API}/work-orders/{order_id}/actions/{action}", headers=headers, json=body
    )
    return response


def ok(response: httpx.Response, status: int = 200) -> Any:
    """The JSON body of a response that must have ``status``."""
    assert response.status_code == status, response.text
    return response.json()


def user(session: Session, username: str) -> User:
    found = session.exec(select(User).where(User.username == username)).first()
    assert found is not None
    return found


UNION = ") UNION ALL ("


def branches(statement: str) -> list[str]:
    """A UNION ALL's SELECTs apart (each is planned as if alone), or the statement itself."""
    text = statement.strip()
    if text.startswith("(") and UNION in text:
        return text[1:-1].split(UNION)
    return [text]


def statements(db: Backend, run: Any) -> list[tuple[str, Any]]:
    """The SELECTs of work orders that ``run`` sends, with their parameters; the branches of
    a search's UNION ALL (PostgreSQL, `order_lists._search_rows`) each on its own, as the
    planner plans them."""
    seen: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        for part in branches(statement):
            if part.upper().startswith("SELECT") and "work_order" in part:
                seen.append((part, params))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        run()
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    return seen


def bound_values(params: Any) -> list[str]:
    return [str(v) for v in (params.values() if isinstance(params, dict) else params)]


def explain(session: Session, db: Backend, statement: str, params: Any) -> list[str]:
    """The plan's lines: PostgreSQL's EXPLAIN with sequential scans discouraged (a tiny test
    table would be read whole anyway), SQLite's EXPLAIN QUERY PLAN steps."""
    connection = session.connection()
    if db.name == "postgresql":
        connection.exec_driver_sql("SET enable_seqscan = off")
        rows = connection.exec_driver_sql(f"EXPLAIN {statement}", params)
        lines = [str(row[0]) for row in rows]
        connection.exec_driver_sql("RESET enable_seqscan")
        return lines
    steps = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params)
    return [str(row[-1]) for row in steps]
