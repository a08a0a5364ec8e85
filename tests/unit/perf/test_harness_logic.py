# SPDX-License-Identifier: BSD-3-Clause
"""The perf harness's own logic, without traffic: throughput search, CPU accounting,
ratios, parsers of tool output, test frames."""
import struct
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "perf"))
from harness import frames, parse, procstat, progress, search, summary  # noqa: E402


def fake_dut(capacity_pps, sender_limit_pps=10**9, stall_at=None):
    """A DUT that loses what exceeds CAPACITY, a sender that cannot exceed SENDER_LIMIT,
    and optionally one 'stall' trial (small loss) at the STALL_AT-th call."""
    calls = []

    def trial(rate):
        calls.append(rate)
        achieved = min(rate, sender_limit_pps)
        sent = int(achieved)
        lost = max(0, int(achieved - capacity_pps))
        if stall_at is not None and len(calls) == stall_at:
            lost = 1000
        return search.Trial(offered_pps=rate, sent=sent, received=sent - lost, seconds=1.0)
    return trial, calls


def test_search_finds_the_capacity_within_the_resolution():
    trial, calls = fake_dut(612_345)
    rate, best, trials = search.search(trial, 0, 1_000_000, resolution=0.01, max_trials=20)
    assert 612_345 - 10_000 <= rate <= 612_345
    assert best.lost == 0 and best.offered_pps == rate
    assert calls[0] == 1_000_000, "the generator's ceiling is tried first"
    assert len(trials) == len(calls) <= 12


def test_a_dut_faster_than_the_generator_passes_at_once():
    trial, calls = fake_dut(2_000_000)
    rate, best, trials = search.search(trial, 0, 900_000)
    assert rate == 900_000 and len(calls) == 1


def test_a_throttled_sender_is_not_a_pass():
    """The kernel bridge loses nothing but slows the sender down: that rate was not offered."""
    trial, _ = fake_dut(10**9, sender_limit_pps=420_000)
    rate, best, _ = search.search(trial, 0, 1_000_000, max_trials=20)
    assert 400_000 <= rate <= 420_000 / 0.98  # 2 % tolerance on the achieved rate
    assert best.sustained()


def test_nothing_passes():
    trial, _ = fake_dut(0)
    rate, best, trials = search.search(trial, 0, 1_000_000, max_trials=6)
    assert rate == 0 and best is None and len(trials) == 6


def lossy(rate, noisy=()):
    """Loses 0.3 % from 500 kpps, 5 % from 700 kpps; 1 % at the rates in NOISY."""
    ratio = 0 if rate <= 500_000 else (0.003 if rate <= 700_000 else 0.05)
    if rate in noisy:
        ratio = 0.01
    return search.Trial(rate, int(rate), int(rate * (1 - ratio)), 1.0)


def test_pdr_allows_half_a_percent_and_searches_up_from_the_ndr():
    calls = []

    def trial(rate):
        calls.append(rate)
        return lossy(rate)
    ndr, _, known = search.search(trial, 0, 1_000_000, search.NDR_LOSS, max_trials=20)
    n = len(calls)
    pdr, best, new = search.search_above(trial, ndr, 1_000_000, known, search.PDR_LOSS,
                                         max_trials=20)
    assert 490_000 <= ndr <= 500_000
    assert 690_000 <= pdr <= 700_000 and best.offered_pps == pdr
    assert all(r > ndr for r in calls[n:]), "the PDR search never goes below the NDR"
    assert not set(calls[n:]) & set(calls[:n]), "no rate the NDR search decided is run again"
    assert 1_000_000 not in calls[n:], "the ceiling already failed: not tried again"


def test_pdr_is_never_below_the_ndr():
    """A noisy trial just above the NDR cannot pull the PDR under it (it used to be 0)."""
    every = {r for r in range(0, 1_000_001, 1000)}
    known = [lossy(500_000)]  # the NDR trial
    pdr, best, new = search.search_above(lambda r: lossy(r, noisy=every), 500_000, 1_000_000,
                                         known, search.PDR_LOSS, max_trials=20)
    assert pdr == 500_000 and best is known[0]
    assert new and all(t.offered_pps > 500_000 for t in new), "every new trial failed"
    # The NDR search's own trials between NDR and PDR count: a known 0.3 % pass raises it.
    known = [lossy(500_000), lossy(600_000), lossy(800_000)]
    pdr, best, new = search.search_above(lambda r: lossy(r, noisy=every), 500_000, 1_000_000,
                                         known, search.PDR_LOSS, max_trials=20)
    assert pdr == 600_000 and best is known[1]
    assert all(600_000 < t.offered_pps < 800_000 for t in new)
    # No passing rate at all (NDR 0): the PDR search still bisects from 0.
    pdr, _, _ = search.search_above(lambda r: lossy(r, noisy=every), 0, 1_000_000, [],
                                    search.PDR_LOSS, max_trials=5)
    assert pdr == 0
    # quick mode: the PDR from the NDR trials, never below the NDR either
    assert search.best_from_trials([], search.PDR_LOSS, floor=450_000) == (450_000, None)


