# SPDX-License-Identifier: BSD-3-Clause
"""The measurements: paced trials (rb_gen or tcpreplay, in several traffic shapes), latency
probes, SIP call mix (sipp). Instructions per packet (callgrind) are in callgrind.py."""
import json
import math
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from . import frames, parse, procstat
from .search import Trial
from .topo import in_ns, sh


def tcpreplay_cmd(ctx, env, pcap, nframes, rate, seconds):
    loops = max(1, math.ceil((rate or ctx.ceiling_hint) * seconds / nframes))
    pacing = ["--topspeed"] if rate is None else ["--pps", str(int(rate)), "--pps-multi",
                                                   str(ctx.pps_multi)]
    return in_ns(env.gen, "taskset", "-c", ctx.gen_cpu, "tcpreplay", "-q", "-i", "eth0",
                 "--preload-pcap", "--loop", loops, *pacing, pcap)


class TcpreplayGen:
    """tcpreplay, one run per trial: one send() per frame, paced in steps of --pps-multi
    frames (ctx.pps_multi) at once."""
    name = "tcpreplay"

    def __init__(self, ctx, env, pcap, nframes):
        self.ctx, self.env, self.pcap, self.nframes = ctx, env, pcap, nframes

    def send(self, rate, seconds, pacing="even"):
        r = sh(tcpreplay_cmd(self.ctx, self.env, self.pcap, self.nframes, rate, seconds),
               timeout=seconds * 10 + 60)
        return parse.tcpreplay(r.stdout + r.stderr)

    def close(self):
        pass


class RbGen:
    """perf/tools/generator.cc on AF_XDP, kept running between trials: paced in bursts of
    at most 16 frames, about 1.6x the frame rate tcpreplay reaches on one core. Each
    request says how the bursts are spaced (even or poisson)."""
    name = "rb_gen"
    instances = 0

    def __init__(self, ctx, env, pcap, nframes):
        RbGen.instances += 1
        self.ctx = ctx
        self.prefix = f"rbgen-{os.getpid()}-{RbGen.instances}"
        cmd = [ctx.tool("rb_gen"), "--no-huge", "--no-shconf", "-m", "512", "--file-prefix",
               self.prefix, "--lcores", f"0@{ctx.gen_cpu}", "--no-pci", "--log-level", "warning",
               "--vdev", "net_af_xdp0,iface=eth0,busy_budget=0", "--", pcap]
        self.proc = subprocess.Popen(in_ns(env.gen, *cmd), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        ctx.live.add(self)
        line = self.proc.stdout.readline()
        if not line.startswith("ready"):
            err = self.proc.stderr.read()
            self.close()
            raise RuntimeError("rb_gen did not start: " + line + err)

    def send(self, rate, seconds, pacing="even"):
        count = int((rate or self.ctx.ceiling_hint) * seconds)
        self.proc.stdin.write(f"{rate or 0} {count} {pacing}\n")
        self.proc.stdin.flush()
        text = self.proc.stdout.readline() + self.proc.stdout.readline()
        return parse.tcpreplay(text)

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=20)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(f"/var/run/dpdk/{self.prefix}", ignore_errors=True)
        self.ctx.live.discard(self)


# Traffic shapes: which sender, and how it spaces its frames at a given average rate.
SHAPES = {
    "rb_gen": ("rb_gen", "even"),
    "tcpreplay": ("tcpreplay", "even"),
    "poisson": ("rb_gen", "poisson"),
}


def shape_description(shape, pps_multi):
    return {
        "rb_gen": "rb_gen (perf/tools/generator.cc, DPDK AF_XDP), evenly paced: one burst of "
                  "rate/100k frames (1 to 16) every 10 µs",
        "tcpreplay": f"tcpreplay --pps-multi {pps_multi}: one send() per frame, "
                     f"{pps_multi} frames back to back per pacing step",
        "poisson": "rb_gen, the same bursts with exponentially distributed gaps (mean 10 µs): "
                   "a Poisson process of bursts, clumps and lulls at the same average rate",
    }[shape]


class ShapedGen:
    """One traffic shape on a sender: what a trial calls send() on."""

    def __init__(self, sender, shape):
        self.sender, self.name = sender, shape
        self.pacing = SHAPES[shape][1]

    def send(self, rate, seconds):
        return self.sender.send(rate, seconds, self.pacing)


class Generators:
    """The senders of one frame file, started on first use and kept until close(): one
    per (namespace pair, sender), shared by the shapes that use the same sender."""

    def __init__(self, ctx, pcap, nframes):
        self.ctx, self.pcap, self.nframes = ctx, pcap, nframes
        self.senders = {}

    def get(self, env, shape):
        kind = SHAPES[shape][0]
        key = (env.gen, kind)
        if key not in self.senders:
            cls = RbGen if kind == "rb_gen" else TcpreplayGen
            self.senders[key] = cls(self.ctx, env, self.pcap, self.nframes)
        return ShapedGen(self.senders[key], shape)

    def close(self):
        for g in self.senders.values():
            g.close()
        self.senders.clear()


