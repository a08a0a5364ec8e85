# SPDX-License-Identifier: BSD-3-Clause
"""Parsing what the tools print: tcpreplay, ringbridge's stats lines, testpmd's totals,
sipp's statistics CSV, callgrind output files."""
import re


def tcpreplay(text):
    """{'sent': packets, 'seconds': s, 'pps': rated pps} from tcpreplay -q output."""
    m = re.search(r"Actual: (\d+) packets \((\d+) bytes\) sent in ([\d.]+) seconds", text)
    if not m:
        raise ValueError("tcpreplay printed no 'Actual:' line:\n" + text)
    r = re.search(r"Rated: [\d.]+ Bps, [\d.]+ Mbps, ([\d.]+) pps", text)
    return {"sent": int(m.group(1)), "bytes": int(m.group(2)), "seconds": float(m.group(3)),
            "pps": float(r.group(1)) if r else None}


def ringbridge_stats(text):
    """The last 'stats:' block of ringbridge's stdout: {'a': {...}, 'b': {...}, 'workers': []}."""
    out, cur = None, None
    for line in text.splitlines():
        if not line.startswith("stats: "):
            continue
        kv = dict(tok.split("=", 1) for tok in line[7:].split() if "=" in tok)
        kv = {k: int(v) if v.isdigit() else v for k, v in kv.items()}
        if "uptime_s" in kv:
            cur = {"workers": []}
            out = cur
        elif "port" in kv and cur is not None:
            cur[kv["port"]] = kv
        elif "worker" in kv and cur is not None:
            cur["workers"].append(kv)
        elif "sip" in kv and cur is not None:
            cur["sip"] = kv
    return out


def testpmd_rx_total(text):
    """RX-packets of testpmd's 'Accumulated forward statistics for all ports' at exit."""
    blocks = text.split("Accumulated forward statistics for all ports")
    if len(blocks) < 2:
        raise ValueError("no accumulated statistics in testpmd output")
    m = re.search(r"RX-packets:\s*(\d+)", blocks[-1])
    return int(m.group(1))


def sipp_stat_csv(text):
    """{'successful': n, 'failed': n, 'created': n} from the last row of sipp -trace_stat."""
    lines = [l for l in text.splitlines() if l.strip()]
    if len(lines) < 2:
        raise ValueError("sipp statistics file has no data row")
    head = lines[0].rstrip(";").split(";")
    row = lines[-1].rstrip(";").split(";")
    d = dict(zip(head, row))
    return {"successful": int(d["SuccessfulCall(C)"]), "failed": int(d["FailedCall(C)"]),
            "created": int(d["TotalCallCreated"])}


def callgrind_totals(text):
    """Total instructions (Ir) of one callgrind output file."""
    m = re.search(r"^(?:summary|totals):\s*(\d+)", text, re.M)
    return int(m.group(1)) if m else 0
