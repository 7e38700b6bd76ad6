"""Structured log events: a field named like a LogRecord attribute must not break the caller
(the intake logged ``created=`` and every call's figures were lost to the KeyError)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from hotline.logs import JsonLines, event

pytestmark = pytest.mark.unit


@pytest.fixture
def lines() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonLines())
    logger = logging.getLogger("tests.log_events")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield logger, out
    finally:
        logger.removeHandler(handler)


def test_fields_become_json_keys(lines: tuple[logging.Logger, io.StringIO]) -> None:
    logger, out = lines
    event(logger, "intake.order", call_id="1796664833.7", number="20261207-0001")
    line = json.loads(out.getvalue())
    assert line["event"] == "intake.order" and line["level"] == "info"
    assert line["call_id"] == "1796664833.7" and line["number"] == "20261207-0001"


@pytest.mark.parametrize("name", ["created", "module", "msg", "args", "message", "process"])
def test_a_field_named_like_a_record_attribute_is_kept_beside_it(
    lines: tuple[logging.Logger, io.StringIO], name: str
) -> None:
    logger, out = lines
    fields: dict[str, Any] = {name: "the field's own value", "call_id": "c1"}
    event(logger, "intake.order", **fields)
    line = json.loads(out.getvalue())
    assert line[f"{name}_"] == "the field's own value"
    assert line["event"] == "intake.order" and line["call_id"] == "c1"
    assert isinstance(line["ts"], float)  # the record's own time is untouched


def test_a_warning_keeps_its_level(lines: tuple[logging.Logger, io.StringIO]) -> None:
    logger, out = lines
    event(logger, "intake.figures_refused", level=logging.WARNING, created=True)
    line = json.loads(out.getvalue())
    assert line["level"] == "warning" and line["created_"] is True
