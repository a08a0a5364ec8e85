#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The perf harness in one command, as root: install what is needed, build ringbridge and
# the perf tools (release), then measure. Arguments go to perf/rbperf (--quick, --sizes,
# --duts, --trial-s, --repeats, ...; see perf/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $(id -u) -ne 0 ]]; then
  echo "perf/run.sh: run as root (network namespaces, DPDK): sudo $0 $*" >&2
  exit 1
fi
deploy/install-deps.sh
# The project's default flags (-O3 -g), the ones a deployment builds with: what is measured is
# what ships; -g gives callgrind's breakdown (perf/rbcallgrind) its source lines.
[[ -f build-perf/build.ninja ]] || meson setup build-perf -Dtests=false
ninja -C build-perf
exec /usr/bin/python3 perf/rbperf --build build-perf "$@"
