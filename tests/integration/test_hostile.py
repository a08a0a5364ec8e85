# SPDX-License-Identifier: BSD-3-Clause
"""Frames anyone on the provider side can send, replayed through the real binary (pcap
ports). The bridge must survive them (exit 0, every frame accounted for) and screening
must not be bypassed: an INVITE a permissive phone would accept — start line longer than
256 bytes, leading CRLFs, a lower-case version, odd whitespace, IP fragments in any order
— is screened like any other, and what cannot be screened follows [filters]
on_unparsable and is counted by reason."""
import os

import pytest
from scapy.all import IP, TCP, UDP, Ether, IPv6, IPv6ExtHdrFragment, Raw, fragment, fragment6

from sippcap import NET, PHONE, SDP, dialog, filler, merge, replay_with, sip, udp_frames

SPAM = '"Spammer" <sip:+19005550100@provider.example>'
TO = "<sip:+15551230000@adapter.example>"


def block_busy(extra=""):
    """A rule blocking +1900... with 486; EXTRA: more [filters] keys."""
    return (f'[filters]\n{extra}[[filters.rules]]\nmatch = "number"\nsyntax = "prefix"\n'
            'pattern = "+1900"\naction = "block"\nblock_mode = "busy"\n')


BLOCK_BUSY = block_busy()


def spam_invite(call_id, first_line="INVITE sip:+15551230000@adapter.example SIP/2.0",
                prefix=b"", extra="", tag="s1"):
    return prefix + sip(first_line, call_id, "1 INVITE", SPAM + f";tag={tag}", TO, extra=extra,
                        body=SDP)


def side_a(frames):
    """Frames that enter on side A, each with a filler on side B to keep replay order."""
    return {"a": list(frames), "b": [filler("b") for _ in frames]}


def l2(side="a"):
    s, d = (NET, PHONE) if side == "a" else (PHONE, NET)
    return Ether(src=s["mac"], dst=d["mac"])


def tcp_seg(seq, payload=b"", flags="PA", sport=40000, dport=5060):
    pkt = l2() / IP(src=NET["ip"], dst=PHONE["ip"]) / TCP(sport=sport, dport=dport,
                                                          flags=flags, seq=seq)
    return bytes(pkt / Raw(payload)) if payload else bytes(pkt)


# --- crashes -----------------------------------------------------------------------------

@pytest.mark.parametrize("dport", [5060, 40404])
def test_tcp_keepalive_one_below_the_expected_sequence(tmp_path, dport):
    """A message start, then a zero-length segment one byte below the next expected
    sequence number: what a Linux TCP keep-alive looks like. It used to kill the bridge
    (a length underflow in the overlap branch)."""
    start = (b"INVITE sip:+15551230000@adapter.example SIP/2.0\r\n"
             b"Via: SIP/2.0/TCP 192.0.2.10;branch=z9hG4bKka\r\n")
    frames = merge(side_a([tcp_seg(1000, start, dport=dport),
                           tcp_seg(1000 + len(start) - 1, flags="A", dport=dport),
                           tcp_seg(1000 + len(start) - 1, start[-1:], dport=dport),  # 1-byte probe
                           tcp_seg(1000 + len(start), b"From: <sip:1@x>;tag=1\r\n", dport=dport)]),
                   udp_frames(dialog("after-keepalive@x")))
    a_out, b_out, final, log = replay_with(tmp_path, frames, "")
    assert b_out == frames["a"] and a_out == frames["b"]
    assert [r["call_id"] for r in log] == ["after-keepalive@x"]
    assert final["sip"]["tcp_streams"] == 1


# --- evasions of the screening ---------------------------------------------------------------

EVASIONS = {
    "long_request_uri": dict(first_line="INVITE sip:+15551230000" + ";x=" + "a" * 400
                             + "@adapter.example SIP/2.0"),
    "leading_crlfs": dict(prefix=b"\r\n\r\n\r\n"),
    "lower_case_version": dict(first_line="INVITE sip:+15551230000@adapter.example sip/2.0"),
    "tabs_and_spaces": dict(first_line="INVITE \t sip:+15551230000@adapter.example\t SIP/2.0  "),
}


