# SPDX-License-Identifier: BSD-3-Clause
"""The media plane's audio and quality figures through the running binary, with streams
the test makes itself: sipp (uac_play_pcap.xml) plays an RTP pcap written at test time
across ringbridge (AF_XDP) between two namespaces, and the recording and the call's JSON
are fetched over the REST API and checked against what was sent:

- a G.722 call (PT 9): a 16 kHz stereo WAV whose caller channel is the source signal;
- in-band DTMF in A-law audio: the digits, in order, with their times;
- loss, jitter and reordering: the loss figure equals the sequence numbers missing from
  the call's own pcap, the WAV is silent exactly where those packets would have played,
  and reordering within the jitter window is counted and leaves the audio intact.

The impairments are made by the sender: the test writes the RTP pcap with packets left
out, late, or sent after their successors. (tc netem in the caller's namespace would be
the network's way, but this machine's kernel has neither sch_netem nor sch_prio —
CONFIG_NET_SCH_NETEM and CONFIG_NET_SCH_PRIO are not set, and it loads no modules.) That
also makes every expected figure exact rather than a band around a random rate."""
import ctypes
import io
import os
import signal
import threading
import time
import warnings
import wave
from pathlib import Path

import numpy as np
import pytest

from media_checks import (best_alignment, correlation, recorded, wait_for, write_rtp_pcap)
from rbtest import in_ns, run, sip_env

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop  # linear ↔ G.711 A-law (Python 3.11's stdlib)

TOKEN = "test-token-0123456789"
SCENARIO = Path(__file__).with_name("sipp") / "uac_play_pcap.xml"
SEQ0 = 1000            # write_rtp_pcap's first sequence number
PACKET = 160           # samples of 8 kHz audio per 20 ms packet (G.711; G.722's RTP clock)


def alaw(pcm):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return audioop.lin2alaw(pcm.astype("<i2").tobytes(), 2)


def unalaw(data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return np.frombuffer(audioop.alaw2lin(data, 2), dtype="<i2")


def source_signal(rate, seconds, top_hz):
    """A chirp from 200 Hz to TOP_HZ plus two steady tones (none of them a DTMF pair): no
    period, so alignment by cross-correlation has one answer; never silent."""
    t = np.arange(int(rate * seconds)) / rate
    sweep = 2 * np.pi * (200 * t + (top_hz - 200) * t ** 2 / (2 * seconds))
    x = 0.3 * np.sin(sweep) + 0.15 * np.sin(2 * np.pi * 523 * t) + \
        0.1 * np.sin(2 * np.pi * 1317 * t)
    return (x * 32767).astype("<i2")


def g722_encode(pcm16k):
    """G.722 at 64 kbit/s of 16 kHz samples, with spandsp (which ringbridge links too)."""
    lib = ctypes.CDLL("libspandsp.so.2")
    lib.g722_encode_init.restype = ctypes.c_void_p
    lib.g722_encode_init.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
    lib.g722_encode.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int]
    lib.g722_encode_free.argtypes = [ctypes.c_void_p]
    state = lib.g722_encode_init(None, 64000, 0)
    assert state
    out = ctypes.create_string_buffer(len(pcm16k))
    pcm = np.ascontiguousarray(pcm16k, dtype="<i2")
    n = lib.g722_encode(state, out, pcm.ctypes.data, len(pcm))
    lib.g722_encode_free(state)
    return out.raw[:n]


def packets(data, size):
    return [data[i:i + size] for i in range(0, len(data) - size + 1, size)]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    with sip_env(tmp_path_factory.mktemp("media_quality"), TOKEN) as rb:
        yield rb


