"""A seat's registration from Asterisk's per-contact ContactStatus events, in the orders the
real Asterisk 22 sends them (seen on a softphone registering again from a new port:
NonQualified for the new contact, Removed for the old, then Reachable for the new)."""

from __future__ import annotations

import pytest

from hotline.pbx.ami_listener import SeatContacts

pytestmark = pytest.mark.unit

OLD = "sip:1001@127.0.0.1:40001"
NEW = "sip:1001@127.0.0.1:40002"


def test_a_new_contact_then_the_old_ones_removal_keeps_the_seat_registered() -> None:
    seats = SeatContacts()
    seats.reset({"1001": {OLD}})
    assert seats.update("1001", NEW, "NonQualified") is True
    assert seats.update("1001", OLD, "Removed") is True
    assert seats.update("1001", NEW, "Reachable") is True
    assert seats.registered("1001")


def test_a_stale_contacts_failed_qualify_does_not_take_the_seat_away() -> None:
    seats = SeatContacts()
    seats.update("1001", NEW, "Created")
    assert seats.update("1001", OLD, "Unreachable") is True
    assert seats.registered("1001")


def test_the_last_contacts_removal_or_failure_unregisters_the_seat() -> None:
    seats = SeatContacts()
    seats.reset({"1001": {NEW}})
    assert seats.update("1001", NEW, "Unreachable") is False
    assert seats.update("1001", NEW, "Reachable") is True
    assert seats.update("1001", NEW, "Removed") is False
    assert not seats.registered("1001")


def test_a_status_that_says_nothing_changes_nothing() -> None:
    seats = SeatContacts()
    seats.reset({"1001": {NEW}})
    assert seats.update("1001", NEW, "Qualifying") is None
    assert seats.registered("1001")


def test_seats_are_apart_and_a_reset_forgets_what_the_list_does_not_hold() -> None:
    seats = SeatContacts()
    seats.update("1001", NEW, "Reachable")
    seats.update("1002", "sip:1002@127.0.0.1:40003", "Reachable")
    assert seats.update("1002", "sip:1002@127.0.0.1:40003", "Removed") is False
    assert seats.registered("1001")
    seats.reset({})
    assert not seats.registered("1001")