@pytest.mark.parametrize("form", sorted(EVASIONS))
def test_odd_but_accepted_invites_are_screened(tmp_path, form):
    cid = f"evasion-{form}@x"
    invite = spam_invite(cid, **EVASIONS[form])
    frames = merge(udp_frames([("a", invite)]), udp_frames(dialog("good@x")))
    a_out, b_out, final, log = replay_with(tmp_path, frames, BLOCK_BUSY)
    assert b_out == frames["a"][1:], "the blocked INVITE, and only it, never reached the phone"
    assert final["ports"]["a"]["drop_sip_blocked"] == 1
    assert final["ports"]["a"]["injected"] == 1  # the 486, back to the caller
    reply = [f for f in a_out if f not in frames["b"]]
    assert bytes(Ether(reply[0])[UDP].payload).startswith(b"SIP/2.0 486 Busy Here\r\n")
    rows = {r["call_id"]: r for r in log}
    assert rows[cid]["state"] == "blocked" and rows[cid]["status_code"] == 486
    assert rows["good@x"]["state"] == "ended"


def test_invite_without_a_valid_start_line_follows_the_policy(tmp_path):
    # No SIP version at all: no phone takes it for a call, but it starts like an INVITE.
    bad = b"INVITE sip:+15551230000@adapter.example\r\nCall-ID: x\r\n\r\n"
    frames = merge(udp_frames([("a", bad)]), udp_frames(dialog("good@x")))
    _, b_out, final, _ = replay_with(tmp_path, frames, '[filters]\non_unparsable = "drop"\n')
    assert b_out == frames["a"][1:]
    assert final["sip"]["unscreened_invite_start_line"] == 1
    assert final["ports"]["a"]["drop_sip_unparsed"] == 1


def test_unparsable_invite_with_a_long_request_uri_follows_the_policy(tmp_path):
    # A valid start line with a 400-byte Request-URI, then no Call-ID: the INVITE cannot be
    # screened. Hyperscan used to name such a long line an extension-method request, so it
    # went through as "not an INVITE" even under on_unparsable = "drop".
    uri = "sip:+15551230000;x=" + "a" * 400 + "@adapter.example"
    bad = (f"INVITE {uri} SIP/2.0\r\nFrom: {SPAM};tag=1\r\nTo: {TO}\r\n"
           "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n").encode()
    frames = merge(udp_frames([("a", bad)]), udp_frames(dialog("good@x")))
    _, b_out, final, _ = replay_with(tmp_path, frames, '[filters]\non_unparsable = "drop"\n')
    assert b_out == frames["a"][1:], "the INVITE that could not be screened never reached the phone"
    assert final["sip"]["parse_missing_call_id"] == 1
    assert final["sip"]["invite_unparsed"] == 1
    assert final["sip"]["unscreened_invite_parse_error"] == 1
    assert final["ports"]["a"]["drop_sip_unparsed"] == 1


# --- IP fragments --------------------------------------------------------------------------

PAD = "X-Padding: " + "p" * 1400  # makes the INVITE larger than one 1500-byte frame


def fragments(payload, v6=False, size=600, ident=0x4242, port=5060):
    if v6:
        pkt = (IPv6(src=NET["ip6"], dst=PHONE["ip6"]) / IPv6ExtHdrFragment(id=ident) /
               UDP(sport=port, dport=port) / Raw(payload))
        parts = fragment6(pkt, size)
    else:
        pkt = IP(src=NET["ip"], dst=PHONE["ip"], id=ident) / UDP(sport=port, dport=port) / \
            Raw(payload)
        parts = fragment(pkt, fragsize=size)
    assert len(parts) >= 3
    return [bytes(l2() / p) for p in parts]


