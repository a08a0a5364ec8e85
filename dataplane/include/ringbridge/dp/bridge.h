// SPDX-License-Identifier: BSD-3-Clause
// The two-port bridge: ports, mempool and worker lcores. The dataplane's entry point.
//
// Owned by the dataplane core, which names no feature: features (plugins/<f>/dataplane)
// are given the mempool and the RCU domain, and hand the bridge their stages
// (add_stage) before start().
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "ringbridge/dp/counters.h"
#include "ringbridge/dp/port_spec.h"
#include "ringbridge/dp/rcu.h"
#include "ringbridge/dp/stage.h"

struct rte_mempool;

namespace ringbridge::dp {

struct worker_ctx;
class iface_tuning;
class packet_port;

/// Side A is the network/provider side, side B the phone/PBX side.
enum side : uint8_t { side_a = 0, side_b = 1 };

/// dataplane.complete_checksums: finish TCP/UDP checksums senders left to offload.
/// automatic = on for virtual interfaces (veth, tap, bridges, ...: no /sys/class/net/IF/device),
/// where such frames arrive; off for NICs and files.
enum class csum_mode : uint8_t { automatic, on, off };

struct bridge_config {
  std::array<port_spec, 2> specs;         ///< as parsed, for messages
  std::array<std::string, 2> port_names;  ///< DPDK device names (eal_plan::port_names)
  unsigned workers = 1;                   ///< one queue pair per worker on each port
  frame_geometry geometry;
  uint32_t mbufs = 8191;
  uint16_t rx_desc = 2048;
  uint16_t tx_desc = 1024;
  uint16_t burst = 32;         ///< rx burst and tx buffer size, 1..64
  uint32_t tx_flush_us = 100;  ///< flush a partly filled tx buffer after this long
  uint16_t tx_retries = 8;     ///< extra tx_burst attempts before dropping the rest
  /// AF_XDP ports with busy polling: defer the interface's NAPI to the worker's busy poll
  /// (napi_defer_hard_irqs = 2, gro_flush_timeout = af_xdp_gro_flush_us) while running, as
  /// DPDK's net_af_xdp guide recommends; the old values come back at close.
  bool af_xdp_tune_napi = false;
  /// The timer that runs a deferred NAPI when no busy poll did. It must fire before the
  /// device's receive queue fills: a veth queues only 256 frames (0.37 ms at 700 kpps).
  uint32_t af_xdp_gro_flush_us = 50;
  /// Where the originals of the interface settings the bridge changes (NAPI tuning, the
  /// promiscuous flag) are recorded before each change (iface_tuning), normally
  /// <state_dir>/iface-record; "" = in memory only (lost if the process dies).
  std::string tuning_record;
  csum_mode complete_checksums = csum_mode::automatic;
};

/// Totals of one port, summed over workers. Drops are counted on the ingress port.
struct port_stats {
  std::string name;  ///< "a" / "b"
  std::string spec;  ///< the port spec as given
  uint64_t rx_pkts = 0, rx_bytes = 0;
  uint64_t tx_pkts = 0, tx_bytes = 0;  ///< frames sent out of this port (coming from the peer)
  uint64_t forwarded = 0;              ///< frames received here and accepted by the peer
  uint64_t injected = 0;  ///< frames the bridge made and sent out of this port (SIP replies)
  std::array<uint64_t, k_drop_reasons> drops{};
  // From the PMD (rte_eth_stats): what never reached a worker or failed below it.
  uint64_t nic_imissed = 0, nic_ierrors = 0, nic_oerrors = 0, nic_rx_nombuf = 0;
  // AF_XDP ports: what the kernel dropped before the frames reached a worker (sock_diag).
  uint64_t xsk_rx_ring_full = 0;     ///< the rx ring was full: the worker fell behind
  uint64_t xsk_fill_ring_empty = 0;  ///< no buffer to receive into
  uint64_t xsk_rx_invalid = 0, xsk_tx_invalid = 0;
  std::array<uint64_t, k_port_counters> counts{};  ///< RB_DP_FOREACH_PORT_COUNTER (ingress)
  bool complete_checksums = false;  ///< as resolved from dataplane.complete_checksums
  bool link_up = false;             ///< as watch_links() last saw it
  uint64_t link_changes = 0;        ///< link up/down transitions seen since start

