// SPDX-License-Identifier: BSD-3-Clause
// What the ports need from the host before DPDK opens them: privileges, and interfaces free
// of XDP programs a dead ringbridge left attached.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "ringbridge/dp/port_spec.h"

namespace ringbridge::dp {

/// A capability this process lacks for a port, and what the port needs it for.
struct missing_capability {
  std::string name;  ///< e.g. "CAP_NET_RAW"
  std::string why;   ///< e.g. "AF_XDP sockets (port a, xdp:eth0)"
};

/// The capabilities the port kinds need, as measured on Debian 12's DPDK 22.11 + libxdp
/// 1.3 (docs/deploy.md): AF_PACKET needs CAP_NET_RAW and CAP_NET_ADMIN; AF_XDP also
/// CAP_SYS_ADMIN (libxdp looks its own XDP program up by id, BPF_PROG_GET_FD_BY_ID) and
/// CAP_IPC_LOCK (the UMEM is locked memory) unless RLIMIT_MEMLOCK is unlimited. pcap and
/// null ports need none; PCI ports are not checked (vfio device permissions instead).
/// Returns what the effective set of this process lacks, in a stable order, each name
/// once. Any thread.
std::vector<missing_capability> missing_capabilities(const std::array<port_spec, 2>& ports);

/// What detach_stale_xdp() found on an interface.
enum class stale_xdp : uint8_t {
  none,      ///< no XDP program attached
  detached,  ///< one a dead ringbridge left (libxdp's "xsk_def_prog"), now detached
  in_use,    ///< ringbridge's program, held open by a live process: another instance runs
  foreign,   ///< someone else's program, left alone
  failed,    ///< could not be read or detached
};

/// Detaches the XDP program from IFACE if it is one ringbridge's AF_XDP ports load
/// (libxdp's AF_XDP default program "xsk_def_prog", alone or behind libxdp's dispatcher)
/// and no live process holds it: after kill -9 it stays attached. Everything else is left
/// alone. *msg says what was found (empty for none). Needs CAP_NET_ADMIN, and
/// CAP_SYS_ADMIN to read the program's name. Control thread or a one-shot CLI mode.
stale_xdp detach_stale_xdp(const std::string& iface, std::string* msg);

}  // namespace ringbridge::dp
