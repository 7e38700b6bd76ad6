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
