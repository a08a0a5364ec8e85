# SPDX-License-Identifier: BSD-3-Clause
"""The perf harness end to end in about a minute (perf/rbperf --smoke): topology up, every
DUT started and stopped, trials under both traffic shapes, search, latency (probes sent
with the kernel's default offloads), report, charts, and nothing left."""
import json
import subprocess
import sys

from rbtest import BIN, REPO, run


def test_rbperf_smoke(tmp_path):
    build = BIN.resolve().parents[1]
    before = run(["ip", "netns", "list"]).stdout
    r = subprocess.run([sys.executable, REPO / "perf" / "rbperf", "--smoke", "--build", build,
                        "--out", tmp_path], capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads((tmp_path / "results.json").read_text())
    assert set(res["summary"]) == {"rb_gen", "tcpreplay"}, "every DUT under both traffic shapes"
    for shape, by_size in res["summary"].items():
        s = by_size["64"]
        assert set(s) == {"direct", "kbridge", "rb-xdp"}, shape
        assert s["direct"]["ndr_pps"] > 100_000, f"{shape} reaches at least 100 kpps"
        assert s["kbridge"]["ndr_pps"] > 50_000, shape
        assert s["rb-xdp"]["max_rx_pps"] > 50_000, shape
        assert s["kbridge"]["ratio_vs_kbridge"] == 1.0
        assert s["direct"]["ratio_vs_direct"] == 1.0
        for dut, f in s.items():
            assert f["pdr_pps"] >= f["ndr_pps"], f"{shape} {dut}: PDR below NDR"
    for row in res["throughput"]:
        assert row["trials"], row["dut"]
        assert row["max_trial"]["sent"] > 0
        assert all(t["shape"] == row["shape"] for t in row["trials"] + [row["max_trial"]])
        if row["dut"] == "rb-xdp":
            assert row["dut_info"]["exit_status"] == 0, "ringbridge stopped cleanly"
    assert {(r["dut"], r["shape"]) for r in res["throughput"]} == {
        (d, sh) for d in ("direct", "kbridge", "rb-xdp") for sh in ("rb_gen", "tcpreplay")}
    # one progress line per trial, with the DUT, frame size, shape and an ETA
    lines = [l for l in r.stderr.splitlines() if " rb-xdp 64 tcpreplay " in l and "ETA" in l]
    assert len(lines) == sum(len(row["trials"]) + 1 for row in res["throughput"]
                             if row["dut"] == "rb-xdp" and row["shape"] == "tcpreplay")
    assert res["latency"]
    for l in res["latency"]:  # probes cross with unfinished checksums (default offloads)
        assert l["received"] > 0, (f"{l['dut']} ({l['shape']}): no latency probe arrived; "
                                   f"{l['sink_udp_csum_errors']} dropped by the sink for a bad "
                                   f"UDP checksum")
    md = (tmp_path / "results.md").read_text()
    assert "| 64 | rb-xdp | tcpreplay |" in md and "## Latency" in md
    assert (tmp_path / "throughput.png").stat().st_size > 1000
    assert res["meta"]["machine"]["dpdk"].startswith("22.11")
    assert run(["ip", "netns", "list"]).stdout == before, "rbperf left namespaces behind"
