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


class CallgrindProfile:
    """One callgrind output file (Ir only): self cost per (function, source file) — inlined
    code keeps the file it came from — and the inclusive cost of every call edge."""

    def __init__(self):
        self.total = 0
        self.self_cost = {}  # (object, function) -> {file: Ir}
        self.calls = {}      # (caller, callee) -> [call count, inclusive Ir]
        self.call_sites = {}  # (caller, file of the call, callee) -> inclusive Ir

    def inclusive(self, fn):
        """FN's cost with everything it called."""
        if not hasattr(self, "_inclusive"):
            self._inclusive = {f: sum(per_file.values()) for f, per_file in self.self_cost.items()}
            for (caller, _), (_, ir) in self.calls.items():
                self._inclusive[caller] = self._inclusive.get(caller, 0) + ir
        return self._inclusive.get(fn, 0)


def callgrind_profile(text):
    """Reads callgrind's output format (name compression, relative positions, inlined
    files; one event) into a CallgrindProfile."""
    prof = CallgrindProfile()
    names = {"ob": {}, "fl": {}, "fn": {}}
    kind_of = {"ob": "ob", "cob": "ob", "fl": "fl", "fi": "fl", "fe": "fl", "cfi": "fl",
               "cfl": "fl", "fn": "fn", "cfn": "fn"}

    def name(key, value):
        table = names[kind_of[key]]
        m = re.match(r"\((\d+)\)(?: (.*))?$", value)
        if not m:
            return value
        if m.group(2) is not None:
            table[m.group(1)] = m.group(2)
        return table.get(m.group(1), "?")

    ob = fl = file = cob = None
    fn = callee = None
    pending_call = 0
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        key, eq, value = line.partition("=")
        if eq and key in kind_of:
            v = name(key, value)
            if key == "ob":
                ob = v
            elif key == "fl":
                fl = file = v
            elif key in ("fi", "fe"):
                file = v
            elif key == "fn":
                fn, file, cob = (ob, v), fl, None
            elif key == "cob":
                cob = v
            elif key == "cfn":
                callee = (cob or ob, v)
            continue
        if key == "calls" and eq:
            pending_call = int(value.split()[0])
            continue
        if line[0] in "0123456789+-*":
            parts = line.split()
            cost = int(parts[1]) if len(parts) > 1 else 0
            if pending_call:
                edge = prof.calls.setdefault((fn, callee), [0, 0])
                edge[0] += pending_call
                edge[1] += cost
                site = (fn, file, callee)
                prof.call_sites[site] = prof.call_sites.get(site, 0) + cost
                pending_call = 0
                cob = None
            elif fn is not None:
                per_file = prof.self_cost.setdefault(fn, {})
                per_file[file] = per_file.get(file, 0) + cost
            continue
        m = re.match(r"(?:summary|totals):\s*(\d+)", line)
        if m:
            prof.total = max(prof.total, int(m.group(1)))
    return prof
