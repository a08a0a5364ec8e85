# SPDX-License-Identifier: BSD-3-Clause
"""rbperf: measure ringbridge against the Linux kernel bridge, dpdk-testpmd and a direct
veth, in one run, alternating between them. See perf/README.md."""
import argparse
import atexit
import datetime
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import callgrind, frames, measure, procstat, report, search, summary, topo

REPO = Path(__file__).resolve().parents[2]

MODES = {
    # sizes, trial seconds, repeats, max trials per search, latency seconds, SIP calls, cg s
    "full": dict(sizes=[*map(str, frames.SIZES), "imix"], trial_s=3.0, repeats=2,
                 max_trials=10, pdr_search=True, latency_s=5.0, latency_loads=(50, 90),
                 sip_calls=100, sip_cps=20, callgrind_s=20, microbench=True,
                 duts=["direct", "kbridge", "rb-xdp", "rb-afpacket", "testpmd-xdp"]),
    "quick": dict(sizes=["64", "imix"], trial_s=1.0, repeats=1, max_trials=5,
                  pdr_search=False, latency_s=1.5, latency_loads=(50, 90), sip_calls=5,
                  sip_cps=10, callgrind_s=5,
                  duts=["direct", "kbridge", "rb-xdp", "rb-afpacket", "testpmd-xdp"]),
    "smoke": dict(sizes=["64"], trial_s=0.5, repeats=1, max_trials=4, pdr_search=False,
                  latency_s=1.0, latency_loads=(50,), sip_calls=0, sip_cps=10, callgrind_s=0,
                  duts=["direct", "kbridge", "rb-xdp"]),
}


class Context:
    def __init__(self, args):
        self.build = Path(args.build).resolve()
        self.ringbridge = self.build / "control" / "ringbridge"
        self.ringbridge_args = []
        self.gen_cpu = args.gen_cpu
        self.pps_multi = args.pps_multi
        self.generator = args.generator
        self.settle_s = 0.4 if args.mode == "full" else 0.25
        self.ceiling_hint = 1_200_000
        prefix = f"rbp{os.getpid() % 100000}"
        self.bridged_env = topo.Env(prefix, direct=False)
        self.direct_env = topo.Env(prefix, direct=True)
        self.t0 = time.time()
        self.live = set()  # DUTs and generators running now, stopped at exit whatever happens

    def tool(self, name):
        return self.build / "perf" / name

    def log(self, msg):
        print(f"[{time.time() - self.t0:6.0f}s] {msg}", file=sys.stderr, flush=True)


def machine():
    def cmd(*c):
        try:
            r = subprocess.run(c, capture_output=True, text=True, timeout=10)
            return (r.stdout.strip() or r.stderr.strip())
        except Exception:  # noqa: BLE001 — a missing tool just leaves the field empty
            return ""
    model = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                  if l.startswith("model name")), "?")
    return {
        "cpu": f"{model}, {os.cpu_count()} CPUs, {procstat.cpu_hz() / 1e6:.0f} MHz",
        "memory": f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') >> 30} GiB",
        "kernel": platform.release(),
        "os": Path("/etc/debian_version").read_text().strip() if Path("/etc/debian_version").exists() else "?",
        "dpdk": cmd("pkg-config", "--modversion", "libdpdk"),
        "tcpreplay": cmd("tcpreplay", "--version").splitlines()[0] if cmd("tcpreplay", "--version") else "",
        "sipp": cmd("sipp", "-v").splitlines()[0] if cmd("sipp", "-v") else "",
        "hugepages": Path("/proc/sys/vm/nr_hugepages").read_text().strip(),
    }


