#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The figures of docs/RELIABILITY.md, measured again: a long fuzzing run of every target,
# a long INVITE flood, the injected faults (control stall, links, filter reloads at the
# zero-loss rate, kill -9 with and without the fail-to-wire fallback) and tens of thousands
# of mutated SIP messages through the binary. Each test prints "RELIABILITY <what>: <figures>"
# lines; this script collects them into the generated section of docs/RELIABILITY.md.
#
# Usage (root, after tests/run.sh has installed the dependencies and built build-test/):
#   tests/reliability.sh [--fuzz-seconds N] [--flood-waves N] [--mutations N]
#     --fuzz-seconds  per fuzz target (default 600: ~1.5 h for the 8 targets)
#     --flood-waves   waves of 200,000 new-call INVITEs (default 10)
#     --mutations     mutated SIP messages replayed (default 30000)
set -euo pipefail
cd "$(dirname "$0")/.."

fuzz_s=600
waves=10
mutations=30000
while [[ $# -gt 0 ]]; do
  case $1 in
    --fuzz-seconds) fuzz_s=$2; shift 2 ;;
    --flood-waves) waves=$2; shift 2 ;;
    --mutations) mutations=$2; shift 2 ;;
    *) echo "tests/reliability.sh: unknown argument '$1' (see the usage at the top)" >&2; exit 2 ;;
  esac
done
if [[ $(id -u) -ne 0 ]]; then
  echo "tests/reliability.sh: run as root (network namespaces, DPDK): sudo $0" >&2
  exit 1
fi
[[ -x build-test/control/ringbridge ]] || { echo "build first: sudo ./tests/run.sh" >&2; exit 1; }
ninja -C build-test >/dev/null

# Debian's python3 (with pytest and scapy from install-deps.sh), not whatever is first on PATH.
py=/usr/bin/python3
export RB_TEST_REGISTRY=/run/rbtest
trap '$py tests/integration/rbtest.py sweep || true' EXIT
log=$(mktemp -d /tmp/rb-reliability.XXXXXX)
started=$(date -u +%FT%TZ)
t0=$SECONDS

echo "=== fuzzing, ${fuzz_s} s per target"
tests/fuzz/run.sh "$fuzz_s" | tee "$log/fuzz.txt"

echo "=== the binary under floods and faults"
(
  cd tests/integration
  export RINGBRIDGE_BIN=$PWD/../../build-test/control/ringbridge
  RB_FLOOD_WAVES=$waves RB_FLOOD_INVITES=200000 RB_MUTATIONS=$mutations \
    $py -m pytest -q -s -p no:cacheprovider test_flood.py test_faults.py test_ha.py \
    "test_hostile.py::test_thousands_of_mutated_sip_messages_with_every_sink" \
    "test_robust_control.py::test_a_full_disk_delays_the_call_log_never_the_calls" \
    "test_robust_control.py::test_a_locked_database_delays_the_call_log_never_the_calls"
) 2>&1 | tee "$log/tests.txt"

$py - "$log" "$started" "$((SECONDS - t0))" "$fuzz_s" "$waves" "$mutations" <<'EOF'
import re, sys, platform, os
from pathlib import Path
log, started, secs, fuzz_s, waves, mutations = sys.argv[1:]
fuzz = Path(log, "fuzz.txt").read_text()
table = [l for l in fuzz.splitlines() if re.match(r"^(target|\S+\s+\d+\s)", l)]
figs = [l.split("RELIABILITY ", 1)[1] for l in Path(log, "tests.txt").read_text().splitlines()
        if "RELIABILITY " in l]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
out = [f"Measured {started} by `tests/reliability.sh --fuzz-seconds {fuzz_s} --flood-waves "
       f"{waves} --mutations {mutations}` ({int(secs) // 60} min) on {os.cpu_count()} × {cpu}, "
       f"Linux {platform.release()}.", "", "Fuzzing (libFuzzer, ASan + UBSan, "
       f"{fuzz_s} s per target):", "", "```", *table, "```", "", "Through the binary:", ""]
out += [f"- {f}" for f in figs]
doc = Path("docs/RELIABILITY.md")
text = doc.read_text()
begin, end = "<!-- figures:begin -->", "<!-- figures:end -->"
a, b = text.index(begin) + len(begin), text.index(end)
doc.write_text(text[:a] + "\n" + "\n".join(out) + "\n" + text[b:])
print(f"docs/RELIABILITY.md: {len(table) - 1} fuzz targets, {len(figs)} figures")
EOF
