"""A stopped test softphone unregisters (Expires: 0, answering the digest challenge)."""

from __future__ import annotations

import pytest

from hotline.sip.seat import SeatPhone, unregistration_scenario

pytestmark = pytest.mark.unit


def test_unregistration_sends_expires_zero_twice_with_the_challenge_answered() -> None:
    xml = unregistration_scenario(SeatPhone("1003", "s3cret", 5099))
    assert xml.count("Expires: 0") == 2
    assert xml.count("REGISTER sip:") == 2
    assert '<recv response="401" auth="true"/>' in xml
    assert "[authentication username=1003 password=s3cret]" in xml
    assert "Contact: <sip:1003@[local_ip]:5099>" in xml
    assert xml.rstrip().endswith("</scenario>")