@pytest.mark.parametrize("v6", [False, True], ids=["ipv4", "ipv6"])
@pytest.mark.parametrize("order", ["in_order", "reversed"])
def test_fragmented_invite_is_reassembled_and_screened(tmp_path, v6, order):
    frags = fragments(spam_invite("frag-spam@x", extra=PAD), v6=v6)
    sent = frags if order == "in_order" else frags[::-1]
    completing = sent[-1]
    allowed = fragments(sip("INVITE sip:+15551230000@adapter.example SIP/2.0", "frag-ok@x",
                            "1 INVITE", '"Alice" <sip:+15557654321@p>;tag=a1', TO, extra=PAD,
                            body=SDP), v6=v6, ident=0x4343)
    not_sip = fragments(b"\x80\x00" + bytes(range(256)) * 8, v6=v6, ident=0x4444, port=4000)
    frames = merge(side_a(sent + [completing]),  # + the completing fragment sent again
                   side_a(allowed), side_a(not_sip), udp_frames(dialog("good@x")))
    a_out, b_out, final, log = replay_with(tmp_path, frames, BLOCK_BUSY)
    # Every fragment but the one that completed the blocked INVITE (twice) went through,
    # unchanged: the phone can never put that INVITE together.
    expected = [f for f in frames["a"] if f != completing]
    assert b_out == expected
    assert final["ports"]["a"]["drop_sip_blocked"] == 2
    assert final["sip"]["frag_reassembled"] == 2  # the spam and the allowed call, not the RTP-ish
    replies = [f for f in a_out if f not in frames["b"]]
    assert len(replies) == 1
    assert bytes(Ether(replies[0])[UDP].payload).startswith(b"SIP/2.0 486 Busy Here\r\n")
    rows = {r["call_id"]: r for r in log}
    assert rows["frag-spam@x"]["state"] == "blocked"
    assert rows["frag-ok@x"]["from_number"] == "+15557654321"
    assert rows["good@x"]["state"] == "ended"


