# SPDX-License-Identifier: BSD-3-Clause
"""SIP dialogs as pcap frames for replay through the real binary (pcap ports): the two
sides' messages, UDP (any port, IPv6, VLAN) or TCP cut into segments, and the replay
itself. Shared by the SIP, filter and hostile-input pcap tests."""
from scapy.all import IP, TCP, UDP, Dot1Q, Ether, IPv6, Raw

from rbtest import Ringbridge, call_log, no_new_dpdk_dirs, read_pcap, write_pcap

NET = dict(mac="02:00:00:00:0a:01", ip="192.0.2.10", ip6="2001:db8::10")   # side A: provider
PHONE = dict(mac="02:00:00:00:0b:01", ip="192.0.2.20", ip6="2001:db8::20")  # side B: adapter


def sip(first_line, call_id, cseq, frm, to, extra="", body=""):
    lines = [first_line,
             "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK" + call_id[:8] + str(cseq),
             f"From: {frm}", f"To: {to}", f"Call-ID: {call_id}", f"CSeq: {cseq}",
             "Max-Forwards: 70"]
    if extra:
        lines += extra.split("\n")
    if body:
        lines.append("Content-Type: application/sdp")
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


SDP = ("v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n"
       "m=audio 40000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n")


def dialog(call_id, caller='"Alice" <sip:+15557654321@provider.example>',
           callee="<sip:+15551230000@adapter.example>", outcome="answered"):
    """(from_side, bytes) messages of one call: side 'a' = towards the phone."""
    inv = sip("INVITE sip:+15551230000@adapter.example SIP/2.0", call_id, "1 INVITE",
              caller + ";tag=aaa", callee, body=SDP)
    to_tagged = callee + ";tag=bbb"
    msgs = [("a", inv),
            ("b", sip("SIP/2.0 100 Trying", call_id, "1 INVITE", caller + ";tag=aaa", callee)),
            ("b", sip("SIP/2.0 180 Ringing", call_id, "1 INVITE", caller + ";tag=aaa", to_tagged))]
    if outcome == "answered":
        msgs += [("b", sip("SIP/2.0 200 OK", call_id, "1 INVITE", caller + ";tag=aaa", to_tagged,
                           body=SDP)),
                 ("a", sip("ACK sip:x@adapter.example SIP/2.0", call_id, "1 ACK",
                           caller + ";tag=aaa", to_tagged)),
                 ("b", sip("BYE sip:x@provider.example SIP/2.0", call_id, "2 BYE", to_tagged,
                           caller + ";tag=aaa")),
                 ("a", sip("SIP/2.0 200 OK", call_id, "2 BYE", to_tagged, caller + ";tag=aaa"))]
    elif outcome == "missed":
        msgs += [("a", sip("CANCEL sip:+15551230000@adapter.example SIP/2.0", call_id,
                           "1 CANCEL", caller + ";tag=aaa", callee)),
                 ("b", sip("SIP/2.0 200 OK", call_id, "1 CANCEL", caller + ";tag=aaa", to_tagged)),
                 ("b", sip("SIP/2.0 487 Request Terminated", call_id, "1 INVITE",
                           caller + ";tag=aaa", to_tagged))]
    elif outcome == "busy":
        msgs += [("b", sip("SIP/2.0 486 Busy Here", call_id, "1 INVITE", caller + ";tag=aaa",
                           to_tagged))]
    return msgs


def filler(side):
    """A non-SIP frame that holds the other side's place in the replay (see replay())."""
    s, d = (NET, PHONE) if side == "a" else (PHONE, NET)
    return bytes(Ether(src=s["mac"], dst=d["mac"]) / IP(src=s["ip"], dst=d["ip"]) /
                 UDP(sport=9, dport=9) / Raw(b"filler"))


def udp_frames(msgs, port=5060, v6=False, vlan=None):
    out = {"a": [], "b": []}
    for side, payload in msgs:
        s, d = (NET, PHONE) if side == "a" else (PHONE, NET)
        l2 = Ether(src=s["mac"], dst=d["mac"])
        if vlan is not None:
            l2 = l2 / Dot1Q(vlan=vlan)
        l3 = IPv6(src=s["ip6"], dst=d["ip6"]) if v6 else IP(src=s["ip"], dst=d["ip"])
        out[side].append(bytes(l2 / l3 / UDP(sport=port, dport=port) / Raw(payload)))
        other = "b" if side == "a" else "a"
        out[other].append(filler(other))
    return out


def tcp_frames(msgs, cuts):
    """Each side's messages as one TCP byte stream, cut into segments at CUTS (fractions)."""
    out = {"a": [], "b": []}
    for side in ("a", "b"):
        stream = b"".join(p for s, p in msgs if s == side)
        s, d = (NET, PHONE) if side == "a" else (PHONE, NET)
        points = sorted({0, len(stream), *[int(len(stream) * c) for c in cuts]})
        seq = 1000
        for lo, hi in zip(points, points[1:]):
            out[side].append(bytes(Ether(src=s["mac"], dst=d["mac"]) /
                                   IP(src=s["ip"], dst=d["ip"]) /
                                   TCP(sport=5060 if side == "a" else 40000,
                                       dport=40000 if side == "a" else 5060,
                                       flags="PA", seq=seq) / Raw(stream[lo:hi])))
            seq += hi - lo
    # All of side a's segments, then side b's (the requests are all in a's stream).
    out["b"] = [filler("b") for _ in out["a"]] + out["b"]
    return out


def replay(tmp_path, frames):
    """Two pcap files are read side by side, not in time order. With bursts of one frame
    the worker takes a[0], b[0], a[1], b[1], ...: the builders above put a filler frame
    on the silent side for each message, so the messages keep the order of the dialog."""
    a_out, b_out, final, log = replay_with(tmp_path, frames, "")
    # Inspection never changes forwarding.
    assert b_out == frames["a"]
    assert a_out == frames["b"]
    return log, (tmp_path / "stdout").read_text()


def merge(*parts):
    out = {"a": [], "b": []}
    for p in parts:
        for k in out:
            out[k] += p[k]
    return out


def replay_with(tmp_path, frames, extra_cfg):
    """Like replay(), with more config; returns (a_out, b_out, stdout, call log)."""
    state = tmp_path / "state"
    state.mkdir()
    write_pcap(tmp_path / "a.pcap", frames["a"])
    write_pcap(tmp_path / "b.pcap", frames["b"])
    cfg = (f'[storage]\nstate_dir = "{state}"\n[http]\nenabled = false\n'
           '[dataplane]\nburst = 1\n[replay]\nidle_ms = 600\n' + extra_cfg)
    rb = Ringbridge([f"pcap:{tmp_path}/a.pcap,{tmp_path}/a_out.pcap",
                     f"pcap:{tmp_path}/b.pcap,{tmp_path}/b_out.pcap"], config=cfg,
                    workdir=tmp_path)
    with no_new_dpdk_dirs(), rb:
        rc, final, _ = rb.wait(timeout=60)
    assert rc == 0, rb.stderr()
    return (read_pcap(tmp_path / "a_out.pcap"), read_pcap(tmp_path / "b_out.pcap"), final,
            call_log(state))
