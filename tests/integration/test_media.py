# SPDX-License-Identifier: BSD-3-Clause
"""The media plane through the running binary: a sipp uac_pcap call (sipp's own G.711 A-law
g711a.pcap and its RFC 2833 digit) crosses ringbridge (AF_XDP) between two namespaces; the
recording is fetched over the REST API as a user would and checked against the source:
the WAV's caller channel equals the decoded source audio, the pcap holds every SIP and RTP
packet, the digit and the quality figures are in the call's JSON and /metrics."""
import contextlib
import io
import os
import subprocess
import sys
import time
import warnings
import wave
from pathlib import Path

import pytest

from media_checks import best_alignment, correlation, recorded, rtp_payloads, wait_for
from peers import WebhookServer
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
    hooks = WebhookServer().start()
    sinks = (f'[notify.webhook]\nurls = ["{hooks.url("/ev")}"]\n'
             'events = ["ended", "dtmf"]\nbackoff_ms = 20\n')
    try:
        with sip_env(work, TOKEN, sinks) as rb:
            rb.hooks = hooks
            yield rb
    finally:
        hooks.stop()


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
    # The sinks: a "dtmf" event with the digit, and the "ended" event's call with quality.
    posts = wait_for(lambda: [e for e in env.hooks.posts.get("/ev", [])
                              if e["call"].get("id") == g711_call["id"]], what="the webhook")
    digits = [e for e in posts if e["event"] == "dtmf"]
    assert [e["dtmf"] for e in digits] == [{"digit": "1", "source": "rfc4733"}], posts
    assert digits[0]["call"]["from_number"] == g711_call["from_number"]
    ended = [e for e in posts if e["event"] == "ended"]
    assert len(ended) == 1 and "quality" in ended[0]["call"] and "recording" in ended[0]["call"]
    assert ended[0]["call"]["quality"]["caller_to_callee"]["packets"] > 200
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


# ---- what is recorded: default, rules, the INVITE's no-record header, the REST switch ----

UAC_MEDIA = os.path.join(os.path.dirname(__file__), "sipp", "uac_media.xml")


