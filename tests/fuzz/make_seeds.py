#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Writes the generated seed corpora of the fuzz targets under tests/fuzz/corpus/.

    /usr/bin/python3 tests/fuzz/make_seeds.py     (Debian python3 with python3-scapy)

From the SIP messages in sip_seeds.py (RFC 4475 and RFC 5118 torture tests written from
their descriptions, and ringbridge's own cases) it writes, in each target's input format:
  sip_parser/   the messages as they are
  reply/        [code/tag][buffer size] + message            (reply_fuzz.cc)
  identity/     [number format][identity order] + message    (identity_fuzz.cc)
  tcp_stream/   [options][k][k control bytes] + a stream     (tcp_stream_fuzz.cc)
  frame/        [options] + frames as [flags][time][len16]   (frame_fuzz.cc): Ethernet,
                802.1Q / 802.1ad, IPv4 / IPv6 (extension headers), UDP / TCP, fragments
  notify_wire/  caller-ID datagrams (docs: plugins/notify/udp/callerid_wire.h)
  config/       TOML files (deploy/ringbridge.toml and variants)
  rest_json/    [selector] + a REST body
  offload/      [gso type][seg size16][csum_start16][csum_offset16] + a frame
                (offload_fuzz.cc): super-frames and frames with partial checksums
Files it writes are named gen_*; hand-written seeds and inputs kept from fuzzing runs
(other names) are left alone. Re-running it rewrites the gen_* files identically.
"""

import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sip_seeds as S  # noqa: E402

from scapy.all import (IP, TCP, UDP, ARP, ICMP, Dot1Q, Dot1AD, Ether, IPv6,  # noqa: E402
                       IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop, Raw,
                       fragment, fragment6)

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def b(s):
    """Message text (one character per byte) as bytes."""
    return s.encode("latin-1") if isinstance(s, str) else s


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "gen_" + name), "wb") as f:
        f.write(data)


def clean(target):
    d = os.path.join(CORPUS, target)
    if os.path.isdir(d):
        for n in os.listdir(d):
            if n.startswith("gen_"):
                os.unlink(os.path.join(d, n))


ALL = {}
ALL.update({"rfc4475_" + k: v for k, v in S.RFC4475.items()})
ALL.update({"rfc5118_" + k: v for k, v in S.RFC5118.items()})
ALL.update({"own_" + k: v for k, v in S.OWN.items()})

# ---- text targets ------------------------------------------------------------------------


def text_targets():
    for i, (name, msg) in enumerate(sorted(ALL.items())):
        m = b(msg)
        write("sip_parser", name + ".sip", m)
        # reply: 486 / 603 / 200 in turn, a 12-byte tag (the worker's), the full buffer.
        write("reply", name, bytes([(i % 3) | (12 << 2), 0xff]) + m)
        # identity: the frame target's number format (00, 49, trunk 0) or another one,
        # all three identity sources.
        fmt = 0x15 if i % 2 == 0 else (i * 37) & 0xff
        write("identity", name, bytes([fmt, 0x08 | (i % 4) | 0xf0]) + m)
    # A small buffer: the response does not fit.
    write("reply", "small_buffer", bytes([1 | (12 << 2), 4]) + b(S.OWN["block_exact_pai"]))


# ---- TCP streams ---------------------------------------------------------------------------


def tcp_stream_seed(name, stream, hinted=True, cap_code=0, ctl=b"\x03\x11\x22"):
    opts = (1 if hinted else 0) | (cap_code << 1)
    write("tcp_stream", name, bytes([opts, len(ctl)]) + ctl + stream)


M64 = (1 << 64) - 1


class Rng:
    """tcp_stream_fuzz.cc's xorshift64, to pick control bytes that cut a stream as wanted."""

    def __init__(self, ctl):
        self.s = 0x9e3779b97f4a7c15
        for i, c in enumerate(ctl):
            self.s = (((self.s ^ c) * 0x100000001b3) + i) & M64
        if self.s == 0:
            self.s = 1

    def next(self):
        self.s ^= (self.s << 13) & M64
        self.s ^= self.s >> 7
        self.s ^= (self.s << 17) & M64
        return self.s

    def below(self, n):
        return 0 if n == 0 else self.next() % n


def ctl_for_first_segment(first_len, max_seg_code=3):
    """Control bytes whose segmentation sends FIRST_LEN bytes of the stream first."""
    max_seg = [1, 2, 7, 16, 64, 300, 1460, 65535][max_seg_code]
    for x in range(1 << 16):
        ctl = bytes([max_seg_code | ((x & 0x1f) << 3), x >> 5])
        r = Rng(ctl)
        if r.next() & 1:
            r.below(4096)
        else:
            r.next()
        action = r.below(10)
        if action in (5, 8):
            continue  # another stream, or a keep-alive, first: keep it simple
        if 1 + r.below(max_seg) == first_len:
            return ctl
    raise RuntimeError("no control bytes cut the stream at %d" % first_len)


def tcp_targets():
    o = S.OWN
    inv = b(o["block_exact_pai"])
    ok = b(o["ok_sdp"])
    ring = b(o["ringing"])
    tcp_stream_seed("invite_then_responses", inv + ring + ok)
    tcp_stream_seed("keepalives_between", b"\r\n\r\n" + inv + b"\r\n\r\n" + ok + b"\r\n")
    tcp_stream_seed("unhinted", inv + ok, hinted=False)
    for k, code in enumerate([1, 2, 3]):
        tcp_stream_seed("small_buffer_%d" % code, inv + ring + ok, cap_code=code,
                        ctl=bytes([k, 0x40 + k, 0x99]))
    tcp_stream_seed("byte_by_byte", inv + ok, ctl=b"\x00")
    tcp_stream_seed("big_segments", inv + ok + inv, ctl=b"\x07\x01")
    tcp_stream_seed("overflow_body", b(S.RFC4475["clerr"]) + inv, cap_code=1)
    tcp_stream_seed("bad_then_good", b(S.RFC4475["ncl"]) + inv + ok)
    tcp_stream_seed("not_sip_first", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" + inv)
    tcp_stream_seed("long_first_line", b(o["evade_long_ruri"]) + ok, cap_code=3)
    tcp_stream_seed("multipart", b(S.RFC4475["mpart01"]) + b(S.RFC4475["unreason"]))
    tcp_stream_seed("ipv6_sdp", b(S.RFC5118["sdp_ipv6"]) + b(S.RFC5118["mult_ip_in_sdp"]))
    tcp_stream_seed("bare_lf", b(o["bare_lf_lf"]) * 2)
    # Regression: a stream on a port that is not a hint port whose first segment is
    # "REGISTER" (8 bytes, no space yet) was not followed, so the messages depended on
    # how the stream was cut (could_be_sip_prefix() refused prefixes of 8 to 10 bytes).
    tcp_stream_seed("regress_register_first_8_bytes", b(S.RFC4475["cparam02"]) + ok,
                    hinted=False, ctl=ctl_for_first_segment(8))
    tcp_stream_seed("regress_subscribe_first_9_bytes",
                    b(S.RFC4475["cparam02"]).replace(b"REGISTER", b"SUBSCRIBE") + ok,
                    hinted=False, ctl=ctl_for_first_segment(9))
    tcp_stream_seed("garbage_between", inv + b"\x00garbage line\r\n" + ok, ctl=b"\x04\xaa")


# ---- frames ----------------------------------------------------------------------------------

MAC_NET = "02:00:00:00:0a:01"  # the carrier's side (A)
MAC_PHONE = "02:00:00:00:0b:01"  # the phone's side (B)
A4, B4 = "192.0.2.10", "198.51.100.20"
A6, B6 = "2001:db8:a::10", "2001:db8:b::20"


def frame_rec(pkt, side=0, when=0, chain=0, sweep=False):
    data = bytes(pkt)
    flags = side | (2 | (chain << 2) if chain else 0) | (0x80 if sweep else 0)
    return bytes([flags, when]) + struct.pack(">H", len(data)) + data


def frame_seed(name, recs, options=0):
    write("frame", name, bytes([options]) + b"".join(recs))


def udp4(msg, side=0, sport=5060, dport=5060, src=None, dst=None, smac=None, l2=None):
    smac = smac or (MAC_NET if side == 0 else MAC_PHONE)
    dmac = MAC_PHONE if side == 0 else MAC_NET
    src = src or (A4 if side == 0 else B4)
    dst = dst or (B4 if side == 0 else A4)
    eth = Ether(src=smac, dst=dmac)
    if l2 is not None:
        eth = l2(smac, dmac)
    return eth / IP(src=src, dst=dst, id=0x1234) / UDP(sport=sport, dport=dport) / Raw(b(msg))


def udp6(msg, side=0, ext=None):
    src, dst = (A6, B6) if side == 0 else (B6, A6)
    ip = IPv6(src=src, dst=dst)
    if ext is not None:
        ip = ip / ext
    return Ether(src=MAC_NET if side == 0 else MAC_PHONE,
                 dst=MAC_PHONE if side == 0 else MAC_NET) / ip / UDP(sport=5060,
                                                                     dport=5060) / Raw(b(msg))


def tcp4(payload, seq, side=0, flags="PA", dport=5060, v6=False):
    if v6:
        ip = IPv6(src=A6, dst=B6) if side == 0 else IPv6(src=B6, dst=A6)
    else:
        ip = IP(src=A4, dst=B4) if side == 0 else IP(src=B4, dst=A4)
    return (Ether(src=MAC_NET, dst=MAC_PHONE) / ip /
            TCP(sport=40000, dport=dport, seq=seq & 0xffffffff, flags=flags) / Raw(payload))


def frame_targets():
    o, r4, r6 = S.OWN, S.RFC4475, S.RFC5118
    blocked = o["block_exact_pai"]
    # One datagram per message, side A (where rules apply), for the filter cases and a
    # spread of torture messages.
    singles = [k for k in o] + ["wsinv", "intmeth", "esc01", "escnull", "lwsdisp", "longreq",
                                "dblreq", "mpart01", "quotbal", "ltgtruri", "lwsstart",
                                "badvers", "insuf", "multi01", "mcl01", "inv2543", "clerr",
                                "ncl", "unreason", "bigcode"]
    for k in singles:
        msg = o[k] if k in o else r4[k]
        frame_seed("udp4_" + k, [frame_rec(udp4(msg))])
    for k, msg in r6.items():
        frame_seed("udp6_" + k, [frame_rec(udp6(msg))])

    # Encapsulations of the blocked INVITE.
    frame_seed("vlan", [frame_rec(udp4(blocked, l2=lambda s, d: Ether(src=s, dst=d) /
                                       Dot1Q(vlan=100)))])
    frame_seed("qinq", [frame_rec(udp4(blocked, l2=lambda s, d: Ether(src=s, dst=d) /
                                       Dot1AD(vlan=10) / Dot1Q(vlan=20)))])
    frame_seed("ipv6_ext_headers", [frame_rec(udp6(blocked, ext=IPv6ExtHdrHopByHop() /
                                                   IPv6ExtHdrDestOpt()))])
    frame_seed("chained_mbufs", [frame_rec(udp4(blocked), chain=3)])
    frame_seed("chained_tiny", [frame_rec(udp4(blocked), chain=0x1f)])
    frame_seed("side_b_not_screened", [frame_rec(udp4(blocked, side=1))])
    frame_seed("unhinted_port", [frame_rec(udp4(blocked, sport=5080, dport=5080))])
    # Replies that must not go out: group source MAC, unspecified / multicast source, port 0.
    frame_seed("reply_group_mac", [frame_rec(udp4(blocked, smac="03:00:00:00:0a:01"))])
    frame_seed("reply_src_zero", [frame_rec(udp4(blocked, src="0.0.0.0"))])
    frame_seed("reply_src_multicast", [frame_rec(udp4(blocked, src="224.0.0.1"))])
    frame_seed("reply_sport_zero", [frame_rec(udp4(blocked, sport=0))])
    # The rate limit (burst 4): six blocked INVITEs at once, then one a second later.
    burst = [frame_rec(udp4(S.invite("<sip:+49301234567@c.example.com>;tag=r%d" % i,
                                     "rate-%d@h" % i, sdp=False))) for i in range(6)]
    frame_seed("reply_rate_limit", burst + [frame_rec(udp4(S.invite(
        "<sip:+49301234567@c.example.com>;tag=r9", "rate-9@h", sdp=False)), when=0x81)])

    # Call flows across frames: a blocked call's retransmission, CANCEL, ACK; a normal call.
    frame_seed("flow_blocked", [
        frame_rec(udp4(blocked)),
        frame_rec(udp4(blocked), when=0x40 | 50),  # 500 ms later (50 << 10 µs)
        frame_rec(udp4(o["cancel_blocked"]), when=5),
        frame_rec(udp4(o["ack_blocked"]), when=5),
        frame_rec(udp4(blocked), when=0x80 | 40, sweep=True),  # 40 s later: forgotten
    ])
    frame_seed("flow_allowed", [
        frame_rec(udp4(o["allow_uk"])),
        frame_rec(udp4(o["ringing"], side=1), when=3),
        frame_rec(udp4(o["ok_sdp"], side=1), when=0x40 | 5),
        frame_rec(udp4(o["bye"], side=1), when=0x80 | 2),
    ])
    frame_seed("flow_side_b_reuses_call_id", [
        frame_rec(udp4(blocked)),
        frame_rec(udp4(o["cancel_blocked"], side=1), when=1),
    ])

    # IPv4 fragments: in order, reversed, duplicated, overlapping with other bytes.
    big = S.invite("<sip:+49301234567@carrier.example.com>;tag=fr", "frag-1@h",
                   "X-Padding: " + "p" * 200 + "\r\n")
    frags = fragment(IP(src=A4, dst=B4, id=0x4242) / UDP(sport=5060, dport=5060) / Raw(b(big)),
                     fragsize=256)
    eth = Ether(src=MAC_NET, dst=MAC_PHONE)
    recs = [frame_rec(eth / f) for f in frags]
    frame_seed("frag4_in_order", recs)
    frame_seed("frag4_reversed", list(reversed(recs)))
    frame_seed("frag4_duplicate", recs[:1] + recs + recs[-1:])
    frame_seed("frag4_fail_closed", list(reversed(recs)), options=1)
    bad = frags[1].copy()
    bad[Raw].load = b"X" * len(bad[Raw].load)
    frame_seed("frag4_ambiguous", [recs[0], recs[1], frame_rec(eth / bad)] + recs[2:],
               options=1)
    frame_seed("frag4_expired", [recs[0], frame_rec(eth / frags[1], when=0xc0 | 1)] + recs[2:])
    huge = S.invite("<sip:+49301234567@carrier.example.com>;tag=hg", "frag-huge@h",
                    "X-Padding: " + "q" * 1800 + "\r\n")
    hf = fragment(IP(src=A4, dst=B4, id=0x4343) / UDP(sport=5060, dport=5060) / Raw(b(huge)),
                  fragsize=1000)
    frame_seed("frag4_too_big", [frame_rec(eth / f) for f in hf], options=1)
    # IPv6 fragments.
    f6 = fragment6(IPv6(src=A6, dst=B6) / IPv6ExtHdrFragment(id=0x777) /
                   UDP(sport=5060, dport=5060) / Raw(b(big)), 400)
    frame_seed("frag6_in_order", [frame_rec(eth / f) for f in f6])
    frame_seed("frag6_reversed", [frame_rec(eth / f) for f in reversed(f6)])

    # TCP: one segment, split, the keep-alive that crashed the framer, retransmissions.
    inv = b(blocked)
    isn = 0xfffffff0  # wraps inside the stream
    frame_seed("tcp_one_segment", [frame_rec(tcp4(inv, isn))])
    frame_seed("tcp_split", [frame_rec(tcp4(inv[:7], isn)), frame_rec(tcp4(inv[7:200], isn + 7)),
                             frame_rec(tcp4(inv[200:], isn + 200))])
    frame_seed("tcp_keepalive_crash", [frame_rec(tcp4(b"INVITE sip:x", 1000)),
                                       frame_rec(tcp4(b"", 1000 + 12 - 1, flags="A"))])
    frame_seed("tcp_keepalive_probe", [frame_rec(tcp4(inv[:100], 5000)),
                                       frame_rec(tcp4(b"\x00", 5099, flags="A")),
                                       frame_rec(tcp4(inv[100:], 5100))])
    frame_seed("tcp_retransmit_overlap", [frame_rec(tcp4(inv[:150], 1)),
                                          frame_rec(tcp4(inv[:150], 1)),
                                          frame_rec(tcp4(inv[100:], 101))])
    frame_seed("tcp_gap", [frame_rec(tcp4(inv[:150], 1)), frame_rec(tcp4(inv[300:], 301)),
                           frame_rec(tcp4(b(o["ok_sdp"]), 1 + len(inv)))])
    frame_seed("tcp_two_messages_fin", [frame_rec(tcp4(inv + b(o["ringing"]), 77, flags="FPA"))])
    frame_seed("tcp_unhinted", [frame_rec(tcp4(inv, 9, dport=15060))])
    frame_seed("tcp_ipv6", [frame_rec(tcp4(inv, 9, v6=True))])
    # Regression: CRLF keep-alives only (no stream followed yet), then a keep-alive probe
    # with one garbage octet at SND.NXT - 1, then the INVITE: the probe's byte started the
    # stream, which then died on "\0INVITE ..." and the INVITE went unseen.
    frame_seed("tcp_probe_after_crlf_pings", [frame_rec(tcp4(b"\r\n\r\n", 1)),
                                              frame_rec(tcp4(b"\x00", 4, flags="A")),
                                              frame_rec(tcp4(inv, 5))])
    frame_seed("tcp_idle_expiry", [frame_rec(tcp4(inv[:50], 1)),
                                   frame_rec(tcp4(inv[50:], 51), when=0xc1, sweep=True)])

    # Full tables (the frame target uses the smallest the config allows): 17 TCP streams
    # in 16 slots; 9 fragmented datagrams at once in 8 reassembly slots, given up (evicted)
    # or refused when failing closed.
    frame_seed("tcp_table_full", [frame_rec(Ether(src=MAC_NET, dst=MAC_PHONE) /
                                            IP(src=A4, dst=B4) /
                                            TCP(sport=41000 + k, dport=5060, seq=1, flags="PA") /
                                            Raw(b"OPTIONS sip:x SIP/2.0\r\nCall-ID: t%d\r\n" % k))
                                  for k in range(17)])
    firsts = []
    for k in range(9):
        d = fragment(IP(src=A4, dst=B4, id=0x5000 + k) / UDP(sport=5060, dport=5060) /
                     Raw(b(S.invite("<sip:+1202555%04d@e.com>;tag=q" % k, "full-%d@h" % k))),
                     fragsize=128)
        firsts.append(frame_rec(eth / d[0]))
    frame_seed("frag_table_full", firsts)
    frame_seed("frag_table_full_fail_closed", firsts, options=1)

    # Unscreenable INVITEs, forwarded and with on_unparsable = "drop".
    for opt in (0, 1):
        frame_seed("unscreened_start_line_%d" % opt,
                   [frame_rec(udp4(b"INVITE sip:x@y SIP/3.0\r\nCall-ID: u\r\n\r\n"))], options=opt)
        frame_seed("unscreened_parse_error_%d" % opt, [frame_rec(udp4(r4["insuf"]))], options=opt)

    # Not SIP at all, or broken headers.
    frame_seed("arp", [frame_rec(Ether(src=MAC_NET, dst="ff:ff:ff:ff:ff:ff") /
                                 ARP(psrc=A4, pdst=B4))])
    frame_seed("icmp", [frame_rec(Ether(src=MAC_NET, dst=MAC_PHONE) / IP(src=A4, dst=B4) /
                                  ICMP())])
    full = bytes(udp4(blocked))
    frame_seed("truncated_ip", [frame_rec(Raw(full[:30]))])
    frame_seed("ip_options", [frame_rec(Ether(src=MAC_NET, dst=MAC_PHONE) /
                                        IP(src=A4, dst=B4, options=b"\x01\x01\x01\x00") /
                                        UDP(sport=5060, dport=5060) / Raw(b(blocked)))])
    frame_seed("capture_off", [frame_rec(udp4(o["ok_sdp"], side=1))], options=2)


# ---- the 7651 datagram ---------------------------------------------------------------------


def datagram(event=1, inbound=True, flags=0, time_us=1700000000000000, status=0,
             strings=(b"Mom", b"+49301234567", b"Mom", b"+4930555000", b"call-1@h"),
             version=1, count=None):
    d = b"RBCI" + bytes([version, event, 0 if inbound else 1, flags])
    d += struct.pack(">QH", time_us, status)
    d += bytes([len(strings) if count is None else count, 0])
    for s in strings:
        d += bytes([len(s)]) + s
    return d


def notify_targets():
    write("notify_wire", "ringing", datagram())
    write("notify_wire", "answered", datagram(event=2, status=200))
    write("notify_wire", "ended_outbound", datagram(event=3, inbound=False))
    write("notify_wire", "blocked_withheld", datagram(event=4, flags=1, status=486,
                                                      strings=(b"", b"", b"", b"x", b"c")))
    write("notify_wire", "voicemail_phonebook", datagram(event=5, flags=2))
    write("notify_wire", "utf8_names", datagram(strings=(
        "Ελένη".encode(), "+302101234567".encode(), "Ελένη Παπαδοπούλου".encode(), b"1",
        b"c")))
    write("notify_wire", "invalid_utf8", datagram(strings=(b"\xff\xfe", b"%FF", b"\xc3", b"\xe2\x82",
                                                           b"\xed\xa0\x80")))
    write("notify_wire", "long_strings", datagram(strings=(b"n" * 255, b"1" * 255, b"s" * 255,
                                                           b"t" * 255, b"c" * 255)))
    write("notify_wire", "two_strings", datagram(strings=(b"a", b"b")))
    write("notify_wire", "more_strings", datagram(strings=(b"a", b"b", b"c", b"d", b"e", b"f",
                                                           b"g")))
    write("notify_wire", "count_past_end", datagram(count=9))
    write("notify_wire", "bad_version", datagram(version=2))
    write("notify_wire", "bad_magic", b"RBCX" + datagram()[4:])
    write("notify_wire", "header_only", datagram()[:20])
    write("notify_wire", "event_unknown", datagram(event=200))


# ---- config files --------------------------------------------------------------------------

CONFIGS = {
    "minimal": '[ports]\na = "veth0"\nb = "veth1"\n',
    "filters_rules": '''[filters]
enabled = true
default_block_mode = "busy"
country_code = "49"
trunk_prefix = "0"
intl_prefixes = ["00", "011"]
on_unparsable = "drop"

[[filters.rules]]
match = "number"
syntax = "prefix"
pattern = "+49900"
action = "block"
block_mode = "decline"

[[filters.rules]]
match = "name"
pattern = "spam"

[[filters.rules]]
match = "anonymous"
''',
    "notify_all": '''[notify.lan]
type = "udp"
targets = ["255.255.255.255:7651", "[ff02::1]:7651"]

[notify.desk]
type = "growl"
host = "192.0.2.5"
password = "secret"

[notify.hook]
type = "webhook"
urls = ["https://example.com/hook"]
events = ["ringing", "blocked"]

[notify.broker]
type = "mqtt"
host = "192.0.2.6"
topic = "ringbridge"

[notify.homer]
type = "hep"
address = "192.0.2.7:9060"
transport = "udp"
''',
    "sip_section": '[sip]\nenabled = true\nhint_ports = [5060, 5061, 10000]\ntcp_streams = 16\n'
                   'tcp_idle_s = 10\nreassembly_slots = 8\nreassembly_max_bytes = 1500\n',
    "unknown_key": '[dataplane]\nworkers = 1\nnot_a_key = 3\n',
    "unknown_section": '[nope]\nx = 1\n',
    "wrong_type": '[dataplane]\nworkers = "two"\n',
    "out_of_range": '[dataplane]\nmtu = 99999\n',
    "bad_toml": '[ports\na = "unterminated\n',
    "bad_utf8": '[ports]\na = "\xff\xfe"\n',
    "notify_not_table": 'notify = 3\n',
    "notify_unknown_type": '[notify.x]\ntype = "carrier-pigeon"\n',
    "notify_bad_values": '[notify.x]\ntype = "udp"\ntargets = [1, 2]\nqueue = 0\nevents = ["nope"]\n',
    "unicode_keys": '[http]\n"tökén" = "x"\n',
    "dates_arrays": '[stats]\ninterval_s = 1979-05-27T07:32:00Z\n[log]\nlevel = [[1], ["a"]]\n',
    "inline_tables": 'ports = { a = "x", b = "y" }\n[http]\nlisten = "[::1]:8080"\ntoken = "0123456789abcdef"\n',
}


def config_targets():
    with open(os.path.join(HERE, "..", "..", "deploy", "ringbridge.toml"), "rb") as f:
        write("config", "deploy_example.toml", f.read())
    for name, text in CONFIGS.items():
        write("config", name + ".toml", text.encode("latin-1") if "\xff" in text else
              text.encode())


# ---- REST bodies ---------------------------------------------------------------------------

RULES = {
    "number_exact": (1, '{"match": "number", "pattern": "+49 30 1234567", "action": "block"}'),
    "number_prefix_busy": (0, '{"match":"number","syntax":"prefix","pattern":"0900",'
                              '"block_mode":"busy","position":10}'),
    "number_glob": (2, '{"match":"number","syntax":"glob","pattern":"+4477*","action":"allow"}'),
    "number_regex": (0, '{"match":"number","syntax":"regex","pattern":"^\\\\+33[0-9]{9}$",'
                        '"action":"record"}'),
    "bad_regex": (0, '{"match":"number","syntax":"regex","pattern":"(unclosed"}'),
    "name_substring": (0, '{"match":"name","pattern":"spam","action":"block",'
                          '"block_mode":"decline"}'),
    "name_regex_unicode": (0, '{"match":"name","syntax":"regex","pattern":"^\\u00c9lise.*",'
                              '"action":"norecord"}'),
    "anonymous": (0, '{"match":"anonymous","pattern":"ignored"}'),
    "any": (0, '{"match":"any","action":"record","id":5,"source":"api","created_at":1.5}'),
    "unknown_field": (0, '{"match":"number","pattern":"1","colour":"red"}'),
    "wrong_types": (0, '{"match":1,"pattern":["x"],"position":"first"}'),
    "position_huge": (0, '{"match":"number","pattern":"1","position":18446744073709551615}'),
    "position_negative": (0, '{"match":"number","pattern":"1","position":-1}'),
    "nulls": (0, '{"match":"number","pattern":"1","syntax":null,"action":null,'
                 '"block_mode":null,"position":null}'),
    "not_object": (0, '["match","number"]'),
    "not_json": (0, '{"match": "number", '),
    "nested": (0, '{"match":{"a":[[[[[[[[[[{}]]]]]]]]]]}}'),
    "name_shape": (0, '{"match":"name","syntax":"prefix","pattern":"x"}'),
    "number_substring": (0, '{"match":"number","syntax":"substring","pattern":"1"}'),
    "empty_pattern": (0, '{"match":"number","pattern":""}'),
}
PHONEBOOK = {
    "pb_name": '{"name": "Mom"}',
    "pb_unicode": '{"name": "Grand-m\\u00e8re \\ud83d\\udc75"}',
    "pb_control": '{"name": "bad\\u0007bell"}',
    "pb_nul": '{"name": "a\\u0000b"}',
    "pb_long": '{"name": "%s"}' % ("x" * 70),
    "pb_not_string": '{"name": 42}',
    "pb_empty": '{"name": ""}',
    "pb_lone_surrogate": '{"name": "\\ud800"}',
    "pb_raw_invalid_utf8": b'{"name": "\xff\xfe"}',
}


def rest_targets():
    for name, (sel, body) in RULES.items():
        write("rest_json", name, bytes([sel]) + body.encode())
    for name, body in PHONEBOOK.items():
        write("rest_json", name, bytes([4]) + (body if isinstance(body, bytes) else body.encode()))


def partial(frame_bytes, l4_off, field_off, pseudo):
    """FRAME with its L4 checksum replaced by the pseudo-header sum, as a sender with
    checksum offload leaves it."""
    f = bytearray(frame_bytes)
    f[l4_off + field_off:l4_off + field_off + 2] = struct.pack("!H", pseudo)
    return bytes(f)


def pseudo_sum(words):
    s = sum(words)
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s


def offload_targets():
    def hdr(gso, seg, start=0, off=0):
        return struct.pack("!BHHH", gso, seg, start, off)
    src, dst = "02:00:00:00:00:01", "02:00:00:00:00:02"
    data = bytes(range(256)) * 16  # 4 KB
    tcp4 = Ether(src=src, dst=dst) / IP(src="10.0.0.1", dst="10.0.0.2", id=7) / \
        TCP(sport=40000, dport=80, seq=1000, flags="PA") / Raw(data)
    tcp6 = Ether(src=src, dst=dst) / IPv6(src="fd00::1", dst="fd00::2") / \
        TCP(sport=40000, dport=80, seq=5, flags="FPA") / Raw(data)
    udp4 = Ether(src=src, dst=dst) / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=1, dport=2) / Raw(data)
    qinq = Ether(src=src, dst=dst) / Dot1AD(vlan=2) / Dot1Q(vlan=3) / IP(src="10.0.0.1", dst="10.0.0.2") / \
        TCP(sport=1, dport=2, flags="A") / Raw(data[:3000])
    write("offload", "tcp4_gso", hdr(1, 1448) + bytes(tcp4))
    write("offload", "tcp4_ecn_small_mss", hdr(0x81, 536) + bytes(tcp4))
    write("offload", "tcp6_gso_fin", hdr(4, 1428) + bytes(tcp6))
    write("offload", "udp4_l4_gso", hdr(5, 1400) + bytes(udp4))
    write("offload", "qinq_tcp4_gso", hdr(1, 1000) + bytes(qinq))
    write("offload", "ufo_unsupported", hdr(3, 1400) + bytes(udp4))
    write("offload", "wrong_type_for_proto", hdr(1, 1400) + bytes(udp4))
    # Small frames with the pseudo-header sum left in the field (what complete_if_partial
    # finds on AF_XDP), IPv4 UDP and IPv6 TCP, and one behind a VLAN tag.
    u = bytes(Ether(src=src, dst=dst) / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=5060, dport=5060) / Raw(b"INVITE x"))
    udp_len = len(u) - 34
    ps = pseudo_sum([0x0a00, 0x0001, 0x0a00, 0x0002, 17, udp_len])
    write("offload", "udp4_partial", hdr(0, 0, 34, 6) + partial(u, 34, 6, ps))
    t6 = bytes(Ether(src=src, dst=dst) / IPv6(src="fd00::1", dst="fd00::2") / TCP(sport=1, dport=2) / Raw(b"x" * 20))
    ps6 = pseudo_sum([0xfd00, 0, 0, 0, 0, 0, 0, 1, 0xfd00, 0, 0, 0, 0, 0, 0, 2, 6, len(t6) - 54])
    write("offload", "tcp6_partial", hdr(0, 0, 54, 16) + partial(t6, 54, 16, ps6))
    v = bytes(Ether(src=src, dst=dst) / Dot1Q(vlan=5) / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=1, dport=2) / Raw(b"y" * 30))
    psv = pseudo_sum([0x0a00, 0x0001, 0x0a00, 0x0002, 17, len(v) - 38])
    write("offload", "vlan_udp4_partial", hdr(0, 0, 38, 6) + partial(v, 38, 6, psv))
    write("offload", "csum_start_past_end", hdr(0, 0, 0xfff0, 0xfff0) + u)


def main():
    for t in ("sip_parser", "reply", "identity", "tcp_stream", "frame", "notify_wire",
              "config", "rest_json", "offload"):
        clean(t)
    text_targets()
    tcp_targets()
    frame_targets()
    notify_targets()
    config_targets()
    rest_targets()
    offload_targets()
    for t in sorted(os.listdir(CORPUS)):
        n = len(os.listdir(os.path.join(CORPUS, t)))
        print("%-12s %4d files" % (t, n))


if __name__ == "__main__":
    main()
