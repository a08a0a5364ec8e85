# SPDX-License-Identifier: BSD-3-Clause
"""The running binary between two network namespaces, over AF_XDP and over AF_PACKET:
ping both ways (IPv4 and IPv6), a TCP transfer with a matching checksum, a paced UDP stream
with 0 loss, VLAN/QinQ/odd frames unchanged, and a clean SIGTERM exit."""
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from scapy.all import IP, UDP, Dot1AD, Dot1Q, Ether, IPv6, Raw

from rbtest import (Ringbridge, Topology, assert_counters_balance, in_ns, read_pcap,
                    run, write_pcap)

TRAFFIC = [sys.executable, str(Path(__file__).with_name("traffic.py"))]


@pytest.fixture(scope="module", params=["xdp", "afpacket"])
def bridge(request, tmp_path_factory):
    """A topology with ringbridge running between its two sides."""
    with Topology() as topo:
        flags_before = topo.link_flags()
        # ringbridge turns promiscuous mode on itself, and must turn it off again.
        assert [f & 0x100 for f in flags_before] == [0, 0], flags_before
        napi_before = topo.napi_settings()
        # The NAPI tuning (off by default) on: it must be applied and restored on xdp ports.
        rb = Ringbridge(topo.ports(request.param), workdir=tmp_path_factory.mktemp(request.param),
                        config="[dataplane]\naf_xdp_tune_napi = true\n")
        with rb:
            rb.topo = topo
            rb.kind = request.param
            rb.flags_before = flags_before
            rb.napi_before = napi_before
            # The first frames (ARP) can race the XDP program attach; wait for a path.
            deadline = time.time() + 10
            while run(in_ns(topo.net_ns, "ping", "-c1", "-W1", topo.phone_ip), check=False).returncode:
                assert time.time() < deadline, "no path through ringbridge\n" + rb.stderr()
            yield rb


def ping(ns, dst, count=20, v6=False):
    r = run(in_ns(ns, "ping", "-6" if v6 else "-4", "-c", count, "-i", "0.05", "-W", "2", dst),
            check=False)
    assert f"{count} received" in r.stdout, r.stdout + r.stderr


def test_ping_both_ways_ipv4_and_ipv6(bridge):
    t = bridge.topo
    ping(t.net_ns, t.phone_ip)
    ping(t.phone_ns, t.net_ip)
    ping(t.net_ns, t.phone_ip6, v6=True)  # IPv6 neighbour discovery uses multicast
    ping(t.phone_ns, t.net_ip6, v6=True)


def test_tcp_transfer_arrives_intact(bridge):
    t = bridge.topo
    recv = subprocess.Popen(in_ns(t.phone_ns, *TRAFFIC, "tcp-recv", 5001), stdout=subprocess.PIPE, text=True)
    try:
        assert recv.stdout.readline().strip() == "listening"
        sent = run(in_ns(t.net_ns, *TRAFFIC, "tcp-send", t.phone_ip, 5001, 32 << 20, 7), timeout=120)
        got = recv.stdout.readline().split()
        assert sent.stdout.split() == got
        assert int(got[0]) == 32 << 20
    finally:
        recv.kill()
        recv.wait()


def test_paced_udp_both_directions_without_loss(bridge):
    t = bridge.topo
    count, pps = 20_000, 5_000
    receivers = [subprocess.Popen(in_ns(ns, *TRAFFIC, "udp-recv", 6000, count, 3),
                                  stdout=subprocess.PIPE, text=True)
                 for ns in (t.phone_ns, t.net_ns)]
    try:
        for r in receivers:
            assert r.stdout.readline().strip() == "listening"
        senders = [subprocess.Popen(in_ns(ns, *TRAFFIC, "udp-send", dst, 6000, pps, count),
                                    stdout=subprocess.PIPE, text=True)
                   for ns, dst in ((t.net_ns, t.phone_ip), (t.phone_ns, t.net_ip))]
        for s in senders:
            s.wait(timeout=60)
        for r in receivers:
            line = r.stdout.readline().strip()
            r.wait(timeout=30)
            assert line == f"received={count} in_order=1 missing=0", line
    finally:
        for p in receivers:
            p.kill()
            p.wait()


