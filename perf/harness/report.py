# SPDX-License-Identifier: BSD-3-Clause
"""Results as JSON, a Markdown report and PNG charts."""
import json
import sys
from pathlib import Path

from .frames import IMIX


def kpps(v):
    return "–" if v is None else f"{v / 1000:.0f}"


def fmt(v, spec=".2f"):
    return "–" if v is None else format(v, spec)


def ratio(v):
    return "–" if v is None else f"{v:.2f}×"


def size_label(size):
    return "IMIX" if size == "imix" else ("INVITE 413" if size == "invite" else f"{size}")


def markdown(res):
    m = res["meta"]
    out = [f"# ringbridge perf results", "",
           f"Command: `{m['command']}`  ",
           f"Started {m['started']}, {m['elapsed_s'] / 60:.1f} min; mode `{m['mode']}`, "
           f"trials of {m['params']['trial_s']} s, {m['params']['repeats']} repeat(s), "
           f"DUTs alternated within each repeat; medians shown.", "",
           "## Machine", ""]
    for k, v in m["machine"].items():
        out.append(f"- {k}: {v}")
    out += ["", "## Devices under test", ""]
    for name, desc in m["duts"].items():
        out.append(f"- **{name}**: {desc}")
    out += throughput_md(res)
    if res.get("latency"):
        out += ["", "## Latency (one-way, timestamped UDP probes at 1000/s)", "",
                "Background 64-byte frames in each shape at a share of that DUT's NDR under "
                "the same shape. The probes are sent through a UDP socket with the kernel's "
                "default offloads (unfinished checksums on a veth): a DUT that forwards them "
                "unfinished loses every probe at the receiver.", "",
                "| DUT | shape | load | background kpps | p50 µs | p99 µs | p99.9 µs | "
                "max µs | "
                "probes lost |",
                "|---|---|---|---:|---:|---:|---:|---:|---:|"]
        for l in res["latency"]:
            out.append(f"| {l['dut']} | {l.get('shape', '–')} | {l['load_pct']} % of NDR | "
                       f"{kpps(l['background_pps'])} | "
                       f"{fmt(l['p50_us'], '.1f')} | {fmt(l['p99_us'], '.1f')} | "
                       f"{fmt(l['p999_us'], '.1f')} | {fmt(l['max_us'], '.1f')} | {l['lost']}"
                       + (f" ({l['sink_udp_csum_errors']} bad UDP checksum)"
                          if l.get("sink_udp_csum_errors") else "") + " |")
    inv = {sh: by_size["invite"] for sh, by_size in res["summary"].items()
           if "invite" in by_size}
    if inv:
        out += ["", "## SIP INVITEs over UDP (413-byte frames), zero-loss rate", "",
                "The seed design (kernel bridge + iptables NFQUEUE + a userspace reader) "
                "against the others, with the same search, under each traffic shape.", "",
                "| DUT | shape | NDR kpps | PDR kpps | max rx kpps | vs kbridge | vs nfqueue | "
                "vs direct |", "|---|---|---:|---:|---:|---:|---:|---:|"]
        for dut in {d: 1 for sh in inv for d in inv[sh]}:
            for sh, duts in inv.items():
                s = duts.get(dut)
                if s is None:
                    continue
                out.append(f"| {dut} | {sh} | {kpps(s['ndr_pps'])} | {kpps(s['pdr_pps'])} | "
                           f"{kpps(s['max_rx_pps'])} | {ratio(s.get('ratio_vs_kbridge'))} | "
                           f"{ratio(s.get('ratio_vs_nfqueue'))} | "
                           f"{ratio(s.get('ratio_vs_direct'))} |")
    if res.get("sip"):
        out += ["", "## SIP mix (sipp calls with G.711 RTP, echoed, plus background 64-byte UDP)",
                "", "| DUT | calls | successful | background kpps | frames lost |",
                "|---|---:|---:|---:|---:|"]
        for s in res["sip"]:
            out.append(f"| {s['dut']} | {s['calls']} | {s['success_pct']:.1f} % | "
                       f"{kpps(s['background_pps'])} | {s['loss_pct']:.3f} % |")
    if res.get("callgrind"):
        c = res["callgrind"]
        out += ["", "## Instructions per forwarded packet (callgrind, net_null ports)", "",
                "| forwarding loop | instructions/packet |", "|---|---:|",
                f"| ringbridge worker | {c['ringbridge']['per_packet']:.1f} |",
                f"| testpmd io-forward | {c['testpmd']['per_packet']:.1f} |",
                "", f"Ratio ringbridge / testpmd: {c['ratio']:.2f}."]
        if c.get("invite"):
            i = c["invite"]
            out += ["", "SIP inspection in the worker (callgrind inside the sip stage, "
                    "`sip_stage_run()`, frames "
                    f"replayed from pcap): **{i['sip_per_invite']:.0f} instructions per "
                    f"413-byte INVITE** (headers, Hyperscan, parse, event hand-off; "
                    f"{i['invite']['sip_events']} events for {i['invite']['frames']} INVITEs), "
                    f"**{i['per_non_sip_frame']:.0f} per 64-byte non-SIP frame** (headers and "
                    f"the probe)."]
            # Where they go (perf/rbcallgrind prints the same).
            cols = [k for k in ("invite", "invite_rules", "64") if i.get(k, {}).get("breakdown")]
            if cols:
                heads = {"invite": "INVITE", "invite_rules": "INVITE, 10 rules",
                         "64": "64-byte UDP"}
                stages = []
                for k in cols:
                    stages += [s for s, _ in i[k]["breakdown"] if s not in stages]
                out += ["", "| stage | " + " | ".join(heads[k] for k in cols) + " |",
                        "|---|" + "---:|" * len(cols)]
                for s in stages:
                    vals = [dict(i[k]["breakdown"]).get(s) for k in cols]
                    out.append(f"| {s} | " + " | ".join("" if v is None else f"{v:.0f}"
                                                        for v in vals) + " |")
    if res.get("microbench"):
        out += ["", "## Microbenchmarks (Google Benchmark, perf/bench/worker_bench.cc)", "",
                "| benchmark | ns/iteration | items/s |", "|---|---:|---:|"]
        for b in res["microbench"]:
            ips = f"{b['items_per_second'] / 1e6:.1f} M" if b.get("items_per_second") else "–"
            out.append(f"| {b['name']} | {b['ns']:.1f} | {ips} |")
    out.append("")
    return "\n".join(out)


