# SPDX-License-Identifier: BSD-3-Clause
"""Two workers, each owning one queue pair on both ports: traffic spreads over both, nothing
is lost or corrupted, and the per-worker counters add up to the port counters.

AF_PACKET spreads frames with the kernel's fanout hash, which is symmetric (both
directions of a flow reach the same queue index, i.e. the same worker). On a veth, AF_XDP
queues follow the sender's tx queue choice, which is not symmetric; NICs use the symmetric
RSS key ringbridge programs."""
import signal
import subprocess
import sys
from pathlib import Path


from rbtest import (BIN, Ringbridge, Topology, assert_counters_balance, in_ns,
                    no_new_dpdk_dirs, run)

TRAFFIC = [sys.executable, str(Path(__file__).with_name("traffic.py"))]


def test_two_workers_share_the_load(tmp_path):
    with Topology(queues=2) as topo:
        rb = Ringbridge(topo.ports("afpacket"), "--workers", 2, workdir=tmp_path)
        with rb:
            assert "CPUs are shared" in rb.stderr() or len(rb.stats()["workers"]) == 2
            r = run(in_ns(topo.net_ns, "ping", "-c", "5", "-i", "0.1", topo.phone_ip), check=False)
            assert "5 received" in r.stdout, r.stdout + rb.stderr()
            # Several TCP connections, one at a time; each must stay on one worker in both
            # directions (data one way, ACKs the other), and together they use both.
            used = set()
            for i in range(16):
                port = 5100 + i
                before = [w["rx_pkts"] for w in rb.stats()["workers"]]
                recv = subprocess.Popen(in_ns(topo.phone_ns, *TRAFFIC, "tcp-recv", port),
                                        stdout=subprocess.PIPE, text=True)
                assert recv.stdout.readline().strip() == "listening"
                sent = run(in_ns(topo.net_ns, *TRAFFIC, "tcp-send", topo.phone_ip, port,
                                 256 << 10, i), timeout=120)
                assert recv.stdout.readline().split() == sent.stdout.split()
                recv.wait(timeout=10)
                delta = [w["rx_pkts"] - b for w, b in zip(rb.stats()["workers"], before)]
                busiest = max(range(2), key=lambda k: delta[k])
                # The flow crossed (256 KiB: hundreds of frames, data one way and ACKs the
                # other); a flow split by direction puts ~half of them on the other worker.
                # Stray frames may land there: ARP, and with the kernel's IPv6 defaults the
                # namespaces' ND, router solicitations and MLD reports of their first seconds
                # (5 seen once in CI) — a handful, never a direction of the flow.
                assert delta[busiest] >= 100, f"flow {i} did not cross: {delta}"
                assert delta[1 - busiest] <= 16, f"flow {i} split across workers: {delta}"
                used.add(busiest)
            assert used == {0, 1}, "16 flows all hashed to one worker"
            st = rb.stats()
            workers = st["workers"]
            assert len(workers) == 2
            assert sum(w["rx_pkts"] for w in workers) <= (st["ports"]["a"]["rx_pkts"] +
                                                         st["ports"]["b"]["rx_pkts"])
            rc, final, exit_line = rb.stop(signal.SIGTERM)
        assert rc == 0
        assert_counters_balance(final)
        assert sum(w["rx_pkts"] for w in final["workers"]) == (final["ports"]["a"]["rx_pkts"] +
                                                               final["ports"]["b"]["rx_pkts"])
        assert exit_line["mbufs_leaked"] == 0


def test_af_xdp_on_a_veth_has_one_queue_and_says_so():
    """veth reports no combined channels, so DPDK's AF_XDP PMD sees one queue: two workers
    are refused before DPDK starts, with the ways out named."""
    with Topology(queues=2) as topo, no_new_dpdk_dirs():
        r = run([BIN, *sum((["--port", p] for p in topo.ports("xdp")), []), "--workers", "2"],
                check=False)
    assert r.returncode == 2
    assert "workers need one each" in r.stderr and "afpacket:" in r.stderr, r.stderr
