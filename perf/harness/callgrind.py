# SPDX-License-Identifier: BSD-3-Clause
"""Instructions per frame, counted by callgrind: the worker's forwarding loop on DPDK
net_null ports against testpmd io-forward, and SIP inspection (the sip stage) per INVITE
and per non-SIP frame, with where those instructions go. Repeatable where wall time is not.

`perf/rbcallgrind` runs this alone (a few minutes); `perf/rbperf` runs it as its last
step. See perf/README.md."""
import argparse
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from . import frames, parse
from .topo import on_all_cpus, sh

VALGRIND = ["valgrind", "--tool=callgrind",
            # A busy-polling lcore starves the other threads under valgrind's default
            # scheduling lock, and the run never ends.
            "--fair-sched=yes"]

# The rules of perf/bench/worker_bench.cc's BM_filter_verdict/10 and the harness's
# rb-xdp-rules100k DUT: exact numbers, a prefix, a glob and a name substring, none matching
# the test INVITEs' callers — so every kind of rule is looked at.
RULES_TOML = "".join(f'[[filters.rules]]\nmatch = "number"\npattern = "+1444{i:07d}"\n'
                     for i in range(7)) + (
    '[[filters.rules]]\nmatch = "number"\nsyntax = "prefix"\npattern = "+1900"\n'
    '[[filters.rules]]\nmatch = "number"\nsyntax = "glob"\npattern = "+1555???9999"\n'
    '[[filters.rules]]\nmatch = "name"\npattern = "telemarketer"\n')


def forwarding_loop(ringbridge, seconds, work):
    """Instructions per forwarded packet of the forwarding thread, ringbridge vs testpmd
    io-forward, both on DPDK net_null ports (frames always available, no kernel; their
    bytes are zeros, so ringbridge's inspection stops at the ethertype). Everything the
    forwarding thread ran is counted, start-up included (a few hundred thousand
    instructions: noise over seconds of forwarding)."""
    out = {}
    vg = [*VALGRIND, "--separate-threads=yes"]
    cfg = work / "null.toml"
    state = work / "state-null"
    state.mkdir(exist_ok=True)
    cfg.write_text(f'[storage]\nstate_dir = "{state}"\n[http]\nenabled = false\n')
    r = sh(on_all_cpus("timeout", "-s", "TERM", seconds, *vg,
                       f"--callgrind-out-file={work}/rb.cg", ringbridge, "--config", cfg,
                       "--port", "null:", "--port", "null:"),
           check=False, timeout=seconds + 120)
    st = parse.ringbridge_stats(r.stdout)
    if not st:
        raise RuntimeError("ringbridge on null ports printed no stats:\n" + r.stderr[-2000:])
    pkts = st["a"]["rx_pkts"] + st["b"]["rx_pkts"]
    prof = forwarding_thread(work.glob("rb.cg-*"))
    out["ringbridge"] = {"instructions": prof.total, "packets": pkts,
                         "per_packet": prof.total / pkts,
                         "breakdown": [(s, ir / pkts) for s, ir in
                                       breakdown(prof, LOOP_STAGES, r"::worker_main$")]}
    prefix = f"rbperf-cg-{os.getpid()}"
    r = sh(on_all_cpus("timeout", "-s", "INT", seconds, *vg,
                       f"--callgrind-out-file={work}/tp.cg", "dpdk-testpmd", "--no-huge",
                       "--no-shconf", "-m", "512", "--file-prefix", prefix, "-l", "0,1",
                       "--no-pci", "--vdev", "net_null0", "--vdev", "net_null1",
                       "--log-level", "warning", "--", "--forward-mode=io", "--auto-start",
                       "--stats-period", "1000", "--total-num-mbufs", "16384"),
           check=False, timeout=seconds + 120, stdin=subprocess.DEVNULL)
    shutil.rmtree(f"/var/run/dpdk/{prefix}", ignore_errors=True)
    pkts = parse.testpmd_rx_total(r.stdout)
    prof = forwarding_thread(work.glob("tp.cg-*"))
    out["testpmd"] = {"instructions": prof.total, "packets": pkts,
                      "per_packet": prof.total / pkts}
    out["ratio"] = out["ringbridge"]["per_packet"] / out["testpmd"]["per_packet"]
    return out


def forwarding_thread(paths):
    """The profile of the thread that ran the PMD (--separate-threads=yes writes one file
    per thread): the forwarding lcore. Not simply the busiest thread — in a short run the
    main thread's start-up can cost more."""
    best, best_pmd = None, -1
    for path in paths:
        prof = parse.callgrind_profile(path.read_text())
        pmd = sum(ir for fn, per_file in prof.self_cost.items() if "net_null" in (fn[0] or "")
                  for ir in per_file.values())
        if pmd > best_pmd:
            best, best_pmd = prof, pmd
    if best is None:
        raise RuntimeError("callgrind wrote no per-thread files")
    return best


