# SPDX-License-Identifier: BSD-3-Clause
"""SIP replayed from pcap files through the real binary → the call log rows a user would
see. UDP on 5060 and on 10000 and on a port nobody configured, TCP split across segments
and two messages in one segment, IPv6, VLAN, missed and busy calls, and malformed SIP —
all forwarded byte for byte."""

import pytest
from scapy.all import IP, UDP, Dot1Q, Ether, IPv6

from rbtest import parse_stats
from sippcap import (NET, PHONE, SDP, dialog, merge, replay, replay_with, sip, tcp_frames,
                     udp_frames)

def test_udp_calls_on_hint_ports_and_elsewhere(tmp_path):
    frames = merge(udp_frames(dialog("answered-5060@x")),
                   udp_frames(dialog("answered-10000@x", caller='"Bob" <sip:2125550100@p>'),
                              port=10000),
                   udp_frames(dialog("odd-port@x", caller="<sip:+442071234567@p>"), port=5999),
                   udp_frames(dialog("missed@x", outcome="missed")),
                   udp_frames(dialog("busy@x", outcome="busy")))
    rows, out = replay(tmp_path, frames)
    by_id = {r["call_id"]: r for r in rows}
    assert set(by_id) == {"answered-5060@x", "answered-10000@x", "odd-port@x", "missed@x",
                          "busy@x"}
    a = by_id["answered-5060@x"]
    assert (a["direction"], a["from_number"], a["from_name"], a["caller_name"],
            a["to_number"], a["state"], a["status_code"]) == \
        ("inbound", "+15557654321", "Alice", "Alice", "+15551230000", "ended", 200)
    assert a["started_at"] <= a["answered_at"] <= a["ended_at"]
    assert by_id["answered-10000@x"]["from_number"] == "2125550100"
    assert by_id["answered-10000@x"]["state"] == "ended"
    assert by_id["odd-port@x"]["from_number"] == "+442071234567"
    assert by_id["missed@x"]["state"] == "missed"
    assert by_id["missed@x"]["status_code"] == 487
    assert by_id["busy@x"]["state"] == "failed"
    assert by_id["busy@x"]["status_code"] == 486
    sip = parse_stats(out)[0][-1]["sip"]
    assert sip["requests_INVITE"] == 5 and sip["requests_CANCEL"] == 1
    assert sip["responses_4xx"] == 2 and sip["ring_full"] == 0


def test_outbound_calls_enter_on_the_phone_side(tmp_path):
    msgs = [("b" if s == "a" else "a", p) for s, p in dialog("out@x", outcome="busy")]
    rows, _ = replay(tmp_path, udp_frames(msgs))
    assert len(rows) == 1
    assert rows[0]["direction"] == "outbound"
    assert rows[0]["state"] == "failed"


def test_tcp_split_across_segments_and_several_in_one(tmp_path):
    # The INVITE is cut in three; later messages share segments.
    frames = tcp_frames(dialog("tcp-call@x"), cuts=[0.07, 0.31, 0.52, 0.9])
    rows, _ = replay(tmp_path, frames)
    assert len(rows) == 1
    assert rows[0]["call_id"] == "tcp-call@x"
    assert rows[0]["state"] == "ended"
    assert rows[0]["from_number"] == "+15557654321"


def test_ipv6_and_vlan(tmp_path):
    frames = merge(udp_frames(dialog("v6@x"), v6=True),
                   udp_frames(dialog("vlan@x", caller='"Carol" <tel:+15550001111>'), vlan=42))
    rows, _ = replay(tmp_path, frames)
    by_id = {r["call_id"]: r for r in rows}
    assert by_id["v6@x"]["state"] == "ended"
    assert by_id["vlan@x"]["from_number"] == "+15550001111"
    assert by_id["vlan@x"]["from_name"] == "Carol"


def test_malformed_sip_is_forwarded_and_counted_not_logged(tmp_path):
    bad = [("a", b"INVITE sip:x SIP/2.0\r\nCall-ID: bad\r\nCSeq: 1 INVITE\r\n"
                 b"Content-Length: 900\r\n\r\nshort"),
           ("a", b"INVITE sip:x SIP/2.0\r\nNo colon here\r\n\r\n"),
           ("a", b"SIP/2.0 2000 Nope\r\n\r\n"),
           ("a", b"\x00\x01garbage on 5060" * 3)]
    rows, out = replay(tmp_path, udp_frames(bad + dialog("after-garbage@x")))
    assert [r["call_id"] for r in rows] == ["after-garbage@x"]
    sip = parse_stats(out)[0][-1]["sip"]
    assert sip["parse_truncated_body"] == 1
    assert sip["parse_bad_header"] == 1
    assert sip["parse_bad_start_line"] == 0, "2000 is no status code: not SIP at all"
    assert sip["not_sip"] == 2, "on the hint port: the bad status line and the garbage"
    assert sip["sip_messages"] == 7 and sip["sip_events"] == 7 and sip["ring_full"] == 0


