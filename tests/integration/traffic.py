#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Traffic endpoints run inside the test namespaces (ip netns exec NS traffic.py ...).

  tcp-recv PORT                    accept one connection, print "<bytes> <sha256>"
  tcp-send HOST PORT BYTES SEED    send BYTES pseudo-random bytes, print "<bytes> <sha256>"
  udp-recv PORT COUNT TIMEOUT      receive until COUNT datagrams or TIMEOUT s of silence,
                                   print "received=N in_order=0|1 missing=M"
  udp-send HOST PORT PPS COUNT     evenly paced datagrams with sequence numbers
  udp-gaps PORT COUNT TIMEOUT      until the last datagram (COUNT - 1) or TIMEOUT s of
                                   silence, then print one JSON line: received,
                                   and every gap in the sequence as [first missing,
                                   last missing, arrival time (time.monotonic()) of the
                                   datagram before it, and of the one after it]
  udp-duplex PORT PEER PPS COUNT   one socket on PORT: print "listening", wait for a line on
                                   stdin, then COUNT paced datagrams to PEER:PORT while
                                   receiving the peer's; print "received=N" (after 3 s of
                                   silence or COUNT received)
  send-frames IFACE PCAP           send each frame of PCAP as-is on IFACE (AF_PACKET)
  sip-send HOST PORT FILE TIMEOUT  send the SIP message in FILE over UDP (from port 5080),
                                   print the status codes of the answers to it (same
                                   Call-ID) within TIMEOUT s
  sip-flood HOST PORT COUNT SEED [PPS]
                                   COUNT INVITEs (from port 5090), each a new call with a
                                   random Call-ID and a spoofed caller number and display
                                   name (some not UTF-8); evenly paced at PPS, or as fast as
                                   the socket takes them
  udp-count PORT TIMEOUT           count datagrams until TIMEOUT s of silence, print
                                   "received=N"
  rtp-tone LPORT HOST PORT HZ SECONDS SSRC
                                   G.711 A-law RTP (payload type 8, 20 ms packets, real
                                   time) of a HZ sine from LPORT to HOST:PORT, no SIP