  uint64_t drops_total() const {
    uint64_t s = 0;
    for (auto d : drops) s += d;
    return s;
  }
};

struct worker_stats {
  unsigned lcore = 0;
  unsigned cpu = 0;
  uint64_t rx_pkts = 0, tx_pkts = 0, drops = 0;
  uint64_t busy_polls = 0, idle_polls = 0;
};

struct bridge_stats {
  std::array<port_stats, 2> ports;
  std::vector<worker_stats> workers;
  uint64_t mbufs_total = 0, mbufs_in_use = 0;
};

/// The bridge. Created, started, stopped and destroyed on the main lcore (control thread),
/// after eal_start(). stats() may be called from any thread at any time.
class bridge {
 public:
  /// Creates the mempool, configures both ports (queues, promiscuous mode) and starts them.
  /// On failure returns nullptr with *error naming the port and the cause; whatever was
  /// set up is undone (ports closed, promiscuous mode restored).
  static std::unique_ptr<bridge> create(const bridge_config& cfg, std::string* error);

  ~bridge();
  bridge(const bridge&) = delete;
  bridge& operator=(const bridge&) = delete;

  /// Appends a feature's step to worker W's frame path (before start()); stages run in
  /// the order added. False (with *error) beyond k_max_stages.
  bool add_stage(unsigned w, const stage& s, std::string* error);

  /// Launches one worker per worker lcore. False (with *error) if there are too few lcores.
  bool start(std::string* error);

  /// Asks workers to stop, waits for them, flushes their tx buffers (bounded retries;
  /// the rest is dropped and counted), then stops the ports. Idempotent.
  void stop();

  /// Closes the ports and returns the mbufs held by the PMDs to the pool. After this,
  /// mbufs_in_use() is 0 unless something leaked. Implies stop(). Idempotent.
  void close_ports();

  /// Sums the per-worker counters and reads the PMD counters. Any thread.
  bridge_stats stats() const;

  /// Control thread, about once a second: reads both ports' link state, counts and logs
  /// each change (a cable pulled, a peer interface reset). Forwarding needs nothing from
  /// it: workers keep polling and resume as soon as frames arrive again.
  void watch_links();

  /// Mbufs not in the mempool (held by rings, PMDs, workers).
  uint64_t mbufs_in_use() const;

  /// After close_ports(): how many mbufs a PMD still holds by design. DPDK 22.11's
  /// net_af_xdp never returns the 2048 mbufs of each rx queue's fill ring when a port
  /// closes (they go with the process); tx completions are reaped before the ports stop,
  /// so this is exact. 0 for every other PMD: any mbuf still in use there is a leak.
  uint64_t mbufs_pmd_residue_max() const;

  const bridge_config& config() const { return _cfg; }

  unsigned workers() const { return _cfg.workers; }
  /// Where frames come from (features that make frames: SIP replies).
  rte_mempool* pool() const { return _pool; }
  /// The quiescent-state domain the workers report to; features publish through it.
  const qsbr_domain& rcu() const { return *_rcu; }

 private:
  explicit bridge(const bridge_config& cfg);
  bool setup_port(int side, std::string* error);
  bool setup_packet_port(int side, std::string* error);
  void reap_tx_completions();

  bridge_config _cfg;
  rte_mempool* _pool = nullptr;
  std::array<uint16_t, 2> _port_id{};
  std::array<bool, 2> _port_started{};
  std::array<bool, 2> _port_configured{};
  std::array<bool, 2> _promisc_was_on{};
  std::array<std::atomic<bool>, 2> _link_up{};
  std::array<std::atomic<uint64_t>, 2> _link_changes{};
  std::array<std::set<int>, 2> _xsk_fds;
  std::array<std::unique_ptr<packet_port>, 2> _packet;  ///< afpacket: ports: ringbridge's own
  std::array<bool, 2> _complete_csum{};  ///< AF_XDP ports: the kernel sockets (fixed after set-up)
  std::unique_ptr<iface_tuning> _tuning;
  std::vector<std::unique_ptr<worker_counters>> _counters;
  std::vector<std::unique_ptr<worker_ctx>> _ctxs;  // read by the workers while they run
  std::unique_ptr<qsbr_domain> _rcu;
  std::vector<std::vector<stage>> _stages;  ///< per worker, in order
  std::vector<unsigned> _worker_lcores;
  std::vector<unsigned> _worker_cpus;
  std::atomic<bool> _running{false};
  bool _launched = false;
  bool _closed = false;
};

}  // namespace ringbridge::dp
