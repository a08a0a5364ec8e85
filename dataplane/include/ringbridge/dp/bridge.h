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

/// The counters of one port besides the drop reasons (RB_DP_FOREACH_DROP) and the port
/// counters (RB_DP_FOREACH_PORT_COUNTER), declared once: (field, group, metric, help).
/// Each becomes a uint64_t field of port_stats, a `field=` of the port's stats line
/// (ctl::format_stats), a metric chosen by its group (ctl::render_metrics), and is what
/// for_each_port_stat() visits (for any other report, e.g. /api/v1/status):
///   traffic — what the workers counted; ringbridge_port_<metric>_total{port} ("" = none).
///             On the stats line before the drops.
///   below   — frames lost or failed below ringbridge (PMD: rte_eth_stats; AF_XDP: the
///             kernel's XDP_STATISTICS); a sample of ringbridge_port_nic_errors_total
///             {port, kind="<metric>"}. Not part of the invariant rx = forwarded + drops.
///   link    — ringbridge_port_<metric>_total{port}; on the stats line after link_up.
/// The names are interfaces (scripts, dashboards, docs/design/counters.md): never rename.
#define RB_DP_FOREACH_PORT_STAT(_)                                                       \
  _(rx_pkts, traffic, "rx_packets", "Frames received on the port")                       \
  _(rx_bytes, traffic, "rx_bytes", "Bytes received on the port")                         \
  _(forwarded, traffic, "", "Frames received on the port and accepted by the peer port") \
  _(tx_pkts, traffic, "tx_packets", "Frames sent out of the port")                       \
  _(tx_bytes, traffic, "tx_bytes", "Bytes sent out of the port")                         \
  _(injected, traffic, "",                                                               \
    "Frames the bridge made and sent out of the port (486 / 603 / 200 replies)")         \
  _(nic_imissed, below, "missed",                                                        \
    "Frames the NIC (afpacket: the kernel socket) dropped before a worker saw them")     \
  _(nic_ierrors, below, "rx_error", "Frames the PMD failed to receive")                  \
  _(nic_oerrors, below, "tx_error", "Frames the PMD failed to send")                     \
  _(nic_rx_nombuf, below, "rx_nombuf", "Frames the PMD dropped for want of an mbuf")     \
  _(xsk_rx_ring_full, below, "xsk_rx_ring_full",                                         \
    "AF_XDP: frames dropped on a full socket rx ring (the worker fell behind)")          \
  _(xsk_fill_ring_empty, below, "xsk_fill_ring_empty",                                   \
    "AF_XDP: frames dropped with no buffer in the fill ring to receive into")            \
  _(xsk_rx_invalid, below, "xsk_rx_invalid", "AF_XDP: invalid rx descriptors")           \
  _(xsk_tx_invalid, below, "xsk_tx_invalid", "AF_XDP: invalid tx descriptors")           \
  _(link_changes, link, "link_changes", "Link up/down transitions of the port since start")

/// Where a RB_DP_FOREACH_PORT_STAT entry is reported (see there).
enum class port_stat_group : uint8_t { traffic, below, link };

/// Totals of one port, summed over workers. Drops are counted on the ingress port.
/// rx_pkts = forwarded + drops_total(); tx_pkts of one port = forwarded of the other +
/// injected of this one (docs/design/counters.md).
struct port_stats {
  std::string name;  ///< "a" / "b"
  std::string spec;  ///< the port spec as given
#define RB_DP_PORT_STAT_FIELD(field, group, metric, help) uint64_t field = 0;
  RB_DP_FOREACH_PORT_STAT(RB_DP_PORT_STAT_FIELD)
#undef RB_DP_PORT_STAT_FIELD
  std::array<uint64_t, k_drop_reasons> drops{};
  std::array<uint64_t, k_port_counters> counts{};  ///< RB_DP_FOREACH_PORT_COUNTER (ingress)
  bool complete_checksums = false;  ///< as resolved from dataplane.complete_checksums
  bool link_up = false;             ///< as watch_links() last saw it

  uint64_t drops_total() const {
    uint64_t s = 0;
    for (auto d : drops) s += d;
    return s;
  }
};

/// One RB_DP_FOREACH_PORT_STAT entry: its name (the field's), group, metric name or label
/// ("" = no metric), help text, and the field.
struct port_stat_info {
  const char* name;
  port_stat_group group;
  const char* metric;
  const char* help;
  uint64_t port_stats::*field;
};

inline constexpr port_stat_info k_port_stat_info[] = {
#define RB_DP_PORT_STAT_INFO(field, group, metric, help) \
  {#field, port_stat_group::group, metric, help, &port_stats::field},
    RB_DP_FOREACH_PORT_STAT(RB_DP_PORT_STAT_INFO)
#undef RB_DP_PORT_STAT_INFO
};

/// Calls F(const port_stat_info&, uint64_t value) for each RB_DP_FOREACH_PORT_STAT entry of
/// P, in declaration order. Pure; any thread. What reporters (stats line, metrics, the REST
/// status) iterate instead of naming fields.
template <typename F>
void for_each_port_stat(const port_stats& p, F&& f) {
  for (const port_stat_info& i : k_port_stat_info) f(i, p.*(i.field));
}

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