"""
import hashlib
import random
import socket
import struct
import sys
import time


def tcp_recv(port):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", int(port)))
    srv.listen(1)
    print("listening", flush=True)
    conn, _ = srv.accept()
    h, n = hashlib.sha256(), 0
    while True:
        b = conn.recv(1 << 16)
        if not b:
            break
        h.update(b)
        n += len(b)
    print(n, h.hexdigest(), flush=True)


def tcp_send(host, port, nbytes, seed):
    rnd = random.Random(int(seed))
    s = socket.create_connection((host, int(port)), timeout=30)
    h, left = hashlib.sha256(), int(nbytes)
    while left:
        chunk = rnd.randbytes(min(left, 1 << 16))
        s.sendall(chunk)
        h.update(chunk)
        left -= len(chunk)
    s.shutdown(socket.SHUT_WR)
    s.recv(1)
    s.close()
    print(int(nbytes), h.hexdigest(), flush=True)


def udp_recv(port, count, timeout):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind(("0.0.0.0", int(port)))
    s.settimeout(float(timeout))
    print("listening", flush=True)
    seen, last, in_order = set(), -1, True
    try:
        while len(seen) < int(count):
            seq = struct.unpack_from("!I", s.recv(2048))[0]
            in_order &= seq > last
            last = seq
            seen.add(seq)
    except socket.timeout:
        pass
    print(f"received={len(seen)} in_order={int(in_order)} missing={int(count) - len(seen)}",
          flush=True)


def udp_gaps(port, count, timeout):
    import json
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind(("0.0.0.0", int(port)))
    s.settimeout(float(timeout))
    print("listening", flush=True)
    arrivals = {}
    try:
        while True:
            seq = struct.unpack_from("!I", s.recv(2048))[0]
            arrivals.setdefault(seq, time.monotonic())
            if seq == int(count) - 1:
                break
    except socket.timeout:
        pass
    gaps, prev = [], None
    for seq in sorted(arrivals):
        if prev is not None and seq != prev + 1:
            gaps.append([prev + 1, seq - 1, arrivals[prev], arrivals[seq]])
        prev = seq
    print(json.dumps({"received": len(arrivals), "first": min(arrivals, default=-1),
                      "last": max(arrivals, default=-1), "gaps": gaps}), flush=True)


def udp_send(host, port, pps, count):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    gap = 1.0 / float(pps)
    start = time.perf_counter()
    pad = b"\x00" * 160  # a G.711 20 ms voice frame is 160 bytes
    for seq in range(int(count)):
        target = start + seq * gap
        # Sleep through most of a long gap (a slow stream should not hold a core), spin
        # the rest.
        # (One clock reading: a preemption between two readings made the sleep negative
        # and killed the sender mid-stream.)
        ahead = target - time.perf_counter()
        if ahead > 0.0003:
            time.sleep(ahead - 0.0002)
        while time.perf_counter() < target:
            pass
        s.sendto(struct.pack("!I", seq) + pad, (host, int(port)))
    print(f"sent={count} seconds={time.perf_counter() - start:.2f}", flush=True)


def send_frames(iface, pcap):
    data = open(pcap, "rb").read()
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    off, n = 24, 0
    while off + 16 <= len(data):
        incl = struct.unpack_from("<I", data, off + 8)[0]
        s.send(data[off + 16:off + 16 + incl])
        off += 16 + incl
        n += 1
        time.sleep(0.001)
    print(f"sent={n}", flush=True)


def sip_send(host, port, path, timeout):
    msg = open(path, "rb").read()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", 5080))
    s.settimeout(float(timeout))
    s.sendto(msg, (host, int(port)))
    call_id = next((l.split(b":", 1)[1].strip() for l in msg.split(b"\r\n")
                    if l.lower().startswith((b"call-id:", b"i:"))), b"")
    codes = []
    try:
        while True:
            data = s.recv(65535)
            # Only answers to this message (a UAS may still retransmit an older call's 200).
            if b"\r\nCall-ID: " + call_id + b"\r\n" not in data and \
                    b"\r\ni: " + call_id + b"\r\n" not in data:
                continue
            codes.append(data.split(b" ", 2)[1].decode())
            if int(codes[-1]) >= 200:
                break
    except socket.timeout:
        pass
    print("codes=" + ",".join(codes), flush=True)


def sip_flood(host, port, count, seed, pps=0):
    rnd = random.Random(int(seed))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)
    s.bind(("0.0.0.0", 5090))
    names = [b"Spam", "Caf\u00e9 \u5f20\u4f1f".encode(), b"\xff\xfe bad", b"A" * 60]
    msgs = []
    for i in range(int(count)):
        cid = rnd.randbytes(12).hex().encode()
        num = b"+1999%08d" % rnd.randrange(10**8)  # no test blocks +1999
        name = rnd.choice(names)
        msgs.append(b"INVITE sip:+15551230000@" + host.encode() + b" SIP/2.0\r\n"
                    b"Via: SIP/2.0/UDP 10.0.0.9:5090;branch=z9hG4bK" + cid[:10] + b"\r\n"
                    b"From: \"" + name + b"\" <sip:" + num + b"@spoof.example>;tag=" + cid[:6] +
                    b"\r\nTo: <sip:+15551230000@" + host.encode() + b">\r\n"
                    b"Call-ID: " + cid + b"@flood\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n"
                    b"Content-Length: 0\r\n\r\n")
    gap = 1.0 / float(pps) if float(pps) > 0 else 0
    start, sent = time.perf_counter(), 0
    for n, msg in enumerate(msgs):
        while gap and time.perf_counter() < start + n * gap:
            pass
        try:
            s.sendto(msg, (host, int(port)))
            sent += 1
        except BlockingIOError:
            pass
    print(f"sent={sent} seconds={time.perf_counter() - start:.2f}", flush=True)


def udp_count(port, timeout):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
    s.bind(("0.0.0.0", int(port)))
    s.settimeout(float(timeout))
    print("listening", flush=True)
    n = 0
    try:
        while True:
            s.recv(65535)
            n += 1
    except socket.timeout:
        pass
    print(f"received={n}", flush=True)


def udp_duplex(port, peer, pps, count):
    import threading
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind(("0.0.0.0", int(port)))
    s.settimeout(3.0)
    seen = set()
    print("listening", flush=True)
    sys.stdin.readline()  # both ends bound before either sends

    def receive():
        try:
            while len(seen) < int(count):
                seen.add(struct.unpack_from("!I", s.recv(2048))[0])
        except socket.timeout:
            pass

    t = threading.Thread(target=receive)
    t.start()
    gap, start = 1.0 / float(pps), time.perf_counter()
    for seq in range(int(count)):
        while time.perf_counter() < start + seq * gap:
            time.sleep(0.0001)
        s.sendto(struct.pack("!I", seq) + b"\x00" * 160, (peer, int(port)))
    t.join()
    print(f"received={len(seen)}", flush=True)


def rtp_tone(lport, host, port, hz, seconds, ssrc):
    import math
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import audioop
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", int(lport)))
    n, start = int(float(seconds) * 50), time.perf_counter()
    for i in range(n):
        pcm = struct.pack("<160h", *(int(8000 * math.sin(2 * math.pi * float(hz) * (i * 160 + k)
                                                          / 8000)) for k in range(160)))
        head = struct.pack("!BBHII", 0x80, 8, (1000 + i) & 0xFFFF, 160 * i, int(ssrc))
        while time.perf_counter() < start + i * 0.02:
            time.sleep(0.001)
        s.sendto(head + audioop.lin2alaw(pcm, 2), (host, int(port)))


if __name__ == "__main__":
    cmds = {"tcp-recv": tcp_recv, "tcp-send": tcp_send, "udp-recv": udp_recv,
            "udp-send": udp_send, "udp-gaps": udp_gaps, "send-frames": send_frames,
            "sip-send": sip_send, "sip-flood": sip_flood, "udp-count": udp_count,
            "udp-duplex": udp_duplex, "rtp-tone": rtp_tone}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.exit(__doc__)
    cmds[sys.argv[1]](*sys.argv[2:])
