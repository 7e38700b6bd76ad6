"""RFC 4733 DTMF events as pcap files for SIPp's play_pcap_audio, one per key press.

sip-tester ships one pcap per digit, all with the same RTP timestamp, so a repeated digit
looks to Asterisk like a retransmission of the first and is dropped. Generating one file per
key press, each with its own timestamp and sequence numbers, makes '22' two presses.
"""

from __future__ import annotations

import struct

EVENT_CODES = {**{str(d): d for d in range(10)}, "*": 10, "#": 11}
PAYLOAD_TYPE = 101
SSRC = 0x484C494E  # 'HLIN'
PACKET_MS = 20
PRESS_MS = 160  # how long the key is held
_END_REPEATS = 3  # RFC 4733 sends the end packet three times


def event_payloads(key: str) -> list[tuple[bool, bytes]]:
    """(marker, payload) for each packet of one key press."""
    code = EVENT_CODES[key]
    volume = 10
    packets = []
    for duration in range(PACKET_MS * 8, PRESS_MS * 8, PACKET_MS * 8):
        packets.append((duration == PACKET_MS * 8, struct.pack("!BBH", code, volume, duration)))
    end = struct.pack("!BBH", code, 0x80 | volume, PRESS_MS * 8)
    packets.extend((False, end) for _ in range(_END_REPEATS))
    return packets


def rtp_packets(key: str, press_index: int) -> list[bytes]:
    timestamp = 8000 + press_index * 16000
    first_seq = 1 + press_index * 32
    return [
        struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | PAYLOAD_TYPE,
                    (first_seq + i) & 0xFFFF, timestamp, SSRC) + payload
        for i, (marker, payload) in enumerate(event_payloads(key))
    ]  # fmt: skip


def pcap_bytes(key: str, press_index: int) -> bytes:
    """A pcap (Ethernet/IPv4/UDP) holding one key press; SIPp rewrites addresses and ports."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for i, rtp in enumerate(rtp_packets(key, press_index)):
        frame = _ethernet_ipv4_udp(rtp)
        usec = i * PACKET_MS * 1000
        seconds, micros = divmod(usec, 1_000_000)
        out.append(struct.pack("<IIII", seconds, micros, len(frame), len(frame)))
        out.append(frame)
    return b"".join(out)


def _ethernet_ipv4_udp(payload: bytes) -> bytes:
    udp = struct.pack("!HHHH", 4000, 4000, 8 + len(payload), 0) + payload
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                         bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]))  # fmt: skip
    ip = header[:10] + struct.pack("!H", _checksum(header)) + header[12:]
    return b"\x00" * 12 + b"\x08\x00" + ip + udp


def _checksum(data: bytes) -> int:
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return int(~total & 0xFFFF)