def play_call(env, name, payloads, pt, codec, during=None, **impair):
    """One call whose caller plays PAYLOADS as RTP (payload type PT, SDP codec CODEC),
    impaired by write_rtp_pcap's IMPAIR (delays_ms, drop); DURING, if given, runs in a
    thread while sipp does. Returns (the call's JSON once recorded, the sequence numbers
    in the order they were sent)."""
    work = env.workdir / name
    work.mkdir()
    sent = write_rtp_pcap(work / "media.pcap", payloads, pt, seq0=SEQ0, **impair)
    st, before = env.api.get("/api/v1/calls?limit=1")
    assert st == 200
    last_id = before[0]["id"] if before else 0
    t = env.topo
    side = threading.Thread(target=during) if during else None
    if side:
        side.start()
    r = run(in_ns(t.net_ns, "sipp", f"{t.phone_ip}:5060", "-sf", SCENARIO, "-i", t.net_ip,
                  "-p", 5070, "-m", 1, "-d", len(payloads) * 20 + 600, "-key", "pt", pt,
                  "-key", "codec", codec, "-nostdin", "-timeout", "60s", "-timeout_error"),
            check=False, timeout=120, cwd=work)
    if side:
        side.join()
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    st, calls = env.api.get("/api/v1/calls?limit=1")
    assert st == 200 and calls and calls[0]["id"] != last_id, calls
    call = wait_for(lambda: recorded(env.api, calls[0]["id"]), what="the recording to finish")
    return call, sent


def fetch_wav(env, call):
    st, headers, body = env.api.fetch(f"/api/v1/calls/{call['id']}/recording.wav")
    assert st == 200 and headers["Content-Type"] == "audio/wav"
    w = wave.open(io.BytesIO(body))
    pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, w.getnchannels())
    return (w.getnchannels(), w.getsampwidth(), w.getframerate()), pcm


def caller_rtp_seqs(env, call, tmp_path):
    """The caller's RTP sequence numbers in the call's own recording.pcap, in the order
    they crossed the bridge (tshark decodes the caller's media port as RTP)."""
    st, _, body = env.api.fetch(f"/api/v1/calls/{call['id']}/recording.pcap")
    assert st == 200
    p = tmp_path / "call.pcap"
    p.write_bytes(body)
    src = f"ip.src == {env.topo.net_ip}"
    ports = run(["tshark", "-r", p, "-Y", f"udp && !sip && {src}", "-T", "fields", "-e",
                 "udp.dstport"], timeout=60).stdout.split()
    assert ports, "no RTP from the caller in the pcap"
    out = run(["tshark", "-r", p, "-d", f"udp.port=={ports[0]},rtp", "-Y", f"rtp && {src}",
               "-T", "fields", "-e", "rtp.seq"], timeout=60).stdout.split()
    return [int(s) for s in out]


# --- G.722 ------------------------------------------------------------------------------

G722_SECONDS = 3


@pytest.fixture(scope="module")
def g722(env):
    src = source_signal(16000, G722_SECONDS, 6000)
    payloads = packets(g722_encode(src), 160)  # 20 ms of G.722 at 64 kbit/s
    call, _ = play_call(env, "g722", payloads, 9, "G722")
    return src, payloads, call


def test_g722_call_records_the_wideband_source(env, g722):
    src, payloads, call = g722
    fmt, pcm = fetch_wav(env, call)
    assert fmt == (2, 2, 16000), "a G.722 call is recorded at 16 kHz, stereo, 16-bit"
    left, right = pcm[:, 0], pcm[:, 1]
    assert len(left) > len(src)
    # G.722's filters delay the audio by 22 samples: the WAV (as long as the packets' 20 ms
    # each) ends before the source's last samples come out. Compare all but the last 20 ms.
    ref = src[:-320]
    off = best_alignment(left, ref)
    c = correlation(left[off:off + len(ref)], ref)
    assert c >= 0.99, f"caller channel vs the source: correlation {c} at offset {off}"
    assert int(np.abs(right).max()) == 0  # sipp's UAS sends nothing
    q = call["quality"]["caller_to_callee"]
    assert q["codec"] == "G722", q
    assert q["packets"] == len(payloads) and q["lost"] == 0, q
    assert call["dtmf"] == [], "no digits in a chirp and two tones"


# --- in-band DTMF -----------------------------------------------------------------------

DIGITS = "159#"
DTMF_HZ = {"1": (697, 1209), "5": (770, 1336), "9": (852, 1477), "#": (941, 1477)}


