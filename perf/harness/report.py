# SPDX-License-Identifier: BSD-3-Clause
"""Results as JSON, a Markdown report and PNG charts."""
import json
from pathlib import Path

from .frames import IMIX


def kpps(v):
    return "–" if v is None else f"{v / 1000:.0f}"


def fmt(v, spec=".2f"):
    return "–" if v is None else format(v, spec)


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
    out += ["", "## Throughput (RFC 2544 style, evenly paced UDP)", "",
            "NDR: highest rate with 0 frames lost and the rate actually offered (a DUT that "
            "slows the sender down has not passed). PDR: at most 0.5 % lost. Max rx: frames "
            "received per second when the generator sends as fast as it can. Cycles/pkt: busy "
            "CPU time of all cores during the NDR trial × clock ÷ frames (poll-mode DUTs "
            "spin a core whatever the load). ⚠ = within 10 % of the generator's own ceiling "
            "(direct veth), so the generator may be the limit.", ""]
    out.append("| frame | DUT | NDR kpps | PDR kpps | max rx kpps | NDR vs kbridge | "
               "cycles/pkt at NDR |")
    out.append("|---|---|---:|---:|---:|---:|---:|")
    for size, duts in res["summary"].items():
        if size == "invite":
            continue
        for dut, s in duts.items():
            flag = " ⚠" if s.get("generator_bound") and dut != "direct" else ""
            out.append(f"| {size_label(size)} | {dut} | {kpps(s['ndr_pps'])}{flag} | "
                       f"{kpps(s['pdr_pps'])} | {kpps(s['max_rx_pps'])} | "
                       f"{fmt(s.get('ratio_vs_kbridge'))}× | {fmt(s.get('cycles_per_pkt'), '.0f')} |")
    if res.get("latency"):
        out += ["", "## Latency (one-way, timestamped UDP probes at 1000/s)", "",
                "| DUT | load | background kpps | p50 µs | p99 µs | p99.9 µs | max µs | probes lost |",
                "|---|---|---:|---:|---:|---:|---:|---:|"]
        for l in res["latency"]:
            out.append(f"| {l['dut']} | {l['load_pct']} % of NDR | {kpps(l['background_pps'])} | "
                       f"{fmt(l['p50_us'], '.1f')} | {fmt(l['p99_us'], '.1f')} | "
                       f"{fmt(l['p999_us'], '.1f')} | {fmt(l['max_us'], '.1f')} | {l['lost']} |")
    if "invite" in res["summary"]:
        out += ["", "## SIP INVITEs over UDP (413-byte frames), zero-loss rate", "",
                "The seed design (kernel bridge + iptables NFQUEUE + a userspace reader) "
                "against the others, with the same search.", "",
                "| DUT | NDR kpps | PDR kpps | max rx kpps | vs kbridge | vs nfqueue |",
                "|---|---:|---:|---:|---:|---:|"]
        for dut, s in res["summary"]["invite"].items():
            out.append(f"| {dut} | {kpps(s['ndr_pps'])} | {kpps(s['pdr_pps'])} | "
                       f"{kpps(s['max_rx_pps'])} | {fmt(s.get('ratio_vs_kbridge'))}× | "
                       f"{fmt(s.get('ratio_vs_nfqueue'))}× |")
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
            out += ["", "SIP inspection in the worker (callgrind inside `sip_inspect()`, frames "
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


def charts(res, outdir):
    """throughput.png (NDR vs frame size per DUT) and latency.png; returns the paths."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    paths = []
    sizes = [s for s in res["summary"] if s not in ("imix", "invite")]
    if sizes:
        fig, ax = plt.subplots(figsize=(8, 4.5))
        duts = list(next(iter(res["summary"].values())).keys())
        for dut in duts:
            ys = [res["summary"][s].get(dut, {}).get("ndr_pps") for s in sizes]
            ax.plot([int(s) for s in sizes], [(y or 0) / 1000 for y in ys], marker="o", label=dut)
        ax.set_xscale("log", base=2)
        ax.set_xticks([int(s) for s in sizes], [str(s) for s in sizes])
        ax.set_xlabel("frame size (bytes)")
        ax.set_ylabel("zero-loss throughput (kpps)")
        ax.set_title("NDR by frame size")
        ax.grid(alpha=0.3)
        ax.legend()
        p = Path(outdir) / "throughput.png"
        fig.tight_layout()
        fig.savefig(p, dpi=110)
        plt.close(fig)
        paths.append(p)
    if res.get("latency"):
        fig, ax = plt.subplots(figsize=(8, 4.5))
        labels = [f"{l['dut']}\n{l['load_pct']}%" for l in res["latency"]]
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
    pngs = charts(res, outdir)
    if pngs:
        md += "\n" + "\n".join(f"![{p.stem}]({p.name})" for p in pngs) + "\n"
    (outdir / "results.md").write_text(md)
    return outdir / "results.md"