def tagged_frames():
    """Frames a transparent bridge must not touch: 802.1Q, QinQ (802.1ad), priority tags,
    broadcast, IPv6 multicast, and runts below the 60-byte Ethernet minimum."""
    src, dst = "02:00:00:77:00:01", "02:00:00:77:00:02"
    mark = lambda i: Raw(b"RBMARK%04d" % i + bytes(range(40)))
    frames = [
        Ether(src=src, dst=dst) / Dot1Q(vlan=100, prio=5) / IP(src="192.0.2.1", dst="192.0.2.2") / UDP(sport=5060, dport=5060) / mark(0),
        Ether(src=src, dst=dst) / Dot1AD(vlan=200) / Dot1Q(vlan=300) / IP(src="192.0.2.1", dst="192.0.2.2") / UDP() / mark(1),
        Ether(src=src, dst=dst) / Dot1Q(vlan=0, prio=6) / IP(src="192.0.2.1", dst="192.0.2.2") / UDP() / mark(2),
        Ether(src=src, dst="ff:ff:ff:ff:ff:ff") / IP(src="192.0.2.1", dst="255.255.255.255") / UDP(sport=68, dport=67) / mark(3),
        Ether(src=src, dst="33:33:00:00:00:fb") / IPv6(src="fe80::1", dst="ff02::fb") / UDP(sport=5353, dport=5353) / mark(4),
        Ether(src=src, dst=dst, type=0x88b5) / mark(5),
    ]
    out = [bytes(f) for f in frames]
    out.append(bytes(Ether(src=src, dst=dst, type=0x88b5) / b"RBMARK0006")[:24])  # 24-byte runt
    return out


def capture_and_send(topo, frames, tmp_path):
    pcap_in = tmp_path / "send.pcap"
    write_pcap(pcap_in, frames)
    cap = tmp_path / "cap.pcap"
    dumpcap = subprocess.Popen(in_ns(topo.phone_ns, "dumpcap", "-q", "-P", "-i", "eth0",
                                     "-w", cap, "-a", "duration:4"),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)  # dumpcap has no "ready" signal
    run(in_ns(topo.net_ns, *TRAFFIC, "send-frames", "eth0", pcap_in))
    dumpcap.wait(timeout=15)
    return [f for f in read_pcap(cap) if b"RBMARK" in f]


def test_vlan_qinq_multicast_and_runts_pass_unchanged(bridge, tmp_path):
    sent = tagged_frames()
    got = capture_and_send(bridge.topo, sent, tmp_path)
    # On AF_PACKET the kernel hands the outer tag over out of band (with its TPID): it must
    # come back as it was, 802.1ad included.
    assert got == sent


def fragments():
    """IPv4 and IPv6 fragments of one UDP datagram each, first and later fragments, out of
    order: a bridge forwards fragments as they come (the kernel's packet fanout, asked to
    defragment, would hold them back and send one reassembled datagram instead)."""
    from scapy.all import IPv6ExtHdrFragment, fragment
    src, dst = "02:00:00:77:00:01", "02:00:00:77:00:02"
    payload = b"RBMARKFRAG" + bytes(range(256)) * 8
    v4 = fragment(IP(src="192.0.2.1", dst="192.0.2.2", id=4242) / UDP(sport=4000, dport=4001) /
                  Raw(payload), fragsize=800)
    six = IPv6(src="2001:db8::1", dst="2001:db8::2") / IPv6ExtHdrFragment(id=77, nh=17)
    udp6 = bytes(UDP(sport=4000, dport=4001, len=8 + len(payload)) / Raw(payload))
    v6 = [six.copy() / Raw(udp6[:1000]), six.copy() / Raw(udp6[1000:])]
    v6[0][IPv6ExtHdrFragment].m = 1
    v6[1][IPv6ExtHdrFragment].offset = 1000 // 8
    frames = [bytes(Ether(src=src, dst=dst) / f) for f in v4 + v6]
    # Later fragments first, then the first ones.
    return [f for i, f in enumerate(frames) if i % 2] + [f for i, f in enumerate(frames) if not i % 2]


