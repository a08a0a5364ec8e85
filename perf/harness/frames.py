# SPDX-License-Identifier: BSD-3-Clause
"""Test frames as pcap files: UDP of each RFC 2544 size, a simple IMIX, and a SIP INVITE.

Sizes are Ethernet frame sizes including the 4-byte FCS, as in RFC 2544; the pcap holds the
frame without FCS. Background frames go to a MAC address nobody owns, so the sink drops
them in its driver path without answering (no ICMP back through the DUT)."""
import random
import struct

GEN_MAC = "02:52:42:00:00:01"
SINK_MAC = "02:52:42:00:00:02"
NOBODY_MAC = "02:52:42:00:00:99"
GEN_IP = "10.99.0.1"
SINK_IP = "10.99.0.2"

SIZES = [64, 128, 256, 512, 1024, 1280, 1518]
IMIX = [(64, 7), (594, 4), (1518, 1)]   # "simple IMIX": 7:4:1, mean 361.8 bytes
FLOWS = 16


def _mac(s):
    return bytes.fromhex(s.replace(":", ""))


def _ip(s):
    return bytes(int(x) for x in s.split("."))


def _csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def udp_frame(size, flow=0, payload=None, dst_mac=NOBODY_MAC, sport=None, dport=9):
    """An Ethernet/IPv4/UDP frame of SIZE bytes including FCS (so SIZE - 4 in the file)."""
    length = size - 4
    if payload is None:
        payload = bytes((flow * 7 + i) & 0xFF for i in range(max(0, length - 42)))
    ip_len = 20 + 8 + len(payload)
    sport = sport if sport is not None else 10000 + flow
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, ip_len, flow, 0, 64, 17, 0, _ip(GEN_IP),
                     _ip(SINK_IP))
    ip = ip[:10] + struct.pack("!H", _csum(ip)) + ip[12:]
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0)
    return _mac(dst_mac) + _mac(GEN_MAC) + b"\x08\x00" + ip + udp + payload


def invite_frame(i, size=413):
    """A SIP INVITE over UDP/5060, padded (with a header) to SIZE bytes on the wire incl. FCS
    — the seed design's measurement used 413-byte INVITE frames."""
    body = (f"INVITE sip:+15551230000@{SINK_IP} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {GEN_IP}:5060;branch=z9hG4bK{i:08x}\r\n"
            f"From: \"Caller {i % 100}\" <sip:+1555{i % 10000000:07d}@{GEN_IP}>;tag={i:x}\r\n"
            f"To: <sip:+15551230000@{SINK_IP}>\r\n"
            f"Call-ID: {i:08x}@{GEN_IP}\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n"
            f"Content-Length: 0\r\n").encode()
    room = size - 4 - 42 - len(body) - 2
    if room < 0:
        raise ValueError("INVITE does not fit")
    body += b"X-Pad: " + b"p" * max(0, room - 9) + b"\r\n" if room >= 9 else b""
    body += b"\r\n"
    body = body.ljust(size - 4 - 42, b" ")
    return udp_frame(size, flow=i % FLOWS, payload=body, sport=5060, dport=5060)


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1_700_000_000, i, len(fr), len(fr)))
            f.write(fr)


def make_pcap(path, kind, count=1024):
    """Writes COUNT frames of KIND (an int size, 'imix' or 'invite'); returns
    (frames, mean frame size incl. FCS)."""
    if kind == "imix":
        sizes = [s for s, n in IMIX for _ in range(n)]
        random.Random(1).shuffle(sizes)
        frames = [udp_frame(sizes[i % len(sizes)], i % FLOWS) for i in range(count)]
    elif kind == "invite":
        frames = [invite_frame(i) for i in range(count)]
    else:
        frames = [udp_frame(int(kind), i % FLOWS) for i in range(count)]
    write_pcap(path, frames)
    return len(frames), sum(len(f) + 4 for f in frames) / len(frames)
