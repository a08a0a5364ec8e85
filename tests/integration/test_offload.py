# SPDX-License-Identifier: BSD-3-Clause
"""Hosts with the kernel's default offloads on both sides (every veth, container and VM):
their TCP/UDP checksums arrive unfinished and their TCP in 64 KB super-frames. Through
ringbridge on AF_XDP and on AF_PACKET the receiver must get every datagram with a valid
checksum (nstat's *InCsumErrors stay 0), TCP at full size must arrive intact, and the
counters say what the bridge completed or cut. With completion turned off the receiver
drops them: the feature is what makes the difference. Two AF_PACKET workers keep both
directions of a flow on one worker."""
import subprocess
import sys
from pathlib import Path

import pytest

from rbtest import Ringbridge, Topology, in_ns, run

TRAFFIC = [sys.executable, str(Path(__file__).with_name("traffic.py"))]


def nstat(ns, *names):
    """Absolute values of kernel SNMP counters inside namespace NS."""
    out = run(in_ns(ns, "nstat", "-asz", *names)).stdout
    vals = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in names:
            vals[parts[0]] = int(parts[1])
    return vals


def offloads_on(ns):
    """The kernel's defaults, asserted: tx checksumming and TSO are on in the namespace."""
    out = run(in_ns(ns, "ethtool", "-k", "eth0")).stdout
    assert "tx-checksumming: on" in out and "tcp-segmentation-offload: on" in out, out


def udp_stream(topo, count=2000, pps=4000, port=6000):
    recv = subprocess.Popen(in_ns(topo.phone_ns, *TRAFFIC, "udp-recv", port, count, 3),
                            stdout=subprocess.PIPE, text=True)
    try:
        assert recv.stdout.readline().strip() == "listening"
        run(in_ns(topo.net_ns, *TRAFFIC, "udp-send", topo.phone_ip, port, pps, count), timeout=60)
        line = recv.stdout.readline().strip()
        recv.wait(timeout=30)
        return line
    finally:
        recv.kill()
        recv.wait()


def tcp_transfer(topo, nbytes=16 << 20, port=5001):
    recv = subprocess.Popen(in_ns(topo.phone_ns, *TRAFFIC, "tcp-recv", port),
                            stdout=subprocess.PIPE, text=True)
    try:
        assert recv.stdout.readline().strip() == "listening"
        sent = run(in_ns(topo.net_ns, *TRAFFIC, "tcp-send", topo.phone_ip, port, nbytes, 3),
                   timeout=120)
        got = recv.stdout.readline().split()
        return sent.stdout.split(), got
    finally:
        recv.kill()
        recv.wait()


@pytest.mark.parametrize("kind", ["xdp", "afpacket"])
def test_unfinished_checksums_are_completed(kind, tmp_path):
    with Topology() as topo:
        offloads_on(topo.net_ns)
        with Ringbridge(topo.ports(kind), workdir=tmp_path) as rb:
            topo.wait_for_path()
            before = nstat(topo.phone_ns, "UdpInCsumErrors", "UdpInDatagrams")
            assert udp_stream(topo) == "received=2000 in_order=1 missing=0"
            after = nstat(topo.phone_ns, "UdpInCsumErrors", "UdpInDatagrams")
            assert after.get("UdpInCsumErrors", 0) == before.get("UdpInCsumErrors", 0)
            sent, got = tcp_transfer(topo)
            assert sent == got and int(got[0]) == 16 << 20
            assert nstat(topo.phone_ns, "TcpInCsumErrors").get("TcpInCsumErrors", 0) == 0
            a = rb.stats()["ports"]["a"]
            assert a["csum_completed"] >= 2000, a
            assert a["csum_left_partial"] == 0, a
            if kind == "afpacket":
                # TSO on the sender: TCP arrives as super-frames, cut to the MTU.
                assert a["gso_frames"] > 0 and a["gso_segments"] > a["gso_frames"], a
                assert a["drop_gso_unsupported"] == 0 and a["drop_rx_truncated"] == 0, a
            else:
                # An XDP program on a veth turns its peer's TSO off: nothing to cut.
                assert a["gso_frames"] == 0, a


@pytest.mark.parametrize("kind", ["xdp", "afpacket"])
def test_without_completion_the_receiver_drops_them(kind, tmp_path):
    with Topology() as topo:
        with Ringbridge(topo.ports(kind), workdir=tmp_path,
                        config='[dataplane]\ncomplete_checksums = "off"\n') as rb:
            topo.wait_for_path()
            before = nstat(topo.phone_ns, "UdpInCsumErrors").get("UdpInCsumErrors", 0)
            line = udp_stream(topo, count=200, pps=2000)
            assert line.startswith("received=0 "), line
            assert nstat(topo.phone_ns, "UdpInCsumErrors")["UdpInCsumErrors"] >= before + 200
            a = rb.stats()["ports"]["a"]
            assert a["csum_completed"] == 0, a
            if kind == "afpacket":  # the port knows which frames were left unfinished
                assert a["csum_left_partial"] >= 200, a


def test_two_afpacket_workers_keep_each_flow_on_one_worker(tmp_path):
    """Fanout hash without the defragment flag: both directions of a UDP flow (and of a SIP
    dialog) meet on one worker."""
    with Topology() as topo:
        with Ringbridge(topo.ports("afpacket"), "--workers", "2", workdir=tmp_path) as rb:
            topo.wait_for_path()
            base = [w["rx_pkts"] for w in rb.stats()["workers"]]
            n = 3000
            # One flow, both ways: net:7000 <-> phone:7000, like an RTP stream pair.
            ends = [subprocess.Popen(in_ns(ns, *TRAFFIC, "udp-duplex", 7000, peer, 2000, n),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                    for ns, peer in ((topo.net_ns, topo.phone_ip), (topo.phone_ns, topo.net_ip))]
            try:
                for e in ends:
                    assert e.stdout.readline().strip() == "listening"
                for e in ends:
                    e.stdin.write("go\n")
                    e.stdin.flush()
                for e in ends:
                    line = e.stdout.readline().strip()
                    assert line == f"received={n}", line
            finally:
                for e in ends:
                    e.kill()
                    e.wait()
            got = [w["rx_pkts"] - b for w, b in zip(rb.stats()["workers"], base)]
            # One worker carried both directions; the other at most the odd ARP/ND frame.
            assert max(got) >= 2 * n and min(got) < 50, got
