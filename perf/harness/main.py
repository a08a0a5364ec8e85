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

from . import callgrind, frames, measure, procstat, progress, report, search, summary, topo

REPO = Path(__file__).resolve().parents[2]

MODES = {
    # sizes, trial seconds, repeats, max trials per search, latency seconds, SIP calls, cg s
    "full": dict(sizes=[*map(str, frames.SIZES), "imix"], trial_s=3.0, repeats=2,
                 max_trials=10, pdr_search=True, latency_s=5.0, latency_loads=(50, 90),
                 sip_calls=100, sip_cps=20, callgrind_s=20, microbench=True,
                 duts=["direct", "kbridge", "rb-xdp", "rb-afpacket", "rb-afpacket-w2",
                       "testpmd-xdp"]),
    "quick": dict(sizes=["64", "imix"], trial_s=1.0, repeats=1, max_trials=5,
                  pdr_search=False, latency_s=1.5, latency_loads=(50, 90), sip_calls=5,
                  sip_cps=10, callgrind_s=5,
                  duts=["direct", "kbridge", "rb-xdp", "rb-afpacket", "rb-afpacket-w2",
                        "testpmd-xdp"]),
    "smoke": dict(sizes=["64"], trial_s=0.5, repeats=1, max_trials=4, pdr_search=False,
                  latency_s=1.0, latency_loads=(50,), sip_calls=0, sip_cps=10, callgrind_s=0,
                  duts=["direct", "kbridge", "rb-xdp"]),
}


class Context:
    def __init__(self, args):
        self.build = Path(args.build).resolve()
        self.ringbridge = self.build / "control" / "ringbridge"
        self.ringbridge_args = []
        # --rb-config: TOML appended to every ringbridge DUT's configuration (measure a
        # setting without a DUT of its own, e.g. '[dataplane]\naf_xdp_gro_flush_us = 20').
        self.rb_config = (getattr(args, "rb_config", None) or "").replace("\\n", "\n")
        self.gen_cpu = args.gen_cpu
        topo.pin_harness(self.gen_cpu)  # the driver and its tools stay off the DUT's CPUs
        self.pps_multi = args.pps_multi
        self.shapes = args.shapes
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
                   help="64-byte and IMIX only, 1 s trials: about 10 minutes")
    p.add_argument("--smoke", action="store_const", dest="mode", const="smoke",
                   help="a ~1 minute check that the harness works (CI)")
    p.add_argument("--sizes", help="comma-separated frame sizes, 'imix', 'invite'")
    p.add_argument("--duts", help="comma-separated: direct, kbridge, rb-xdp, rb-xdp-nosip, "
                                  "rb-xdp-rules100k, rb-xdp-tuned, rb-xdp-untuned, rb-afpacket, "
                                  "rb-afpacket-w2, testpmd-xdp, testpmd-xdp-tuned, "
                                  "testpmd-afpacket, nfqueue")
    p.add_argument("--shapes", default="rb_gen,tcpreplay",
                   help="comma-separated traffic shapes, each measured for every DUT: rb_gen "
                        "(evenly paced bursts of up to 16 frames every 10 µs), tcpreplay "
                        "(--pps-multi frames per pacing step), poisson (rb_gen's bursts with "
                        "exponential gaps); default rb_gen,tcpreplay")
    p.add_argument("--trial-s", type=float, help="seconds per trial (RFC 2544 suggests 60)")
    p.add_argument("--repeats", type=int, help="rounds over all DUTs; medians are reported")
    p.add_argument("--pdr-search", action="store_true",
                   help="search the PDR upward from the NDR with trials of its own (the full "
                        "mode does; --quick and --smoke take it from the NDR search's trials)")
    p.add_argument("--no-latency", action="store_true")
    p.add_argument("--no-sip", action="store_true")
    p.add_argument("--no-callgrind", action="store_true")
    p.add_argument("--build", default=str(REPO / "build-perf"), help="meson build directory")
    p.add_argument("--out", help="results directory (default perf/results/<timestamp>)")
    p.add_argument("--gen-cpu", type=int, default=0, help="CPU the generator is pinned to")
    p.add_argument("--pps-multi", type=int, default=32,
                   help="tcpreplay --pps-multi: frames sent per pacing step")
    p.add_argument("--rb-config", metavar="TOML",
                   help="TOML appended to every ringbridge DUT's configuration; '\\n' "
                        "separates lines, e.g. '[dataplane]\\naf_xdp_gro_flush_us = 20'")
    p.add_argument("--generator", choices=["rb_gen", "tcpreplay"],
                   help="one shape only (the same as --shapes GENERATOR)")
    p.set_defaults(mode="full")
    a = p.parse_args(argv)
    a.shapes = [a.generator] if a.generator else [x for x in a.shapes.split(",") if x]
    for sh in a.shapes:
        if sh not in measure.SHAPES:
            p.error(f"--shapes: unknown shape '{sh}'; known: {', '.join(measure.SHAPES)}")
    if not a.shapes or len(set(a.shapes)) != len(a.shapes):
        p.error("--shapes: give one or more different shapes, e.g. rb_gen,tcpreplay")
    if a.pps_multi < 1:
        p.error("--pps-multi: give a number of frames from 1 up")
    cfg = dict(MODES[a.mode])
    if a.sizes:
        cfg["sizes"] = a.sizes.split(",")
    if a.duts:
        cfg["duts"] = a.duts.split(",")
    if a.trial_s:
        cfg["trial_s"] = a.trial_s
    if a.repeats:
        cfg["repeats"] = a.repeats
    if a.pdr_search:
        cfg["pdr_search"] = True
    for s in cfg["sizes"]:
        if s not in ("imix", "invite") and not (s.isdigit() and 64 <= int(s) <= 1518):
            p.error(f"--sizes: '{s}' is not a frame size from 64 to 1518, 'imix' or 'invite'")
    return a, cfg