def parse_args(argv):
    p = argparse.ArgumentParser(prog="rbperf", description=__doc__)
    p.add_argument("--quick", action="store_const", dest="mode", const="quick",
                   help="64-byte and IMIX only, 1 s trials: under 5 minutes")
    p.add_argument("--smoke", action="store_const", dest="mode", const="smoke",
                   help="a ~1 minute check that the harness works (CI)")
    p.add_argument("--sizes", help="comma-separated frame sizes, 'imix', 'invite'")
    p.add_argument("--duts", help="comma-separated: direct, kbridge, rb-xdp, rb-xdp-nosip, "
                                  "rb-xdp-rules100k, rb-afpacket, testpmd-xdp, "
                                  "testpmd-afpacket, nfqueue")
    p.add_argument("--trial-s", type=float, help="seconds per trial (RFC 2544 suggests 60)")
    p.add_argument("--repeats", type=int, help="rounds over all DUTs; medians are reported")
    p.add_argument("--no-latency", action="store_true")
    p.add_argument("--no-sip", action="store_true")
    p.add_argument("--no-callgrind", action="store_true")
    p.add_argument("--build", default=str(REPO / "build-perf"), help="meson build directory")
    p.add_argument("--out", help="results directory (default perf/results/<timestamp>)")
    p.add_argument("--gen-cpu", type=int, default=0, help="CPU the generator is pinned to")
    p.add_argument("--pps-multi", type=int, default=32,
                   help="tcpreplay --pps-multi: frames sent per pacing step")
    p.add_argument("--generator", choices=["rb_gen", "tcpreplay"], default="rb_gen",
                   help="rb_gen (perf/tools/generator.cc, DPDK AF_XDP, faster) or tcpreplay")
    p.set_defaults(mode="full")
    a = p.parse_args(argv)
    cfg = dict(MODES[a.mode])
    if a.sizes:
        cfg["sizes"] = a.sizes.split(",")
    if a.duts:
        cfg["duts"] = a.duts.split(",")
    if a.trial_s:
        cfg["trial_s"] = a.trial_s
    if a.repeats:
        cfg["repeats"] = a.repeats
    for s in cfg["sizes"]:
        if s not in ("imix", "invite") and not (s.isdigit() and 64 <= int(s) <= 1518):
            p.error(f"--sizes: '{s}' is not a frame size from 64 to 1518, 'imix' or 'invite'")
    return a, cfg


def summarize(res, size, duts):
    """Medians over repeats, and ratios to the kernel bridge taken per repeat."""
    rows = [r for r in res["throughput"] if r["size"] == size]
    by = {d.name: [r for r in rows if r["dut"] == d.name] for d in duts}
    gen = summary.median([r["ndr_pps"] for r in by.get("direct", [])])
    res["summary"][size] = {}
    for name, rs in by.items():
        s = {k: summary.median([r[k] for r in rs])
             for k in ("ndr_pps", "pdr_pps", "max_rx_pps", "cycles_per_pkt")}
        if "kbridge" in by:
            s["ratio_vs_kbridge"] = summary.median_ratio([r["ndr_pps"] for r in rs],
                                                         [r["ndr_pps"] for r in by["kbridge"]])
        if "nfqueue" in by:
            s["ratio_vs_nfqueue"] = summary.median_ratio([r["ndr_pps"] for r in rs],
                                                         [r["ndr_pps"] for r in by["nfqueue"]])
        s["generator_bound"] = summary.generator_bound(s["ndr_pps"], gen)
        res["summary"][size][name] = s


