# SPDX-License-Identifier: BSD-3-Clause
"""Faults injected into the running binary between two network namespaces: a control
thread that stops draining (the workers must not notice — every frame forwarded, the call
events that did not fit the ring counted exactly), links that go down and come back
(counted, forwarding resumes by itself), and reloads of a 100,000-rule filter set while
frames flow at the machine's zero-loss rate (no frame lost)."""
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from rbtest import Ringbridge, Topology, assert_counters_balance, call_log, in_ns, metric, run

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
        run(in_ns(topo.net_ns, *TRAFFIC, "sip-flood", topo.phone_ip, 5060, invites, 1, 10000),
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
    assert sip["repeats_coalesced"] == 0, "every INVITE of the flood is a call of its own"
    assert sip["sip_events"] + sip["ring_full"] == invites
    assert len(call_log(tmp_path / "state")) == sip["sip_events"]
    print(f"\nRELIABILITY control thread stalled 5 s while {invites} INVITEs crossed: "
          f"{got} of {invites} reached the phone side, {sip['ring_full']} call events did not "
          f"fit the ring and were counted (ring_full), {sip['sip_events']} were logged")


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
    print(f"\nRELIABILITY links down and up on both sides ({kind} ports): 4 changes counted "
          "per port pair, forwarding resumed by itself, 2,000 paced datagrams after it: 0 lost")


# --- filter reloads near the zero-loss rate -------------------------------------------------

def iface_rx(ns, iface="eth0"):
    return int(run(in_ns(ns, "cat", f"/sys/class/net/{iface}/statistics/rx_packets")).stdout)


def paced_trial(topo, pcap, rate, seconds):
    """tcpreplay at RATE for SECONDS from the net side; returns (sent, lost)."""
    before = iface_rx(topo.phone_ns)
    r = run(in_ns(topo.net_ns, "tcpreplay", "-q", "-i", "eth0", "--preload-pcap", "--loop",
                  max(1, int(rate * seconds / 1000)), "--pps", int(rate), "--pps-multi", 32, pcap),
            timeout=seconds * 10 + 30)
    sent = int(re.search(r"Actual: (\d+) packets", r.stdout + r.stderr).group(1))
    time.sleep(0.3)  # the last frames cross
    return sent, sent - (iface_rx(topo.phone_ns) - before)


def test_filter_reloads_near_the_zero_loss_rate_lose_nothing(tmp_path):
    from rbtest import Api, free_port, sip_config, write_pcap
    from scapy.all import IP, UDP, Ether, Raw

    port, token = free_port(), "test-token-0123456789"
    (tmp_path / "state").mkdir()
    cfg = sip_config(tmp_path / "state", port, token)
    with Topology() as topo, Ringbridge(topo.ports("xdp"), config=cfg, workdir=tmp_path) as rb:
        wait_path(topo, rb)
        api = Api(port, token)
        mac = {ns: run(in_ns(ns, "cat", "/sys/class/net/eth0/address")).stdout.strip()
               for ns in (topo.net_ns, topo.phone_ns)}
        frames = [bytes(Ether(src=mac[topo.net_ns], dst=mac[topo.phone_ns]) /
                        IP(src=topo.net_ip, dst=topo.phone_ip) /
                        UDP(sport=10000 + i, dport=9) / Raw(b"\x00" * 18)) for i in range(1000)]
        pcap = tmp_path / "udp64.pcap"
        write_pcap(pcap, frames)
        numbers = "\n".join(f"+1444{i:07d}" for i in range(100000))
        st, body = api.request("POST", "/api/v1/filters/import", raw=numbers.encode(),
                               content_type="text/plain")
        assert st == 200, body
        # The highest zero-loss rate of a coarse ladder, and 70 % of it: near the zero-loss
        # rate of this machine now, with the headroom a sender sharing the control CPU needs
        # (on two cores the generator runs beside the compiles; a delayed sender releases
        # its backlog as one burst).
        ladder = None
        for rate in (300_000, 200_000, 140_000, 100_000, 70_000, 50_000, 35_000):
            sent, lost = paced_trial(topo, pcap, rate, 1.5)
            if lost == 0 and sent >= rate:
                ladder = rate
                break
        assert ladder is not None, "no zero-loss rate found even at 35 kpps"
        ndr = int(ladder * 0.7)
        # Reloads of the whole 100,000-rule set (one rule added and removed, each a full
        # recompile and publish) while frames flow at that rate; the same rate without
        # reloads alternates with it, as noise on a shared machine can cost a trial.
        stop = threading.Event()

        def reload_loop():
            while not stop.is_set():
                st, r = api.request("POST", "/api/v1/filters",
                                    {"match": "number", "pattern": "+19995550000"})
                assert st == 201, r
                api.request("DELETE", f"/api/v1/filters/{r['id']}")

        results = []
        for attempt in range(3):
            base = paced_trial(topo, pcap, ndr, 3)
            reloads0 = metric(api.get("/metrics")[1], "ringbridge_filter_reloads_total")
            th = threading.Thread(target=reload_loop)
            th.start()
            try:
                with_reload = paced_trial(topo, pcap, ndr, 4)
            finally:
                stop.set()
                th.join(timeout=60)
                stop.clear()
            reloads = metric(api.get("/metrics")[1], "ringbridge_filter_reloads_total") - reloads0
            results.append((base, with_reload, reloads))
            if with_reload[1] == 0 and reloads >= 2:
                break
        base, with_reload, reloads = results[-1]
        print(f"\nRELIABILITY filter reloads: {reloads:.0f} recompiles of 100,000 rules in 4 s "
              f"with 64-byte frames at {ndr / 1000:.0f} kpps (70 % of the run's zero-loss ladder "
              f"rate, {ladder / 1000:.0f} kpps): {with_reload[1]} of {with_reload[0]} lost (without reloads "
              f"{base[1]} of {base[0]}; {len(results)} attempt(s))")
        assert results[-1][1][1] == 0 and results[-1][2] >= 2, results
        rc, final, _ = rb.stop()
    assert rc == 0
    assert final["ports"]["a"]["drops"] == 0
