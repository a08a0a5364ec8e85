# SPDX-License-Identifier: BSD-3-Clause
"""Recorded-call load as two pcap files, one per side of the bridge, for perf/rbmedia.

Call i (of N, started i/N of STAGGER_S apart so the packets of all calls interleave evenly):

    side A (generator ns, a.pcap)             side B (sink ns, b.pcap)
    t+0     INVITE, SDP c=GEN_IP m=audio PA
                                              t+10 ms  200 OK, SDP c=SINK_IP m=audio PB
    t+20 ms ACK
    t+40 ms + 20k ms: RTP → SINK_IP:PB        t+30 ms + 20k ms: RTP → GEN_IP:PA
    t+D+60 ms BYE                             t+D+70 ms 200 OK (BYE)

G.711 A-law (PT 8), 160-byte payloads every 20 ms, a 440 Hz (A) / 660 Hz (B) tone at about
-10 dBFS, proper sequence numbers, timestamps and one SSRC per direction: the media thread's
real per-packet path (statistics, decoder, timeline, stereo window, WAV, pcap), one
direction per channel. Each side is replayed by its own tcpreplay at the files' own
timestamps (real time), so the two directions arrive through the bridge's two ports as a
call's would. Frames go to a MAC address nobody owns (like the harness's background, see
frames.py): the far namespace counts them and drops them without answering (no ICMP port
unreachable back through the bridge); the bridge forwards and inspects them regardless.
Checksums (IPv4 and UDP) are finished."""
import math
import struct

from .frames import GEN_IP, GEN_MAC, NOBODY_MAC, SINK_IP, SINK_MAC, _csum, _ip, _mac

PTIME_S = 0.020
SAMPLES = 160
PT_PCMA = 8
SIP_PORT = 5060
RTP_FRAME = 14 + 20 + 8 + 12 + SAMPLES  # 214 bytes in the file, 218 on the wire with FCS


def alaw(x):
    """One 16-bit linear sample to G.711 A-law (ITU-T G.711, segment encoding)."""
    if x >= 0:
        mask = 0xD5
    else:
        mask = 0x55
        x = -x - 1
    x = min(x, 32767)
    seg = max(0, (x | 0xFF).bit_length() - 1 - 7)
    if seg >= 8:
        return 0x7F ^ mask
    return ((seg << 4) | ((x >> (seg + 3 if seg else 4)) & 0x0F)) ^ mask