def summarize(res, shape, size, duts):
    """Medians over repeats of one shape and frame size, and ratios taken per repeat: to
    the kernel bridge, to testpmd on the same PMD, to the direct veth (the ceiling of this
    shape's sender), to the seed design (INVITEs)."""
    rows = [r for r in res["throughput"] if r["size"] == size and r["shape"] == shape]
    by = {d.name: [r for r in rows if r["dut"] == d.name] for d in duts}
    pmd = {d.name: d.pmd for d in duts}
    gen = summary.median([r["ndr_pps"] for r in by.get("direct", [])])
    out = res["summary"].setdefault(shape, {}).setdefault(size, {})
    for name, rs in by.items():
        s = {k: summary.median([r[k] for r in rs])
             for k in ("ndr_pps", "pdr_pps", "max_rx_pps", "cycles_per_pkt")}
        s["ndr_reruns"] = sum(r["ndr_reruns"] for r in rs)
        s["ndr_reruns_passed"] = sum(r["ndr_reruns_passed"] for r in rs)
        s["ndr_trials"] = sum(r["ndr_trials"] for r in rs)
        s["errors"] = [r["error"] for r in rs if r.get("error")]
        ndrs = [r["ndr_pps"] for r in rs]
        refs = {"kbridge": "kbridge", "nfqueue": "nfqueue", "direct": "direct"}
        if name.startswith("rb-") and pmd.get(name):
            refs["testpmd"] = f"testpmd-{pmd[name]}"
        for key, ref in refs.items():
            if ref in by:
                s[f"ratio_vs_{key}"] = summary.median_ratio(ndrs, [r["ndr_pps"] for r in by[ref]])
        s["generator_bound"] = summary.generator_bound(s["ndr_pps"], gen)
        workers = [r["dut_info"].get("worker_cpus") for r in rs if r["dut_info"].get("worker_cpus")]
        if workers:
            s["worker_cpus"] = workers[0]
        out[name] = s


