#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The whole test suite on a fresh Debian 12 machine, as root: install dependencies, build
# with warnings as errors, run unit and integration tests, then the unit tests and the
# pcap/CLI integration tests again under AddressSanitizer + UndefinedBehaviorSanitizer, and
# finally every fuzz target for a short while (tests/fuzz/run.sh).
# This is the README's test command; .ci/run calls it.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $(id -u) -ne 0 ]]; then
  echo "tests/run.sh: run as root (apt-get, network namespaces, DPDK): sudo $0" >&2
  exit 1
fi

step() { printf '\n=== %s ===\n' "$*"; }

# Whatever a killed test left behind (namespaces, processes, DPDK runtime directories) is
# in the test registry: swept on the way out, however the run ends.
export RB_TEST_REGISTRY=/run/rbtest
trap 'python3 tests/integration/rbtest.py sweep || true' EXIT

step "dependencies"
deploy/install-deps.sh

step "build (werror)"
[[ -f build-test/build.ninja ]] || meson setup build-test --werror
ninja -C build-test

step "unit tests"
meson test -C build-test --print-errorlogs --suite unit

step "integration tests (network namespaces, pcap replay, real binary)"
meson test -C build-test --print-errorlogs --suite integration --num-processes 1

step "sanitizer build (ASan + UBSan)"
# -O2 (debugoptimized): quicker to build under the sanitizers; build-test above is the -O3
# tree that ships.
[[ -f build-asan/build.ninja ]] || \
  meson setup build-asan --werror -Db_sanitize=address,undefined -Db_lundef=false -Dperf=false \
    -Dbuildtype=debugoptimized
ninja -C build-asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp \
  meson test -C build-asan --print-errorlogs --num-processes 1 \
  unit_common unit_control unit_dataplane unit_plugins unit_media unit_media_dp unit_dpdk \
  test_cli test_pcap_replay test_sip_pcap test_filters test_notify test_hostile \
  test_robust_control \
  fuzz_corpus_sip_parser fuzz_corpus_frame fuzz_corpus_tcp_stream fuzz_corpus_reply \
  fuzz_corpus_identity fuzz_corpus_notify_wire fuzz_corpus_config fuzz_corpus_rest_json \
  fuzz_corpus_rtp fuzz_corpus_sdp

step "short timed fuzz run (libFuzzer, clang, ASan + UBSan: 20 s per target)"
tests/fuzz/run.sh 20

step "all tests passed"