def test_pdr_passes_the_ceiling_at_once_when_the_ndr_search_did_not_decide_it():
    calls = []

    def trial(rate):
        calls.append(rate)
        return lossy(rate)
    pdr, best, new = search.search_above(trial, 500_000, 650_000, [], search.PDR_LOSS)
    assert pdr == 650_000 and calls == [650_000]


def test_a_single_stall_is_retried_once_and_kept_in_the_record():
    trial, calls = fake_dut(700_000, stall_at=2)
    rate, best, trials = search.search(trial, 0, 1_000_000, max_trials=20,
                                       retry_small_loss=True)
    assert 690_000 <= rate <= 700_000
    assert calls[1] == calls[2], "the stalled rate was tried again"
    assert trials[2].extra.get("retry") is True
    assert len(trials) == len(calls)
    # Without retries the stall decides the search.
    trial, _ = fake_dut(700_000, stall_at=2)
    rate2, _, _ = search.search(trial, 0, 1_000_000, max_trials=20)
    assert rate2 < 500_000


def test_reruns_are_counted():
    trial, calls = fake_dut(700_000, stall_at=2)
    _, _, trials = search.search(trial, 0, 1_000_000, max_trials=20, retry_small_loss=True)
    retried = [t for t in trials if t.extra.get("retry")]
    # the stall (passes on the re-run), and a rate just over the capacity whose small loss
    # looks like a stall (fails again)
    assert [t.passes() for t in retried] == [True, False]
    assert search.reruns(trials) == (2, 1)
    assert search.reruns(trials[:1]) == (0, 0)


def test_progress_lines_and_eta():
    now = [1000.0]
    lines = []
    p = progress.Progress(lines.append, units=4, guess_unit_s=30, later_s={"latency": 100},
                          clock=lambda: now[0])
    assert p.eta_s() == 4 * 30 + 100, "before any search: the guess"
    p.start_unit("rb-xdp", "64", "tcpreplay")
    now[0] += 10
    t = search.Trial(offered_pps=500_000, sent=500_000, received=499_000, seconds=1.0)
    p.trial("ndr", t)
    line = lines[-1]
    for part in ("1/4", "rb-xdp", "64", "tcpreplay", "ndr", "500 kpps", "lost 1000",
                 "0.200 %", "FAIL", "ETA", "left"):
        assert part in line, (part, line)
    assert p.eta_s() == 4 * 30 - 10 + 100, "the current search is partly done"
    p.trial("pdr", t)
    assert " pass " in lines[-1], "0.2 % passes the PDR"
    t.extra["retry"] = True
    p.trial("ndr", search.Trial(500_000, 400_000, 400_000, 1.0, extra={"retry": True}))
    assert "ndr re-run" in lines[-1] and "rate not held" in lines[-1]
    p.end_unit()
    p.start_unit("kbridge", "64", "tcpreplay")
    now[0] += 50
    p.end_unit()
    assert p.per_unit_s() == 30, "the mean of the searches done (10 s and 50 s)"
    assert p.eta_s() == 2 * 30 + 100
    p.phase_done("latency")
    assert p.eta_s() == 60
    assert progress.fmt_duration(59) == "59 s"
    assert progress.fmt_duration(3725) == "1 h 02 min"


def test_small_loss_is_bounded_by_a_stall_worth_of_frames():
    t = search.Trial(offered_pps=500_000, sent=500_000, received=500_000 - 4_000, seconds=1)
    assert search.small_loss(t)  # 4000 <= 10 ms x 500 kpps = 5000
    t = search.Trial(offered_pps=500_000, sent=500_000, received=500_000 - 9_000, seconds=1)
    assert not search.small_loss(t)
    t = search.Trial(offered_pps=500_000, sent=400_000, received=399_000, seconds=1)
    assert not search.small_loss(t), "a throttled sender is not a stall"


