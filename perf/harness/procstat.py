# SPDX-License-Identifier: BSD-3-Clause
"""CPU accounting from /proc/stat and /proc/cpuinfo: busy time of all cores, and the cost
per forwarded packet in cycles (busy seconds x clock / packets)."""
import os

BUSY_FIELDS = ("user", "nice", "system", "irq", "softirq", "steal")
FIELDS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal", "guest",
          "guest_nice")


def parse_proc_stat(text):
    """{'cpu': {...}, 'cpu0': {...}, ...} in clock ticks."""
    out = {}
    for line in text.splitlines():
        if not line.startswith("cpu"):
            continue
        name, *vals = line.split()
        out[name] = dict(zip(FIELDS, map(int, vals)))
    return out


def busy_ticks(cpu):
    return sum(cpu.get(f, 0) for f in BUSY_FIELDS)


def busy_seconds(before, after, cpu="cpu", hz=None):
    """Busy CPU seconds between two parse_proc_stat() snapshots (all cores by default)."""
    hz = hz or os.sysconf("SC_CLK_TCK")
    return (busy_ticks(after[cpu]) - busy_ticks(before[cpu])) / hz


def breakdown(before, after):
    """Per CPU, the share (%) of user, system, softirq, irq and idle time between two
    snapshots: where the cycles went, kernel vs userspace, per core."""
    out = {}
    for cpu in sorted(k for k in after if k != "cpu"):
        d = {f: after[cpu][f] - before[cpu][f] for f in FIELDS}
        total = sum(d.values()) or 1
        out[cpu] = {k: round(100.0 * d[k] / total, 1)
                    for k in ("user", "system", "softirq", "irq", "idle")}
    return out


def snapshot():
    with open("/proc/stat") as f:
        return parse_proc_stat(f.read())


def cpu_hz(cpuinfo_text=None):
    """The nominal clock from /proc/cpuinfo ('cpu MHz'), in Hz."""
    if cpuinfo_text is None:
        with open("/proc/cpuinfo") as f:
            cpuinfo_text = f.read()
    for line in cpuinfo_text.splitlines():
        if line.startswith("cpu MHz"):
            return float(line.split(":")[1]) * 1e6
    return 0.0


def cycles_per_packet(busy_s, hz, packets):
    return busy_s * hz / packets if packets else None
