#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Reserve 2 MB hugepages and mount hugetlbfs for ringbridge (idempotent).
#
# Usage: hugepages.sh [PAGES] [MOUNTPOINT]
#   PAGES       2 MB pages to have in total (default 256 = 512 MB; never lowers the count)
#   MOUNTPOINT  hugetlbfs mount point (default /dev/hugepages)
# Without hugepages ringbridge still runs (--no-huge, with a warning), only slower.
set -euo pipefail
pages=${1:-256}
mnt=${2:-/dev/hugepages}
if ! [[ $pages =~ ^[0-9]+$ ]]; then
  echo "hugepages.sh: PAGES '$pages' must be a number of 2 MB pages" >&2
  exit 2
fi
sysfs=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
have=$(cat "$sysfs")
if ((have < pages)); then
  echo "$pages" > "$sysfs"
  have=$(cat "$sysfs")
  if ((have < pages)); then
    echo "hugepages.sh: asked for $pages pages, the kernel gave $have (memory fragmented?)" >&2
  fi
fi
if ! awk -v m="$mnt" '$2 == m && $3 == "hugetlbfs" {found=1} END {exit !found}' /proc/mounts; then
  mkdir -p "$mnt"
  mount -t hugetlbfs -o pagesize=2M nodev "$mnt"
fi
echo "hugepages: $(cat "$sysfs") x 2 MB reserved, hugetlbfs on $mnt"