def sip_frames(ringbridge, work, kind, count=2000, rules=False):
    """Instructions inside the sip stage per frame (callgrind's --toggle-collect on its entry,
    sip_stage_run(): the inline first look plus sip_inspect_udp()/_other()), for COUNT
    frames of KIND ('invite': 413-byte INVITEs over UDP/5060 into side A; '64': 64-byte
    UDP that is not SIP) replayed from a pcap file through the real binary with its default
    configuration (filter step on); RULES: with a small rule set of every kind."""
    name = f"{kind}{'-rules' if rules else ''}"
    pcap_a, pcap_b = work / f"{name}_a.pcap", work / f"{name}_b.pcap"
    frames.make_pcap(pcap_a, kind, count=count)
    frames.write_pcap(pcap_b, [])
    state = work / f"state-{name}"
    state.mkdir(exist_ok=True)
    cfg = work / f"{name}.toml"
    cfg.write_text(f'[storage]\nstate_dir = "{state}"\n[http]\nenabled = false\n'
                   '[replay]\nidle_ms = 1000\n' + (RULES_TOML if rules else ""))
    out = work / f"sip-{name}.cg"
    # The stage's entry and what it calls (one name only: a second match inside the first
    # would toggle collection off again).
    r = sh(on_all_cpus(*VALGRIND, "--toggle-collect=ringbridge::dp::sip_stage_run(*",
                       f"--callgrind-out-file={out}", ringbridge, "--config", cfg,
                       "--port", f"pcap:{pcap_a},{work}/{name}_out_a.pcap",
                       "--port", f"pcap:{pcap_b},{work}/{name}_out_b.pcap"),
           check=False, timeout=900)
    st = parse.ringbridge_stats(r.stdout)
    if not st or st["a"]["rx_pkts"] != count:
        raise RuntimeError(f"callgrind {name} replay did not forward every frame:\n" +
                           r.stderr[-2000:])
    prof = parse.callgrind_profile(out.read_text())
    sip = st.get("sip") or {}
    return {"instructions": prof.total, "frames": count, "per_frame": prof.total / count,
            "sip_events": sip.get("sip_events", 0), "rules": rules,
            "verdicts": {k[8:]: v for k, v in sip.items() if k.startswith("verdict_") and v},
            "breakdown": [(s, ir / count) for s, ir in
                          breakdown(prof, SIP_STAGES, r"::sip_stage_run$")], "profile": str(out)}


# ---- where the instructions go -----------------------------------------------------------

# Stages of inspection, matched in order against each function's name, source file (for
# code inlined from another file, the file it came from) and object. Code that matches
# nothing belongs to the stage of whoever called it (memchr in the parser is the parser's).
SIP_STAGES = [
    ("frame headers (parse_l4)", r"::parse_l4$|::ipv4_udp_length$|::parse_ipv4_udp$",
     r"packet\.(h|cc)$", None),
    ("probe (could_be_sip)", r"::could_be_sip", r"sip_parser\.h$", None),
    ("start line (Hyperscan)", None, None, r"libhs\."),
    ("start line", r"::sip_start_line|::start_line_id|::start_line_read", None, None),
    ("SIP parser", r"ringbridge::dp::sip::", r"sip_parser\.cc$", None),
    ("caller identity", r"::identify_caller|::filter_set::identify|::normalize_number|"
                        r"::clean_name|utf8", None, None),
    ("filter match", r"::filter_set::evaluate", None, None),
    # The media feature's hook on every forwarded SIP message of a call (on by default):
    # the call's key (SipHash of the Call-ID), the flows an SDP announces, the mirror.
    ("media hook (call key, SDP flows, mirror)", r"::media_on_sip|::media_call_key|"
                                                 r"::flow_table::|::parse_sdp_streams",
     r"media_stage\.cc$", None),
    ("blocked table", r"blocked_identity|blocked_table|keyed_hash128|siphashx24", None, None),
    ("verdict (filter_request)", r"::filter_request|::filter_dataplane::", r"filter_verdict\.cc$",
     None),
    ("event (fill, ring push)", r"::emit$|::fill_event|::fill_party|spsc_queue",
     r"sip_event\.(h|cc)$|spsc_queue\.hpp$", None),
    ("inspection (sip stage, first look, counters)", r"::sip_inspect|::sip_stage",
     r"sip_stage\.h$|counters\.h$",
     None),
]
# The worker thread on null ports.
LOOP_STAGES = [
    ("PMD rx/tx and mbuf alloc/free (net_null, mempool)",
     None, None, r"librte_net_null|librte_mempool|ld-linux"),
    ("sip stage (inspection)", r"::sip_stage_run$|::sip_inspect", r"sip_stage\.h$", None),
    ("ethdev burst wrappers (rte_eth_rx/tx_burst)", None, r"rte_ethdev\.h$", None),
    ("quiescent state (filter RCU)", r"rcu|::filter_slot::", r"rte_rcu", None),
    ("poll loop (poll_once, tx buffer, counters)", None,
     r"worker_fastpath\.h$|worker_loop\.cc$|counters\.h$|rte_mbuf|rte_prefetch|rte_cycles",
     None),
]
# Hyperscan under the filter step is the filter's.
INHERIT_IN = {"start line (Hyperscan)": {"filter match"}}


