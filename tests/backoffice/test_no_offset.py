"""No OFFSET pagination anywhere in the back office: page N would cost N pages' worth of rows,
and orders arriving meanwhile would shift the pages (repeats and gaps). Lists page by keyset."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

BACKOFFICE = Path(__file__).resolve().parents[2] / "backoffice"
# SQLAlchemy's .offset(...), and OFFSET in hand-written SQL (not in words like "utcoffset").
OFFSET_CALL = re.compile(r"\.offset\s*\(")
OFFSET_SQL = re.compile(r"\bOFFSET\b\s*[:%?0-9(]")


def _sources() -> list[Path]:
    return sorted(p for p in BACKOFFICE.rglob("*.py") if "migrations" not in p.parts)


def test_the_back_office_has_sources_to_check() -> None:
    names = {p.relative_to(BACKOFFICE).as_posix() for p in _sources()}
    assert "services/order_lists.py" in names
    assert "api/routes/work_orders.py" in names


@pytest.mark.parametrize("path", _sources(), ids=lambda p: p.relative_to(BACKOFFICE).as_posix())
def test_no_offset_pagination(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    calls = [m.group(0) for m in OFFSET_CALL.finditer(text)]
    sql = [m.group(0) for m in OFFSET_SQL.finditer(text)]
    assert not calls and not sql, f"{path.name} pages with OFFSET: {calls + sql}"


def test_the_checks_recognise_offset() -> None:
    # The patterns must catch what they are for, or the tests above could never fail.
    assert OFFSET_CALL.search("select(WorkOrder).offset(40).limit(20)")
    assert OFFSET_SQL.search("SELECT * FROM work_order LIMIT 20 OFFSET :skip")
    assert not OFFSET_CALL.search("moment.utcoffset()")
    assert not OFFSET_SQL.search('"""keyset pagination, never OFFSET."""')