def media_call(rb, caller, extra="X-Test: 1", pause_ms=8000, wait=True):
    """One call with ~7 s of A-law audio (uac_media.xml) from caller CALLER1. WAIT=False
    returns the running sipp (Popen)."""
    t = rb.topo
    cmd = in_ns(t.net_ns, "sipp", f"{t.phone_ip}:5060", "-sf", UAC_MEDIA, "-i", t.net_ip,
                "-p", 5070, "-m", 1, "-d", pause_ms, "-nostdin", "-key", "caller", caller,
                "-key", "name", "Media", "-key", "extra", extra, "-timeout", "60s",
                "-timeout_error")
    if not wait:
        return subprocess.Popen([str(c) for c in cmd], cwd=rb.workdir, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
    r = run(cmd, check=False, timeout=120, cwd=rb.workdir)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    return r


def call_of(api, number):
    from urllib.parse import quote
    st, calls = api.get(f"/api/v1/calls?number={quote(number)}")
    assert st == 200
    return calls[0] if calls else None


def final_recording(api, number, timeout=20):
    """The call from NUMBER once its media is closed (any state but recording/pending)."""
    def done():
        c = call_of(api, number)
        if c is None:
            return None
        st, full = api.get(f"/api/v1/calls/{c['id']}")
        rec = full.get("recording", {}).get("state")
        return full if rec not in (None, "recording", "pending") else None
    return wait_for(done, timeout, f"the media of {number}'s call to close")


@contextlib.contextmanager
def appliance(tmp_path, extra_config="", spool=None):
    work = tmp_path / "w"
    work.mkdir()
    (work / "pcap").mkdir()
    for name in os.listdir(SIPP_PCAPS):
        (work / "pcap" / name).symlink_to(f"{SIPP_PCAPS}/{name}")
    with sip_env(work, TOKEN, extra_config) as rb:
        yield rb


def test_default_none_records_only_what_a_rule_or_the_api_asks_for(tmp_path):
    with appliance(tmp_path, '[recording]\ndefault = "none"\n') as rb:
        st, rule = rb.api.request("POST", "/api/v1/filters",
                                  {"match": "number", "pattern": "+1200", "syntax": "prefix",
                                   "action": "record"})
        assert st == 201, rule
        media_call(rb, "+1200")  # a record rule matches
        media_call(rb, "+1300")  # nothing matches: default none
        # The switch: a call nobody asked to record is recorded from the POST on.
        sipp = media_call(rb, "+1400", wait=False)
        try:
            c = wait_for(lambda: call_of(rb.api, "+14001"), what="the third call")
            wait_for(lambda: rb.api.get(f"/api/v1/calls/{c['id']}")[1]
                     .get("recording", {}).get("state") == "not_recorded", what="media state")
            st, r = rb.api.request("POST", f"/api/v1/calls/{c['id']}/recording", {"record": True})
            assert st == 202, r
            assert rb.api.request("POST", f"/api/v1/calls/{c['id']}/recording",
                                  {"record": "yes"})[0] == 400
        finally:
            assert sipp.wait(timeout=60) == 0
        rec = final_recording(rb.api, "+12001")
        assert rec["recording"]["state"] == "done" and rec["recording"]["bytes"] > 50000
        assert rb.api.fetch(f"/api/v1/calls/{rec['id']}/recording.wav")[0] == 200
        no = final_recording(rb.api, "+13001")
        assert no["recording"]["state"] == "not_recorded"
        assert "default" in no["recording"]["reason"]
        assert rb.api.fetch(f"/api/v1/calls/{no['id']}/recording.wav")[0] == 404
        # Quality and digits are measured for calls that are not recorded too.
        assert no["quality"]["caller_to_callee"]["packets"] > 200
        late = final_recording(rb.api, "+14001")
        assert late["recording"]["state"] == "done", late["recording"]
        assert 1.0 < late["recording"]["duration_s"] < rec["recording"]["duration_s"]
        # A finished call cannot be switched any more.
        assert rb.api.request("POST", f"/api/v1/calls/{rec['id']}/recording",
                              {"record": True})[0] == 409


def test_norecord_rule_and_no_record_header_win(tmp_path):
    with appliance(tmp_path) as rb:  # default "all"
        st, rule = rb.api.request("POST", "/api/v1/filters",
                                  {"match": "number", "pattern": "+15001", "action": "norecord"})
        assert st == 201, rule
        media_call(rb, "+1500")  # +15001: the norecord rule
        media_call(rb, "+1600", extra="X-No-Record: 1")
        media_call(rb, "+1700")
        a = final_recording(rb.api, "+15001")
        assert a["recording"]["state"] == "not_recorded" and "norecord" in a["recording"]["reason"]
        b = final_recording(rb.api, "+16001")
        assert b["recording"]["state"] == "not_recorded" and "header" in b["recording"]["reason"]
        c = final_recording(rb.api, "+17001")
        assert c["recording"]["state"] == "done"
        files = sorted(p.name for p in rb.state.glob("recordings/*/*/*/*"))
        assert all(n.startswith(f"{c['id']}-") for n in files), files
        assert {n.rsplit(".", 1)[1] for n in files} == {"wav", "pcap", "json"}


# ---- live audio ----

def test_live_listen_follows_the_call_within_half_a_second(env, tmp_path):
    import http.client
    sipp = media_call(env, "+1800", wait=False)
    got = []  # (time received, bytes so far)
    data = bytearray()
    try:
        c = wait_for(lambda: call_of(env.api, "+18001"), what="the call")
        wait_for(lambda: env.api.get(f"/api/v1/calls/{c['id']}")[1].get("recording", {})
                 .get("state") == "recording", what="recording")
        conn = http.client.HTTPConnection("127.0.0.1", int(env.api.base.rsplit(":", 1)[1]),
                                          timeout=30)
        conn.request("GET", f"/api/v1/calls/{c['id']}/live",
                     headers={"Authorization": f"Bearer {TOKEN}"})
        resp = conn.getresponse()
        assert resp.status == 200 and resp.getheader("Content-Type") == "audio/wav"
        while True:
            chunk = resp.read1(65536)
            if not chunk:
                break
            data += chunk
            got.append((time.time(), len(data)))
        conn.close()
    finally:
        assert sipp.wait(timeout=60) == 0
    assert data[:4] == b"RIFF" and data[36:40] == b"data"
    pcm = np.frombuffer(bytes(data[44:len(data) - (len(data) - 44) % 4]), dtype="<i2").reshape(-1, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        payloads = rtp_payloads(f"{SIPP_PCAPS}/g711a.pcap")
        ref = np.frombuffer(b"".join(audioop.alaw2lin(p, 2) for p in payloads), dtype="<i2")
    # A listener hears the call from when it joined: the stream's audio is a stretch of the
    # source, sample for sample.
    left = pcm[:, 0]
    sound = np.nonzero((left != 0) & (left != 8))[0]  # 8: A-law's silence decoded
    first, last = int(sound[0]), int(sound[-1])
    seg = left[first:last + 1]
    assert len(seg) > 8000, (len(seg), len(ref))  # at least a second of it
    off = best_alignment(ref, seg)
    assert correlation(ref[off:off + len(seg)], seg) >= 0.999
    # How far behind the wire: when each packet crossed the bridge (the call's own pcap)
    # against when its samples reached the listener.
    rec = final_recording(env.api, "+18001")
    st, _, body = env.api.fetch(f"/api/v1/calls/{rec['id']}/recording.pcap")
    p = tmp_path / "live.pcap"
    p.write_bytes(body)
    lines = run(["tshark", "-r", str(p), "-Y", "udp.length == 260", "-T", "fields", "-e",
                 "frame.time_epoch"], timeout=60).stdout.split()
    wire = [float(x) for x in lines]
    assert len(wire) == len(payloads)
    delays = []
    for j in (first + 1200, (first + last) // 2, last - 240):
        k = (j - first + off) // 240  # the source packet that carried stream sample j
        t_client = next(t for t, n in got if n >= 44 + (j + 1) * 4)
        delays.append(t_client - wire[k])
    assert max(delays) < 0.5, delays
    assert min(delays) > 0, delays
    assert "live audio of call" in env.stderr()


# ---- crashes and full disks ----

def test_kill_9_while_recording_then_restart_repairs_the_files(tmp_path):
    with appliance(tmp_path) as rb:
        sipp = media_call(rb, "+1900", wait=False)
        try:
            c = wait_for(lambda: call_of(rb.api, "+19001"), what="the call")
            time.sleep(3)  # well into the audio
            parts = sorted(rb.state.glob("recordings/*/*/*/*.part"))
            assert {p.name.split(".", 1)[1] for p in parts} == {"wav.part", "pcap.part"}, parts
            rb.proc.kill()  # SIGKILL: no chance to close anything
            rb.wait(timeout=30)
        finally:
            sipp.wait(timeout=90)  # its BYE may go unanswered: the bridge was down
        sizes = {p.name: p.stat().st_size for p in parts}
        rb.start()
        assert not list(rb.state.glob("recordings/*/*/*/*.part"))
        assert "repaired" in rb.stderr() or "kept as it was" in rb.stderr(), rb.stderr()
        st, call = rb.api.get(f"/api/v1/calls/{c['id']}")
        assert st == 200 and call["state"] == "interrupted", (st, call, c, rb.stderr())
        assert call["recording"]["state"] == "done", call["recording"]
        st, _, body = rb.api.fetch(f"/api/v1/calls/{c['id']}/recording.wav")
        assert st == 200
        w = wave.open(io.BytesIO(body))  # the header's sizes match the data again
        assert w.getnchannels() == 2 and w.getframerate() == 8000
        assert 8000 <= w.getnframes() and 44 + w.getnframes() * 4 == len(body)
        assert len(w.readframes(w.getnframes())) == w.getnframes() * 4
        st, _, pcap = rb.api.fetch(f"/api/v1/calls/{c['id']}/recording.pcap")
        assert st == 200
        p = tmp_path / "crash.pcap"
        p.write_bytes(pcap)
        r = run(["tshark", "-r", str(p)], check=False, timeout=60)
        assert r.returncode == 0 and "INVITE" in r.stdout, r.stderr
        assert len(r.stdout.splitlines()) > 50
        wav_part = next(n for n in sizes if n.endswith(".wav.part"))
        assert len(body) >= sizes[wav_part] - 4  # nothing written before the kill was lost
        st, text = rb.api.get("/metrics")
        assert metric(text, "ringbridge_recording_repaired_total") == 2


def test_full_spool_stops_recording_not_forwarding(tmp_path):
    spool = tmp_path / "spool"
    spool.mkdir()
    # A small tmpfs of the test's own: one call's WAV (about 240 KB) does not fit.
    run(["mount", "-t", "tmpfs", "-o", "size=160k", "rbtest-spool", str(spool)])
    try:
        with appliance(tmp_path, f'[recording]\nspool = "{spool}"\n') as rb:
            media_call(rb, "+2100")
            media_call(rb, "+2200")  # the disk is still full: this one fails at once
            a = final_recording(rb.api, "+21001")
            b = final_recording(rb.api, "+22001")
            for c in (a, b):
                assert c["state"] == "ended"  # forwarding and the call log went on
                assert c["recording"]["state"] == "failed", c["recording"]
                assert "No space left" in c["recording"]["reason"], c["recording"]
            st, text = rb.api.get("/metrics")
            assert metric(text, "ringbridge_recording_write_errors_total") >= 2
            assert metric(text, "ringbridge_port_drops_total", port="a", reason="tx_refused") == 0
            assert "recording of call" in rb.stderr() and "No space left" in rb.stderr()
            # What was written before the disk filled is still readable.
            st, _, body = rb.api.fetch(f"/api/v1/calls/{a['id']}/recording.pcap")
            assert st == 200 and len(body) > 24
    finally:
        run(["umount", str(spool)], check=False)


def test_quota_deletes_the_oldest_recordings_first(tmp_path):
    with appliance(tmp_path, "[recording]\nmax_bytes = 400000\n") as rb:
        for caller in ("+2300", "+2400", "+2500"):
            media_call(rb, caller, pause_ms=7500)
        first, second, third = (final_recording(rb.api, n) for n in ("+23001", "+24001", "+25001"))
        # Each call is about 300 KB (WAV + pcap): only the newest fits in 400 KB.
        def enforced():
            st, text = rb.api.get("/metrics")
            return metric(text, "ringbridge_recording_spool_deleted_total") >= 2
        wait_for(enforced, timeout=25, what="the quota to be enforced")
        states = [rb.api.get(f"/api/v1/calls/{c['id']}")[1]["recording"] for c in (first, second, third)]
        assert [s["state"] for s in states] == ["deleted", "deleted", "done"], states
        assert "max_bytes" in states[0]["reason"]
        assert rb.api.fetch(f"/api/v1/calls/{first['id']}/recording.wav")[0] == 404
        assert rb.api.fetch(f"/api/v1/calls/{third['id']}/recording.wav")[0] == 200


def dominant_hz(samples, rate=8000):
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64)))
    return float(np.argmax(spectrum[1:]) + 1) * rate / len(samples)