def trial(ctx, dut, gen, rate, seconds):
    """One trial: RATE frames/s (None = as fast as the generator can) for about SECONDS."""
    env = dut.env
    c0, s0 = env.counters(), procstat.snapshot()
    tr = gen.send(rate, seconds)
    s1 = procstat.snapshot()
    time.sleep(ctx.settle_s)  # frames still in DUT rings arrive
    c1 = env.counters()
    received = c1["sink"]["rx"] - c0["sink"]["rx"]
    return Trial(offered_pps=rate if rate is not None else tr["sent"] / tr["seconds"],
                 sent=tr["sent"], received=received, seconds=tr["seconds"],
                 cpu_busy_s=procstat.busy_seconds(s0, s1),
                 extra={"shape": gen.name, "paced": rate is not None,
                        "sink_rx_dropped": c1["sink"]["rx_dropped"] - c0["sink"]["rx_dropped"],
                        "cpu": procstat.breakdown(s0, s1)})


def latency(ctx, dut, gen, rate, seconds, probe_pps=1000, port=7777):
    """One-way latency of timestamped probes while GEN sends background load at RATE pps."""
    env = dut.env
    lat = ctx.tool("rb_latency")
    csum0 = env.udp_csum_errors(env.sink)
    recv = subprocess.Popen(in_ns(env.sink, lat, "recv", port, seconds + 1.5),
                            stdout=subprocess.PIPE, text=True)
    try:
        if "listening" not in recv.stdout.readline():
            raise RuntimeError("rb_latency recv did not start")
        probes = subprocess.Popen(in_ns(env.gen, lat, "send", frames.SINK_IP, port, probe_pps,
                                        seconds), stdout=subprocess.PIPE, text=True)
        bg = gen.send(rate, seconds + 0.2) if rate else None
        sent = json.loads(probes.communicate(timeout=seconds + 30)[0].strip())["sent"]
        res = json.loads(recv.communicate(timeout=30)[0].strip().splitlines()[-1])
    finally:
        if recv.poll() is None:
            recv.kill()
    res["sent"] = sent
    res["lost"] = max(0, sent - res["received"])
    # Probes sent with the kernel's default offloads carry unfinished checksums on a veth;
    # a DUT that does not complete them loses them here.
    res["sink_udp_csum_errors"] = env.udp_csum_errors(env.sink) - csum0
    if not res["received"]:  # rb_latency prints 0 for the percentiles of nothing
        res.update(p50_us=None, p99_us=None, p999_us=None, max_us=None)
    res["background_pps"] = rate or 0
    if bg:
        res["background"] = bg
    return res


def sip_mix(ctx, dut, calls, cps, bg_pcap, bg_nframes, bg_rate):
    """sipp UAC (gen) → UAS (sink) calls with G.711 RTP (echoed by the UAS) while background
    frames run at BG_RATE. Returns call success and the loss of all frames that crossed."""
    env = dut.env
    work = Path(tempfile.mkdtemp(prefix="rbperf-sip-"))
    (work / "pcap").symlink_to("/usr/share/sip-tester")  # uac_pcap opens pcap/g711a.pcap
    uas = subprocess.Popen(
        in_ns(env.sink, "sipp", "-sn", "uas", "-i", frames.SINK_IP, "-p", 5060, "-rtp_echo",
              "-nostdin", "-trace_stat", "-stf", work / "uas.csv", "-fd", 1),
        cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    bg = None
    try:
        time.sleep(0.5)
        c0 = env.counters()
        duration = calls / cps + 10
        if bg_rate:
            bg = subprocess.Popen(tcpreplay_cmd(ctx, env, bg_pcap, bg_nframes, bg_rate, duration),
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        t0 = time.time()
        uac = sh(in_ns(env.gen, "sipp", f"{frames.SINK_IP}:5060", "-sn", "uac_pcap", "-i",
                       frames.GEN_IP, "-p", 5061, "-r", cps, "-m", calls, "-nostdin",
                       "-trace_stat", "-stf", work / "uac.csv", "-fd", 1, "-timeout",
                       int(duration + 30), "-timeout_error"),
                 check=False, cwd=work, timeout=duration + 90)
        elapsed = time.time() - t0
        if bg:
            bg.send_signal(signal.SIGINT)
            bg.communicate(timeout=30)
        time.sleep(ctx.settle_s)
        c1 = env.counters()
        stats = parse.sipp_stat_csv((work / "uac.csv").read_text())
    finally:
        for p in (uas, bg):
            if p and p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(work, ignore_errors=True)
    sent = (c1["gen"]["tx"] - c0["gen"]["tx"]) + (c1["sink"]["tx"] - c0["sink"]["tx"])
    got = (c1["sink"]["rx"] - c0["sink"]["rx"]) + (c1["gen"]["rx"] - c0["gen"]["rx"])
    return {"calls": calls, "cps": cps, "background_pps": bg_rate, "seconds": round(elapsed, 2),
            "successful": stats["successful"], "failed": stats["failed"],
            "success_pct": 100.0 * stats["successful"] / calls if calls else 0.0,
            "frames_sent": sent, "frames_received": got,
            "loss_pct": 100.0 * max(0, sent - got) / sent if sent else 0.0,
            "sipp_exit": uac.returncode}