def tone_payloads(freq, amplitude=10000, rate=8000):
    """One second of a FREQ Hz sine (whole cycles) as 50 A-law payloads of 20 ms."""
    samples = [alaw(int(amplitude * math.sin(2 * math.pi * freq * n / rate))) for n in range(rate)]
    return [bytes(samples[k * SAMPLES:(k + 1) * SAMPLES]) for k in range(rate // SAMPLES)]


def _words(b):
    if len(b) % 2:
        b += b"\0"
    return sum(struct.unpack(f"!{len(b) // 2}H", b))


def _fold(s):
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    s = ~s & 0xFFFF
    return s or 0xFFFF  # UDP: a computed 0 is sent as all ones


class _side:
    """Frame builder for one direction: Ethernet/IPv4/UDP from SRC to DST, finished checksums."""

    def __init__(self, src_mac, src_ip, dst_ip):
        self.l2 = _mac(NOBODY_MAC) + _mac(src_mac) + b"\x08\x00"
        self.src, self.dst = _ip(src_ip), _ip(dst_ip)
        self.pseudo = _words(self.src + self.dst) + 17
        self.ip_id = 0
        self.ip_words = 0x4500 + 64 * 256 + 17 + _words(self.src + self.dst)
        self.rtp_len = 8 + 12 + SAMPLES
        self.rtp_hdr = struct.Struct("!BBHHHBBH4s4sHHHHBBHII")

    def rtp(self, sport, dport, marker, seq, ts, ssrc, payload, payload_words):
        """An RTP frame (PCMA, SAMPLES bytes of payload), checksums summed without a pass over
        the bytes: the payload's words are known."""
        self.ip_id = (self.ip_id + 1) & 0xFFFF
        ulen = self.rtp_len
        b1 = PT_PCMA | (0x80 if marker else 0)
        ip_c = _fold(self.ip_words + 20 + ulen + self.ip_id)
        u = (self.pseudo + 2 * ulen + sport + dport + (0x80 << 8 | b1) + seq + (ts >> 16) +
             (ts & 0xFFFF) + (ssrc >> 16) + (ssrc & 0xFFFF) + payload_words)
        return self.l2 + self.rtp_hdr.pack(0x45, 0, 20 + ulen, self.ip_id, 0, 64, 17, ip_c,
                                           self.src, self.dst, sport, dport, ulen, _fold(u),
                                           0x80, b1, seq, ts, ssrc) + payload

    def frame(self, sport, dport, payload, payload_words=None):
        self.ip_id = (self.ip_id + 1) & 0xFFFF
        ulen = 8 + len(payload)
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, self.ip_id, 0, 64, 17, 0,
                         self.src, self.dst)
        ip = ip[:10] + struct.pack("!H", _csum(ip)) + ip[12:]
        if payload_words is None:
            payload_words = _words(payload)
        csum = _fold(self.pseudo + ulen + sport + dport + ulen + payload_words)
        return self.l2 + ip + struct.pack("!HHHH", sport, dport, ulen, csum) + payload


def _sip(first, call, cseq, from_tag, to_tag, via_host, sdp=None):
    to = f"<sip:+15551230000@{SINK_IP}>" + (f";tag={to_tag}" if to_tag else "")
    head = (f"{first}\r\n"
            f"Via: SIP/2.0/UDP {via_host}:5060;branch=z9hG4bK{call:06x}{cseq.split()[0]}\r\n"
            f"From: \"Caller {call}\" <sip:+1555{call % 10000000:07d}@{GEN_IP}>;tag={from_tag}\r\n"
            f"To: {to}\r\nCall-ID: rbmedia-{call:06d}@{GEN_IP}\r\n"
            f"CSeq: {cseq}\r\nMax-Forwards: 70\r\n"
            f"Contact: <sip:{via_host}:5060>\r\n")
    body = b""
    if sdp:
        body = sdp.encode()
        head += "Content-Type: application/sdp\r\n"
    head += f"Content-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


def _sdp(call, ip, port):
    return (f"v=0\r\no=- {call} 1 IN IP4 {ip}\r\ns=rbmedia\r\nc=IN IP4 {ip}\r\nt=0 0\r\n"
            f"m=audio {port} RTP/AVP {PT_PCMA}\r\na=rtpmap:{PT_PCMA} PCMA/8000\r\n"
            f"a=ptime:20\r\na=sendrecv\r\n")


def ports(call, n_calls):
    """(PA, PB): where side A and side B receive call CALL's RTP (RTCP on +1)."""
    return 10000 + 2 * call, 10000 + 2 * (n_calls + call)


def max_calls():
    return (65534 - 10000) // 4


class _pcap_out:
    def __init__(self, path):
        self.f = open(path, "wb", buffering=1 << 20)
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        self.frames = 0
        self.bytes = 0

    def put(self, t_us, fr):
        self.f.write(struct.pack("<IIII", 1_700_000_000 + t_us // 1_000_000, t_us % 1_000_000,
                                 len(fr), len(fr)))
        self.f.write(fr)
        self.frames += 1
        self.bytes += len(fr)

    def close(self):
        self.f.close()


def make_call_pcaps(a_path, b_path, n_calls, seconds, stagger_s=1.0):
    """Writes the two sides' pcaps for N_CALLS calls of SECONDS of RTP each. Returns
    {'a': frames, 'b': frames, 'rtp_per_call': packets both ways, 'span_s': the files'
    length in time}."""
    if not 1 <= n_calls <= max_calls():
        raise ValueError(f"1 to {max_calls()} calls fit the port plan")
    packets = int(round(seconds / PTIME_S))
    tones = {"a": tone_payloads(440), "b": tone_payloads(660)}
    tone_words = {k: [_words(p) for p in v] for k, v in tones.items()}
    sides = {"a": _side(GEN_MAC, GEN_IP, SINK_IP), "b": _side(SINK_MAC, SINK_IP, GEN_IP)}
    ms = 1000
    # Events as sortable integers: time (µs) << 24 | call << 4 | kind (within one side).
    INVITE, ACK, BYE, OK_INVITE, OK_BYE, RTP = 0, 1, 2, 3, 4, 5
    ev = {"a": [], "b": []}
    for c in range(n_calls):
        t = c * int(stagger_s * 1e6) // n_calls
        ev["a"] += [(t << 24) | (c << 4) | INVITE, ((t + 20 * ms) << 24) | (c << 4) | ACK,
                    ((t + 60 * ms + packets * 20 * ms) << 24) | (c << 4) | BYE]
        ev["b"] += [((t + 10 * ms) << 24) | (c << 4) | OK_INVITE,
                    ((t + 70 * ms + packets * 20 * ms) << 24) | (c << 4) | OK_BYE]
        for side, start in (("a", t + 40 * ms), ("b", t + 30 * ms)):
            ev[side] += [((start + k * 20 * ms) << 24) | (c << 4) | RTP for k in range(packets)]
    out = {}
    for side, path in (("a", a_path), ("b", b_path)):
        evs = ev[side]
        evs.sort()
        s = sides[side]
        pay, pay_words = tones[side], tone_words[side]
        ssrc_base = 0x10000000 if side == "a" else 0x20000000
        seq = {}
        w = _pcap_out(path)
        for e in evs:
            t, c, kind = e >> 24, (e >> 4) & 0xFFFFF, e & 0xF
            pa, pb = ports(c, n_calls)
            if kind == RTP:
                k = seq.get(c, 0)
                seq[c] = k + 1
                ssrc = ssrc_base + c
                sport, dport = (pa, pb) if side == "a" else (pb, pa)
                fr = s.rtp(sport, dport, k == 0, (c * 7 + k) & 0xFFFF,
                           (c * 1000 + k * SAMPLES) & 0xFFFFFFFF, ssrc, pay[k % len(pay)],
                           pay_words[k % len(pay)])
            else:
                ftag, ttag = f"a{c:x}", f"b{c:x}"
                if kind == INVITE:
                    msg = _sip(f"INVITE sip:+15551230000@{SINK_IP} SIP/2.0", c, "1 INVITE",
                               ftag, None, GEN_IP, _sdp(c, GEN_IP, pa))
                elif kind == ACK:
                    msg = _sip(f"ACK sip:+15551230000@{SINK_IP} SIP/2.0", c, "1 ACK", ftag,
                               ttag, GEN_IP)
                elif kind == BYE:
                    msg = _sip(f"BYE sip:+15551230000@{SINK_IP} SIP/2.0", c, "2 BYE", ftag,
                               ttag, GEN_IP)
                elif kind == OK_INVITE:
                    msg = _sip("SIP/2.0 200 OK", c, "1 INVITE", ftag, ttag, GEN_IP,
                               _sdp(c, SINK_IP, pb))
                else:
                    msg = _sip("SIP/2.0 200 OK", c, "2 BYE", ftag, ttag, GEN_IP)
                fr = s.frame(SIP_PORT, SIP_PORT, msg)
            w.put(t, fr)
        w.close()
        out[side] = w.frames
        out[side + "_bytes"] = w.bytes
    out["rtp_per_call"] = 2 * packets
    out["span_s"] = stagger_s + 0.07 + packets * PTIME_S
    return out
