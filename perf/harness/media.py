# SPDX-License-Identifier: BSD-3-Clause
"""rbmedia: the media plane's benchmarks (perf/README.md "The media plane").

1. Calls per media core: for N in an ascending list, ringbridge rb-xdp (default
   configuration, recording on for every call) carries N recorded G.711 calls replayed from
   pcap files (calls.py: side A from the generator namespace, side B from the sink's, both
   in real time); a step passes when no frame is lost through the bridge, no mirror ring
   overflowed, every call was recorded and nothing was dropped or failed on the media
   thread. Per step: the media thread's CPU (its own /proc task, named rb-media) and where
   it ran, the recorded bytes per call-minute.
2. Forwarding NDR with 100 recorded calls vs none: the harness's NDR search (rb_gen, 64 B)
   while a 100-call load runs through the bridge from a second sender, alternating with a
   run without it. The background frames are counted apart (a tc ingress counter on the
   sink's port 9, the harness's background port): the NDR is the rb_gen frames' zero loss.
"""
import argparse
import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import calls, frames, measure, procstat, search, summary, topo
from .main import Context, machine
from .topo import in_ns, sh

REPO = Path(__file__).resolve().parents[2]
HTTP = "127.0.0.1:18099"
RECORDING_DEFAULTS = {"max_calls": 2048, "max_flows": 8192}  # control/include/.../config.h


def recording_config(n_calls):
    """[recording] as shipped, with its limits raised only where N calls need it (4 flows
    a call: RTP + RTCP each way)."""
    cfg = {}
    if n_calls > RECORDING_DEFAULTS["max_calls"] - 16:
        cfg["max_calls"] = n_calls + 256
    if 4 * n_calls > RECORDING_DEFAULTS["max_flows"] - 64:
        cfg["max_flows"] = 4 * n_calls + 1024
    return "".join(f"{k} = {v}\n" for k, v in cfg.items()), cfg


def parse_metrics(text):
    """{'name{labels}': value} of a Prometheus text page (comments skipped)."""
    out = {}
    for line in text.splitlines():
        if not line or line[0] == "#":
            continue
        k, _, v = line.rpartition(" ")
        try:
            out[k] = float(v)
        except ValueError:
            pass
    return out


def metric(m, name, **labels):
    if not labels:
        return m.get(name, 0.0)
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for k, v in m.items():
        if k.startswith(name + "{") and want in k:
            return v
    return 0.0


def scrape(env):
    r = sh(in_ns(env.dut, "curl", "-s", "--max-time", "10", f"http://{HTTP}/metrics"), check=False)
    return parse_metrics(r.stdout)


def threads(pid):
    """{tid: (name, utime+stime ticks, last CPU)} of process PID."""
    out = {}
    for t in Path(f"/proc/{pid}/task").iterdir():
        try:
            st = (t / "stat").read_text()
        except OSError:
            continue
        name = st[st.index("(") + 1:st.rindex(")")]
        f = st[st.rindex(")") + 2:].split()
        out[int(t.name)] = (name, int(f[11]) + int(f[12]), int(f[36]))
    return out


def thread_cpu(before, after, seconds, hz=None):
    """Per thread name (several of one name summed): CPU share (%) and the CPUs it was on."""
    hz = hz or os.sysconf("SC_CLK_TCK")
    out = {}
    for tid, (name, ticks, cpu) in after.items():
        t0 = before.get(tid, (name, 0, cpu))[1]
        e = out.setdefault(name, {"cpu_pct": 0.0, "cpus": set()})
        e["cpu_pct"] += 100.0 * (ticks - t0) / hz / seconds
        e["cpus"].add(cpu)
    return {k: {"cpu_pct": round(v["cpu_pct"], 1), "cpus": sorted(v["cpus"])}
            for k, v in out.items()}


def affinity(pid, tid):
    r = sh(["taskset", "-pc", str(tid)], check=False)
    return r.stdout.strip().rsplit(":", 1)[-1].strip()


def spool_bytes(state_dir):
    """Bytes of the recordings under STATE_DIR/recordings by kind (wav, pcap, json, part)."""
    out = {"wav": 0, "pcap": 0, "json": 0, "part": 0, "files": 0}
    for root, _, files in os.walk(Path(state_dir) / "recordings"):
        for f in files:
            p = Path(root) / f
            kind = "part" if f.endswith(".part") else f.rsplit(".", 1)[-1]
            if kind in out:
                out[kind] += p.stat().st_size
                out["files"] += 1
    return out


