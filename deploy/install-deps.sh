#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Install ringbridge's build and test dependencies from Debian 12 packages (idempotent).
#
# Usage: deploy/install-deps.sh [--build-only]
#   --build-only   only what is needed to compile and run the appliance
set -euo pipefail

build_pkgs=(
  build-essential g++ meson ninja-build pkg-config
  dpdk dpdk-dev libdpdk-dev
  libhyperscan-dev
  libpcap-dev
  libspandsp-dev
  libboost-dev
  prometheus-cpp-dev
  libsqlite3-dev sqlite3
  libtomlplusplus-dev
  libcivetweb-dev
  nlohmann-json3-dev
  libxdp-dev libbpf-dev
  libnl-3-dev libnl-route-3-dev
  libsodium-dev
  libcurl4-openssl-dev libssl-dev libmosquitto-dev
  libgtest-dev libgmock-dev libbenchmark-dev libnetfilter-queue-dev
  iproute2 iputils-ping ethtool
)
test_pkgs=(
  sip-tester tshark netsniff-ng tcpreplay
  python3 python3-scapy python3-pytest
  valgrind curl netcat-openbsd procps
  iptables
  python3-matplotlib
  mosquitto mosquitto-clients
  openssl systemd libseccomp2 util-linux
  clang libclang-rt-14-dev
)

pkgs=("${build_pkgs[@]}")
[[ ${1:-} == --build-only ]] || pkgs+=("${test_pkgs[@]}")

if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: run as root (apt-get needs it), e.g. sudo $0" >&2
  exit 1
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#pkgs[@]} packages already installed"
  exit 0
fi

echo "install-deps: installing ${#missing[@]} package(s): ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no without a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
