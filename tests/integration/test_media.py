# SPDX-License-Identifier: BSD-3-Clause
"""The media plane through the running binary: a sipp uac_pcap call (sipp's own G.711 A-law
g711a.pcap and its RFC 2833 digit) crosses ringbridge (AF_XDP) between two namespaces; the
recording is fetched over the REST API as a user would and checked against the source:
the WAV's caller channel equals the decoded source audio, the pcap holds every SIP and RTP
packet, the digit and the quality figures are in the call's JSON and /metrics."""
import io
import os
import warnings
import wave

import pytest

from media_checks import best_alignment, correlation, recorded, rtp_payloads, wait_for
from rbtest import in_ns, metric, run, sip_env

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop  # G.711 A-law → linear for the reference (Python 3.11's stdlib)
import numpy as np

TOKEN = "test-token-0123456789"
SIPP_PCAPS = "/usr/share/sip-tester"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    work = tmp_path_factory.mktemp("media")
    (work / "pcap").mkdir()
    for name in os.listdir(SIPP_PCAPS):
        (work / "pcap" / name).symlink_to(f"{SIPP_PCAPS}/{name}")
    with sip_env(work, TOKEN) as rb:
        yield rb


def pcap_call(env, extra=()):
    """One sipp uac_pcap call from the network side: ~7 s of A-law audio, then digit 1."""
    t = env.topo
    return run(in_ns(t.net_ns, "sipp", f"{t.phone_ip}:5060", "-sn", "uac_pcap", "-i", t.net_ip,
                     "-p", 5070, "-m", 1, "-nostdin", "-timeout", "60s", "-timeout_error",
                     *extra), check=False, timeout=120, cwd=env.workdir)


@pytest.fixture(scope="module")
def g711_call(env):
    r = pcap_call(env)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    st, calls = env.api.get("/api/v1/calls?limit=1")
    assert st == 200 and calls, calls
    call = wait_for(lambda: recorded(env.api, calls[0]["id"]), what="the recording to finish")
    return call


def test_wav_is_the_source_audio_on_the_callers_channel(env, g711_call):
    cid = g711_call["id"]
    st, headers, body = env.api.fetch(f"/api/v1/calls/{cid}/recording.wav")
    assert st == 200
    assert headers["Content-Type"] == "audio/wav"
    w = wave.open(io.BytesIO(body))
    assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (2, 2, 8000)
    pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, 2)
    left, right = pcm[:, 0], pcm[:, 1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ref = np.frombuffer(b"".join(audioop.alaw2lin(p, 2) for p in
                                     rtp_payloads(f"{SIPP_PCAPS}/g711a.pcap")), dtype="<i2")
    assert len(left) > len(ref), (len(left), len(ref))
    off = best_alignment(left, ref)
    c = correlation(left[off:off + len(ref)], ref)
    assert c >= 0.999, f"correlation {c} at offset {off}"
    # The callee (sipp's UAS) sends no audio: its channel is silence, not the caller's.
    assert int(np.abs(right).max()) == 0
    # Both channels start at the INVITE: the audio begins after the answer, not at 0.
    assert off > 0
    assert g711_call["recording"]["duration_s"] >= len(ref) / 8000


def test_wav_supports_range_requests(env, g711_call):
    cid = g711_call["id"]
    st, headers, body = env.api.fetch(f"/api/v1/calls/{cid}/recording.wav",
                                      headers={"Range": "bytes=0-43"})
    assert st == 206, st
    assert body[:4] == b"RIFF" and len(body) == 44
    assert headers["Content-Range"].startswith("bytes 0-43/")
    assert env.api.fetch(f"/api/v1/calls/{cid}/recording.wav", token=False)[0] == 401


def test_pcap_holds_every_sip_and_rtp_packet(env, g711_call, tmp_path):
    cid = g711_call["id"]
    st, headers, body = env.api.fetch(f"/api/v1/calls/{cid}/recording.pcap")
    assert st == 200 and headers["Content-Type"] == "application/vnd.tcpdump.pcap"
    p = tmp_path / "call.pcap"
    p.write_bytes(body)
    out = run(["tshark", "-r", str(p), "-T", "fields", "-e", "sip.Method", "-e",
               "sip.Status-Code", "-e", "udp.length"], timeout=60).stdout.splitlines()
    methods = [l.split("\t")[0] for l in out if l.split("\t")[0]]
    statuses = [l.split("\t")[1] for l in out if len(l.split("\t")) > 1 and l.split("\t")[1]]
    assert methods.count("INVITE") == 1 and methods.count("ACK") == 1 and \
        methods.count("BYE") == 1, methods
    assert "200" in statuses and "180" in statuses, statuses
    rtp = [l for l in out if l.endswith("\t260")]  # the audio packets: 252-byte payloads
    assert len(rtp) == len(rtp_payloads(f"{SIPP_PCAPS}/g711a.pcap"))
    events = [l for l in out if l.endswith("\t24")]  # RFC 2833 packets (16-byte payloads)
    assert len(events) == len(rtp_payloads(f"{SIPP_PCAPS}/dtmf_2833_1.pcap"))


def test_rfc2833_digit_and_quality_in_the_call_json(env, g711_call):
    assert [d["digit"] for d in g711_call["dtmf"]] == ["1"], g711_call["dtmf"]
    assert g711_call["dtmf"][0]["source"] == "rfc4733"
    q = g711_call["quality"]["caller_to_callee"]
    sent = len(rtp_payloads(f"{SIPP_PCAPS}/g711a.pcap")) + \
        len(rtp_payloads(f"{SIPP_PCAPS}/dtmf_2833_1.pcap"))
    assert q["packets"] == sent
    # sipp's digit pcap sends its end packet three times with one sequence number (RFC 4733
    # §2.5.1.4 retransmissions): two duplicates, as any RTP analyser counts them.
    assert q["lost"] == 0 and q["duplicates"] == 2 and q["out_of_order"] == 0, q
    assert q["codec"] == "PCMA"
    assert q["mos_estimate"] > 4.0
    assert g711_call["quality"]["callee_to_caller"]["packets"] == 0
    st, text = env.api.get("/metrics")
    assert metric(text, "ringbridge_recording_calls_total", result="recorded") >= 1
    assert metric(text, "ringbridge_media_dataplane_total", what="mirror_ring_full") == 0
    assert metric(text, "ringbridge_call_mos_estimate_count") >= 1


def test_delete_removes_the_files(env, g711_call):
    cid = g711_call["id"]
    st, body = env.api.request("DELETE", f"/api/v1/calls/{cid}/recording")
    assert st == 204, body
    assert env.api.fetch(f"/api/v1/calls/{cid}/recording.wav")[0] == 404
    st, c = env.api.get(f"/api/v1/calls/{cid}")
    assert c["recording"]["state"] == "deleted"
    assert not list(env.state.glob(f"recordings/*/*/*/{cid}-*.wav"))
