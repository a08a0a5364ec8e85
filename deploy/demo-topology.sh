#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Demo/test topology: two network namespaces joined only through ringbridge.
#
#   [netns NAME-net]   eth0 10.77.0.1/24 fd77::1/64 ──veth── NAME-net0 ─┐
#                                                          ringbridge (side a = NAME-net0,
#   [netns NAME-phone] eth0 10.77.0.2/24 fd77::2/64 ──veth── NAME-ph0 ─┘   side b = NAME-ph0)
#
# Usage: demo-topology.sh up|down|status [NAME] [--queues N] [--subnet 10.77.0]
#                                        [--subnet6 fd77]
#   NAME      prefix of everything created (default "rb"; at most 10 characters)
#   --queues  rx/tx queues per veth (for more than one worker), default 1
# The root-side ends get no address and no IPv6 and are up (ringbridge makes them
# promiscuous while it runs); the kernel does not bridge them, so nothing crosses unless
# ringbridge forwards it.
set -euo pipefail

cmd=${1:-}
shift || true
name=rb
queues=1
subnet=10.77.0
subnet6=fd77
if [[ $# -gt 0 && $1 != --* ]]; then name=$1; shift; fi
while [[ $# -gt 0 ]]; do
  case $1 in
    --queues) queues=$2; shift 2 ;;
    --subnet) subnet=$2; shift 2 ;;
    --subnet6) subnet6=$2; shift 2 ;;
    *) echo "demo-topology: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
if [[ ${#name} -gt 10 || ! $name =~ ^[a-zA-Z0-9_-]+$ ]]; then
  echo "demo-topology: NAME '$name' must be 1-10 characters of [a-zA-Z0-9_-]" >&2
  exit 2
fi

net_ns=$name-net
phone_ns=$name-phone
net_if=$name-net0
phone_if=$name-ph0

down() {
  ip netns del "$net_ns" 2>/dev/null || true
  ip netns del "$phone_ns" 2>/dev/null || true
  ip link del "$net_if" 2>/dev/null || true
  ip link del "$phone_if" 2>/dev/null || true
}

side() {  # side NS ROOT_IF ADDR ADDR6
  local ns=$1 rif=$2 addr=$3 addr6=$4
  ip netns add "$ns"
  ip link add "$rif" numtxqueues "$queues" numrxqueues "$queues" type veth peer name eth0 \
    numtxqueues "$queues" numrxqueues "$queues" netns "$ns"
  # The bridge ports carry other hosts' frames: no address, no IPv6 chatter of their own.
  sysctl -qw "net.ipv6.conf.$rif.disable_ipv6=1"
  ip link set "$rif" up
  ip netns exec "$ns" ip link set lo up
  ip netns exec "$ns" ip addr add "$addr/24" dev eth0
  ip netns exec "$ns" ip -6 addr add "$addr6/64" dev eth0 nodad
  ip netns exec "$ns" ip link set eth0 up
  ip netns exec "$ns" ip route add default dev eth0
  # The kernel's default offloads stay on: the hosts' TCP/UDP checksums arrive unfinished
  # and TCP in 64 KB super-frames, as from any veth, container or VM; ringbridge finishes
  # and cuts them (dataplane.complete_checksums, docs/design/ports.md).
}

case $cmd in
  up)
    down
    trap 'down' ERR
    side "$net_ns" "$net_if" "$subnet.1" "$subnet6::1"
    side "$phone_ns" "$phone_if" "$subnet.2" "$subnet6::2"
    trap - ERR
    echo "topology $name up: netns $net_ns ($subnet.1) --[$net_if]-- ringbridge --[$phone_if]-- netns $phone_ns ($subnet.2)"
    ;;
  down)
    down
    echo "topology $name down"
    ;;
  status)
    ip netns list | grep -E "^($net_ns|$phone_ns)( |$)" || echo "no namespaces for $name"
    ip -br link show "$net_if" 2>/dev/null || true
    ip -br link show "$phone_if" 2>/dev/null || true
    ;;
  *)
    echo "usage: $0 up|down|status [NAME] [--queues N] [--subnet A.B.C] [--subnet6 PREFIX]" >&2
    exit 2
    ;;
esac
