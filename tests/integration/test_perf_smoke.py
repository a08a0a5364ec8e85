# SPDX-License-Identifier: BSD-3-Clause
"""The perf harness end to end in about a minute (perf/rbperf --smoke): topology up, every
DUT started and stopped, trials, search, latency, report, charts, and nothing left."""
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
    s = res["summary"]["64"]
    assert set(s) == {"direct", "kbridge", "rb-xdp"}
    assert s["direct"]["ndr_pps"] > 100_000, "the generator reaches at least 100 kpps"
    assert s["kbridge"]["ndr_pps"] > 50_000
    assert s["rb-xdp"]["max_rx_pps"] > 50_000
    assert s["kbridge"]["ratio_vs_kbridge"] == 1.0
    for row in res["throughput"]:
        assert row["trials"], row["dut"]
        assert row["max_trial"]["sent"] > 0
        if row["dut"] == "rb-xdp":
            assert row["dut_info"]["exit_status"] == 0, "ringbridge stopped cleanly"
    assert res["latency"] and all(l["received"] > 0 for l in res["latency"])
    md = (tmp_path / "results.md").read_text()
    assert "| 64 | rb-xdp |" in md and "## Latency" in md
    assert (tmp_path / "throughput.png").stat().st_size > 1000
    assert res["meta"]["machine"]["dpdk"].startswith("22.11")
    assert run(["ip", "netns", "list"]).stdout == before, "rbperf left namespaces behind"
