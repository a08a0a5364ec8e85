# SPDX-License-Identifier: BSD-3-Clause
"""An INVITE flood — every INVITE a new call from a spoofed caller, sent as fast as the
AF_XDP generator goes — through the running binary: forwarding goes on, the call table, the
call log and the phonebook's automatic rows stay within their configured caps, and the
process's memory stays flat from one wave of the flood to the next."""
import contextlib
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from rbtest import (BIN, REPO, Api, Ringbridge, Topology, assert_counters_balance,
                    dpdk_runtime_dir, free_port, in_ns, metric, remove_dpdk_runtime_dir, rss_kb,
                    run)

sys.path.insert(0, str(REPO / "perf"))
from harness import frames as pf  # noqa: E402

RB_GEN = BIN.parent.parent / "perf" / "rb_gen"
TRAFFIC = [sys.executable, str(Path(__file__).with_name("traffic.py"))]
TOKEN = "test-token-0123456789"
WAVES = int(os.environ.get("RB_FLOOD_WAVES", "3"))
PER_WAVE = int(os.environ.get("RB_FLOOD_INVITES", "150000"))
CAPS = dict(max_active=2000, max_calls=20000, phonebook_auto_max=500)


def template(dst_mac, src_mac):
    """An INVITE whose Call-ID ('@' run), caller number and name ('#' runs) rb_gen --unique
    makes new in every frame; UDP checksum 0 (IPv4 allows it) as the bytes change."""
    body = ("INVITE sip:+15551230000@10.77.0.2 SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 10.77.0.1:5060;branch=z9hG4bK@@@@@@@@@@@@@@@@\r\n"
            'From: "Spam ##########" <sip:+1##########@flood.example>;tag=@@@@@@@@@@@@@@@@\r\n'
            "To: <sip:+15551230000@10.77.0.2>\r\n"
            "Call-ID: @@@@@@@@@@@@@@@@@flood\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n"
            "Content-Length: 0\r\n\r\n").encode()
    f = pf.udp_frame(42 + len(body) + 4, payload=body, sport=5060, dport=5060)
    ip = f[14:34]
    ip = ip[:12] + bytes([10, 77, 0, 1]) + bytes([10, 77, 0, 2])
    ip = ip[:10] + b"\0\0" + ip[12:]
    ip = ip[:10] + pf.struct.pack("!H", pf._csum(ip)) + ip[12:]
    return bytes.fromhex(dst_mac.replace(":", "")) + bytes.fromhex(src_mac.replace(":", "")) + \
        b"\x08\x00" + ip + f[34:]


def phone_rx(topo):
    """Frames the phone side's interface received, and dropped (its backlog was full)."""
    stats = Path("/sys/class/net/eth0/statistics")
    return tuple(int(run(in_ns(topo.phone_ns, "cat", stats / f)).stdout)
                 for f in ("rx_packets", "rx_dropped"))