def replay(env, a_pcap, b_pcap, cpu):
    """Both sides at their files' own timestamps, started together; returns the Popens."""
    return [subprocess.Popen(in_ns(ns, "taskset", "-c", cpu, "tcpreplay", "-q", "-i", "eth0",
                                   "--preload-pcap", p),
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for ns, p in ((env.gen, a_pcap), (env.sink, b_pcap))]


def finish_replay(procs, timeout):
    res = []
    for p in procs:
        out, _ = p.communicate(timeout=timeout)
        res.append(measure.parse.tcpreplay(out))
    return res


class Pcaps:
    """The call pcaps of each N, written once and reused by every repeat."""

    def __init__(self, work, seconds, log):
        self.work, self.seconds, self.log = Path(work), seconds, log
        self.made = {}

    def get(self, n, seconds=None):
        seconds = seconds or self.seconds
        key = (n, seconds)
        if key not in self.made:
            a, b = self.work / f"calls{n}-{seconds:g}s-a.pcap", self.work / f"calls{n}-{seconds:g}s-b.pcap"
            t = time.time()
            meta = self.work / f"calls{n}-{seconds:g}s.json"
            if meta.exists() and a.exists() and b.exists():  # --pcap-dir: kept from before
                self.made[key] = (a, b, json.loads(meta.read_text()))
                return self.made[key]
            info = calls.make_call_pcaps(a, b, n, seconds)
            meta.write_text(json.dumps(info))
            self.log(f"wrote {n} calls x {seconds:g} s: {info['a'] + info['b']} frames "
                     f"({(info['a_bytes'] + info['b_bytes']) >> 20} MiB) in {time.time() - t:.0f} s")
            self.made[key] = (a, b, info)
        return self.made[key]


def calls_step(ctx, pcaps, n, seconds, recording=True):
    """One step of the ladder: N recorded calls of SECONDS through a fresh rb-xdp."""
    env = ctx.bridged_env
    a, b, info = pcaps.get(n, seconds)
    text, raised = recording_config(n)
    if not recording:  # the control: the same calls through a bridge with no media plane
        text = "enabled = false\n"
    dut = topo.RingbridgeDut(ctx, "xdp", http=HTTP,
                             extra_config=("[recording]\n" + text) if text else "")
    dut.start()
    res = {"calls": n, "seconds": seconds, "raised_limits": raised}
    try:
        pid = dut.proc.pid
        time.sleep(0.5)
        m0 = scrape(env)
        c0, s0, th0, w0 = env.counters(), procstat.snapshot(), threads(pid), time.time()
        procs = replay(env, a, b, ctx.gen_cpu)
        tr = finish_replay(procs, timeout=seconds * 4 + 120)
        th1, s1, w1 = threads(pid), procstat.snapshot(), time.time()
        media_tid = next((t for t, v in th1.items() if v[0] == "rb-media"), None)
        time.sleep(ctx.settle_s)
        c1 = env.counters()
        time.sleep(2.5)  # BYE + 0.5 s linger + a tick: every call's files closed and renamed
        m1 = scrape(env)
        sent = sum(c1[s]["tx"] - c0[s]["tx"] for s in ("gen", "sink"))
        got = sum(c1[s]["rx"] - c0[s]["rx"] for s in ("gen", "sink"))
        spool = spool_bytes(dut.workdir / "state")
        d = lambda name, **lb: metric(m1, name, **lb) - metric(m0, name, **lb)  # noqa: E731
        res.update({
            "frames_in_pcaps": info["a"] + info["b"],
            "tcpreplay": tr, "replay_s": round(w1 - w0, 2),
            "frames_sent": sent, "frames_received": got, "lost": max(0, sent - got),
            "a_to_b": {"sent": c1["gen"]["tx"] - c0["gen"]["tx"],
                       "received": c1["sink"]["rx"] - c0["sink"]["rx"]},
            "b_to_a": {"sent": c1["sink"]["tx"] - c0["sink"]["tx"],
                       "received": c1["gen"]["rx"] - c0["gen"]["rx"]},
            "port_stats": None,
            "mirror_ring_full": d("ringbridge_media_dataplane_total", what="mirror_ring_full"),
            "rtp_mirrored": d("ringbridge_media_dataplane_total", what="rtp_mirrored"),
            "flow_table_full": d("ringbridge_media_dataplane_total", what="flow_table_full"),
            "recorded": d("ringbridge_recording_calls_total", result="recorded"),
            "over_limit": d("ringbridge_recording_calls_total", result="over_limit"),
            "frames_dropped": d("ringbridge_recording_frames_dropped_total"),
            "frames_written": d("ringbridge_recording_frames_written_total"),
            "write_errors": d("ringbridge_recording_write_errors_total"),
            "late_samples": d("ringbridge_media_late_samples_total"),
            "rtp_packets": d("ringbridge_media_rtp_packets_total"),
            "threads": thread_cpu(th0, th1, w1 - w0),
            "media_affinity": affinity(pid, media_tid) if media_tid else None,
            "cpu": procstat.breakdown(s0, s1),
            "spool": spool,
        })
        minutes = n * seconds / 60.0
        res["bytes_per_call_minute"] = round((spool["wav"] + spool["pcap"] + spool["json"] +
                                              spool["part"]) / minutes)
        res["passed"] = (res["lost"] == 0 and res["mirror_ring_full"] == 0 and
                         res["recorded"] == n and res["frames_dropped"] == 0 and
                         res["write_errors"] == 0 and res["over_limit"] == 0)
    finally:
        dut.stop()
    res["worker_cpus"] = dut.info.get("worker_cpus")
    st = dut.info.get("stats") or {}
    res["port_stats"] = {k: st.get(k) for k in ("a", "b")}
    return res


# Counts, in the sink's namespace, the background frames (IPv4/UDP to port 9) that reach
# its eth0, whatever their destination MAC: an AF_PACKET socket with a classic BPF filter
# that is never read; PACKET_STATISTICS counts what the filter passed, queued or dropped.
# (The harness's own sink counter, the link's rx_packets, would count the calls' frames too;
# tc actions are not available on every kernel.)
_PORT9_COUNTER = r"""
import ctypes, socket, struct, sys
f = [(0x28, 0, 0, 12), (0x15, 0, 8, 0x0800), (0x30, 0, 0, 23), (0x15, 0, 6, 17),
     (0x28, 0, 0, 20), (0x45, 4, 0, 0x1fff), (0xb1, 0, 0, 14), (0x48, 0, 0, 16),
     (0x15, 0, 1, 9), (0x06, 0, 0, 0x40000), (0x06, 0, 0, 0)]
prog = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", *i) for i in f))
fprog = struct.pack("HL", len(f), ctypes.addressof(prog))
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1)
s.setsockopt(socket.SOL_SOCKET, 26, fprog)  # SO_ATTACH_FILTER
s.bind(("eth0", 0))
total = 0
def read():
    global total
    packets, drops = struct.unpack("II", s.getsockopt(263, 6, 8))  # PACKET_STATISTICS
    total += packets  # delivered + dropped; the kernel resets them on every read
read()
print("ready", flush=True)
for line in sys.stdin:
    read()
    print(total, flush=True)
"""


class Port9Counter:
    def __init__(self, env):
        self.proc = subprocess.Popen(in_ns(env.sink, sys.executable, "-c", _PORT9_COUNTER),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        if self.proc.stdout.readline().strip() != "ready":
            raise RuntimeError("the sink's port-9 counter did not start")

    def read(self):
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline())

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=10)


