"""SIPp scenario XML and RFC 4733 pcaps for the simulated caller (pure builders)."""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET

import pytest

from hotline.sip.dtmf import EVENT_CODES, pcap_bytes, rtp_packets
from hotline.sip.scenario import SHORT_GAP_MS, CallerScript, caller_scenario

pytestmark = pytest.mark.unit


def parsed(script: CallerScript, pcap_dir: str = "") -> ET.Element:
    return ET.fromstring(caller_scenario(script, pcap_dir))


def test_info_keys_send_one_dtmf_relay_each() -> None:
    xml = caller_scenario(CallerScript(keys="1#", dtmf="info"))
    assert xml.count("INFO sip:") == 2
    assert "Signal=1\n" in xml and "Signal=#\n" in xml
    assert "Content-Type: application/dtmf-relay" in xml


def test_rfc2833_offers_telephone_event_and_plays_one_pcap_per_press() -> None:
    root = parsed(CallerScript(keys="22", dtmf="rfc2833"), pcap_dir="/w")
    invite = root.find("send").text or ""  # type: ignore[union-attr]
    assert "RTP/AVP 0 101" in invite and "telephone-event/8000" in invite
    plays = [e.get("play_pcap_audio") for e in root.iter("exec")]
    assert plays == ["/w/dtmf_0.pcap", "/w/dtmf_1.pcap"]


def test_every_wait_listens_for_the_hotline_hanging_up() -> None:
    root = parsed(CallerScript(keys="12", first_key_ms=5000, key_gap_ms=1500, hold_ms=3000))
    waits = [r for r in root.iter("recv") if r.get("timeout")]
    assert [w.get("timeout") for w in waits] == ["5000", "1500", "3000"]
    assert all(w.get("request") == "BYE" and w.get("next") == "got_bye" for w in waits)
    labels = {label.get("id") for label in root.iter("label")}
    assert {"got_bye", "done", "hangup"} <= labels


def test_short_gaps_are_pauses_so_long_numbers_fit_sipp_limits() -> None:
    script = CallerScript(keys="7" * 150, first_key_ms=3000, key_gap_ms=SHORT_GAP_MS - 1)
    root = parsed(script)
    assert len(list(root.iter("label"))) < 10
    assert len(list(root.iter("pause"))) == 149


def test_per_key_waits_override_the_defaults() -> None:
    script = CallerScript(keys="123", waits_ms=(9000, 700))
    assert [script.wait_before(i) for i in range(3)] == [9000, 700, script.key_gap_ms]


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"keys": "1a"}, "not DTMF keys"),
        ({"dtmf": "inband"}, "dtmf must be"),
        ({"caller": "138<sip:x>"}, "SIP From header"),
        ({"caller": "138\r\nVia: x"}, "SIP From header"),
    ],
)
def test_bad_caller_scripts_are_refused(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CallerScript(**kwargs)  # type: ignore[arg-type]


def test_caller_number_is_the_from_user() -> None:
    xml = caller_scenario(CallerScript(caller="+8613912345678"))
    assert "From: <sip:+8613912345678@[local_ip]:[local_port]>" in xml


def test_dtmf_press_is_an_rfc4733_event_with_end_packets() -> None:
    packets = rtp_packets("#", 0)
    events = [struct.unpack("!BBH", p[12:16]) for p in packets]
    assert all(code == EVENT_CODES["#"] for code, _, _ in events)
    assert packets[0][1] & 0x80  # marker on the first packet
    ends = [e for e in events if e[1] & 0x80]
    assert len(ends) == 3 and ends[0][2] == max(d for _, _, d in events)


def test_repeated_presses_get_distinct_timestamps_and_sequence_numbers() -> None:
    first, second = rtp_packets("2", 0), rtp_packets("2", 1)
    ts = lambda p: struct.unpack("!I", p[4:8])[0]  # noqa: E731
    seq = lambda p: struct.unpack("!H", p[2:4])[0]  # noqa: E731
    assert ts(first[0]) != ts(second[0])
    assert seq(second[0]) > seq(first[-1])


def test_pcap_has_a_valid_header_and_one_record_per_packet() -> None:
    data = pcap_bytes("5", 2)
    magic, major, minor, _, _, _, linktype = struct.unpack("<IHHiIII", data[:24])
    assert (magic, major, minor, linktype) == (0xA1B2C3D4, 2, 4, 1)
    offset, records = 24, 0
    while offset < len(data):
        _, _, incl, orig = struct.unpack("<IIII", data[offset : offset + 16])
        assert incl == orig == 14 + 20 + 8 + 16
        offset += 16 + incl
        records += 1
    assert records == len(rtp_packets("5", 2))
