// SPDX-License-Identifier: BSD-3-Clause
// Deriving DPDK EAL arguments from ringbridge's options, and EAL start-up/clean-up.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "ringbridge/dp/port_spec.h"

namespace ringbridge::dp {

enum class hugepage_mode : uint8_t {
  automatic,  ///< use hugepages when enough are free and mounted, else --no-huge with a warning
  require,    ///< fail when hugepages are not usable
  off,        ///< always --no-huge
};

/// What the EAL plan needs to know about the host; probe_host() reads it, tests fake it.
struct host_facts {
  uint64_t hugepages_free = 0;
  uint64_t hugepage_size_kb = 0;
  bool hugetlbfs_mounted = false;
  std::vector<unsigned> cpus;  ///< CPUs this process may run on, ascending
  int pid = 0;
  std::string runtime_base;  ///< /var/run/dpdk for root, else $XDG_RUNTIME_DIR/dpdk or /tmp/dpdk
};

/// Reads /proc/meminfo, /proc/mounts, the CPU affinity mask, pid and uid.
host_facts probe_host();

struct eal_options {
  std::array<port_spec, 2> ports;  ///< [0] = side A (network), [1] = side B (phone/PBX)
  unsigned workers = 1;
  uint32_t mtu = 1500;
  uint32_t mbufs = 0;  ///< 0 = derived from queues and descriptors
  uint16_t rx_desc = 2048;
  uint16_t tx_desc = 1024;
  hugepage_mode hugepages = hugepage_mode::automatic;
  uint32_t memory_mb = 0;            ///< --no-huge memory; 0 = derived from the mempool size
  std::string file_prefix;           ///< empty = "ringbridge-<pid>"
  std::string log_level = "notice";  ///< DPDK log level (--log-level)
  uint32_t af_xdp_busy_budget = 64;  ///< net_af_xdp busy_budget; 0 = no busy polling
  uint32_t held_mbufs = 0;  ///< mbufs features may hold besides the ports (media rings)
};

/// Everything decided before rte_eal_init(). Plain value.
struct eal_plan {
  std::vector<std::string> args;  ///< argv for rte_eal_init, argv[0] included
  bool no_huge = false;
  std::string file_prefix;
  std::string runtime_dir;                ///< runtime_base/file_prefix, removed at exit
  std::array<std::string, 2> port_names;  ///< DPDK device names of side A and B
  frame_geometry geometry;
  uint32_t mbufs = 0;                 ///< mempool size
  uint32_t mbuf_size = 0;             ///< bytes per mbuf incl. headroom and header
  std::vector<unsigned> worker_cpus;  ///< CPU of each worker lcore (lcore i+1)
  std::vector<std::string> warnings;  ///< to be logged by the caller
};

/// Derives the EAL plan. Pure: everything it looks at comes in through OPT and HOST.
/// Returns false with *error naming the option and the fix when no usable plan exists.
bool plan_eal(const eal_options& opt, const host_facts& host, eal_plan* plan, std::string* error);

/// Sends libbpf's and libxdp's own messages into ringbridge's log (info and debug level:
/// they warn about a missing bpffs on every start). Idempotent; eal_start() does it too.
void route_bpf_logs();

/// Runs rte_eal_init() with the plan's arguments. Main thread only, once per process.
bool eal_start(const eal_plan& plan, std::string* error);

/// rte_eal_cleanup(), then removes the plan's runtime directory (DPDK leaves it behind
/// even with --no-shconf). Safe to call when eal_start() failed or never ran.
void eal_stop(const eal_plan& plan, bool eal_started);

/// Removes PLAN's runtime directory and the files in it; used on every exit path.
void remove_runtime_dir(const eal_plan& plan);

/// Removes the runtime directories a killed ringbridge left in BASE (/var/run/dpdk): only
/// those named "ringbridge-<pid>" (the default prefix) whose process no longer exists
/// (kill(pid, 0) fails with ESRCH), never SELF_PID's. A SIGKILL or a crash skips
/// eal_stop(), so without this every such exit leaves one behind. Returns how many went.
unsigned sweep_stale_runtime_dirs(const std::string& base, int self_pid);

}  // namespace ringbridge::dp