def qualified_name(name):
    """'ns::f' of 'ns::(anonymous namespace)::f(args) const'."""
    return name.replace("(anonymous namespace)::", "").split("(", 1)[0]


def classify(stages, fn, file, parent):
    obj, name = fn[0], qualified_name(fn[1])
    for label, fn_re, file_re, obj_re in stages:
        if ((fn_re and re.search(fn_re, name)) or (file_re and file and re.search(file_re, file))
                or (obj_re and obj and re.search(obj_re, obj))):
            if parent in INHERIT_IN.get(label, ()):
                return parent
            return label
    return parent or "other"


def breakdown(prof, stages, root):
    """[(stage, Ir)] of PROF, largest first: every function's self cost and every call's
    inclusive cost attributed to one of STAGES, walking down from the functions whose
    qualified name matches ROOT. What no stage claims is "other"."""
    edges = {}
    for (caller, file, callee), ir in prof.call_sites.items():
        edges.setdefault(caller, []).append((file, callee, ir))
    memo = {}

    def walk(fn, parent, depth=0):
        key = (fn, parent)
        if key in memo:
            return memo[key]
        out = {}
        for file, ir in prof.self_cost.get(fn, {}).items():
            s = classify(stages, fn, file, parent)
            out[s] = out.get(s, 0) + ir
        for file, callee, ir in edges.get(fn, []):
            here = classify(stages, fn, file, parent)
            sub_total = prof.inclusive(callee)
            if ir == 0 or sub_total == 0 or depth > 50 or callee == fn:
                out[here] = out.get(here, 0) + ir
                continue
            scale = ir / sub_total
            for s, v in walk(callee, here, depth + 1).items():
                out[s] = out.get(s, 0) + v * scale
        memo[key] = out
        return out

    roots = [fn for fn in set(prof.self_cost) | {a for a, _ in prof.calls}
             if re.search(root, qualified_name(fn[1]))]
    total = {}
    for fn in roots:
        # Only the outermost entry: callers outside the toggled region recorded nothing.
        for s, v in walk(fn, None).items():
            total[s] = total.get(s, 0) + v
    return sorted(total.items(), key=lambda kv: -kv[1])


# ---- the microbenchmarks, under callgrind ------------------------------------------------

BENCHES = {"BM_inspect_invite_413": "the harness's 413-byte INVITE, default filter step",
           "BM_inspect_invite": "INVITE with an SDP body, no filter step",
           "BM_inspect_invite_filtered/10": "INVITE with an SDP body, 10 rules",
           "BM_inspect_invite_pai": "the same with a named P-Asserted-Identity",
           "BM_inspect_response": "200 OK to it (To tag, SDP body)",
           "BM_inspect_rtp": "RTP frame (not SIP)"}


def bench(build, names=tuple(BENCHES)):
    """Instructions per sip_inspect() call in perf/worker_bench's SIP benchmarks: the same
    code as the runs above without starting the whole binary (seconds, not minutes)."""
    tool = Path(build) / "perf" / "worker_bench"
    if not tool.exists():
        raise RuntimeError(f"{tool} is missing: build with -Dperf=true")
    out = {}
    with tempfile.TemporaryDirectory(prefix="rbcg-bench-") as work:
        for name in names:
            cg = Path(work) / "b.cg"
            sh([*VALGRIND, "--toggle-collect=ringbridge::dp::sip_inspect(*",
                f"--callgrind-out-file={cg}", tool, f"--benchmark_filter=^{name}$",
                "--benchmark_min_time=0.05"], check=False, timeout=600)
            prof = parse.callgrind_profile(cg.read_text())
            calls = sum(c for (_, callee), (c, _) in prof.calls.items()
                        if qualified_name(callee[1]).endswith("::sip_inspect"))
            if calls == 0:
                raise RuntimeError(f"worker_bench {name}: no sip_inspect() call counted")
            out[name] = {"calls": calls, "per_call": prof.total / calls,
                         "breakdown": [(s, ir / calls) for s, ir in
                                       breakdown(prof, SIP_STAGES, r"::sip_inspect$")]}
    return out


# ---- the whole measurement ---------------------------------------------------------------

