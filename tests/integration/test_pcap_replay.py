# SPDX-License-Identifier: BSD-3-Clause
"""Offline replay through the real binary: pcap in on each side, the output on the opposite
side must be byte-identical and in the same order."""
import random

from scapy.all import (ARP, ICMP, IP, TCP, UDP, Dot1AD, Dot1Q, Ether, ICMPv6EchoRequest,
                       ICMPv6ND_NS, IPv6, LLC, Raw, SNAP)

from rbtest import (Ringbridge, assert_counters_balance, no_new_dpdk_dirs, read_pcap,
                    write_pcap)

MAC_A = "02:00:00:00:0a:01"
MAC_B = "02:00:00:00:0b:01"


def mixed_frames(side, count, max_frame, seed):
    """COUNT frames of every kind a bridge must carry, each tagged with (side, index) so a
    reordering or a frame from the wrong side shows up."""
    rnd = random.Random(seed)
    src, dst = (MAC_A, MAC_B) if side == "a" else (MAC_B, MAC_A)
    sip, dip = ("10.1.0.1", "10.1.0.2") if side == "a" else ("10.1.0.2", "10.1.0.1")

    def payload(i, n):
        tag = f"{side}{i:07d}".encode()
        return tag + bytes(rnd.getrandbits(8) for _ in range(max(0, n - len(tag))))

    kinds = [
        lambda i: Ether(src=src, dst=dst) / IP(src=sip, dst=dip) / UDP(sport=5060, dport=5060) / payload(i, rnd.randint(0, 1400)),
        lambda i: Ether(src=src, dst=dst) / IP(src=sip, dst=dip) / TCP(sport=40000 + i % 1000, dport=443, flags="PA") / payload(i, rnd.randint(0, 1400)),
        lambda i: Ether(src=src, dst=dst) / IP(src=sip, dst=dip) / ICMP() / payload(i, 56),
        lambda i: Ether(src=src, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=src, psrc=sip, pdst=dip),
        lambda i: Ether(src=src, dst="ff:ff:ff:ff:ff:ff") / IP(src=sip, dst="255.255.255.255") / UDP(sport=68, dport=67) / payload(i, 300),
        lambda i: Ether(src=src, dst="01:00:5e:00:00:fb") / IP(src=sip, dst="224.0.0.251") / UDP(sport=5353, dport=5353) / payload(i, 40),
        lambda i: Ether(src=src, dst="33:33:ff:00:00:02") / IPv6(src="fd00::1", dst="ff02::1:ff00:2") / ICMPv6ND_NS(tgt="fd00::2"),
        lambda i: Ether(src=src, dst=dst) / IPv6(src="fd00::1", dst="fd00::2") / UDP(sport=5060, dport=5060) / payload(i, rnd.randint(0, 1200)),
        lambda i: Ether(src=src, dst=dst) / IPv6(src="fd00::1", dst="fd00::2") / ICMPv6EchoRequest() / payload(i, 64),
        lambda i: Ether(src=src, dst=dst) / Dot1Q(vlan=100, prio=5) / IP(src=sip, dst=dip) / UDP(sport=10000, dport=10000) / payload(i, rnd.randint(0, 1400)),
        lambda i: Ether(src=src, dst=dst) / Dot1AD(vlan=200) / Dot1Q(vlan=300) / IP(src=sip, dst=dip) / UDP() / payload(i, rnd.randint(0, 1400)),
        lambda i: Ether(src=src, dst=dst, type=0x9100) / Dot1Q(vlan=7) / IP(src=sip, dst=dip) / payload(i, 100),
        lambda i: Ether(src=src, dst="01:80:c2:00:00:00") / LLC(dsap=0x42, ssap=0x42, ctrl=3) / payload(i, 35),
        lambda i: Ether(src=src, dst=dst) / LLC(dsap=0xaa, ssap=0xaa, ctrl=3) / SNAP(OUI=0, code=0x0800) / payload(i, 64),
        lambda i: Ether(src=src, dst="01:80:c2:00:00:0e", type=0x88cc) / payload(i, 60),
        # Jumbo: up to the largest frame the configured MTU allows, exactly.
        lambda i: Ether(src=src, dst=dst) / IP(src=sip, dst=dip) / UDP() / payload(i, rnd.randint(min(1400, max_frame - 42), max_frame - 42)),
        lambda i: Ether(src=src, dst=dst) / Dot1AD(vlan=1) / Dot1Q(vlan=2) / payload(i, max_frame - 22),
    ]
    # Odd and short frames: runts below the 60-byte minimum, a bare header, one byte.
    odd = [1, 6, 13, 14, 15, 20, 42, 59, 60, 61]
    frames = []
    for i in range(count):
        if i % 50 == 49:
            n = odd[(i // 50) % len(odd)]
            fr = (bytes.fromhex(dst.replace(":", "")) + bytes.fromhex(src.replace(":", "")) +
                  b"\x88\xb5" + payload(i, 64))[:n]
        else:
            fr = bytes(kinds[rnd.randrange(len(kinds))](i))
        assert len(fr) <= max_frame
        frames.append(fr)
    frames[-1] = bytes(Ether(src=src, dst=dst) / Raw(b"\x00" * (max_frame - 14)))  # exact max
    return frames


MTU9000 = "[dataplane]\nmtu = 9000\n[replay]\nidle_ms = 700\n"


def replay(tmp_path, a_in, b_in, config, *args):
    for name, frames in (("a_in.pcap", a_in), ("b_in.pcap", b_in)):
        write_pcap(tmp_path / name, frames)
    rb = Ringbridge([f"pcap:{tmp_path}/a_in.pcap,{tmp_path}/a_out.pcap",
                     f"pcap:{tmp_path}/b_in.pcap,{tmp_path}/b_out.pcap"], *args,
                    config=config, workdir=tmp_path)
    with no_new_dpdk_dirs(), rb:
        rc, final, exit_line = rb.wait(timeout=120)
    assert rc == 0, rb.stderr()
    assert "input exhausted" in rb.stderr()
    return final, exit_line, read_pcap(tmp_path / "a_out.pcap"), read_pcap(tmp_path / "b_out.pcap")


def test_mixed_traffic_is_forwarded_byte_identical_and_in_order(tmp_path):
    a_in = mixed_frames("a", 10_000, 9022, seed=1)
    b_in = mixed_frames("b", 10_500, 9022, seed=2)
    final, exit_line, a_out, b_out = replay(tmp_path, a_in, b_in, MTU9000)

    assert len(b_out) == len(a_in)
    assert len(a_out) == len(b_in)
    for i, (sent, got) in enumerate(zip(a_in, b_out)):
        assert sent == got, f"a->b frame {i} differs"
    for i, (sent, got) in enumerate(zip(b_in, a_out)):
        assert sent == got, f"b->a frame {i} differs"

    a, b = final["ports"]["a"], final["ports"]["b"]
    assert a["rx_pkts"] == 10_000 and b["rx_pkts"] == 10_500
    assert a["rx_bytes"] == sum(map(len, a_in)) == b["tx_bytes"]
    assert a["drops"] == 0 and b["drops"] == 0
    assert_counters_balance(final)
    assert exit_line == {"mbufs_in_use": 0, "mbufs_pmd_held": 0, "mbufs_leaked": 0, "status": 0}


def test_frames_over_the_mtu_are_dropped_and_counted(tmp_path):
    a_in = mixed_frames("a", 2_000, 1522, seed=3)
    big = [bytes(Ether(src=MAC_A, dst=MAC_B) / Raw(bytes([i]) * (1509 + i))) for i in range(20)]
    mixed = []
    for i, fr in enumerate(a_in):
        mixed.append(fr)
        if i % 100 == 0:
            mixed.append(big[i // 100])
    final, exit_line, a_out, b_out = replay(tmp_path, mixed, [], "[replay]\nidle_ms = 700\n")
    # 1509 + 14 = 1523 bytes: one over mtu 1500 + 22; all 20 dropped, the rest intact.
    assert b_out == a_in
    a = final["ports"]["a"]
    assert a["drop_oversize"] == 20
    assert a["rx_pkts"] == len(mixed)
    assert_counters_balance(final)
    assert exit_line["mbufs_leaked"] == 0


def test_empty_input_finishes_cleanly(tmp_path):
    final, exit_line, a_out, b_out = replay(tmp_path, [], [], "[replay]\nidle_ms = 200\n")
    assert a_out == [] and b_out == []
    assert final["ports"]["a"]["rx_pkts"] == 0
    assert exit_line["status"] == 0
