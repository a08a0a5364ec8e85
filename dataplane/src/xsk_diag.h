// SPDX-License-Identifier: BSD-3-Clause
// Internal: what the kernel dropped on an AF_XDP port's sockets. DPDK 22.11's net_af_xdp
// reports only the kernel's "rx_dropped" as imissed; frames dropped because the socket's
// rx ring was full (the worker fell behind) or its fill ring was empty (no buffers) are
// counted only by the kernel (XDP_STATISTICS). The PMD does not hand out its socket
// descriptors, so the bridge notes which AF_XDP sockets appeared while a port was set up
// and asks those.
#pragma once

#include <cstdint>
#include <set>

namespace ringbridge::dp {

struct xsk_drops {
  uint64_t rx_ring_full = 0;     ///< the socket's rx ring was full: the worker fell behind
  uint64_t fill_ring_empty = 0;  ///< no buffer in the fill ring to receive into
  uint64_t rx_invalid = 0;       ///< invalid descriptors (a frame longer than the buffer)
  uint64_t tx_invalid = 0;       ///< tx descriptors the kernel refused
};

/// The process's open socket descriptors now. Control thread (set-up only).
std::set<int> socket_fds();

/// Of the descriptors in AFTER but not in BEFORE, those that are AF_XDP sockets.
std::set<int> new_xdp_sockets(const std::set<int>& before, const std::set<int>& after);

/// Adds the kernel's drop counters of the AF_XDP sockets FDS into *OUT. Any thread.
void add_xsk_drops(const std::set<int>& fds, xsk_drops* out);

}  // namespace ringbridge::dp