@contextlib.contextmanager
def rb_gen(topo, pcap, *extra):
    """rb_gen on the network side's eth0 (AF_XDP, its own DPDK prefix, removed after):
    yields send(RATE, COUNT) -> (frames sent, seconds taken); RATE 0 = as fast as it goes."""
    prefix = f"rbflood-{os.getpid()}"
    dpdk_runtime_dir(prefix)
    gen = subprocess.Popen(
        in_ns(topo.net_ns, RB_GEN, "--no-huge", "--no-shconf", "-m", "256", "--file-prefix",
              prefix, "--no-pci", "--log-level", "warning", "--vdev",
              "net_af_xdp0,iface=eth0,busy_budget=0", "--", pcap, *extra),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def send(rate, count):
        gen.stdin.write(f"{rate} {count}\n")
        gen.stdin.flush()
        actual = gen.stdout.readline().split()
        gen.stdout.readline()
        return int(actual[1]), float(actual[-2])

    try:
        assert gen.stdout.readline().startswith("ready"), "rb_gen did not start"
        yield send
        gen.stdin.write("quit\n")
        gen.stdin.flush()
        gen.wait(timeout=30)
    finally:
        if gen.poll() is None:
            gen.kill()
            gen.wait()
        remove_dpdk_runtime_dir(prefix)
    assert not Path("/var/run/dpdk", prefix).exists()


def test_invite_flood_stays_within_caps_and_memory_is_flat(tmp_path):
    port = free_port()
    state = tmp_path / "state"
    state.mkdir()
    cfg = (f'[storage]\nstate_dir = "{state}"\nmax_calls = {CAPS["max_calls"]}\n'
           f'phonebook_auto_max = {CAPS["phonebook_auto_max"]}\n'
           f'[http]\nlisten = "127.0.0.1:{port}"\ntoken = "{TOKEN}"\n'
           f'[calls]\nmax_active = {CAPS["max_active"]}\n')
    with Topology() as topo, Ringbridge(topo.ports("xdp"), config=cfg, workdir=tmp_path) as rb:
        api = Api(port, TOKEN)
        mac = {ns: run(in_ns(ns, "cat", "/sys/class/net/eth0/address")).stdout.strip()
               for ns in (topo.net_ns, topo.phone_ns)}
        pcap = tmp_path / "invite.pcap"
        pf.write_pcap(pcap, [template(mac[topo.phone_ns], mac[topo.net_ns])])
        with rb_gen(topo, pcap, "--unique") as send:
            rx0, rxd0 = phone_rx(topo)
            rss, sent, secs = [], 0, 0.0
            for _ in range(WAVES):
                n, t = send(0, PER_WAVE)
                sent += n
                secs += t
                time.sleep(3)  # housekeeping prunes, the control thread catches up
                rss.append(rss_kb(rb.proc.pid))
        time.sleep(2)
        # Forwarding goes on as before: a paced stream crosses without loss (ARP first).
        run(in_ns(topo.net_ns, "ping", "-c1", "-W2", topo.phone_ip))
        recv = subprocess.Popen(in_ns(topo.phone_ns, *TRAFFIC, "udp-recv", 7000, 2000, 5),
                                stdout=subprocess.PIPE, text=True)
        assert recv.stdout.readline().strip() == "listening"
        run(in_ns(topo.net_ns, *TRAFFIC, "udp-send", topo.phone_ip, 7000, 2000, 2000), timeout=60)
        after = recv.stdout.readline()
        recv.wait(timeout=10)
        rx, rxd = (x - x0 for x, x0 in zip(phone_rx(topo), (rx0, rxd0)))
        st, metrics = api.get("/metrics")
        assert st == 200
        st, status = api.get("/api/v1/status")
        rc, final, exit_line = rb.stop()
    assert rc == 0 and exit_line["status"] == 0, rb.stderr()
    rate = sent / secs
    print(f"\nRELIABILITY INVITE flood, every INVITE a new call from a spoofed caller "
          f"(rb_gen --unique): {sent} INVITEs offered at {rate / 1000:.0f} kpps, ringbridge received "
          f"{final['ports']['a']['rx_pkts']} and forwarded them, the phone side received {rx} "
          f"(and dropped {rxd}); the kernel dropped {final['ports']['a']['xsk_rx_ring_full']} on "
          f"the full AF_XDP ring; "
          f"RSS per wave (kB): {rss}; ring_full {final['sip']['ring_full']}; "
          f"status storage {status.get('storage')}")
    # Forwarding went on: whatever reached ringbridge (above the zero-loss rate the kernel's
    # AF_XDP ring drops the excess before it does) was forwarded, and the phone got it.
    assert_counters_balance(final)
    a = final["ports"]["a"]
    assert a["drops"] == 0 and a["rx_pkts"] >= WAVES * 20000
    # ... and what did not reach it is counted too: the AF_XDP socket's full rx ring.
    assert a["rx_pkts"] + a["xsk_rx_ring_full"] + a["xsk_fill_ring_empty"] >= sent
    assert rx + rxd >= a["forwarded"] - 10, (rx, rxd)
    assert "received=2000 in_order=1 missing=0" in after, after
    # Caps held.
    assert metric(metrics, "ringbridge_calls_active", direction="inbound") <= CAPS["max_active"]
    con = sqlite3.connect(f"file:{state}/ringbridge.db?mode=ro", uri=True)
    calls = con.execute("SELECT COUNT(*) FROM calls").fetchone()[0]
    auto = con.execute("SELECT COUNT(*) FROM phonebook WHERE source = 'auto'").fetchone()[0]
    con.close()
    assert calls <= CAPS["max_calls"], calls
    assert auto <= CAPS["phonebook_auto_max"], auto
    # Memory flat: the last wave's RSS within 5 % of the first's.
    assert rss[-1] <= rss[0] * 1.05, rss


def test_retransmission_flood_of_one_invite_costs_one_event_a_second(tmp_path):
    """One INVITE sent again and again, 100,000 a second for 4 s (a scanner's or a looping
    proxy's flood): every copy is forwarded; the control thread gets one event a second
    (repeats_coalesced) and the media thread, each second, the message and its first three
    retransmissions (sip_repeats_skipped counts the rest) — a phone's retransmissions, at
    most two a second, all reach the recording (tests/unit/media/media_stage_test.cc)."""
    port = free_port()
    state = tmp_path / "state"
    state.mkdir()
    cfg = (f'[storage]\nstate_dir = "{state}"\n'
           f'[http]\nlisten = "127.0.0.1:{port}"\ntoken = "{TOKEN}"\n')
    with Topology() as topo, Ringbridge(topo.ports("xdp"), config=cfg, workdir=tmp_path) as rb:
        api = Api(port, TOKEN)
        mac = {ns: run(in_ns(ns, "cat", "/sys/class/net/eth0/address")).stdout.strip()
               for ns in (topo.net_ns, topo.phone_ns)}
        pcap = tmp_path / "invite.pcap"
        frame = template(mac[topo.phone_ns], mac[topo.net_ns])
        pf.write_pcap(pcap, [frame.replace(b"@", b"7").replace(b"#", b"5")])
        with rb_gen(topo, pcap) as send:
            sent, secs = send(100000, 400000)
        time.sleep(1)
        st, metrics = api.get("/metrics")
        assert st == 200
        rc, final, exit_line = rb.stop()
    assert rc == 0 and exit_line["status"] == 0, rb.stderr()
    sip, a = final["sip"], final["ports"]["a"]
    mirrored = metric(metrics, "ringbridge_media_dataplane_total", what="sip_mirrored")
    skipped = metric(metrics, "ringbridge_media_dataplane_total", what="sip_repeats_skipped")
    print(f"\nRELIABILITY one INVITE {sent} times at {sent / secs / 1000:.0f} kpps: ringbridge "
          f"received {a['rx_pkts']}, forwarded {a['forwarded']}; {sip['sip_events']} events, "
          f"{sip['repeats_coalesced']} coalesced; {mirrored:.0f} copies mirrored to the media "
          f"thread, {skipped:.0f} skipped")
    assert_counters_balance(final)
    assert a["drops"] == 0 and a["forwarded"] == a["rx_pkts"]
    # Every INVITE that reached ringbridge was inspected (the rest of rx: the namespaces'
    # own IPv6 chatter; above ringbridge's rate the kernel drops the excess, counted).
    assert 20000 <= sip["sip_messages"] <= min(sent, a["rx_pkts"])
    events = sip["sip_events"]
    assert sip["ring_full"] == 0
    # One event a window of 1 s (the flood lasted SECS).
    assert max(1, int(secs) - 1) <= events <= int(secs) + 2, (events, secs)
    # Each window: the message and its first three retransmissions (the last window may
    # end sooner).
    assert 4 * (events - 1) + 1 <= mirrored <= 4 * events, (mirrored, events)
    assert mirrored + skipped == sip["sip_messages"]