def throughput_md(res):
    """The throughput tables: NDR per shape, ratios per shape, then every figure."""
    m = res["meta"]
    shapes = list(res["summary"])
    sizes = {}
    for sh in shapes:
        for size in res["summary"][sh]:
            if size != "invite":
                sizes[size] = 1
    duts = {}
    for sh in shapes:
        for size in sizes:
            for d in res["summary"][sh].get(size, {}):
                duts[d] = 1

    def cell(sh, size, dut):
        return res["summary"].get(sh, {}).get(size, {}).get(dut)

    out = ["", "## Throughput (RFC 2544 style, paced UDP)", "",
           "Every DUT is measured under every traffic shape in the same run (DUTs alternated "
           "within each repeat; each DUT started once per frame size and measured under each "
           "shape in turn):", ""]
    for sh in shapes:
        out.append(f"- **{sh}**: {m.get('shapes', {}).get(sh, '')}")
    out += ["",
            "NDR: highest rate with 0 frames lost and the rate actually offered (a DUT that "
            "slows the sender down has not passed). PDR: highest rate with at most 0.5 % lost, "
            "searched upward from the NDR (which is its lower bound: PDR ≥ NDR). Max rx: frames "
            "received per second when the sender sends as fast as it can. The direct veth is "
            "each shape's ceiling: what that sender reaches with no bridge. ⚠ = within 10 % of "
            "that ceiling, so the sender may be the limit.", ""]
    rr = m.get("ndr_reruns")
    if rr:
        out += [f"NDR trials re-run after a loss no larger than one ~10 ms stall (shared "
                f"vCPUs pause): **{rr['reruns']} of {rr['ndr_trials']}** NDR trials, "
                f"{rr['reruns_passed']} of them passed on the re-run (both trials are in "
                f"results.json, the re-run marked `\"retry\": true`).", ""]

    out += ["### NDR per shape (kpps)", "",
            "| frame | DUT | " + " | ".join(shapes) + " |",
            "|---|---|" + "---:|" * len(shapes)]
    for size in sizes:
        for dut in duts:
            cells = []
            for sh in shapes:
                s = cell(sh, size, dut)
                if s is None:
                    cells.append("–")
                    continue
                flag = " ⚠" if s.get("generator_bound") and dut != "direct" else ""
                cells.append(("failed" if s.get("errors") and s["ndr_pps"] is None
                              else kpps(s["ndr_pps"])) + flag)
            out.append(f"| {size_label(size)} | {dut} | " + " | ".join(cells) + " |")

    out += ["", "### NDR ratios per shape", "",
            "Medians of the per-repeat ratios (both DUTs measured in the same round). "
            "vs testpmd: against `testpmd-<pmd>` on the same PMD, for ringbridge DUTs; "
            "vs direct: against the direct veth's NDR under the same shape (the ceiling of "
            "that sender).", "",
            "| frame | DUT | shape | NDR kpps | vs kbridge | vs testpmd | vs direct |",
            "|---|---|---|---:|---:|---:|---:|"]
    for size in sizes:
        for dut in duts:
            if dut == "direct":
                continue
            for sh in shapes:
                s = cell(sh, size, dut)
                if s is None:
                    continue
                out.append(f"| {size_label(size)} | {dut} | {sh} | {kpps(s['ndr_pps'])} | "
                           f"{ratio(s.get('ratio_vs_kbridge'))} | "
                           f"{ratio(s.get('ratio_vs_testpmd'))} | "
                           f"{ratio(s.get('ratio_vs_direct'))} |")

    out += ["", "### Every figure", "",
            "Cycles/pkt: busy CPU time of all cores during the NDR trial × clock ÷ frames "
            "(poll-mode DUTs spin a core whatever the load). NDR re-runs: trials repeated "
            "after a stall-sized loss (summed over repeats).", "",
            "| frame | DUT | shape | NDR kpps | PDR kpps | max rx kpps | NDR re-runs | "
            "cycles/pkt at NDR |", "|---|---|---|---:|---:|---:|---:|---:|"]
    for size in sizes:
        for dut in duts:
            for sh in shapes:
                s = cell(sh, size, dut)
                if s is None:
                    continue
                flag = " ⚠" if s.get("generator_bound") and dut != "direct" else ""
                out.append(f"| {size_label(size)} | {dut} | {sh} | {kpps(s['ndr_pps'])}{flag} | "
                           f"{kpps(s['pdr_pps'])} | {kpps(s['max_rx_pps'])} | "
                           f"{s.get('ndr_reruns', 0)} | {fmt(s.get('cycles_per_pkt'), '.0f')} |")
    out += workers_notes(res)
    if m.get("failed_duts"):
        out += ["", "Not measured (the DUT did not start):", ""]
        for f in m["failed_duts"]:
            out.append(f"- **{f['dut']}**: {f['error']}")
    return out