def test_best_from_trials():
    ts = [search.Trial(1000, 1000, 1000, 1), search.Trial(2000, 2000, 1995, 1),
          search.Trial(3000, 3000, 2900, 1)]
    assert search.best_from_trials(ts, search.NDR_LOSS)[0] == 1000
    assert search.best_from_trials(ts, search.PDR_LOSS)[0] == 2000


PROC_STAT_0 = """cpu  100 0 50 1000 0 0 10 0 0 0
cpu0 50 0 25 500 0 0 5 0 0 0
cpu1 50 0 25 500 0 0 5 0 0 0
intr 1 2 3
"""
PROC_STAT_1 = """cpu  200 0 150 1050 0 0 60 0 0 0
cpu0 60 0 75 550 0 0 5 0 0 0
cpu1 140 0 75 500 0 0 55 0 0 0
"""


def test_cpu_accounting():
    a, b = procstat.parse_proc_stat(PROC_STAT_0), procstat.parse_proc_stat(PROC_STAT_1)
    assert procstat.busy_seconds(a, b, hz=100) == pytest.approx(2.5)  # 100+100+50 ticks
    assert procstat.busy_seconds(a, b, cpu="cpu1", hz=100) == pytest.approx(1.9)
    br = procstat.breakdown(a, b)
    assert br["cpu0"] == {"user": 9.1, "system": 45.5, "softirq": 0.0, "irq": 0.0, "idle": 45.5}
    assert br["cpu1"]["idle"] == 0.0 and br["cpu1"]["softirq"] == 26.3
    assert procstat.cycles_per_packet(2.5, 2.6e9, 1_000_000) == pytest.approx(6500)
    assert procstat.cycles_per_packet(1, 1e9, 0) is None
    assert procstat.cpu_hz("processor: 0\ncpu MHz\t\t: 2596.118\n") == pytest.approx(2596.118e6)


def test_ratios_and_flags():
    assert summary.median([3, 1, None, 2]) == 2
    assert summary.median([]) is None
    # Ratios are taken per repeat, then the median.
    assert summary.median_ratio([600, 900, 700], [400, 450, 500]) == pytest.approx(1.5)
    assert summary.ratio(1, 0) is None
    assert summary.generator_bound(950_000, 1_000_000)
    assert summary.generator_bound(900_000, 1_000_000)
    assert not summary.generator_bound(899_000, 1_000_000)
    assert not summary.generator_bound(None, 1_000_000)


def test_parse_tcpreplay_and_rb_gen_summary():
    out = ("Actual: 3000000 packets (180000000 bytes) sent in 7.50 seconds\n"
           "Rated: 23999884.8 Bps, 191.99 Mbps, 399998.08 pps\nFlows: ...\n")
    assert parse.tcpreplay(out) == {"sent": 3000000, "bytes": 180000000, "seconds": 7.5,
                                    "pps": 399998.08}
    with pytest.raises(ValueError):
        parse.tcpreplay("tcpreplay: error")


def test_parse_ringbridge_stats_keeps_the_last_block():
    out = """stats: uptime_s=1.0
stats: port=a spec=xdp:in0 rx_pkts=1 forwarded=1 drops=0
stats: uptime_s=2.0
stats: port=a spec=xdp:in0 rx_pkts=10 forwarded=9 drops=1
stats: port=b spec=xdp:out0 rx_pkts=3 forwarded=3 drops=0
stats: worker=0 lcore=1 cpu=1 rx_pkts=13 busy_pct=2.5
exit: mbufs_leaked=0 status=0
"""
    st = parse.ringbridge_stats(out)
    assert st["a"]["rx_pkts"] == 10 and st["b"]["forwarded"] == 3
    assert st["workers"][0]["rx_pkts"] == 13 and st["workers"][0]["busy_pct"] == "2.5"


def test_parse_testpmd_sipp_callgrind():
    tp = ("  ---------------------- Forward statistics for port 0  ----------------------\n"
          "  RX-packets: 5 RX-dropped: 0\n"
          "  +++++++++++++++ Accumulated forward statistics for all ports+++++++++++++++\n"
          "  RX-packets: 198441728      RX-dropped: 0             RX-total: 198441728\n")
    assert parse.testpmd_rx_total(tp) == 198441728
    csv = ("StartTime;LastResetTime;CurrentTime;TotalCallCreated;SuccessfulCall(C);FailedCall(C);\n"
           "a;b;c;10;9;1;\n")
    assert parse.sipp_stat_csv(csv) == {"successful": 9, "failed": 1, "created": 10}
    assert parse.callgrind_totals("events: Ir\nsummary: 24758729461\n") == 24758729461


