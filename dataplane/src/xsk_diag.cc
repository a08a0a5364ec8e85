// SPDX-License-Identifier: BSD-3-Clause
// AF_XDP socket drop counters (XDP_STATISTICS) of the sockets a port's set-up created.
#include "xsk_diag.h"

#include <dirent.h>
#include <linux/if_xdp.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cstdlib>

#ifndef SOL_XDP
#define SOL_XDP 283
#endif

namespace ringbridge::dp {

std::set<int> socket_fds() {
  std::set<int> out;
  DIR* d = opendir("/proc/self/fd");
  if (d == nullptr) return out;
  const int self = dirfd(d);
  while (dirent* e = readdir(d)) {
    char* end = nullptr;
    const long fd = std::strtol(e->d_name, &end, 10);
    if (*end != '\0' || fd == self) continue;
    struct stat st {};
    if (fstat(static_cast<int>(fd), &st) == 0 && S_ISSOCK(st.st_mode))
      out.insert(static_cast<int>(fd));
  }
  closedir(d);
  return out;
}

namespace {
bool read_statistics(int fd, struct xdp_statistics* st) {
  socklen_t len = sizeof(*st);
  return getsockopt(fd, SOL_XDP, XDP_STATISTICS, st, &len) == 0;
}
}  // namespace

std::set<int> new_xdp_sockets(const std::set<int>& before, const std::set<int>& after) {
  std::set<int> out;
  for (int fd : after) {
    struct xdp_statistics st {};
    if (before.count(fd) == 0 && read_statistics(fd, &st)) out.insert(fd);
  }
  return out;
}

void add_xsk_drops(const std::set<int>& fds, xsk_drops* out) {
  for (int fd : fds) {
    struct xdp_statistics st {};
    if (!read_statistics(fd, &st)) continue;
    out->rx_ring_full += st.rx_ring_full;
    out->fill_ring_empty += st.rx_fill_ring_empty_descs;
    out->rx_invalid += st.rx_invalid_descs;
    out->tx_invalid += st.tx_invalid_descs;
  }
}

}  // namespace ringbridge::dp
