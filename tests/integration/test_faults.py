# SPDX-License-Identifier: BSD-3-Clause
"""Faults injected into the running binary between two network namespaces: a control
thread that stops draining (the workers must not notice — every frame forwarded, the call
events that did not fit the ring counted exactly), and links that go down and come back
(counted, forwarding resumes by itself)."""
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rbtest import Ringbridge, Topology, assert_counters_balance, call_log, in_ns, run

TRAFFIC = [sys.executable, str(Path(__file__).with_name("traffic.py"))]


def wait_path(topo, rb, timeout=10):
    deadline = time.time() + timeout
    while run(in_ns(topo.net_ns, "ping", "-c1", "-W1", topo.phone_ip), check=False).returncode:
        assert time.time() < deadline, "no path through ringbridge\n" + rb.stderr()


def wait_log(rb, text, timeout=10):
    deadline = time.time() + timeout
    while text not in rb.stderr():
        assert time.time() < deadline, f"no '{text}' in the log:\n{rb.stderr()}"
        time.sleep(0.05)


def udp_counter(ns, port, quiet_s):
    p = subprocess.Popen(in_ns(ns, *TRAFFIC, "udp-count", port, quiet_s), stdout=subprocess.PIPE,
                         text=True)
    assert p.stdout.readline().strip() == "listening"
    return p


def counted(p):
    line = p.stdout.readline().strip()
    p.wait(timeout=30)
    return int(line.split("=")[1])


def test_control_stall_loses_events_never_frames(tmp_path):
    invites = 6000  # more than the event ring holds
    cfg = "[debug]\ncontrol_stall_ms = 5000\n"
    with Topology() as topo, Ringbridge(topo.ports("xdp"), config=cfg, workdir=tmp_path) as rb:
        wait_path(topo, rb)
        recv = udp_counter(topo.phone_ns, 5060, 3)
        rb.proc.send_signal(signal.SIGUSR2)
        wait_log(rb, "control thread stalling")
        run(in_ns(topo.net_ns, *TRAFFIC, "sip-flood", topo.phone_ip, 5060, invites, 10000, 1),
            timeout=60)
        got = counted(recv)
        assert "control thread resumes" not in rb.stderr(), "the flood outlasted the stall"
        wait_log(rb, "control thread resumes")
        rc, final, exit_line = rb.stop()
    assert rc == 0 and exit_line["status"] == 0, rb.stderr()
    assert got == invites, "the phone side got every INVITE while control was stalled"
    assert_counters_balance(final)
    assert final["ports"]["a"]["drops"] == 0
    sip = final["sip"]
    assert sip["requests_INVITE"] == invites
    # Exact accounting: what did not fit the ring is counted, the rest reached the call log.
    assert sip["ring_full"] > 0
    assert sip["sip_events"] + sip["ring_full"] == invites
    assert len(call_log(tmp_path / "state")) == sip["sip_events"]


def link_state(rb):
    st = rb.stats()
    return {s: (st["ports"][s]["link_up"], st["ports"][s]["link_changes"]) for s in "ab"}


def wait_link(rb, want, timeout=10):
    deadline = time.time() + timeout
    while (got := link_state(rb)) != want:
        assert time.time() < deadline, f"link state {got}, expected {want}\n{rb.stderr()}"
        time.sleep(0.5)


@pytest.mark.parametrize("kind", ["xdp", "afpacket"])
def test_links_going_down_and_up_are_counted_and_forwarding_resumes(tmp_path, kind):
    with Topology() as topo, Ringbridge(topo.ports(kind), workdir=tmp_path) as rb:
        wait_path(topo, rb)
        assert link_state(rb) == {"a": (1, 0), "b": (1, 0)}
        # The bridge's own port loses its link (a cable pulled), then gets it back.
        run(["ip", "link", "set", topo.net_if, "down"])
        wait_link(rb, {"a": (0, 1), "b": (1, 0)})
        run(["ip", "link", "set", topo.net_if, "up"])
        wait_link(rb, {"a": (1, 2), "b": (1, 0)})
        wait_path(topo, rb, timeout=15)
        # The phone resets its interface: the carrier drops on our side b.
        run(in_ns(topo.phone_ns, "ip", "link", "set", "eth0", "down"))
        wait_link(rb, {"a": (1, 2), "b": (0, 1)})
        run(in_ns(topo.phone_ns, "ip", "link", "set", "eth0", "up"))
        wait_link(rb, {"a": (1, 2), "b": (1, 2)})
        wait_path(topo, rb, timeout=15)
        # And a paced stream crosses without loss again.
        recv = subprocess.Popen(in_ns(topo.phone_ns, *TRAFFIC, "udp-recv", 7000, 2000, 5),
                                stdout=subprocess.PIPE, text=True)
        assert recv.stdout.readline().strip() == "listening"
        run(in_ns(topo.net_ns, *TRAFFIC, "udp-send", topo.phone_ip, 7000, 2000, 2000), timeout=60)
        assert "received=2000 in_order=1 missing=0" in recv.stdout.readline()
        recv.wait(timeout=10)
        assert "port a (" in rb.stderr() and "link down" in rb.stderr()
        rc, final, exit_line = rb.stop()
    assert rc == 0 and exit_line["mbufs_leaked"] == 0, rb.stderr()
    assert_counters_balance(final)
