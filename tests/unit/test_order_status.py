"""The order-status handoff: keypad digits -> order number; status and deadline as spoken."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import OperationalError

from backoffice.domain.lifecycle import Status
from backoffice.services.order_status import OrderStatus, number_from_keys
from ivr.fastagi import AgiCall
from ivr.flow import Handoff, Outcome
from ivr.order_status import order_status_reader, spoken

pytestmark = pytest.mark.unit

DUE = datetime(2026, 12, 7, 16, 0, tzinfo=UTC)  # 8 December, 00:00 in Shanghai


class Channel:
    def __init__(self) -> None:
        self.env = {"agi_uniqueid": "1.1"}


def call() -> AgiCall:
    return AgiCall(agi=Channel(), script="ivr", params={})  # type: ignore[arg-type]


def handoff(digits: str, language: str = "zh") -> Handoff:
    return Handoff("order_status", "order_lookup", {"variable": "order_no"}, language,
                   {"order_no": digits})  # fmt: skip


@pytest.mark.parametrize(
    "digits,number",
    [("20261202000042", "GH20261202000042"), ("2026120200004", None), ("", None),
     ("2026120200004x", None), ("1" * 200, None)],
)  # fmt: skip
def test_only_fourteen_digits_make_an_order_number(digits: str, number: str | None) -> None:
    assert number_from_keys(digits) == number


def test_the_status_and_deadline_in_both_languages() -> None:
    found = OrderStatus("GH20261202000042", Status.HANDLING, DUE)
    assert spoken(found, "zh", "Asia/Shanghai") == {
        "order_status": "正在办理", "order_deadline": "，答复期限为12月8日"}  # fmt: skip
    assert spoken(found, "en", "Asia/Shanghai")["order_deadline"] == (
        " The reply is due by December 8."
    )
    closed = OrderStatus("GH20261202000042", Status.CLOSED, None)
    assert spoken(closed, "zh", "Asia/Shanghai") == {"order_status": "已办结", "order_deadline": ""}


def test_the_handoff_finds_and_misses() -> None:
    orders = {"20261202000042": OrderStatus("GH20261202000042", Status.ACCEPTED, DUE)}
    read = order_status_reader(orders.get, "Asia/Shanghai")
    assert read(call(), handoff("20261202000042")).name == "found"
    assert read(call(), handoff("20261202000043")) == Outcome("not_found")


def test_a_database_that_is_down_sends_the_caller_down_the_not_found_branch() -> None:
    def broken(_: str) -> OrderStatus | None:
        raise OperationalError("SELECT", {}, Exception("connection refused"))

    assert order_status_reader(broken, "Asia/Shanghai")(call(), handoff("1" * 14)) == Outcome(
        "not_found"
    )
