# SPDX-License-Identifier: BSD-3-Clause
"""What the media-plane tests share: RTP streams written as pcaps for sipp's
play_pcap_audio, the RTP payloads of a pcap, audio alignment and correlation, and waiting
for a call's recording to be finished."""
import struct
import time

import numpy as np

from rbtest import write_pcap


def _ipv4_checksum(header):
    s = sum(struct.unpack("!10H", header))
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def write_rtp_pcap(path, payloads, pt, seq0=1000, ts0=160_000, ssrc=0x5EED1234,
                   delays_ms=None, drop=(), src=("10.99.0.1", 6000), dst=("10.99.0.2", 6000)):
    """One RTP stream as a classic Ethernet/IPv4/UDP pcap. Packet k carries PAYLOADS[k],
    payload type PT, sequence number SEQ0 + k and timestamp TS0 + 160 k (20 ms at the 8 kHz
    RTP clock); it is due at 20 k ms plus DELAYS_MS[k] (jitter; a delay past the next
    packet's time reorders them), and the packets in DROP are left out (loss). sipp's
    play_pcap_audio sends each UDP payload as it is (RTP header included), in file order
    at the file's times, to the far end's SDP address: what the test wrote crosses the
    bridge. Returns the sequence numbers in sending order."""
    dropped = set(drop)
    sched = sorted((20_000 * k + round(1000 * (delays_ms[k] if delays_ms else 0)), k)
                   for k in range(len(payloads)) if k not in dropped)
    t0 = sched[0][0] if sched else 0
    frames = []
    for i, (_, k) in enumerate(sched):
        rtp = struct.pack("!BBHII", 0x80, pt & 0x7F, (seq0 + k) & 0xFFFF,
                          (ts0 + 160 * k) & 0xFFFFFFFF, ssrc) + payloads[k]
        udp = struct.pack("!HHHH", src[1], dst[1], 8 + len(rtp), 0) + rtp
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xFFFF, 0, 64, 17, 0,
                         bytes(map(int, src[0].split("."))), bytes(map(int, dst[0].split("."))))
        ip = ip[:10] + struct.pack("!H", _ipv4_checksum(ip)) + ip[12:]
        frames.append(b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00" +
                      ip + udp)
    write_pcap(path, frames, times_us=[t - t0 for t, _ in sched])
    return [(seq0 + k) & 0xFFFF for _, k in sched]


def rtp_payloads(pcap_path):
    """The RTP payloads of a pcap (Ethernet/IPv4/UDP, 12-byte RTP header), in order."""
    out = []
    with open(pcap_path, "rb") as f:
        data = f.read()
    assert data[:4] == b"\xd4\xc3\xb2\xa1", "little-endian classic pcap"
    pos = 24
    while pos + 16 <= len(data):
        incl = int.from_bytes(data[pos + 8:pos + 12], "little")
        frame = data[pos + 16:pos + 16 + incl]
        pos += 16 + incl
        ihl = (frame[14] & 0x0F) * 4
        udp = 14 + ihl
        out.append(frame[udp + 8 + 12:])
    return out


def correlation(a, b):
    a = a.astype(np.float64) - a.mean()
    b = b.astype(np.float64) - b.mean()
    return float(np.dot(a, b) / np.sqrt(np.dot(a, a) * np.dot(b, b)))


def best_alignment(signal, ref):
    """Offset of REF in SIGNAL with the highest correlation (FFT cross-correlation)."""
    n = len(signal) + len(ref)
    size = 1 << (n - 1).bit_length()
    x = np.fft.rfft(signal.astype(np.float64), size)
    y = np.fft.rfft(ref.astype(np.float64), size)
    cc = np.fft.irfft(x * np.conj(y), size)[:len(signal) - len(ref) + 1]
    return int(np.argmax(cc))


def wait_for(fn, timeout=20, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def recorded(api, call_id):
    """The call's JSON once its recording is finished, else None."""
    st, c = api.get(f"/api/v1/calls/{call_id}")
    return c if st == 200 and c.get("recording", {}).get("state") == "done" else None
