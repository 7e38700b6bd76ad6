"""Pure builders of SIPp scenario XML for a caller who dials, presses keys and hangs up."""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape

DTMF_KEYS = frozenset("0123456789*#")
PCAP_DIR = "/usr/share/sip-tester"
_PCAP_NAMES = {"*": "star", "#": "pound"}
SHORT_GAP_MS = 400


@dataclass(frozen=True)
class CallerScript:
    """What a simulated caller does once the hotline answers."""

    keys: str = ""
    dtmf: str = "info"  # "info" (SIP INFO) or "rfc2833" (RTP telephone-event)
    first_key_ms: int = 2500
    key_gap_ms: int = 1500
    hold_ms: int = 5000  # after the last key, before the caller hangs up
    caller: str = "13800138000"
    audio_wav: str = ""  # a G.711 WAV streamed to the hotline (a caller who speaks)
    audio_loops: int = 1  # how often the WAV is played; -1: until the call ends
    # Per-key waits (ms before each key), overriding first_key_ms/key_gap_ms where given.
    waits_ms: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        bad = set(self.keys) - DTMF_KEYS
        if bad:
            raise ValueError(f"not DTMF keys: {''.join(sorted(bad))!r} (use 0-9, * and #)")
        if any(c in self.caller for c in "\r\n<>") or "]]>" in self.caller:
            raise ValueError(
                "caller must fit in a SIP From header (no line breaks or angle brackets)"
            )
        if self.dtmf not in ("info", "rfc2833"):
            raise ValueError(f"dtmf must be 'info' or 'rfc2833', not {self.dtmf!r}")

    def wait_before(self, index: int) -> int:
        if index < len(self.waits_ms):
            return self.waits_ms[index]
        return self.first_key_ms if index == 0 else self.key_gap_ms


def pcap_for(key: str) -> str:
    return f"{PCAP_DIR}/dtmf_2833_{_PCAP_NAMES.get(key, key)}.pcap"


def caller_scenario(script: CallerScript, pcap_dir: str = "") -> str:
    """The whole scenario: every wait is a BYE-receive with a timeout, so the hotline may hang
    up at any moment and the call still ends cleanly."""
    parts = [_HEAD, _invite(script), _ANSWERED.replace("{caller}", script.caller)]
    if script.audio_wav:
        stream = f"{escape(script.audio_wav)},{script.audio_loops},0"
        parts.append(_action(f'<exec rtp_stream="{stream}"/>'))
    for index, key in enumerate(script.keys):
        wait = script.wait_before(index)
        # SIPp allows about a hundred labels: short gaps (a caller typing a number) are plain
        # pauses; only the long waits, where the hotline may well hang up, listen for BYE.
        parts.append(_wait(wait, f"key{index}") if wait >= SHORT_GAP_MS else _pause(wait))
        pcap = f"{pcap_dir}/dtmf_{index}.pcap" if pcap_dir else pcap_for(key)
        parts.append(_send_key(key, script, cseq=index + 2, pcap=pcap))
    parts.append(_wait(script.hold_ms, "hangup"))
    parts.append(_tail(cseq=len(script.keys) + 2, caller=script.caller))
    return "\n".join(parts)


def _wait(ms: int, then: str) -> str:
    return (
        f'<recv request="BYE" timeout="{max(ms, 1)}" ontimeout="{then}" next="got_bye"/>\n'
        f'<label id="{then}"/>'
    )


def _pause(ms: int) -> str:
    return f'<pause milliseconds="{max(ms, 1)}"/>'


def _action(inner: str) -> str:
    return f"<nop><action>{inner}</action></nop>"


def _send_key(key: str, script: CallerScript, cseq: int, pcap: str) -> str:
    if script.dtmf == "rfc2833":
        return _action(f'<exec play_pcap_audio="{pcap}"/>')
    return (
        _request(
            "INFO",
            cseq,
            script.caller,
            "Content-Type: application/dtmf-relay\n",
            f"Signal={key}\nDuration=160\n",
        )
        + '\n<recv request="BYE" optional="true" next="got_bye"/>\n<recv response="200"/>'
    )


def _request(method: str, cseq: int, caller: str, headers: str, body: str) -> str:
    return f"""<send retrans="500"><![CDATA[
{method} sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: {cseq} {method}
Contact: <sip:{caller}@[local_ip]:[local_port]>
Max-Forwards: 70
{headers}Content-Length: [len]

{body}]]></send>"""


def _invite(script: CallerScript) -> str:
    events = " 101" if script.dtmf == "rfc2833" else ""
    sdp = (
        "v=0\no=caller 1 1 IN IP[local_ip_type] [local_ip]\ns=-\n"
        "c=IN IP[media_ip_type] [media_ip]\nt=0 0\n"
        f"m=audio [media_port] RTP/AVP 0{events}\na=rtpmap:0 PCMU/8000\n"
    )
    if events:
        sdp += "a=rtpmap:101 telephone-event/8000\na=fmtp:101 0-15\n"
    return _request(
        "INVITE", 1, script.caller, "Content-Type: application/sdp\n", sdp + "a=sendrecv\n"
    )


_HEAD = '<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="hotline caller">'

_ANSWERED = """<recv response="100" optional="true"/>
<recv response="180" optional="true"/>
<recv response="183" optional="true"/>
<recv response="200" rtd="true"/>
<send><![CDATA[
ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Contact: <sip:{caller}@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0

]]></send>"""


def _tail(cseq: int, caller: str) -> str:
    bye = _request("BYE", cseq, caller, "", "")
    return (
        bye
        + """
<recv response="200" crlf="true"/>
<nop next="done"/>
<label id="got_bye"/>
<send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
<label id="done"/>
<ResponseTimeRepartition value="100, 500, 1000"/>
</scenario>
"""
    )