def measure_throughput(ctx, cfg, dut, gen, size, ceiling, hz, prog):
    """Max received rate, NDR and PDR of one DUT (already started) at one frame size under
    one traffic shape (GEN)."""
    phase = ["max"]

    def run_trial(rate):
        t = measure.trial(ctx, dut, gen, rate, cfg["trial_s"])
        t.extra["phase"] = phase[0]
        return t

    def show(t):
        prog.trial(phase[0], t)

    top = run_trial(None)
    show(top)
    hi = int(max(ceiling or top.achieved_pps, 1000) // 1000 * 1000)
    phase[0] = "ndr"
    ndr, ndr_t, trials = search.search(run_trial, 0, hi, search.NDR_LOSS,
                                       max_trials=cfg["max_trials"], on_trial=show,
                                       retry_small_loss=True)
    reruns, reruns_passed = search.reruns(trials)
    ndr_trials = len(trials)
    if cfg["pdr_search"]:
        # Upward from the NDR: a rate with no loss has at most 0.5 % loss, so the PDR is
        # never below the NDR; the NDR search's trials already bound it on both sides.
        phase[0] = "pdr"
        pdr, _, t2 = search.search_above(run_trial, ndr, hi, trials, search.PDR_LOSS,
                                         max_trials=max(3, cfg["max_trials"] // 2),
                                         on_trial=show)
        trials += t2
    else:
        pdr, _ = search.best_from_trials(trials, search.PDR_LOSS, floor=ndr)
    cpp = procstat.cycles_per_packet(ndr_t.cpu_busy_s, hz, ndr_t.received) if ndr_t else None
    return {"size": size, "dut": dut.name, "shape": gen.name, "generator": gen.sender.name,
            "ndr_pps": ndr, "pdr_pps": pdr, "max_rx_pps": top.received_pps,
            "cycles_per_pkt": cpp, "ndr_trials": ndr_trials, "ndr_reruns": reruns,
            "ndr_reruns_passed": reruns_passed, "max_trial": top.to_dict(),
            "trials": [t.to_dict() for t in trials]}


def failed_row(size, dut, shape, error):
    return {"size": size, "dut": dut.name, "shape": shape, "generator": None, "ndr_pps": None,
            "pdr_pps": None, "max_rx_pps": None, "cycles_per_pkt": None, "ndr_trials": 0,
            "ndr_reruns": 0, "ndr_reruns_passed": 0, "max_trial": None, "trials": [],
            "error": error}


def throughput_round(ctx, cfg, res, duts, size, gens, shapes, hz, prog, extra):
    """Every DUT at one frame size, each started once and measured under every shape in
    turn. The direct veth comes first: its max rx is the search ceiling of that shape."""
    ceilings = {}
    for dut in duts:
        rows = []
        try:
            dut.start()
        except Exception as e:  # noqa: BLE001 — reported; the run goes on
            ctx.log(f"{dut.name} did not start: {e}")
            try:
                dut.stop()
            except Exception:  # noqa: BLE001
                pass
            for shape in shapes:
                prog.start_unit(dut.name, report.size_label(size), shape)
                rows.append(failed_row(size, dut, shape, f"did not start: {e}"[:4000]))
                prog.end_unit()
        else:
            try:
                for shape in shapes:
                    prog.start_unit(dut.name, report.size_label(size), shape)
                    row = measure_throughput(ctx, cfg, dut, gens.get(dut.env, shape), size,
                                             ceilings.get(shape), hz, prog)
                    if dut.name == "direct":
                        ceilings[shape] = row["max_rx_pps"]
                    row["generator_ceiling_pps"] = ceilings.get(shape)
                    rows.append(row)
                    prog.end_unit()
                    ctx.log(f"  → {dut.name} {report.size_label(size)} {shape}: NDR "
                            f"{row['ndr_pps'] / 1000:.0f} kpps, PDR {row['pdr_pps'] / 1000:.0f} "
                            f"kpps, max rx {row['max_rx_pps'] / 1000:.0f} kpps, "
                            f"{row['ndr_reruns']} NDR re-run(s)")
            finally:
                dut.stop()
        for row in rows:
            row.update(extra)
            row["dut_info"] = dict(dut.info)
            res["throughput"].append(row)


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

    shapes = ctx.shapes
    ctx.log(f"mode {args.mode}: sizes {','.join(cfg['sizes'])}, DUTs {','.join(cfg['duts'])}, "
            f"shapes {','.join(shapes)}, {cfg['trial_s']} s trials, {cfg['repeats']} repeat(s)")
    ctx.bridged_env.up()
    ctx.direct_env.up()
    duts = topo.make_duts(ctx, cfg["duts"])
    if "direct" not in cfg["duts"]:
        duts.insert(0, topo.DirectDut(ctx))  # the generator ceiling is always measured
    else:
        duts.sort(key=lambda d: d.name != "direct")  # first: it sets each shape's ceiling
    res = {"meta": {"command": " ".join(["perf/rbperf", *(sys.argv[1:] if argv is None else argv)]),
                    "mode": args.mode, "started": datetime.datetime.now().isoformat(timespec="seconds"),
                    "machine": machine(), "params": {**cfg, "pps_multi": args.pps_multi,
                                                     "gen_cpu": args.gen_cpu,
                                                     "shapes": shapes},
                    "shapes": {sh: measure.shape_description(sh, args.pps_multi) for sh in shapes},
                    "ringbridge": subprocess.run([ctx.ringbridge, "--version"], capture_output=True,
                                                 text=True).stdout.strip(),
                    "duts": {d.name: d.description for d in duts}},
           "throughput": [], "summary": {}, "latency": [], "sip": [], "callgrind": None}
    hz = procstat.cpu_hz()

    # The plan, for the ETA: searches (one DUT, size and shape each) and later phases.
    do_latency = not args.no_latency and cfg["latency_loads"]
    do_sip = not args.no_sip and cfg["sip_calls"] and shutil.which("sipp")
    sip_duts = [d for d in duts if d.name != "direct"]
    if do_sip and shutil.which("iptables-legacy") and ctx.tool("rb_nfq_reader").exists():
        sip_duts.append(topo.NfqueueDut(ctx))
    do_cg = not args.no_callgrind and cfg["callgrind_s"] and shutil.which("valgrind")
    units = cfg["repeats"] * len(cfg["sizes"]) * len(duts) * len(shapes)
    if do_sip:
        units += (1 + len(sip_duts)) * len(shapes)
    per_trial = cfg["trial_s"] + ctx.settle_s + 0.4
    trials_guess = 1 + 0.7 * cfg["max_trials"] + (3 if cfg["pdr_search"] else 0)
    later = {}
    lat_one_s = cfg["latency_s"] + 2  # one latency measurement, with its start and end
    lat_dut_s = 2 + len(shapes) * len(cfg["latency_loads"]) * lat_one_s
    sip_dut_s = cfg["sip_calls"] / cfg["sip_cps"] + 15
    if do_latency:
        later["latency"] = len(duts) * lat_dut_s
    if do_sip:
        later["sip"] = len(sip_duts) * sip_dut_s
    if do_cg:
        later["callgrind"] = 4 * cfg["callgrind_s"] + 180  # 3 runs + 2 replays under valgrind
    if cfg.get("microbench"):
        later["microbench"] = 60
    prog = progress.Progress(ctx.log, units, trials_guess * per_trial + 2 / len(shapes), later)

    pcaps = {}
    for size in cfg["sizes"] + (["64"] if "64" not in cfg["sizes"] else []):
        path = work / f"{size}.pcap"
        pcaps[size] = (path, *frames.make_pcap(path, size))

    total_steps = cfg["repeats"] * len(cfg["sizes"])
    step = 0
    for rep in range(cfg["repeats"]):
        for size in cfg["sizes"]:
            pcap, nframes, mean_size = pcaps[size]
            step += 1
            prog.note(f"[{step}/{total_steps}] repeat {rep + 1}, {report.size_label(size)}: "
                      f"{', '.join(d.name for d in duts)} × {', '.join(shapes)}")
            gens = measure.Generators(ctx, pcap, nframes)
            try:
                throughput_round(ctx, cfg, res, duts, size, gens, shapes, hz, prog,
                                 {"repeat": rep, "mean_frame_bytes": mean_size})
            finally:
                gens.close()

    for shape in shapes:
        for size in cfg["sizes"]:
            summarize(res, shape, size, duts)

    if do_latency:
        pcap, nframes, _ = pcaps["64"]
        gens = measure.Generators(ctx, pcap, nframes)
        try:
            for dut in duts:
                ndrs = {sh: (res["summary"][sh].get("64", {}).get(dut.name) or {}).get("ndr_pps")
                        for sh in shapes}
                if not any(ndrs.values()):
                    prog.spend("latency", lat_dut_s)
                    continue
                dut.start()
                try:
                    for shape in shapes:
                        if not ndrs[shape]:
                            prog.spend("latency", lat_one_s * len(cfg["latency_loads"]))
                            continue
                        for load in cfg["latency_loads"]:
                            rate = int(ndrs[shape] * load / 100)
                            l = measure.latency(ctx, dut, gens.get(dut.env, shape), rate,
                                                cfg["latency_s"])
                            res["latency"].append({"dut": dut.name, "shape": shape,
                                                   "load_pct": load, **l})
                            prog.spend("latency", lat_one_s)
                            p = (f"p50 {l['p50_us']:.1f} µs, p99 {l['p99_us']:.1f} µs"
                                 if l["received"] else "no probe arrived")
                            if l["sink_udp_csum_errors"]:
                                p += (f", {l['sink_udp_csum_errors']} dropped by the sink for "
                                      f"a bad UDP checksum")
                            prog.note(f"latency {dut.name} {shape} at {load} % of NDR "
                                      f"({rate / 1000:.0f} kpps): {p}, lost {l['lost']}")
                finally:
                    dut.stop()
        finally:
            gens.close()
        prog.phase_done("latency")

    if do_sip:
        pcap, nframes, _ = pcaps["64"]
        kb = ((res["summary"][shapes[0]].get("64", {}).get("kbridge") or {}).get("ndr_pps")
              or 100_000)
        bg = int(kb * 0.5)
        for dut in sip_duts:
            prog.note(f"SIP mix: {dut.name}, {cfg['sip_calls']} calls at {cfg['sip_cps']}/s, "
                      f"background {bg / 1000:.0f} kpps")
            dut.start()
            try:
                s = measure.sip_mix(ctx, dut, cfg["sip_calls"], cfg["sip_cps"], pcap, nframes, bg)
            finally:
                dut.stop()
            s["dut"] = dut.name
            s["dut_info"] = dict(dut.info)
            res["sip"].append(s)
            prog.spend("sip", sip_dut_s)
            ctx.log(f"    {s['successful']}/{s['calls']} calls, frames lost {s['loss_pct']:.3f} %")
        prog.phase_done("sip")
        # Zero-loss rate of INVITE-sized SIP over UDP: the seed design's own benchmark.
        inv = work / "invite.pcap"
        inv_n, inv_mean = frames.make_pcap(inv, "invite")
        inv_duts = [topo.DirectDut(ctx)] + sip_duts
        gens = measure.Generators(ctx, inv, inv_n)
        try:
            throughput_round(ctx, cfg, res, inv_duts, "invite", gens, shapes, hz, prog,
                             {"repeat": 0, "mean_frame_bytes": inv_mean})
        finally:
            gens.close()
        for shape in shapes:
            summarize(res, shape, "invite", inv_duts)

    if do_cg:
        prog.note(f"callgrind: instructions per packet, {cfg['callgrind_s']} s each")
        res["callgrind"] = callgrind.measure(ctx, cfg["callgrind_s"])
        c = res["callgrind"]
        ctx.log(f"    ringbridge {c['ringbridge']['per_packet']:.1f}, testpmd "
                f"{c['testpmd']['per_packet']:.1f} instructions/packet; SIP per INVITE "
                f"{c['invite']['sip_per_invite']:.0f}, per non-SIP frame "
                f"{c['invite']['per_non_sip_frame']:.0f}")
        prog.phase_done("callgrind")

    bench = ctx.tool("worker_bench")
    if cfg.get("microbench") and bench.exists():
        prog.note("microbenchmarks (Google Benchmark): worker hot path")
        r = subprocess.run([bench, "--benchmark_format=json", "--benchmark_min_time=0.5"],
                           capture_output=True, text=True, timeout=300)
        if r.returncode == 0:
            res["microbench"] = [{"name": b["name"], "ns": b["real_time"],
                                  "items_per_second": b.get("items_per_second")}
                                 for b in json.loads(r.stdout)["benchmarks"]]
    prog.phase_done("microbench")

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

    ndr_rows = [r for r in res["throughput"] if not r.get("error")]
    res["meta"]["ndr_reruns"] = {
        "ndr_trials": sum(r["ndr_trials"] for r in ndr_rows),
        "reruns": sum(r["ndr_reruns"] for r in ndr_rows),
        "reruns_passed": sum(r["ndr_reruns_passed"] for r in ndr_rows)}
    failed = sorted({(r["dut"], r["error"].splitlines()[0]) for r in res["throughput"]
                     if r.get("error")})
    res["meta"]["failed_duts"] = [{"dut": d, "error": e} for d, e in failed]
    res["meta"]["elapsed_s"] = round(time.time() - ctx.t0, 1)
    md = report.write(res, outdir)
    ctx.log(f"done in {res['meta']['elapsed_s'] / 60:.1f} min: {md}")
    print(md.read_text())
    if failed:
        ctx.log("some DUTs could not be measured: " + "; ".join(f"{d}: {e}" for d, e in failed))
        return 1
    return 0
