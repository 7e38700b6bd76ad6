"""SIPp scenarios for a seat's softphone: register with digest auth, answer calls, unregister."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SeatPhone:
    seat: str
    password: str
    contact_port: int  # where the seat's answering SIPp listens
    expires_s: int = 300
    registered_ms: int = 10_000  # how long to stay registered before unregistering

    def __post_init__(self) -> None:
        for value in (self.seat, self.password):
            if not value.isalnum():
                raise ValueError("seat and password must be letters and digits")


def _register(phone: SeatPhone, cseq: int, expires: int, auth: bool) -> str:
    credentials = (
        f"[authentication username={phone.seat} password={phone.password}]\n" if auth else ""
    )
    return f"""<send retrans="500"><![CDATA[
REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:{phone.seat}@[remote_ip]>;tag=[pid]SIPpTag00[call_number]
To: <sip:{phone.seat}@[remote_ip]>
Call-ID: [call_id]
CSeq: {cseq} REGISTER
Contact: <sip:{phone.seat}@[local_ip]:{phone.contact_port}>
{credentials}Expires: {expires}
Max-Forwards: 70
Content-Length: 0

]]></send>"""


def registration_scenario(phone: SeatPhone) -> str:
    """Register (answering the 401 challenge), stay registered, then unregister."""
    return "\n".join(
        [
            '<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="seat registration">',
            _register(phone, 1, phone.expires_s, auth=False),
            '<recv response="401" auth="true"/>',
            _register(phone, 2, phone.expires_s, auth=True),
            '<recv response="200"/>',
            f'<pause milliseconds="{phone.registered_ms}"/>',
            _register(phone, 3, 0, auth=False),
            '<recv response="401" auth="true"/>',
            _register(phone, 4, 0, auth=True),
            '<recv response="200"/>',
            "</scenario>",
        ]
    )


def unregistration_scenario(phone: SeatPhone) -> str:
    """Drop the seat's registration now: a stopped softphone must not look reachable."""
    return "\n".join(
        [
            '<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="seat unregistration">',
            _register(phone, 1, 0, auth=False),
            '<recv response="401" auth="true"/>',
            _register(phone, 2, 0, auth=True),
            '<recv response="200"/>',
            "</scenario>",
        ]
    )


def answering_scenario(ring_ms: int = 500, answer: bool = True) -> str:
    """A softphone that rings, then answers and talks until the caller hangs up, or never
    answers and takes the CANCEL."""
    ringing = "<send><![CDATA[\n" + _response("180 Ringing") + "]]></send>"
    if not answer:
        cancel = "<send><![CDATA[\n" + _response("200 OK") + "]]></send>"
        return "\n".join([_ANSWER_HEAD, ringing, '<recv request="CANCEL"/>', cancel, "</scenario>"])
    return "\n".join(
        [
            _ANSWER_HEAD,
            ringing,
            f'<pause milliseconds="{ring_ms}"/>',
            '<send retrans="500"><![CDATA[\n' + _response("200 OK", _SDP) + "]]></send>",
            '<recv request="ACK" crlf="true"/>',
            '<recv request="BYE"/>',
            "<send><![CDATA[\n" + _response("200 OK") + "]]></send>",
            "</scenario>",
        ]
    )


def _response(code: str, body: str = "") -> str:
    return (
        f"SIP/2.0 {code}\n[last_Via:]\n[last_From:]\n[last_To:];tag=[pid]SIPpTag01[call_number]\n"
        "[last_Call-ID:]\n[last_CSeq:]\n"
        "Contact: <sip:[local_ip]:[local_port];transport=[transport]>\n"
        f"Content-Type: application/sdp\nContent-Length: [len]\n\n{body}"
    )


_ANSWER_HEAD = (
    '<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="seat softphone">\n'
    '<recv request="INVITE" crlf="true"/>'
)

_SDP = """v=0
o=seat 1 1 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
"""


FEATURE_CODE = frozenset("0123456789*#")