def overlapping_fragments():
    """A first fragment of an INVITE and a last one that overlaps it with other bytes."""
    invite = spam_invite("overlap@x", extra=PAD)
    whole = bytes(UDP(sport=5060, dport=5060) / Raw(invite))
    ip = dict(src=NET["ip"], dst=PHONE["ip"], id=0x5151, proto=17)
    first = IP(flags="MF", frag=0, **ip) / Raw(whole[:800])
    tail = bytearray(whole[792:])
    tail[0] ^= 0xff  # the 8 bytes at offset 792 again, but different
    last = IP(frag=792 // 8, **ip) / Raw(bytes(tail))
    return [bytes(l2() / first), bytes(l2() / last)]


@pytest.mark.parametrize("policy", ["forward", "drop"])
def test_ambiguous_fragments_follow_the_policy(tmp_path, policy):
    frags = overlapping_fragments()
    frames = merge(side_a(frags), udp_frames(dialog("good@x")))
    _, b_out, final, log = replay_with(tmp_path, frames,
                                       block_busy(f'on_unparsable = "{policy}"\n'))
    assert final["sip"]["unscreened_frag_ambiguous"] == 1
    if policy == "forward":
        assert b_out == frames["a"]
    else:
        # The first fragment passed before anything was wrong; the ambiguous one did not.
        assert b_out == frames["a"][:1] + frames["a"][2:]
        assert final["ports"]["a"]["drop_sip_unparsed"] == 1
    assert "good@x" in {r["call_id"] for r in log}


# --- the bridge's own replies ------------------------------------------------------------------

def test_long_call_id_stays_blocked_and_the_other_side_is_never_matched(tmp_path):
    cid = "long-" + "c" * 300 + "@x"  # longer than any fixed-size field
    invite = spam_invite(cid)
    ack = sip("ACK sip:+15551230000@adapter.example SIP/2.0", cid, "1 ACK", SPAM + ";tag=s1",
              TO + ";tag=rb")
    # A BYE from the phone side reusing the Call-ID (another dialog) must pass.
    bye_b = sip("BYE sip:x@provider.example SIP/2.0", cid, "7 BYE", TO + ";tag=ph",
                '<sip:other@p>;tag=o')
    frames = merge(udp_frames([("a", invite), ("a", invite), ("a", ack), ("b", bye_b)]),
                   udp_frames(dialog("good@x")))
    a_out, b_out, final, _ = replay_with(tmp_path, frames, BLOCK_BUSY)
    assert b_out == frames["a"][3:], "INVITE, its retransmission and the ACK all absorbed"
    assert [f for f in a_out if f in frames["b"]] == frames["b"], "the BYE from B passed"
    assert final["sip"]["blocked_repeats"] == 2
    assert final["ports"]["a"]["injected"] == 2  # one 486 per INVITE (same To tag)


def test_replies_are_rate_limited_and_never_sent_to_group_addresses(tmp_path):
    invites = [spam_invite(f"flood-{i}@x", tag=f"t{i}") for i in range(40)]
    frames = udp_frames([("a", p) for p in invites])
    bcast = frames["a"][0]
    bcast = bcast[:6] + b"\xff\xff\xff\xff\xff\xff" + bcast[12:]  # a broadcast source MAC
    frames["a"].append(bcast)
    frames["b"].append(filler("b"))
    cfg = block_busy("reply_rate = 1\nreply_burst = 5\n")
    a_out, b_out, final, _ = replay_with(tmp_path, frames, cfg)
    assert b_out == [], "every INVITE is dropped whether it is answered or not"
    sip_c = final["sip"]
    assert sip_c["reply_suppressed"] == 1
    assert 5 <= sip_c["replies_sent"] <= 8  # the burst, plus one a second while replaying
    assert sip_c["replies_sent"] + sip_c["reply_rate_limited"] == 40
    assert final["ports"]["a"]["injected"] == sip_c["replies_sent"]


# --- seeded random mutations of real SIP, every sink configured --------------------------------

EVIL_NAMES = [b"\xff\xfe", "東京都千代田区の長い表示名".encode() * 4, b"%FF%FE", b"\xc0\xaf", b"\x00\x1b[2J",
              b'"\\', "Zoë".encode("latin-1"), b"\xed\xa0\x80", "👋".encode()[:3]]


def mutate(rnd, msg):
    b = bytearray(msg)
    for _ in range(rnd.randint(1, 4)):
        k = rnd.randrange(10)
        if k == 0 and b:
            b[rnd.randrange(len(b))] = rnd.randrange(256)
        elif k == 1:
            at = rnd.randrange(len(b) + 1)
            b[at:at] = bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 20)))
        elif k == 2 and len(b) > 2:
            at = rnd.randrange(len(b) - 1)
            del b[at:at + rnd.randint(1, min(40, len(b) - at))]
        elif k == 3 and b:
            del b[rnd.randrange(len(b)):]
        elif k == 4:
            lines = bytes(b).split(b"\r\n")
            i = rnd.randrange(len(lines))
            lines.insert(i, lines[i])
            b = bytearray(b"\r\n".join(lines))
        elif k == 5:
            b = bytearray(bytes(b).replace(b'"Alice"', b'"' + rnd.choice(EVIL_NAMES) + b'"', 1)
                          .replace(b"+15557654321", b"+1555%FF" + rnd.choice(EVIL_NAMES)[:6], 1))
        elif k == 6:
            b[0:0] = b"\r\n" * rnd.randint(1, 3)
        elif k == 7:
            b = bytearray(bytes(b).replace(b"Content-Length: ",
                                           b"Content-Length: " + str(rnd.randrange(99999)).encode()
                                           + b" ", 1))
        elif k == 8 and b:
            at = rnd.randrange(len(b))
            b[at:at] = b"\r\n "
        elif k == 9:
            lines = bytes(b).split(b"\r\n")
            i, j = rnd.randrange(len(lines)), rnd.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
            b = bytearray(b"\r\n".join(lines))
    return bytes(b)


def segment_cuts(rnd, msgs):
    """Random cut points (fractions) for each side's stream, no segment over 1,200 bytes
    (larger frames would exceed the MTU and be dropped as oversize)."""
    cuts = set()
    for side in ("a", "b"):
        total = sum(len(p) for s, p in msgs if s == side)
        at = 0
        while total and at < total:
            at += rnd.randint(1, 1200)
            cuts.add(min(at, total) / total)
    return sorted(cuts)