def test_ip_fragments_pass_unchanged_and_in_order(bridge, tmp_path):
    sent = fragments()
    # Fragments carry the mark only in the first fragment's payload; match all of them by
    # their source MAC instead.
    pcap_in = tmp_path / "send.pcap"
    write_pcap(pcap_in, sent)
    cap = tmp_path / "cap.pcap"
    topo = bridge.topo
    dumpcap = subprocess.Popen(in_ns(topo.phone_ns, "dumpcap", "-q", "-P", "-i", "eth0",
                                     "-w", cap, "-a", "duration:4"),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    run(in_ns(topo.net_ns, *TRAFFIC, "send-frames", "eth0", pcap_in))
    dumpcap.wait(timeout=15)
    got = [f for f in read_pcap(cap) if f[6:12] == bytes.fromhex("020000770001")]
    assert got == sent


def test_counters_over_sigusr1(bridge):
    st = bridge.stats()
    a, b = st["ports"]["a"], st["ports"]["b"]
    assert a["rx_pkts"] > 20_000 and b["rx_pkts"] > 20_000  # the UDP streams at least
    assert a["drops"] == 0 and b["drops"] == 0
    assert st["workers"][0]["busy_polls"] > 0


def test_sigterm_stops_cleanly(bridge):
    topo = bridge.topo
    runtime = bridge.runtime_dir
    assert topo.xdp_attached() == [bridge.kind == "xdp"] * 2
    assert [f & 0x100 for f in topo.link_flags()] == [0x100, 0x100], "promiscuous while running"
    # AF_XDP busy polling: NAPI deferred to the worker while running, restored afterwards.
    tuned = [("2", "50000")] * 2 if bridge.kind == "xdp" else bridge.napi_before
    assert topo.napi_settings() == tuned
    rc, final, exit_line = bridge.stop(signal.SIGTERM)
    assert rc == 0, bridge.stderr()
    assert "signal 15" in bridge.stderr()
    assert_counters_balance(final)
    assert exit_line["mbufs_leaked"] == 0 and exit_line["status"] == 0
    # Exact: every mbuf back in the pool, except what net_af_xdp keeps in its fill rings by
    # design (2048 per rx queue, one queue per port here) — no allowance beyond that.
    held = 2 * 2048 if bridge.kind == "xdp" else 0
    assert exit_line["mbufs_in_use"] == exit_line["mbufs_pmd_held"] == held, exit_line
    assert not runtime.exists(), f"{runtime} left behind"
    assert topo.xdp_attached() == [False, False], "XDP program left on the interface"
    assert topo.link_flags() == bridge.flags_before, "interface flags not restored"
    assert topo.napi_settings() == bridge.napi_before, "NAPI settings not restored"
    # With the bridge gone nothing crosses any more.
    r = run(in_ns(topo.net_ns, "ping", "-c1", "-W1", topo.phone_ip), check=False)
    assert r.returncode != 0


def test_defaults_leave_napi_alone_and_sweep_a_killed_instances_runtime_dir(tmp_path):
    """The default configuration does not touch the interfaces' NAPI settings (the tuning
    is opt-in: perf/RESULTS.md, issue 11), and a start removes the DPDK runtime directory a
    SIGKILLed ringbridge left behind (never a live process's)."""
    dead = subprocess.Popen(["true"])
    dead.wait()  # a pid that existed and is gone
    stale = Path(f"/var/run/dpdk/ringbridge-{dead.pid}")
    stale.mkdir(parents=True, exist_ok=True)
    (stale / "mp_socket").write_text("")
    try:
        with Topology() as topo:
            napi_before = topo.napi_settings()
            with Ringbridge(topo.ports("xdp"), workdir=tmp_path) as rb:
                topo.wait_for_path()
                assert topo.napi_settings() == napi_before, "NAPI settings changed by default"
                assert not stale.exists(), rb.stderr()
                assert f"removed {stale}" in rb.stderr()
    finally:
        shutil.rmtree(stale, ignore_errors=True)