def measure(ctx, seconds, jobs=2, rules=True, sip=True, work=None):
    """Everything above, for perf/rbperf (CTX: .ringbridge) and perf/rbcallgrind: the
    forwarding loop for SECONDS (0: not), SIP inspection (with RULES: also with rules),
    JOBS valgrind runs at once. The result keeps the shape report.py reads."""
    own = work is None
    work = Path(work or tempfile.mkdtemp(prefix="rbperf-cg-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as ex:
            runs = {}
            if sip:
                runs["invite"] = ex.submit(sip_frames, ctx.ringbridge, work, "invite")
                runs["64"] = ex.submit(sip_frames, ctx.ringbridge, work, "64")
            if sip and rules:
                runs["invite_rules"] = ex.submit(sip_frames, ctx.ringbridge, work, "invite",
                                                 rules=True)
            loop = ex.submit(forwarding_loop, ctx.ringbridge, seconds, work) if seconds else None
            inv = {k: f.result() for k, f in runs.items()}
            out = loop.result() if loop else {}
        if sip:
            inv["sip_per_invite"] = inv["invite"]["per_frame"]
            inv["per_non_sip_frame"] = inv["64"]["per_frame"]
            out["invite"] = inv
        return out
    finally:
        if own:
            shutil.rmtree(work, ignore_errors=True)


def text_report(res):
    lines = []
    if "ringbridge" in res:
        lines += [f"forwarding loop, net_null ports (instructions/packet): ringbridge "
                  f"{res['ringbridge']['per_packet']:.1f}, testpmd io-forward "
                  f"{res['testpmd']['per_packet']:.1f} (ratio {res['ratio']:.2f})"]
        lines += [f"  {ir:8.1f}  {stage}" for stage, ir in res["ringbridge"]["breakdown"]
                  if ir >= 0.05]
    inv = res.get("invite", {})
    titles = {"invite": "per 413-byte INVITE, default configuration (no rules)",
              "invite_rules": "per 413-byte INVITE, 10 rules (exact, prefix, glob, name)",
              "64": "per 64-byte non-SIP UDP frame"}
    for key, title in titles.items():
        if key not in inv:
            continue
        r = inv[key]
        lines += ["", f"sip stage {title}: {r['per_frame']:.0f} instructions "
                      f"({r['sip_events']} events for {r['frames']} frames"
                      f"{', verdicts ' + json.dumps(r['verdicts']) if r['verdicts'] else ''})"]
        lines += [f"  {ir:8.1f}  {stage}" for stage, ir in r["breakdown"] if ir >= 0.05]
    return "\n".join(lines)


def main(argv=None):
    here = Path(__file__).resolve().parents[2]
    p = argparse.ArgumentParser(prog="rbcallgrind", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default=str(here / "build-perf"),
                   help="meson build directory (default build-perf, as perf/run.sh makes it)")
    p.add_argument("--seconds", type=float, default=5,
                   help="length of the forwarding-loop runs on null ports (0: skip them)")
    p.add_argument("--no-rules", action="store_true", help="skip the INVITE run with rules")
    p.add_argument("--no-sip", action="store_true", help="the forwarding loop only")
    p.add_argument("--jobs", type=int, default=2, help="valgrind runs at once (default 2)")
    p.add_argument("--keep", metavar="DIR",
                   help="keep the callgrind files here (callgrind_annotate DIR/sip-invite.cg)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--bench", action="store_true",
                   help="only sip_inspect() in perf/worker_bench's SIP benchmarks (seconds)")
    a = p.parse_args(sys.argv[1:] if argv is None else argv)
    if a.bench:
        res = bench(Path(a.build).resolve())
        if a.json:
            print(json.dumps(res, indent=1))
        for name, r in res.items():
            print(f"{name} ({BENCHES[name]}): {r['per_call']:.0f} instructions per sip_inspect()")
            print("\n".join(f"  {ir:8.1f}  {stage}" for stage, ir in r["breakdown"] if ir >= 0.05))
        return 0
    ringbridge = Path(a.build).resolve() / "control" / "ringbridge"
    if not ringbridge.exists():
        sys.exit(f"rbcallgrind: {ringbridge} is missing; build it first: meson setup "
                 "build-perf -Dtests=false && ninja -C "
                 "build-perf (or --build DIR)")
    for tool in ("valgrind", "callgrind_annotate") + (("dpdk-testpmd",) if a.seconds else ()):
        if shutil.which(tool) is None:
            sys.exit(f"rbcallgrind: '{tool}' is missing; run deploy/install-deps.sh")
    if os.geteuid() != 0:
        sys.exit("rbcallgrind: run as root (DPDK's EAL)")

    class Ctx:
        pass
    ctx = Ctx()
    ctx.ringbridge = ringbridge
    res = measure(ctx, a.seconds, jobs=a.jobs, rules=not a.no_rules, sip=not a.no_sip,
                  work=a.keep)
    print(json.dumps(res, indent=1) if a.json else text_report(res))
    return 0
