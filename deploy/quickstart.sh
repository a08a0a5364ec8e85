#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Quick start on a fresh Debian 12 machine (as root): install what is needed, build, bring
# up the demo topology (two network namespaces joined only through ringbridge) and start
# ringbridge on it with the built-in defaults.
#
# Usage: deploy/quickstart.sh [start|stop|status]
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
state=/run/ringbridge-demo
cmd=${1:-start}

stop() {
  if [[ -f $state/pid ]] && kill -0 "$(cat "$state/pid")" 2>/dev/null; then
    kill -TERM "$(cat "$state/pid")"
    for _ in $(seq 50); do kill -0 "$(cat "$state/pid")" 2>/dev/null || break; sleep 0.2; done
  fi
  rm -f "$state/pid"
  deploy/demo-topology.sh down rb >/dev/null
  echo "ringbridge demo stopped; topology removed (log kept in $state/ringbridge.log)"
}

case $cmd in
  stop) stop; exit 0 ;;
  status)
    if [[ -f $state/pid ]] && kill -0 "$(cat "$state/pid")" 2>/dev/null; then
      echo "running, pid $(cat "$state/pid")"; kill -USR1 "$(cat "$state/pid")"; sleep 0.3
      grep '^stats:' "$state/ringbridge.log" | tail -4
    else
      echo "not running"
    fi
    exit 0 ;;
  start) ;;
  *) echo "usage: $0 [start|stop|status]" >&2; exit 2 ;;
esac

if [[ $(id -u) -ne 0 ]]; then
  echo "quickstart: run as root (DPDK, network namespaces): sudo $0" >&2
  exit 1
fi

deploy/install-deps.sh --build-only
if [[ ! -f build/build.ninja ]]; then
  meson setup build
elif ! grep -q '"name": "buildtype", "value": "release"' build/meson-info/intro-buildoptions.json; then
  # A tree set up before the project's defaults became release with debug info (-O3 -g)
  # keeps the -O2 it was made with: the quick start's own tree gets the defaults.
  meson configure build -Dbuildtype=release -Ddebug=true
fi
ninja -C build

mkdir -p "$state"
if [[ -f $state/pid ]] && kill -0 "$(cat "$state/pid")" 2>/dev/null; then stop; fi
deploy/demo-topology.sh up rb

setsid build/control/ringbridge --port xdp:rb-net0 --port xdp:rb-ph0 \
  >"$state/ringbridge.log" 2>&1 < /dev/null &
echo $! > "$state/pid"

for _ in $(seq 100); do
  grep -q "bridging with" "$state/ringbridge.log" && break
  if ! kill -0 "$(cat "$state/pid")" 2>/dev/null; then
    echo "ringbridge failed to start:" >&2; cat "$state/ringbridge.log" >&2; exit 1
  fi
  sleep 0.1
done
ip netns exec rb-net ping -c 1 -W 2 10.77.0.2 >/dev/null 2>&1 || true

cat <<MSG

ringbridge is running (pid $(cat "$state/pid")), bridging
  netns rb-net   (10.77.0.1, fd77::1)  <-- xdp:rb-net0 [ringbridge] xdp:rb-ph0 -->  netns rb-phone (10.77.0.2, fd77::2)

Try next:
  ip netns exec rb-phone ping 10.77.0.1             # across the bridge (also: ping -6 fd77::1)
  kill -USR1 \$(cat $state/pid); tail -5 $state/ringbridge.log    # the counters
  $top/deploy/quickstart.sh status                   # same, in one go
  TOKEN=\$(cat /var/lib/ringbridge/api-token)          # the REST API and metrics:
  curl -sH "Authorization: Bearer \$TOKEN" localhost:8080/api/v1/status
  curl -sH "Authorization: Bearer \$TOKEN" localhost:8080/metrics
  $top/build/control/ringbridge --help               # ports, options
  $top/deploy/quickstart.sh stop                     # stop and remove the demo topology
MSG