def workers_notes(res):
    """Where multi-worker DUTs ran, from their own exit statistics, and what shared a CPU."""
    gen_cpu = res["meta"]["params"].get("gen_cpu", 0)
    ncpu = res["meta"]["machine"].get("cpu", "")
    seen = {}
    for r in res["throughput"]:
        cpus = (r.get("dut_info") or {}).get("worker_cpus")
        if cpus and len(cpus) > 1 and r["dut"] not in seen:
            seen[r["dut"]] = cpus
    out = []
    for dut, cpus in seen.items():
        shared = []
        if len(set(cpus)) < len(cpus):
            shared.append("the workers shared a CPU (ringbridge puts control on the first "
                          "CPU it may use and workers on the others, round robin)")
        if gen_cpu in cpus:
            shared.append(f"the generator (CPU {gen_cpu}) shared a CPU with a worker")
        out.append(f"- **{dut}**: {len(cpus)} workers on CPU(s) {', '.join(map(str, cpus))}; "
                   f"generator on CPU {gen_cpu}" + ("; " + "; ".join(shared) if shared else "")
                   + ".")
    if out:
        out = ["", f"Workers ({ncpu}): more workers than free cores measure the cost of "
               "sharing, not scaling. On a 2-CPU machine a second worker has no core of its "
               "own: it shares one with the other worker or with the generator.", ""] + out
    return out