def measure_throughput(ctx, cfg, dut, gen, size, ceiling, hz):
    """Max received rate, NDR and PDR of one DUT at one frame size."""
    def run_trial(rate):
        return measure.trial(ctx, dut, gen, rate, cfg["trial_s"])

    def show(t):
        ctx.log(f"    {t.offered_pps / 1000:7.0f} kpps offered, {t.achieved_pps / 1000:7.0f} "
                f"sent, lost {t.lost} ({100 * t.loss_ratio:.3f} %) "
                f"{'pass' if t.passes() else 'fail'}")
    dut.start()
    try:
        top = run_trial(None)
        hi = int(max(ceiling or top.achieved_pps, 1000) // 1000 * 1000)
        ndr, ndr_t, trials = search.search(run_trial, 0, hi, search.NDR_LOSS,
                                           max_trials=cfg["max_trials"], on_trial=show,
                                           retry_small_loss=True)
        if cfg["pdr_search"]:
            pdr, _, t2 = search.search(run_trial, ndr, hi, search.PDR_LOSS,
                                       max_trials=max(3, cfg["max_trials"] // 2), on_trial=show)
            trials += t2
        else:
            pdr, _ = search.best_from_trials(trials, search.PDR_LOSS)
    finally:
        dut.stop()
    cpp = procstat.cycles_per_packet(ndr_t.cpu_busy_s, hz, ndr_t.received) if ndr_t else None
    ctx.log(f"    → NDR {ndr / 1000:.0f} kpps, PDR {pdr / 1000:.0f} kpps, "
            f"max rx {top.received_pps / 1000:.0f} kpps")
    return {"size": size, "dut": dut.name, "generator": gen.name, "ndr_pps": ndr,
            "pdr_pps": pdr, "max_rx_pps": top.received_pps, "cycles_per_pkt": cpp,
            "max_trial": top.to_dict(), "trials": [t.to_dict() for t in trials],
            "dut_info": dict(dut.info)}


def main(argv=None):
    args, cfg = parse_args(sys.argv[1:] if argv is None else argv)
    if os.geteuid() != 0:
        sys.exit("rbperf: run as root (network namespaces, DPDK)")
    ctx = Context(args)
    for need in ("tcpreplay", "dpdk-testpmd", "ethtool"):
        if shutil.which(need) is None:
            sys.exit(f"rbperf: '{need}' is missing; run deploy/install-deps.sh")
    if not ctx.ringbridge.exists():
        sys.exit(f"rbperf: {ctx.ringbridge} is missing; build first (perf/run.sh does)")
    outdir = Path(args.out or REPO / "perf" / "results" /
                  datetime.datetime.now().strftime("%Y%m%d-%H%M%S"))
    work = Path(tempfile.mkdtemp(prefix="rbperf-"))

    def cleanup(*_):
        for thing in list(ctx.live):  # a DUT or generator still running: stop it by PID
            try:
                thing.close() if hasattr(thing, "close") else thing.stop()
            except Exception as e:  # noqa: BLE001 — clean-up goes on
                ctx.log(f"clean-up of {thing}: {e}")
        ctx.bridged_env.down()
        ctx.direct_env.down()
        shutil.rmtree(work, ignore_errors=True)
    atexit.register(cleanup)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    ctx.log(f"mode {args.mode}: sizes {','.join(cfg['sizes'])}, DUTs {','.join(cfg['duts'])}, "
            f"{cfg['trial_s']} s trials, {cfg['repeats']} repeat(s)")
    ctx.bridged_env.up()
    ctx.direct_env.up()
    duts = topo.make_duts(ctx, cfg["duts"])
    if "direct" not in cfg["duts"]:
        duts.insert(0, topo.DirectDut(ctx))  # the generator ceiling is always measured
    res = {"meta": {"command": " ".join(["perf/rbperf", *(sys.argv[1:] if argv is None else argv)]),
                    "mode": args.mode, "started": datetime.datetime.now().isoformat(timespec="seconds"),
                    "machine": machine(), "params": {**cfg, "pps_multi": args.pps_multi,
                                                     "gen_cpu": args.gen_cpu,
                                                     "generator": args.generator},
                    "ringbridge": subprocess.run([ctx.ringbridge, "--version"], capture_output=True,
                                                 text=True).stdout.strip(),
                    "duts": {d.name: d.description for d in duts}},
           "throughput": [], "summary": {}, "latency": [], "sip": [], "callgrind": None}
    hz = procstat.cpu_hz()

    pcaps = {}
    for size in cfg["sizes"] + (["64"] if "64" not in cfg["sizes"] else []):
        path = work / f"{size}.pcap"
        pcaps[size] = (path, *frames.make_pcap(path, size))

    total_steps = cfg["repeats"] * len(cfg["sizes"]) * len(duts)
    step = 0
    for rep in range(cfg["repeats"]):
        for size in cfg["sizes"]:
            pcap, nframes, mean_size = pcaps[size]
            ceiling = None
            gens = {}
            try:
                for dut in duts:
                    step += 1
                    ctx.log(f"[{step}/{total_steps}] repeat {rep + 1}, "
                            f"{report.size_label(size)}: {dut.name}")
                    if dut.env not in gens:
                        gens[dut.env] = measure.make_generator(ctx, dut.env, pcap, nframes)
                    row = measure_throughput(ctx, cfg, dut, gens[dut.env], size, ceiling, hz)
                    if dut.name == "direct":
                        ceiling = row["max_rx_pps"]
                    row.update(repeat=rep, mean_frame_bytes=mean_size,
                               generator_ceiling_pps=ceiling)
                    res["throughput"].append(row)
            finally:
                for g in gens.values():
                    g.close()

    for size in cfg["sizes"]:
        summarize(res, size, duts)

    if not args.no_latency and cfg["latency_loads"]:
        pcap, nframes, _ = pcaps["64"]
        for dut in duts:
            ndr = (res["summary"].get("64", {}).get(dut.name) or {}).get("ndr_pps")
            if not ndr:
                continue
            gen = measure.make_generator(ctx, dut.env, pcap, nframes)
            dut.start()
            try:
                for load in cfg["latency_loads"]:
                    rate = int(ndr * load / 100)
                    ctx.log(f"latency: {dut.name} at {load} % of NDR ({rate / 1000:.0f} kpps)")
                    l = measure.latency(ctx, dut, gen, rate, cfg["latency_s"])
                    res["latency"].append({"dut": dut.name, "load_pct": load, **l})
                    ctx.log(f"    p50 {l['p50_us']:.1f} µs, p99 {l['p99_us']:.1f} µs, "
                            f"p99.9 {l['p999_us']:.1f} µs, lost {l['lost']}")
            finally:
                dut.stop()
                gen.close()

    if not args.no_sip and cfg["sip_calls"] and shutil.which("sipp"):
        pcap, nframes, _ = pcaps["64"]
        kb = (res["summary"].get("64", {}).get("kbridge") or {}).get("ndr_pps") or 100_000
        bg = int(kb * 0.5)
        sip_duts = [d for d in duts if d.name != "direct"]
        if shutil.which("iptables-legacy") and ctx.tool("rb_nfq_reader").exists():
            sip_duts.append(topo.NfqueueDut(ctx))
        for dut in sip_duts:
            ctx.log(f"SIP mix: {dut.name}, {cfg['sip_calls']} calls at {cfg['sip_cps']}/s, "
                    f"background {bg / 1000:.0f} kpps")
            dut.start()
            try:
                s = measure.sip_mix(ctx, dut, cfg["sip_calls"], cfg["sip_cps"], pcap, nframes, bg)
            finally:
                dut.stop()
            s["dut"] = dut.name
            s["dut_info"] = dict(dut.info)
            res["sip"].append(s)
            ctx.log(f"    {s['successful']}/{s['calls']} calls, frames lost {s['loss_pct']:.3f} %")
        # Zero-loss rate of INVITE-sized SIP over UDP: the seed design's own benchmark.
        inv = work / "invite.pcap"
        inv_n, inv_mean = frames.make_pcap(inv, "invite")
        ceiling = None
        gens = {}
        try:
            for dut in [topo.DirectDut(ctx)] + sip_duts:
                ctx.log(f"INVITE frames (413 bytes): {dut.name}")
                if dut.env not in gens:
                    gens[dut.env] = measure.make_generator(ctx, dut.env, inv, inv_n)
                row = measure_throughput(ctx, cfg, dut, gens[dut.env], "invite", ceiling, hz)
                if dut.name == "direct":
                    ceiling = row["max_rx_pps"]
                row.update(repeat=0, mean_frame_bytes=inv_mean, generator_ceiling_pps=ceiling)
                res["throughput"].append(row)
        finally:
            for g in gens.values():
                g.close()
        summarize(res, "invite", [topo.DirectDut(ctx)] + sip_duts)

    if not args.no_callgrind and cfg["callgrind_s"] and shutil.which("valgrind"):
        ctx.log(f"callgrind: instructions per packet, {cfg['callgrind_s']} s each")
        res["callgrind"] = callgrind.measure(ctx, cfg["callgrind_s"])
        c = res["callgrind"]
        ctx.log(f"    ringbridge {c['ringbridge']['per_packet']:.1f}, testpmd "
                f"{c['testpmd']['per_packet']:.1f} instructions/packet; SIP per INVITE "
                f"{c['invite']['sip_per_invite']:.0f}, per non-SIP frame "
                f"{c['invite']['per_non_sip_frame']:.0f}")

    bench = ctx.tool("worker_bench")
    if cfg.get("microbench") and bench.exists():
        ctx.log("microbenchmarks (Google Benchmark): worker hot path")
        r = subprocess.run([bench, "--benchmark_format=json", "--benchmark_min_time=0.5"],
                           capture_output=True, text=True, timeout=300)
        if r.returncode == 0:
            res["microbench"] = [{"name": b["name"], "ns": b["real_time"],
                                  "items_per_second": b.get("items_per_second")}
                                 for b in json.loads(r.stdout)["benchmarks"]]

    if res["callgrind"] and args.mode == "full":
        # Instructions per packet are repeatable where wall time is not: keep their history.
        hist = REPO / "perf" / "callgrind_history.csv"
        new = not hist.exists()
        with hist.open("a") as f:
            if new:
                f.write("date,ringbridge,ringbridge_instr_per_pkt,testpmd_instr_per_pkt\n")
            c = res["callgrind"]
            f.write(f"{res['meta']['started']},{res['meta']['ringbridge'].split()[3].strip('(),')},"
                    f"{c['ringbridge']['per_packet']:.1f},{c['testpmd']['per_packet']:.1f}\n")

    res["meta"]["elapsed_s"] = round(time.time() - ctx.t0, 1)
    md = report.write(res, outdir)
    ctx.log(f"done in {res['meta']['elapsed_s'] / 60:.1f} min: {md}")
    print(md.read_text())
    return 0
