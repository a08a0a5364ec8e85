#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Runs the libFuzzer targets in tests/fuzz/ (clang, ASan + UBSan, coverage in all of our
# code) for SECONDS each, one after the other, and prints each one's executions, coverage
# and corpus size. Exits non-zero if any target crashed, leaked, hung or failed a check.
#
# Usage: tests/fuzz/run.sh [SECONDS] [TARGET...]      (default 60 s, all targets)
# Targets: sip_parser frame tcp_stream reply identity notify_wire config rest_json offload
# rtp sdp.
# The frame target starts DPDK's EAL (--no-huge): run as root, like the other DPDK tests.
#
# Builds into build-fuzz/ (RB_FUZZ_BUILD overrides), a meson build with CXX=clang++,
# -Dfuzz=true and -Db_sanitize=address,undefined. Inputs that add coverage are kept in
# build-fuzz/fuzz-corpus/<target>/ (copy small interesting ones into
# tests/fuzz/corpus/<target>/); a crashing input is written to
# build-fuzz/fuzz-artifacts/<target>-crash-*, and reproduced with
# build-fuzz/tests/<target>_fuzz <that file>. Logs: build-fuzz/fuzz-logs/<target>.log.
# Needs clang and libclang-rt-14-dev (deploy/install-deps.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/../.."

secs=${1:-60}
[[ $# -gt 0 ]] && shift
if ! [[ $secs =~ ^[0-9]+$ ]] || [[ $secs -lt 1 ]]; then
  echo "tests/fuzz/run.sh: SECONDS must be a positive whole number, got '$secs'" >&2
  exit 2
fi
all=(sip_parser frame tcp_stream reply identity notify_wire config rest_json offload rtp sdp)
targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=("${all[@]}")
for t in "${targets[@]}"; do
  if [[ ! -d tests/fuzz/corpus/$t ]]; then
    echo "tests/fuzz/run.sh: unknown target '$t'; targets: ${all[*]}" >&2
    exit 2
  fi
done
if ! command -v clang++ >/dev/null; then
  echo "tests/fuzz/run.sh: clang++ not found; install clang and libclang-rt-14-dev" >&2
  exit 2
fi

out=${RB_FUZZ_BUILD:-build-fuzz}
if [[ ! -f $out/build.ninja ]]; then
  CC=clang CXX=clang++ meson setup "$out" -Dfuzz=true -Db_sanitize=address,undefined \
    -Db_lundef=false -Dperf=false -Dcpp_args=-fno-sanitize-recover=undefined >/dev/null
fi
ninja -C "$out" $(printf 'tests/%s_fuzz ' "${targets[@]}")

mkdir -p "$out/fuzz-corpus" "$out/fuzz-artifacts" "$out/fuzz-logs"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp}

# Longest input per target: several frames; a stream with many segments; else a message.
max_len() {
  case $1 in
    frame) echo 12000 ;;
    tcp_stream) echo 8192 ;;
    *) echo 4096 ;;
  esac
}
dict() {
  case $1 in
    config) echo "-dict=tests/fuzz/config.dict" ;;
    notify_wire | rest_json | rtp) echo "" ;;
    *) echo "-dict=tests/fuzz/sip.dict" ;;
  esac
}

failed=()
printf '\n%-12s %8s %12s %9s %7s %7s %8s  %s\n' target seconds executions exec/s cov ft corpus result
for t in "${targets[@]}"; do
  work="$out/fuzz-corpus/$t"
  log="$out/fuzz-logs/$t.log"
  mkdir -p "$work"
  rc=0
  # shellcheck disable=SC2046
  "$out/tests/${t}_fuzz" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2560 \
    -max_len="$(max_len "$t")" -print_final_stats=1 -artifact_prefix="$out/fuzz-artifacts/$t-" \
    $(dict "$t") "$work" "tests/fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
  # libFuzzer's last status line: "#N DONE cov: X ft: Y corp: A/B lim: L exec/s: E rss: R".
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  execs=$(grep -oE 'stat::number_of_executed_units: [0-9]+' "$log" | awk '{print $2}' || true)
  [[ -z $execs ]] && execs=$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$last")
  field() { sed -nE "s#.* $1: ([^ ]+).*#\1#p" <<<"$last"; }
  result=ok
  if [[ $rc -ne 0 ]]; then
    result="FAILED (exit $rc; see $log)"
    failed+=("$t")
  fi
  printf '%-12s %8s %12s %9s %7s %7s %8s  %s\n' "$t" "$secs" "${execs:-?}" "$(field exec/s)" \
    "$(field cov)" "$(field ft)" "$(field corp)" "$result"
done

if [[ ${#failed[@]} -ne 0 ]]; then
  echo
  for t in "${failed[@]}"; do
    echo "=== $t: $out/fuzz-logs/$t.log (tail)"
    tail -40 "$out/fuzz-logs/$t.log"
  done
  echo "tests/fuzz/run.sh: ${#failed[@]} target(s) failed: ${failed[*]}" >&2
  exit 1
fi