def test_thousands_of_mutated_sip_messages_with_every_sink(tmp_path):
    import random

    from peers import GntpServer, UdpReceiver, WebhookServer, hep_decode
    from sippcap import tcp_frames

    rnd = random.Random(20261130)
    base = []
    for i in range(40):
        base += dialog(f"mut-{i}@x", outcome=rnd.choice(["answered", "missed", "busy"]))
    udp_msgs, udp6_msgs, odd_port, tcp_msgs = [], [], [], []
    count = int(os.environ.get("RB_MUTATIONS", "3000"))
    for n in range(count):
        side, msg = rnd.choice(base)
        m = mutate(rnd, msg)
        r = rnd.random()
        (udp_msgs if r < 0.6 else udp6_msgs if r < 0.75 else odd_port if r < 0.85
         else tcp_msgs).append((side, m))
    frames = merge(udp_frames(udp_msgs), udp_frames(udp6_msgs, v6=True),
                   udp_frames(odd_port, port=5999),
                   tcp_frames(tcp_msgs, cuts=segment_cuts(rnd, tcp_msgs)))
    growl = GntpServer().start()
    hooks = WebhookServer(fails=0).start()
    raw, hep = UdpReceiver().start(), UdpReceiver().start()
    try:
        cfg = (f'[notify.udp]\ntargets = ["127.0.0.1:{raw.port}"]\n'
               f'[notify.growl]\nhost = "127.0.0.1"\nport = {growl.port}\n'
               f'[notify.webhook]\nurls = ["{hooks.url("/ok")}"]\nqueue = 100000\n'
               f'[notify.mqtt]\nport = 1\ntimeout_ms = 100\n'  # no broker: failures counted
               f'[notify.hep]\naddress = "127.0.0.1:{hep.port}"\n'
               '[filters]\n[[filters.rules]]\nmatch = "name"\npattern = "never matches"\n')
        a_out, b_out, final, log = replay_with(tmp_path, frames, cfg)
    finally:
        for peer in (growl, hooks, raw, hep):
            peer.stop()
    # Everything crossed unchanged, in order, and the bridge exited cleanly (replay_with).
    assert b_out == frames["a"] and a_out == frames["b"]
    assert final["sip"]["sip_messages"] > 1000  # most mutations still parse as SIP
    # What left the process is valid UTF-8 (log rows, webhook JSON, GNTP, HEP strings).
    for row in log:
        for v in row.values():
            if isinstance(v, str):
                v.encode("utf-8")
    # (the webhook peer parses every body as JSON: one that fails never lands in posts)
    assert hooks.posts.get("/ok"), "the webhook got events"
    assert growl.raw, "Growl got notifications"
    for req in growl.raw:
        req.decode("utf-8")
    assert hep.packets, "HEP got SIP messages"
    for _, pkt in hep.packets:
        hep_decode(pkt)[0x0011].decode("utf-8")  # the correlation id (Call-ID); SIP stays raw
    stderr = (tmp_path / "stderr").read_bytes()
    stderr.decode("utf-8")
    print(f"\nRELIABILITY {count} seeded mutations of real SIP (UDP IPv4/IPv6, an odd port, "
          f"TCP cut at random) with udp, growl, webhook, mqtt (broker down) and hep sinks: exit "
          f"0, every frame forwarded unchanged, {final['sip']['sip_messages']} still parsed as "
          "SIP, everything written out valid UTF-8")


def test_long_call_ids_sharing_a_prefix_are_two_calls(tmp_path):
    """Events carry Call-IDs cut to 128 bytes; the call log must still tell two calls whose
    Call-IDs differ only after that (one must not end, or rename, the other)."""
    prefix = "p" * 140
    frames = merge(udp_frames(dialog(prefix + "-one@x")), udp_frames(dialog(prefix + "-two@x",
                                                                            outcome="missed")))
    _, _, _, log = replay_with(tmp_path, frames, "")
    assert len(log) == 2
    assert sorted(r["state"] for r in log) == ["ended", "missed"]