def feature_code_scenario(seat: str, password: str, code: str, hold_ms: int = 15_000) -> str:
    """A seat's softphone dials a feature code (answering the digest challenge), listens to
    the confirmation until the hotline hangs up, or hangs up itself after `hold_ms`."""
    if not code or set(code) - FEATURE_CODE:
        raise ValueError(f"feature code must be DTMF keys: {code!r}")
    if not (seat.isalnum() and password.isalnum()):
        raise ValueError("seat and password must be letters and digits")
    auth = f"[authentication username={seat} password={password}]\n"
    return "\n".join(
        [
            '<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="seat feature code">',
            _seat_invite(seat, code, 1, ""),
            '<recv response="100" optional="true"/>',
            '<recv response="401" auth="true"/>',
            _seat_ack(seat, code, 1, last_to=True),
            _seat_invite(seat, code, 2, auth),
            '<recv response="100" optional="true"/>',
            '<recv response="180" optional="true"/>',
            '<recv response="183" optional="true"/>',
            '<recv response="200" rrs="true"/>',
            _seat_ack(seat, code, 2, last_to=False),
            f'<recv request="BYE" timeout="{hold_ms}" ontimeout="hangup"/>',
            "<send><![CDATA[\n" + _bye_ok() + "]]></send>",
            '<nop next="done"/>',
            '<label id="hangup"/>',
            _seat_request("BYE", seat, code, 3, "[peer_tag_param]"),
            '<recv response="200"/>',
            '<label id="done"/>',
            "</scenario>",
        ]
    )


def _seat_request(method: str, seat: str, code: str, cseq: int, to_tag: str, extra: str = "",
                  body: str = "") -> str:  # fmt: skip
    kind = "Content-Type: application/sdp\n" if body else ""
    return f"""<send retrans="500"><![CDATA[
{method} sip:{code}@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:{seat}@[remote_ip]>;tag=[pid]SIPpTag00[call_number]
To: <sip:{code}@[remote_ip]:[remote_port]>{to_tag}
Call-ID: [call_id]
CSeq: {cseq} {method}
Contact: <sip:{seat}@[local_ip]:[local_port]>
Max-Forwards: 70
{extra}{kind}Content-Length: [len]

{body}]]></send>"""


def _seat_invite(seat: str, code: str, cseq: int, auth: str) -> str:
    return _seat_request("INVITE", seat, code, cseq, "", auth, _SDP + "a=sendrecv\n")


def _seat_ack(seat: str, code: str, cseq: int, last_to: bool) -> str:
    if last_to:  # the ACK of a refused INVITE belongs to that INVITE's transaction
        return f"""<send><![CDATA[
ACK sip:{code}@[remote_ip]:[remote_port] SIP/2.0
[last_Via:]
From: <sip:{seat}@[remote_ip]>;tag=[pid]SIPpTag00[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: {cseq} ACK
Max-Forwards: 70
Content-Length: 0

]]></send>"""
    return _seat_request("ACK", seat, code, cseq, "[peer_tag_param]").replace(' retrans="500"', "")


def _bye_ok() -> str:
    return (
        "SIP/2.0 200 OK\n[last_Via:]\n[last_From:]\n[last_To:]\n[last_Call-ID:]\n[last_CSeq:]\n"
        "Content-Length: 0\n\n"
    )


def pressing_scenario(presses: list[tuple[int, str]], pcap_dir: str, ring_ms: int = 300) -> str:
    """A softphone that answers, then presses keys (RFC 4733) at the given milliseconds after
    answering, and talks until the hotline hangs up. `pcap_dir` holds `press_<n>.pcap` for the
    n-th key pressed (hotline.sip.dtmf.pcap_bytes)."""
    parts = [
        _ANSWER_HEAD,
        "<send><![CDATA[\n" + _response("180 Ringing") + "]]></send>",
        f'<pause milliseconds="{ring_ms}"/>',
        '<send retrans="500"><![CDATA[\n' + _response("200 OK", _SDP) + "]]></send>",
        '<recv request="ACK" crlf="true"/>',
    ]
    elapsed, index = 0, 0
    for at_ms, keys in presses:
        if set(keys) - FEATURE_CODE:
            raise ValueError(f"not DTMF keys: {keys!r}")
        parts.append(f'<pause milliseconds="{max(at_ms - elapsed, 1)}"/>')
        elapsed = at_ms
        for _ in keys:
            parts.append(f'<nop><action><exec play_pcap_audio="{pcap_dir}/press_{index}.pcap"/>'
                         "</action></nop>")  # fmt: skip
            parts.append('<pause milliseconds="250"/>')
            elapsed += 250
            index += 1
    parts += [
        '<recv request="BYE"/>',
        "<send><![CDATA[\n" + _response("200 OK") + "]]></send>",
        "</scenario>",
    ]
    return "\n".join(parts)