def charts(res, outdir):
    """throughput.png (NDR vs frame size per DUT) and latency.png; returns the paths."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    paths = []
    shapes = list(res["summary"])
    sizes = [s for s in (res["summary"][shapes[0]] if shapes else {})
             if s not in ("imix", "invite")]
    if sizes:
        fig, ax = plt.subplots(figsize=(8, 4.5))
        duts = list(res["summary"][shapes[0]][sizes[0]].keys())
        styles = ["-", "--", ":", "-."]
        for i, sh in enumerate(shapes):
            for j, dut in enumerate(duts):
                ys = [res["summary"][sh].get(s, {}).get(dut, {}).get("ndr_pps") for s in sizes]
                ax.plot([int(s) for s in sizes], [(y or 0) / 1000 for y in ys], marker="o",
                        linestyle=styles[i % len(styles)], color=f"C{j}",
                        label=f"{dut} ({sh})" if len(shapes) > 1 else dut)
        ax.set_xscale("log", base=2)
        ax.set_xticks([int(s) for s in sizes], [str(s) for s in sizes])
        ax.set_xlabel("frame size (bytes)")
        ax.set_ylabel("zero-loss throughput (kpps)")
        ax.set_title("NDR by frame size" +
                     (" (line style: traffic shape)" if len(shapes) > 1 else ""))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, ncol=2)
        p = Path(outdir) / "throughput.png"
        fig.tight_layout()
        fig.savefig(p, dpi=110)
        plt.close(fig)
        paths.append(p)
    if res.get("latency"):
        fig, ax = plt.subplots(figsize=(8, 4.5))
        labels = [f"{l['dut']}\n{l.get('shape', '')}\n{l['load_pct']}%" for l in res["latency"]]
        xs = range(len(labels))
        for off, key in ((-0.25, "p50_us"), (0, "p99_us"), (0.25, "p999_us")):
            ax.bar([x + off for x in xs], [l[key] or 0 for l in res["latency"]], width=0.25,
                   label=key.replace("_us", ""))
        ax.set_xticks(list(xs), labels, fontsize=8)
        ax.set_yscale("log")
        ax.set_ylabel("one-way latency (µs)")
        ax.set_title("Latency at 50 % and 90 % of each DUT's NDR (64-byte background)")
        ax.legend()
        p = Path(outdir) / "latency.png"
        fig.tight_layout()
        fig.savefig(p, dpi=110)
        plt.close(fig)
        paths.append(p)
    return paths


def write(res, outdir):
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "results.json").write_text(json.dumps(res, indent=1))
    md = markdown(res)
    try:
        pngs = charts(res, outdir)
    except ImportError as e:  # the report and the figures must not be lost to a chart
        print(f"rbperf: no charts ({e}): install python3-matplotlib, or run the harness with "
              "the system Python (/usr/bin/python3); results.md has every figure",
              file=sys.stderr)
        pngs = []
    if pngs:
        md += "\n" + "\n".join(f"![{p.stem}]({p.name})" for p in pngs) + "\n"
    (outdir / "results.md").write_text(md)
    return outdir / "results.md"