def test_frames_have_the_rfc2544_sizes(tmp_path):
    for size in frames.SIZES:
        f = frames.udp_frame(size, flow=3)
        assert len(f) == size - 4, "pcap frames are the size minus the FCS"
        ihl_sum = sum(struct.unpack("!10H", f[14:34]))
        while ihl_sum >> 16:
            ihl_sum = (ihl_sum & 0xFFFF) + (ihl_sum >> 16)
        assert ihl_sum == 0xFFFF, "valid IPv4 header checksum"
    n, mean = frames.make_pcap(tmp_path / "imix.pcap", "imix", count=1200)
    assert n == 1200 and mean == pytest.approx(361.8, abs=0.5)
    inv = frames.invite_frame(7)
    assert len(inv) + 4 == 413 and inv[42:].startswith(b"INVITE sip:")
    assert b"\r\n\r\n" in inv
    data = (tmp_path / "imix.pcap").read_bytes()
    assert struct.unpack_from("<I", data)[0] == 0xA1B2C3D4


CALLGRIND_OUT = """# callgrind format
version: 1
positions: line
events: Ir
summary: 900

ob=(1) /bin/ringbridge
fl=(1) plugins/sip/dataplane/sip_stage.h
fn=(1) ringbridge::dp::sip_inspect(ringbridge::dp::sip_worker&, rte_mbuf*)
10 50
fi=(2) /usr/include/boost/lockfree/spsc_queue.hpp
+5 30
fe=(1)
cfl=(3) plugins/sip/dataplane/sip_parser.cc
cfn=(2) ringbridge::dp::sip::parse(char const*, unsigned long, bool, ringbridge::dp::sip::message*)
calls=2 20
* 600
cob=(2) /usr/lib/libhs.so.5
cfl=(4) ???
cfn=(3) avx2_hs_scan
calls=2 0
+2 120
fi=(2)
cob=(3) /usr/lib/libc.so.6
cfl=(5) memmove.S
cfn=(4) __memcpy_avx_unaligned_erms
calls=2 0
+1 100

fl=(3)
fn=(2)
5 400
cob=(3)
cfl=(5)
cfn=(4)
calls=4 0
6 200

ob=(2)
fl=(4)
fn=(3)
0 120

ob=(3)
fl=(5)
fn=(4)
0 300
"""


def test_callgrind_profile_and_where_the_instructions_go():
    from harness import callgrind
    prof = parse.callgrind_profile(CALLGRIND_OUT)
    assert prof.total == 900
    inspect = ("/bin/ringbridge", "ringbridge::dp::sip_inspect(ringbridge::dp::sip_worker&, "
               "rte_mbuf*)")
    assert prof.self_cost[inspect] == {"plugins/sip/dataplane/sip_stage.h": 50,
                                       "/usr/include/boost/lockfree/spsc_queue.hpp": 30}
    assert prof.inclusive(inspect) == 900
    memcpy = ("/usr/lib/libc.so.6", "__memcpy_avx_unaligned_erms")
    assert prof.calls[(inspect, memcpy)] == [2, 100]
    stages = dict(callgrind.breakdown(prof, callgrind.SIP_STAGES, r"::sip_inspect$"))
    # memcpy: called by the parser (200) and by the ring push inlined into sip_inspect (100)
    assert stages == {"SIP parser": 600, "start line (Hyperscan)": 120,
                      "event (fill, ring push)": 130,
                      "inspection (sip stage, first look, counters)": 50,
                      }, stages
    assert sum(stages.values()) == prof.total


def test_the_report_is_written_without_charts_when_matplotlib_is_missing(tmp_path, monkeypatch,
                                                                          capsys):
    """A run of an hour must not lose its report to a missing plotting library."""
    from harness import report

    def no_matplotlib(*_):
        raise ImportError("No module named 'matplotlib'")
    monkeypatch.setattr(report, "charts", no_matplotlib)
    monkeypatch.setattr(report, "markdown", lambda res: f"# results\n\nNDR {res['ndr']} kpps\n")
    md = report.write({"ndr": 834}, tmp_path)
    assert md.read_text() == "# results\n\nNDR 834 kpps\n"
    assert '"ndr": 834' in (tmp_path / "results.json").read_text()
    assert "python3-matplotlib" in capsys.readouterr().err