def test_rtp_heuristics_record_a_call_whose_sip_was_not_seen(tmp_path):
    """[recording] rtp_heuristics = true: two RTP streams with no SIP at all (a call that
    began before the bridge, say) become a call in the log — Call-ID "rtp:A-B", answered,
    ended when the media stops — recorded like any other: the side that spoke first on the
    left channel, every RTP packet but the one before the stream was confirmed in the pcap."""
    traffic = [sys.executable, str(Path(__file__).with_name("traffic.py"))]
    with appliance(tmp_path, "[recording]\nrtp_heuristics = true\nidle_s = 5\n") as rb:
        t = rb.topo
        a = subprocess.Popen(in_ns(t.net_ns, *traffic, "rtp-tone", 30000, t.phone_ip, 40000,
                                   440, 4, 111))
        time.sleep(0.3)  # the network side speaks first: inbound, left channel
        b = subprocess.Popen(in_ns(t.phone_ns, *traffic, "rtp-tone", 40000, t.net_ip, 30000,
                                   660, 4, 222))
        assert a.wait(timeout=30) == 0 and b.wait(timeout=30) == 0
        want = f"rtp:{t.net_ip}:30000-{t.phone_ip}:40000"

        def logged():
            st, calls = rb.api.get("/api/v1/calls?limit=10")
            found = [c for c in calls if c["call_id"] == want] if st == 200 else []
            rec = found and recorded(rb.api, found[0]["id"])
            return rec if rec and rec["state"] == "ended" else None
        c = wait_for(logged, 30, "the heuristic call to be logged and recorded")
        assert c["state"] == "ended" and c["direction"] == "inbound", c
        assert c["from_number"] == "" and "idle_s" in c["end_reason"], c
        st, text = rb.api.get("/metrics")
        assert metric(text, "ringbridge_media_dataplane_total", what="heuristic_flows") == 4
        st, _, body = rb.api.fetch(f"/api/v1/calls/{c['id']}/recording.wav")
        assert st == 200
        w = wave.open(io.BytesIO(body))
        assert w.getnchannels() == 2 and w.getframerate() == 8000
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, 2)
        # The tones where both streams ran (the WAV goes on with silence until idle_s).
        loud = np.nonzero(np.abs(pcm[:, 0]) > 2000)[0]
        assert len(loud) > 3 * 8000 * 0.5, len(loud)
        mid = pcm[loud[0] + 8000:loud[0] + 24000]
        assert abs(dominant_hz(mid[:, 0]) - 440) < 5, dominant_hz(mid[:, 0])
        assert abs(dominant_hz(mid[:, 1]) - 660) < 5, dominant_hz(mid[:, 1])
        st, _, pcap = rb.api.fetch(f"/api/v1/calls/{c['id']}/recording.pcap")
        p = tmp_path / "heuristic.pcap"
        p.write_bytes(pcap)
        r = run(["tshark", "-r", str(p), "-d", "udp.port==30000,rtp", "-Y", "rtp",
                 "-T", "fields", "-e", "rtp.ssrc"], check=False, timeout=60)
        ssrcs = r.stdout.split()
        assert ssrcs.count("0x0000006f") >= 199 and ssrcs.count("0x000000de") >= 199, \
            (ssrcs.count("0x0000006f"), ssrcs.count("0x000000de"), r.stderr)