def dtmf_audio(digits, tone_ms=100, gap_ms=100, lead_ms=300):
    """8 kHz samples: LEAD_MS of silence, then each digit's two tones for TONE_MS and
    GAP_MS of silence, then LEAD_MS of silence."""
    rate = 8000
    parts = [np.zeros(rate * lead_ms // 1000)]
    t = np.arange(rate * tone_ms // 1000) / rate
    for d in digits:
        lo, hi = DTMF_HZ[d]
        parts += [6000 * (np.sin(2 * np.pi * lo * t) + np.sin(2 * np.pi * hi * t)),
                  np.zeros(rate * gap_ms // 1000)]
    parts.append(np.zeros(rate * lead_ms // 1000))
    pcm = np.concatenate(parts)
    pcm = np.concatenate([pcm, np.zeros(-len(pcm) % PACKET)])
    return pcm.astype("<i2")


@pytest.fixture(scope="module")
def dtmf_call(env):
    audio = alaw(dtmf_audio(DIGITS))
    call, _ = play_call(env, "dtmf", packets(audio, PACKET), 8, "PCMA")
    return call


def test_inband_dtmf_digits_in_the_call_json(env, dtmf_call):
    dt = dtmf_call["dtmf"]
    assert "".join(d["digit"] for d in dt) == DIGITS, dt
    assert all(d["source"] == "inband" for d in dt), dt
    at = [d["at_s"] for d in dt]
    assert at[0] > 0 and all(b > a for a, b in zip(at, at[1:])), at
    # Each digit's time is where its tone starts in the recording (both count from the
    # INVITE): the tones are the only loud parts of the caller's channel.
    fmt, pcm = fetch_wav(env, dtmf_call)
    assert fmt == (2, 2, 8000)
    loud = np.abs(pcm[:, 0].astype(np.int32)) > 1000
    onsets = [i / 8000 for i in np.flatnonzero(loud[1:] & ~loud[:-1]) + 1
              if not loud[max(0, i - 200):i].any()]  # a tone, not a zero crossing inside one
    assert len(onsets) == len(DIGITS), onsets
    assert all(abs(a - o) < 0.03 for a, o in zip(at, onsets)), (at, onsets)
    # One digit every 200 ms (100 ms tone + 100 ms gap), each about 100 ms long; the
    # detector works in 12.75 ms blocks and the packets' arrival times carry some jitter.
    assert all(abs((b - a) - 0.2) < 0.04 for a, b in zip(at, at[1:])), at
    assert all(60 <= d["duration_ms"] <= 140 for d in dt), dt
    assert dtmf_call["quality"]["caller_to_callee"]["codec"] == "PCMA"


# --- loss, jitter and reordering ------------------------------------------------------

IMPAIRED_SECONDS = 6
N_IMPAIRED = IMPAIRED_SECONDS * 50
RNG_SEED = 20240611


@pytest.fixture(scope="module")
def impaired_source():
    pcm = source_signal(8000, IMPAIRED_SECONDS, 3400)
    audio = alaw(pcm)
    return packets(audio, PACKET), unalaw(audio)  # what is sent, and what it decodes to


@pytest.fixture(scope="module")
def lossy(env, impaired_source):
    """5% of the packets (never the first or the last) are never sent."""
    payloads, _ = impaired_source
    rng = np.random.default_rng(RNG_SEED)
    drop = sorted(int(k) for k in rng.choice(np.arange(1, N_IMPAIRED - 1), N_IMPAIRED // 20,
                                             replace=False))
    call, sent = play_call(env, "loss", payloads, 8, "PCMA", drop=drop)
    return call, sent, drop


@pytest.fixture(scope="module")
def reordered(env, impaired_source):
    """Every packet 0-10 ms late (jitter), and one in six a further 35 ms: it leaves after
    the next one or two, well inside the 120 ms jitter window ([recording] jitter_ms)."""
    payloads, _ = impaired_source
    rng = np.random.default_rng(RNG_SEED + 1)
    delays = rng.uniform(0, 10, N_IMPAIRED) + np.where(rng.random(N_IMPAIRED) < 1 / 6, 35, 0)
    delays[0] = delays[-1] = 0
    return play_call(env, "reorder", payloads, 8, "PCMA", delays_ms=list(delays))


def test_loss_figure_is_what_the_pcap_misses(env, lossy, tmp_path):
    call, sent, drop = lossy
    seqs = caller_rtp_seqs(env, call, tmp_path)
    assert seqs == sent, "the bridge's pcap holds every packet sent, in order"
    got = set(seqs)
    missing = set(range(min(got), max(got) + 1)) - got
    assert missing == {SEQ0 + k for k in drop}
    q = call["quality"]["caller_to_callee"]
    # RFC 3550: lost = expected (first to highest sequence number) - received.
    assert q["lost"] == len(missing), (q, sorted(missing))
    assert q["packets"] == len(seqs)
    assert q["duplicates"] == 0 and q["out_of_order"] == 0, q


def test_wav_is_silent_exactly_where_packets_were_lost(env, lossy, impaired_source):
    call, sent, drop = lossy
    _, ref = impaired_source
    fmt, pcm = fetch_wav(env, call)
    assert fmt == (2, 2, 8000)
    left = pcm[:, 0]
    # What the caller channel should hold: the source with the lost packets' 20 ms silent.
    expect = ref.copy()
    for k in drop:
        expect[k * PACKET:(k + 1) * PACKET] = 0
    off = best_alignment(left, expect)
    heard = left[off:off + len(expect)]
    assert len(heard) == len(expect)
    for k in range(N_IMPAIRED):
        span = heard[k * PACKET:(k + 1) * PACKET]
        if k in drop:
            assert not span.any(), f"seq {SEQ0 + k} was lost but its 20 ms are not silent"
        else:
            # A-law never decodes to 0: a zero sample here is audio missing from the WAV.
            assert span.all(), f"seq {SEQ0 + k} arrived but the WAV has silence in its 20 ms"
    c = correlation(heard, expect)
    assert c >= 0.999, f"correlation {c} at offset {off}"


def test_reordering_is_counted_and_repaired(env, reordered, impaired_source, tmp_path):
    call, sent = reordered
    _, ref = impaired_source
    seqs = caller_rtp_seqs(env, call, tmp_path)
    assert seqs == sent, "the bridge's pcap holds every packet sent, in order"
    # Out of order as the bridge saw them: behind the highest sequence number before.
    behind = sum(1 for i, s in enumerate(seqs) if i and s < max(seqs[:i]))
    assert behind >= 10, f"the schedule reordered only {behind} packets"
    q = call["quality"]["caller_to_callee"]
    assert q["packets"] == N_IMPAIRED and q["lost"] == 0 and q["duplicates"] == 0, q
    assert q["out_of_order"] == behind, (q, behind)
    assert q["jitter_ms"] >= 1, q
    fmt, pcm = fetch_wav(env, call)
    assert fmt == (2, 2, 8000)
    left = pcm[:, 0]
    off = best_alignment(left, ref)
    heard = left[off:off + len(ref)]
    c = correlation(heard, ref)
    assert c >= 0.999, f"correlation {c} at offset {off}: reordering not undone"
    assert heard.all(), "a reordered packet's 20 ms are missing from the WAV"


@pytest.fixture(scope="module")
def stalled(env, impaired_source):
    """ringbridge stopped (SIGSTOP) for 2 s two seconds into the call, as a VM's steal
    time or a swapped-out process would: the kernel queues the caller's packets for the
    AF_XDP socket, and when ringbridge runs again they cross the bridge in one burst, in
    order, each carrying its RTP timestamp."""
    payloads, _ = impaired_source

    def stall():
        time.sleep(2.0)
        os.kill(env.proc.pid, signal.SIGSTOP)
        try:
            time.sleep(2.0)
        finally:
            os.kill(env.proc.pid, signal.SIGCONT)

    return play_call(env, "stall", payloads, 8, "PCMA", during=stall)


# A SIGSTOP of the whole appliance: the backlog arrives at once, stamped late; placed by RTP
# timestamp and flushed before it overruns the window, every packet is in the WAV.
def test_a_stalled_appliance_still_records_every_packet(env, stalled, impaired_source,
                                                         tmp_path):
    call, sent = stalled
    _, ref = impaired_source
    assert caller_rtp_seqs(env, call, tmp_path) == sent, "every packet crossed, in order"
    q = call["quality"]["caller_to_callee"]
    assert q["packets"] == N_IMPAIRED and q["lost"] == 0, q
    fmt, pcm = fetch_wav(env, call)
    left = pcm[:, 0]
    assert len(left) >= len(ref), f"the WAV holds {len(left) / 8000:.2f} s of the 6 s sent"
    off = best_alignment(left, ref)
    heard = left[off:off + len(ref)]
    assert correlation(heard, ref) >= 0.999
    assert heard.all(), "20 ms spans of audio that crossed the bridge are silent in the WAV"