BROKEN_INVITE = (b"INVITE sip:+15551230000@adapter.example SIP/2.0\r\n"
                 b"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKbroken\r\n"
                 b"From: <sip:+15550000001@p>;tag=1\r\nTo: <sip:+15551230000@a>\r\n"
                 b"CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n")  # no Call-ID


@pytest.mark.parametrize("policy", ["forward", "drop"])
def test_unparsable_invite_policy(tmp_path, policy):
    frames = merge(udp_frames([("a", BROKEN_INVITE)]), udp_frames(dialog("good@x")))
    a_out, b_out, final, log = replay_with(tmp_path, frames,
                                           f'[filters]\non_unparsable = "{policy}"\n')
    assert final["sip"]["invite_unparsed"] == 1
    if policy == "forward":
        assert b_out == frames["a"]
        assert final["ports"]["a"]["drop_sip_unparsed"] == 0
    else:
        assert b_out == frames["a"][1:]  # the broken INVITE, and only it, was not forwarded
        assert final["ports"]["a"]["drop_sip_unparsed"] == 1
    assert [r["call_id"] for r in log] == ["good@x"]


def test_blocked_invite_gets_486_built_right_on_vlan_and_ipv6(tmp_path):
    spam = '"Spammer" <sip:+19005550100@provider.example>'
    frames = merge(udp_frames([("a", sip("INVITE sip:+15551230000@adapter.example SIP/2.0",
                                         "spam-v4@x", "1 INVITE", spam + ";tag=s1",
                                         "<sip:+15551230000@a>", body=SDP))], vlan=100),
                   udp_frames([("a", sip("INVITE sip:+15551230000@adapter.example SIP/2.0",
                                         "spam-v6@x", "1 INVITE", spam + ";tag=s2",
                                         "<sip:+15551230000@a>"))], v6=True),
                   udp_frames(dialog("good@x")),
                   # The phone calling out to that number is never screened.
                   udp_frames([("b", sip("INVITE sip:+19005550100@provider.example SIP/2.0",
                                         "outbound@x", "1 INVITE",
                                         "<sip:+19005550100@adapter.example>;tag=o1",
                                         "<sip:+19005550100@provider.example>"))]))
    cfg = ('[filters]\n[[filters.rules]]\nmatch = "number"\nsyntax = "prefix"\n'
           'pattern = "+1900"\naction = "block"\nblock_mode = "busy"\n')
    a_out, b_out, final, log = replay_with(tmp_path, frames, cfg)
    # The phone side got neither INVITE, everything else unchanged and in order.
    assert b_out == frames["a"][2:]  # (frames["b"], all forwarded, include the outbound INVITE)
    assert final["ports"]["a"]["drop_sip_blocked"] == 2
    # Port A sent what B sent, plus the two 486s (injected), each back to the caller.
    replies = [f for f in a_out if f not in frames["b"]]
    assert [f for f in a_out if f in frames["b"]] == frames["b"]
    assert len(replies) == 2 and final["ports"]["a"]["injected"] == 2
    v4 = Ether(replies[0])
    assert v4[Dot1Q].vlan == 100
    assert (v4[Ether].dst, v4[Ether].src) == (NET["mac"], PHONE["mac"])
    assert (v4[IP].src, v4[IP].dst) == (PHONE["ip"], NET["ip"])
    v6 = Ether(replies[1])
    assert (v6[IPv6].src, v6[IPv6].dst) == (PHONE["ip6"], NET["ip6"])
    for pkt, ip_layer, cid in ((v4, IP, "spam-v4@x"), (v6, IPv6, "spam-v6@x")):
        udp = pkt[UDP]
        assert (udp.sport, udp.dport) == (5060, 5060)
        # Checksums as sent equal the ones scapy computes afresh.
        sent_sum = udp.chksum
        del udp.chksum
        if ip_layer is IP:
            sent_ip = pkt[IP].chksum
            del pkt[IP].chksum
        fresh = pkt.__class__(bytes(pkt))
        assert fresh[UDP].chksum == sent_sum
        if ip_layer is IP:
            assert fresh[IP].chksum == sent_ip
        text = bytes(pkt[UDP].payload).decode()
        assert text.startswith("SIP/2.0 486 Busy Here\r\n")
        assert f"\r\nCall-ID: {cid}\r\n" in text and "\r\nCSeq: 1 INVITE\r\n" in text
        assert ";tag=" in text.split("\r\nTo: ", 1)[1].split("\r\n", 1)[0]
        assert text.endswith("Content-Length: 0\r\n\r\n")
    assert {(r["call_id"], r["state"], r["status_code"]) for r in log} >= {
        ("spam-v4@x", "blocked", 486), ("spam-v6@x", "blocked", 486)}