NDR_MODES = ("recorded", "unrecorded", "none")


def ndr_run(ctx, pcaps, mode, n_calls, bg_seconds, trial_s, max_trials, log):
    """The NDR of rb-xdp at 64 B under rb_gen with, in the background, N_CALLS calls
    recorded (MODE "recorded"), the same calls through a bridge with [recording] enabled =
    false ("unrecorded": the same senders competing for the CPUs, no media plane), or no
    calls ("none")."""
    with_calls = mode != "none"
    env = ctx.bridged_env
    work = Path(tempfile.mkdtemp(prefix="rbmedia-ndr-"))
    bg_pcap = work / "64.pcap"
    nframes, _ = measure.frames.make_pcap(bg_pcap, "64")
    extra = "[recording]\nenabled = false\n" if mode == "unrecorded" else ""
    dut = topo.RingbridgeDut(ctx, "xdp", http=HTTP, extra_config=extra)
    gens = measure.Generators(ctx, bg_pcap, nframes)
    procs = []
    res = {"mode": mode, "with_calls": with_calls, "calls": n_calls if with_calls else 0}
    counter = None
    try:
        counter = Port9Counter(env)
        dut.start()
        gen = gens.get(env, "rb_gen")
        if with_calls:
            a, b, _ = pcaps.get(n_calls, bg_seconds)
            procs = replay(env, a, b, ctx.gen_cpu)
            time.sleep(2.0)  # every call set up (staggered over the first second)
        m0 = scrape(env)

        def run_trial(rate):
            k0 = counter.read()
            tr = gen.send(rate, trial_s)
            time.sleep(ctx.settle_s)
            got = counter.read() - k0
            t = search.Trial(offered_pps=rate if rate is not None else tr["sent"] / tr["seconds"],
                             sent=tr["sent"], received=got, seconds=tr["seconds"])
            log(f"  {mode:>10} {rate or 0:>9.0f} pps: sent "
                f"{t.achieved_pps / 1e3:.0f} kpps, lost {t.lost} "
                f"{'ok' if t.passes() else 'FAIL'}")
            return t

        top = run_trial(None)
        hi = int(max(top.achieved_pps, 1000) // 1000 * 1000)
        ndr, _, trials = search.search(run_trial, 0, hi, search.NDR_LOSS, max_trials=max_trials,
                                       retry_small_loss=True)
        m1 = scrape(env)
        clean = [t.achieved_pps for t in trials if t.lost == 0]
        res.update({"ndr_pps": ndr, "max_pps": round(top.achieved_pps),
                    # The fastest trial with no loss, whatever was offered: on a small
                    # machine the sender, sharing a CPU with the calls' replay, often
                    # falls short of the offered rate and such a trial does not count for
                    # the NDR although the bridge lost nothing.
                    "best_zero_loss_pps": round(max(clean)) if clean else 0,
                    "max_received_pps": round(top.received_pps),
                    "trials": [t.to_dict() for t in trials],
                    "flows_at_end": metric(m1, "ringbridge_media_flows"),
                    "rtp_mirrored": metric(m1, "ringbridge_media_dataplane_total",
                                           what="rtp_mirrored") -
                    metric(m0, "ringbridge_media_dataplane_total", what="rtp_mirrored"),
                    "mirror_ring_full": metric(m1, "ringbridge_media_dataplane_total",
                                               what="mirror_ring_full")})
        if with_calls:
            res["calls_still_running"] = all(p.poll() is None for p in procs)
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
                p.communicate(timeout=30)
        if counter is not None:
            counter.close()
        gens.close()
        dut.stop()
        shutil.rmtree(work, ignore_errors=True)
    return res


def parse_args(argv):
    p = argparse.ArgumentParser(prog="rbmedia", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--calls", default="100,250,500,1000,1500,2000",
                   help="ascending list of concurrent calls for the ladder")
    p.add_argument("--seconds", type=float, default=10.0, help="RTP seconds of each call")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--no-ladder", action="store_true", help="skip calls per media core")
    p.add_argument("--recording-off", action="store_true",
                   help="the ladder with [recording] enabled = false (the control)")
    p.add_argument("--ndr", action="store_true",
                   help="also the forwarding NDR with --ndr-calls recorded calls vs none")
    p.add_argument("--ndr-calls", type=int, default=100)
    p.add_argument("--trial-s", type=float, default=1.0, help="NDR trial seconds")
    p.add_argument("--max-trials", type=int, default=8)
    p.add_argument("--build", default=str(REPO / "build-perf"))
    p.add_argument("--gen-cpu", type=int, default=0, help="CPU the call senders are pinned to")
    p.add_argument("--pcap-dir", help="keep the call pcaps here and reuse them (default: a "
                                      "temporary directory, removed at the end)")
    p.add_argument("--out", help="results directory (default perf/results/media-<timestamp>)")
    a = p.parse_args(argv)
    a.calls = [int(x) for x in a.calls.split(",") if x]
    return a


def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    if os.geteuid() != 0:
        print("rbmedia: run as root (network namespaces, DPDK)", file=sys.stderr)
        return 1
    ctx = Context(argparse.Namespace(build=a.build, gen_cpu=a.gen_cpu, pps_multi=32,
                                     shapes=["rb_gen"], mode="full"))
    out = Path(a.out or REPO / "perf" / "results" /
               ("media-" + datetime.datetime.now().strftime("%Y%m%d-%H%M%S")))
    out.mkdir(parents=True, exist_ok=True)
    work = Path(a.pcap_dir) if a.pcap_dir else Path(tempfile.mkdtemp(prefix="rbmedia-"))
    work.mkdir(parents=True, exist_ok=True)
    pcaps = Pcaps(work, a.seconds, ctx.log)
    load = {"uptime": sh(["uptime"]).stdout.strip(),
            "others": sh(["sh", "-c", "ps -eo pid,pcpu,comm,args | grep -E 'ringbridge|sipp|"
                          "testpmd|rb_gen|tcpreplay' | grep -v grep || true"]).stdout}
    res = {"machine": machine(), "load_before": load, "args": vars(a), "ladder": [], "ndr": []}
    env = ctx.bridged_env
    try:
        env.up()
        if not a.no_ladder:
            for r in range(a.repeats):
                for n in a.calls:
                    ctx.log(f"repeat {r + 1}/{a.repeats}: {n} calls x {a.seconds:g} s")
                    s = calls_step(ctx, pcaps, n, a.seconds, not a.recording_off)
                    s["repeat"] = r
                    res["ladder"].append(s)
                    th = s["threads"].get("rb-media", {})
                    ctx.log(f"  {'PASS' if s['passed'] else 'FAIL'}: lost {s['lost']}/"
                            f"{s['frames_sent']}, ring_full {s['mirror_ring_full']:.0f}, recorded "
                            f"{s['recorded']:.0f}/{n}, dropped {s['frames_dropped']:.0f}, "
                            f"late {s['late_samples']:.0f}, rb-media {th.get('cpu_pct')} % on CPU "
                            f"{th.get('cpus')}, {s['bytes_per_call_minute'] / 1e6:.2f} MB/call-min")
                    (out / "media.json").write_text(json.dumps(res, indent=1, default=str))
        if a.ndr:
            for r in range(a.repeats):
                # Alternated: each mode goes first in one repeat.
                order = NDR_MODES[r % 3:] + NDR_MODES[:r % 3]
                for mode in order:
                    ctx.log(f"NDR repeat {r + 1}/{a.repeats}: {a.ndr_calls} calls, {mode}"
                            if mode != "none" else f"NDR repeat {r + 1}/{a.repeats}: no calls")
                    bg_s = (a.max_trials + 4) * (a.trial_s + 1.5) + 10
                    x = ndr_run(ctx, pcaps, mode, a.ndr_calls, bg_s, a.trial_s, a.max_trials,
                                ctx.log)
                    x["repeat"] = r
                    res["ndr"].append(x)
                    ctx.log(f"  NDR {x['ndr_pps'] / 1e3:.0f} kpps, fastest zero-loss trial "
                            f"{x['best_zero_loss_pps'] / 1e3:.0f} kpps (flows {x['flows_at_end']:.0f})")
                    (out / "media.json").write_text(json.dumps(res, indent=1, default=str))
    finally:
        for x in list(ctx.live):
            try:
                x.stop() if hasattr(x, "stop") else x.close()
            except Exception as e:  # noqa: BLE001 — clean up the rest regardless
                print(f"rbmedia: clean-up: {e}", file=sys.stderr)
        env.down()
        if not a.pcap_dir:
            shutil.rmtree(work, ignore_errors=True)
    res["summary"] = summarize(res)
    (out / "media.json").write_text(json.dumps(res, indent=1, default=str))
    print(json.dumps(res["summary"], indent=1))
    print(f"rbmedia: {out / 'media.json'}", file=sys.stderr)
    return 0


def summarize(res):
    s = {}
    per_rep = {}
    for x in res["ladder"]:
        per_rep.setdefault(x["repeat"], []).append(x)
    best = []
    for rep, xs in per_rep.items():
        passed = [x["calls"] for x in xs if x["passed"]]
        # The highest N below which every step passed: the ladder's zero-loss capacity.
        ok = 0
        for x in sorted(xs, key=lambda x: x["calls"]):
            if not x["passed"]:
                break
            ok = x["calls"]
        best.append(ok)
        s.setdefault("passed_per_repeat", []).append(passed)
    if best:
        s["calls_per_media_core_per_repeat"] = best
        s["calls_per_media_core_median"] = summary.median(best)
    by_n = {}
    for x in res["ladder"]:
        by_n.setdefault(x["calls"], []).append(x)
    s["per_calls"] = {
        n: {"media_cpu_pct_median": summary.median([x["threads"].get("rb-media", {}).get(
                "cpu_pct", 0) for x in xs]),
            "bytes_per_call_minute_median": summary.median([x["bytes_per_call_minute"] for x in xs]),
            "lost": [x["lost"] for x in xs], "ring_full": [x["mirror_ring_full"] for x in xs],
            "recorded": [x["recorded"] for x in xs], "late_samples": [x["late_samples"] for x in xs],
            "media_cpus": sorted({c for x in xs for c in x["threads"].get("rb-media", {}).get(
                "cpus", [])})}
        for n, xs in sorted(by_n.items())}
    if res["ndr"]:
        for mode in NDR_MODES:
            xs = [x for x in res["ndr"] if x.get("mode") == mode]
            if not xs:
                continue
            v = [x["ndr_pps"] for x in xs]
            z = [x.get("best_zero_loss_pps", 0) for x in xs]
            s[f"ndr_{mode}"] = {"per_repeat": v, "median": summary.median(v),
                                "best_zero_loss_per_repeat": z,
                                "best_zero_loss_median": summary.median(z)}
    return s
