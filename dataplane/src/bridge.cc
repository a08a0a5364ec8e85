// SPDX-License-Identifier: BSD-3-Clause
// Bridge set-up and tear-down: mempool, port configuration, worker launch, stats.
#include "ringbridge/dp/bridge.h"

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <sys/stat.h>

#include <cstdio>
#include <cstring>

#include "packet_port.h"
#include "ringbridge/common/log.h"
#include "ringbridge/dp/iface_tuning.h"
#include "ringbridge/dp/mbuf_pool.h"
#include "worker.h"
#include "xsk_diag.h"

namespace ringbridge::dp {

namespace {

// A Toeplitz key made of one repeated 16-bit word hashes (src, dst) and (dst, src) alike,
// so both directions of a flow land on the same queue index — the same worker.
uint8_t k_symmetric_rss_key[52] = {
    0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d,
    0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
    0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d,
    0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
};

std::string err_text(int rc) {
  return rte_strerror(rc < 0 ? -rc : rc);
}

// Link state of a kernel interface: administratively up and with a carrier. (The
// AF_XDP and AF_PACKET PMDs report "up" from start to stop whatever the kernel says.)
bool iface_link_up(const std::string& iface) {
  FILE* f = std::fopen(("/sys/class/net/" + iface + "/carrier").c_str(), "r");
  if (f == nullptr) return false;
  int carrier = 0;
  if (std::fscanf(f, "%d", &carrier) != 1) carrier = 0;  // EINVAL while the link is down
  std::fclose(f);
  return carrier == 1;
}

// A virtual interface (veth, tap, bridge, macvlan...) has no device behind it in sysfs.
// Those are where senders leave checksums and segmentation to "hardware" that never comes.
bool iface_is_virtual(const std::string& iface) {
  struct stat st {};
  return stat(("/sys/class/net/" + iface + "/device").c_str(), &st) != 0;
}

bool iface_is_promiscuous(const std::string& iface) {
  unsigned flags = 0;
  FILE* f = std::fopen(("/sys/class/net/" + iface + "/flags").c_str(), "r");
  if (f == nullptr) return false;
  if (std::fscanf(f, "%x", &flags) != 1) flags = 0;
  std::fclose(f);
  return (flags & 0x100) != 0;  // IFF_PROMISC
}

}  // namespace

bridge::bridge(const bridge_config& cfg)
    : _cfg(cfg), _tuning(std::make_unique<iface_tuning>(cfg.tuning_record)) {}

std::unique_ptr<bridge> bridge::create(const bridge_config& cfg, std::string* error) {
  if (cfg.burst == 0 || cfg.burst > k_max_burst) {
    *error = "dataplane.burst must be between 1 and " + std::to_string(k_max_burst);
    return nullptr;
  }
  std::unique_ptr<bridge> b(new bridge(cfg));
  // A record left by a run that died holds the true originals; adopt it before touching
  // the interfaces, so its leftovers are not mistaken for them.
  if (!b->_tuning->load(error)) return nullptr;
  // Packed objects unless a NIC DMAs into them: net_af_xdp needs them back to back
  // (ringbridge/dp/mbuf_pool.h), the kernel-interface ports do no DMA at all.
  bool any_pci = false, any_xdp = false;
  for (const port_spec& s : cfg.specs) {
    any_pci |= s.kind == port_kind::pci;
    any_xdp |= s.kind == port_kind::af_xdp;
  }
  std::string pool_error;
  b->_pool = create_mbuf_pool(
      "rb_mbufs", cfg.mbufs, 256,
      static_cast<uint16_t>(cfg.geometry.mbuf_data_room + RTE_PKTMBUF_HEADROOM),
      static_cast<int>(rte_socket_id()), !any_pci, &pool_error);
  if (b->_pool == nullptr) {
    *error = "cannot create the mbuf pool (" + std::to_string(cfg.mbufs) + " mbufs of " +
             std::to_string(cfg.geometry.mbuf_data_room) + " bytes): " + pool_error +
             "; give DPDK more memory (eal.memory_mb or hugepages) or fewer dataplane.mbufs";
    return nullptr;
  }
  if (std::string why; any_xdp && !pool_fits_af_xdp_umem(b->_pool, &why)) {
    *error = "the mbuf pool does not fit the AF_XDP UMEM: " + why +
             (any_pci ? "; an xdp: port cannot share the pool with a pci: port, use "
                        "afpacket: for the kernel interface"
                      : "; give DPDK more memory (eal.memory_mb or hugepages)");
    return nullptr;
  }
  for (int side = 0; side < 2; side++) {
    if (!b->setup_port(side, error)) return nullptr;  // ~bridge undoes what was done
  }
  b->_tuning->restore_unclaimed();  // a dead run's changes this configuration does not make
  for (unsigned w = 0; w < cfg.workers; w++)
    b->_counters.push_back(std::make_unique<worker_counters>());
  b->_rcu = std::make_unique<qsbr_domain>(cfg.workers);
  b->_stages.resize(cfg.workers);
  return b;
}

bool bridge::setup_port(int side, std::string* error) {
  const port_spec& spec = _cfg.specs[side];
  const std::string& name = _cfg.port_names[side];
  const char side_name = side == side_a ? 'a' : 'b';
  auto fail = [&](const std::string& msg) {
    *error = std::string("port ") + side_name + " ('" + spec.text + "'): " + msg;
    return false;
  };
  switch (_cfg.complete_checksums) {
    case csum_mode::on: _complete_csum[side] = true; break;
    case csum_mode::off: _complete_csum[side] = false; break;
    case csum_mode::automatic:
      _complete_csum[side] = spec.is_kernel_iface() && iface_is_virtual(spec.iface);
      break;
  }
  if (spec.kind == port_kind::af_packet) return setup_packet_port(side, error);

  uint16_t id;
  if (rte_eth_dev_get_port_by_name(name.c_str(), &id) != 0)
    return fail("DPDK did not create device " + name + " (see the EAL/PMD messages above for why)");
  _port_id[side] = id;

  rte_eth_dev_info info{};
  int rc = rte_eth_dev_info_get(id, &info);
  if (rc != 0) return fail("rte_eth_dev_info_get: " + err_text(rc));
  const uint16_t nq = static_cast<uint16_t>(_cfg.workers);
  if (info.max_rx_queues < nq || info.max_tx_queues < nq)
    return fail("supports " + std::to_string(std::min(info.max_rx_queues, info.max_tx_queues)) +
                " queue(s), " + std::to_string(nq) + " workers need one each; lower --workers");

  if (spec.kind == port_kind::af_xdp && _cfg.af_xdp_tune_napi) {
    std::string why;
    if (!tune_af_xdp_napi(*_tuning, spec.iface, _cfg.af_xdp_gro_flush_us, &why))
      RB_LOG_WARN(
          "port %c: AF_XDP busy polling left untuned (%s); expect lower throughput. "
          "The attributes belong to root: run `ringbridge --prepare` as root before "
          "starting (the systemd unit does), or set dataplane.af_xdp_tune_napi = false",
          side_name, why.c_str());
  }

  rte_eth_conf conf{};
  if (spec.kind == port_kind::pci) {
    // Only real NICs get the configured MTU; for kernel interfaces the kernel owns it.
    const uint32_t mtu = _cfg.geometry.max_frame - 22;
    conf.rxmode.mtu = std::min<uint32_t>(mtu, info.max_mtu);
    if (conf.rxmode.mtu < mtu)
      RB_LOG_WARN("port %c: NIC supports MTU %u, less than the configured %u", side_name,
                  conf.rxmode.mtu, mtu);
    if (_cfg.geometry.max_frame > _cfg.geometry.mbuf_data_room &&
        (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER))
      conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
  }
  if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS)
    conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
  if (nq > 1 && info.flow_type_rss_offloads != 0) {
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_hf =
        (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP) & info.flow_type_rss_offloads;
    if (info.hash_key_size == 40 || info.hash_key_size == 52) {
      conf.rx_adv_conf.rss_conf.rss_key = k_symmetric_rss_key;
      conf.rx_adv_conf.rss_conf.rss_key_len = info.hash_key_size;
    }
  }
  rc = rte_eth_dev_configure(id, nq, nq, &conf);
  if (rc != 0) return fail("rte_eth_dev_configure: " + err_text(rc));
  _port_configured[side] = true;

  uint16_t nb_rx = _cfg.rx_desc, nb_tx = _cfg.tx_desc;
  rc = rte_eth_dev_adjust_nb_rx_tx_desc(id, &nb_rx, &nb_tx);
  if (rc != 0) return fail("rte_eth_dev_adjust_nb_rx_tx_desc: " + err_text(rc));
  // The AF_XDP sockets this port's queues create: their kernel drop counters (xsk_diag.h).
  const std::set<int> fds_before = spec.kind == port_kind::af_xdp ? socket_fds() : std::set<int>{};
  const int socket = rte_eth_dev_socket_id(id);
  const unsigned sock = socket < 0 ? rte_socket_id() : static_cast<unsigned>(socket);
  for (uint16_t q = 0; q < nq; q++) {
    rte_eth_rxconf rxc = info.default_rxconf;
    rxc.offloads = conf.rxmode.offloads;
    rc = rte_eth_rx_queue_setup(id, q, nb_rx, sock, &rxc, _pool);
    if (rc != 0) return fail("rx queue " + std::to_string(q) + " setup: " + err_text(rc));
    rte_eth_txconf txc = info.default_txconf;
    txc.offloads = conf.txmode.offloads;
    rc = rte_eth_tx_queue_setup(id, q, nb_tx, sock, &txc);
    if (rc != 0) return fail("tx queue " + std::to_string(q) + " setup: " + err_text(rc));
  }

  // A bridge must see frames for every MAC address. Remember the previous state so that
  // tear-down leaves the interface as it found it. For kernel interfaces the PMD's own
  // flag starts at 0 whatever the interface says, so ask the kernel.
  // Enable it even when it is on already: rte_eth_dev_start() re-applies the PMD's flag.
  // The kernel's flag is recorded first, so that a successor can clear it if we die.
  rc = rte_eth_promiscuous_get(id);
  _promisc_was_on[side] = rc == 1;
  if (spec.is_kernel_iface()) {
    std::string why;
    if (_tuning->note_promisc(spec.iface, &why)) {
      _promisc_was_on[side] = _tuning->original_promisc(spec.iface).value_or(false);
    } else {
      RB_LOG_WARN("port %c: %s; the promiscuous flag is restored at a clean exit only", side_name,
                  why.c_str());
      _promisc_was_on[side] = iface_is_promiscuous(spec.iface);
    }
  }
  rc = rte_eth_promiscuous_enable(id);
  if (rc != 0 && rc != -ENOTSUP) return fail("cannot enable promiscuous mode: " + err_text(rc));

  rc = rte_eth_dev_start(id);
  if (rc != 0) return fail("rte_eth_dev_start: " + err_text(rc));
  _port_started[side] = true;
  if (spec.kind == port_kind::af_xdp) _xsk_fds[side] = new_xdp_sockets(fds_before, socket_fds());

  rte_eth_link link{};
  rte_eth_link_get_nowait(id, &link);
  _link_up[side].store(spec.is_kernel_iface() ? iface_link_up(spec.iface) : link.link_status != 0);
  RB_LOG_NOTICE(
      "port %c: %s (%s driver %s), %u queue pair(s) of %u/%u descriptors, checksum completion "
      "%s, link %s",
      side_name, spec.text.c_str(), port_kind_name(spec.kind), info.driver_name, nq, nb_rx, nb_tx,
      _complete_csum[side] ? "on" : "off", _link_up[side].load() ? "up" : "down");
  return true;
}

bool bridge::setup_packet_port(int side, std::string* error) {
  const port_spec& spec = _cfg.specs[side];
  const char side_name = side == side_a ? 'a' : 'b';
  packet_port_config pc;
  pc.iface = spec.iface;
  pc.queues = _cfg.workers;
  pc.rx_frames = _cfg.rx_desc;
  pc.tx_frames = _cfg.tx_desc;
  pc.max_frame = _cfg.geometry.max_frame;
  pc.mbuf_data_room = _cfg.geometry.mbuf_data_room;
  pc.pool = _pool;
  pc.complete_checksums = _complete_csum[side];
  std::string why;
  _packet[side] = packet_port::open(pc, &why);
  if (!_packet[side]) {
    *error = std::string("port ") + side_name + " ('" + spec.text + "'): " + why;
    return false;
  }
  _port_id[side] = UINT16_MAX;  // no DPDK device
  _port_started[side] = true;
  _link_up[side].store(iface_link_up(spec.iface));
  RB_LOG_NOTICE(
      "port %c: %s (af_packet, ringbridge's own rings), %u queue pair(s) of %u/%u slots, "
      "checksum completion %s, link %s",
      side_name, spec.text.c_str(), _cfg.workers, _cfg.rx_desc, _cfg.tx_desc,
      _complete_csum[side] ? "on" : "off", _link_up[side].load() ? "up" : "down");
  return true;
}

bool bridge::add_stage(unsigned w, const stage& s, std::string* error) {
  if (w >= _stages.size() || _stages[w].size() >= k_max_stages || s.run == nullptr) {
    *error = "cannot add stage " + std::string(s.name ? s.name : "?") + " to worker " +
             std::to_string(w) + " (at most " + std::to_string(k_max_stages) + " stages)";
    return false;
  }
  _stages[w].push_back(s);
  return true;
}

bool bridge::start(std::string* error) {
  std::vector<unsigned> lcores;
  unsigned lc;
  RTE_LCORE_FOREACH_WORKER(lc) {
    lcores.push_back(lc);
  }
  if (lcores.size() < _cfg.workers) {
    *error = std::to_string(_cfg.workers) + " workers need as many worker lcores, EAL has " +
             std::to_string(lcores.size());
    return false;
  }
  _ctxs.clear();
  const uint64_t flush_tsc = rte_get_tsc_hz() * _cfg.tx_flush_us / 1000000;
  _running.store(true);
  for (unsigned w = 0; w < _cfg.workers; w++) {
    worker_ctx& c = *_ctxs.emplace_back(std::make_unique<worker_ctx>());
    c.index = w;
    c.port = _port_id;
    for (int s = 0; s < 2; s++) {
      c.pq[s] = _packet[s] ? _packet[s]->queue(w) : nullptr;
      // Ports that say nothing about checksums get them checked (packet ports know).
      c.csum_check[s] = _complete_csum[s] && !_packet[s];
    }
    c.queue = static_cast<uint16_t>(w);
    c.burst = _cfg.burst;
    c.tx_retries = _cfg.tx_retries;
    c.max_frame = _cfg.geometry.max_frame;
    c.flush_tsc = flush_tsc;
    c.counters = _counters[w].get();
    c.running = &_running;
    for (const stage& st : _stages[w]) c.stages[c.n_stages++] = st;
    c.rcu = _rcu.get();
    _worker_lcores.push_back(lcores[w]);
    rte_cpuset_t set = rte_lcore_cpuset(lcores[w]);
    unsigned cpu = 0;
    while (cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &set)) cpu++;
    _worker_cpus.push_back(cpu);
    int rc = rte_eal_remote_launch(worker_main, &c, lcores[w]);
    if (rc != 0) {
      *error = "cannot launch worker " + std::to_string(w) + " on lcore " +
               std::to_string(lcores[w]) + ": " + err_text(rc);
      stop();
      return false;
    }
    _launched = true;
  }
  RB_LOG_NOTICE("bridging with %u worker(s), burst %u, tx flush %u us", _cfg.workers, _cfg.burst,
                _cfg.tx_flush_us);
  return true;
}

void bridge::stop() {
  _running.store(false);
  if (_launched) {
    rte_eal_mp_wait_lcore();
    _launched = false;
    reap_tx_completions();
  }
  for (int side = 0; side < 2; side++) {
    if (!_port_started[side]) continue;
    if (_packet[side]) {
      _packet[side]->release_stashed();  // segments a worker had not taken yet
      _port_started[side] = false;
      continue;
    }
    int rc = rte_eth_dev_stop(_port_id[side]);
    if (rc != 0)
      RB_LOG_WARN("port %c: stop failed: %s", side == 0 ? 'a' : 'b', err_text(rc).c_str());
    _port_started[side] = false;
  }
}

void bridge::close_ports() {
  stop();
  if (_closed) return;
  for (int side = 0; side < 2; side++) {
    _packet[side].reset();  // sockets closed: the promiscuous membership ends with them
    if (!_port_configured[side]) continue;
    if (!_promisc_was_on[side]) rte_eth_promiscuous_disable(_port_id[side]);
    _xsk_fds[side].clear();  // closed with the port
    int rc = rte_eth_dev_close(_port_id[side]);
    if (rc != 0)
      RB_LOG_WARN("port %c: close failed: %s", side == 0 ? 'a' : 'b', err_text(rc).c_str());
    _port_configured[side] = false;
  }
  _tuning->restore();
  _closed = true;
}

bridge::~bridge() {
  close_ports();
  if (_pool != nullptr) rte_mempool_free(_pool);
}

uint64_t bridge::mbufs_in_use() const {
  return _pool == nullptr ? 0 : rte_mempool_in_use_count(_pool);
}

void bridge::reap_tx_completions() {
  // net_af_xdp frees a sent mbuf only when it reaps the completion ring, which it does at
  // the start of each tx burst. An empty burst after the last real one returns what the
  // kernel has completed since; it must happen before rte_eth_dev_stop(), which swaps the
  // burst functions for dummies. Repeated until nothing more comes back (veth completes
  // synchronously; a NIC may take a moment).
  bool af_xdp = false;
  for (const auto& spec : _cfg.specs) af_xdp |= spec.kind == port_kind::af_xdp;
  if (!af_xdp || _pool == nullptr) return;
  uint64_t before = mbufs_in_use();
  for (int round = 0; round < 50; round++) {
    for (int side = 0; side < 2; side++)
      if (_port_started[side] && _cfg.specs[side].kind == port_kind::af_xdp)
        for (uint16_t q = 0; q < _cfg.workers; q++) rte_eth_tx_burst(_port_id[side], q, nullptr, 0);
    const uint64_t now = mbufs_in_use();
    if (now == before && round > 0) break;
    before = now;
    rte_delay_us_sleep(1000);
  }
}

uint64_t bridge::mbufs_pmd_residue_max() const {
  // net_af_xdp (22.11, zero-copy-with-mempool build) fills each rx queue's fill ring with
  // XSK_RING_CONS__DEFAULT_NUM_DESCS (2048) mbufs at queue set-up, replaces every mbuf it
  // receives one for one, and frees none of them at close. With the tx completions reaped
  // (reap_tx_completions), that is exactly what it still holds.
  uint64_t n = 0;
  for (const auto& spec : _cfg.specs)
    if (spec.kind == port_kind::af_xdp) n += uint64_t(_cfg.workers) * 2048;
  return n;
}

void bridge::watch_links() {
  for (int side = 0; side < 2; side++) {
    if (!_port_started[side]) continue;
    const port_spec& spec = _cfg.specs[side];
    bool up;
    if (spec.is_kernel_iface()) {
      up = iface_link_up(spec.iface);
    } else {
      rte_eth_link link{};
      if (rte_eth_link_get_nowait(_port_id[side], &link) != 0) continue;
      up = link.link_status != 0;
    }
    if (up == _link_up[side].load()) continue;
    _link_up[side].store(up);
    _link_changes[side].fetch_add(1);
    RB_LOG_NOTICE("port %c (%s): link %s", side == 0 ? 'a' : 'b', _cfg.specs[side].text.c_str(),
                  up ? "up" : "down");
  }
}

bridge_stats bridge::stats() const {
  bridge_stats st;
  for (int side = 0; side < 2; side++) {
    st.ports[side].name = side == 0 ? "a" : "b";
    st.ports[side].spec = _cfg.specs[side].text;
    st.ports[side].link_up = _link_up[side].load();
    st.ports[side].link_changes = _link_changes[side].load();
    st.ports[side].complete_checksums = _complete_csum[side];
  }
  for (size_t w = 0; w < _counters.size(); w++) {
    const worker_counters& c = *_counters[w];
    worker_stats ws;
    ws.lcore = w < _worker_lcores.size() ? _worker_lcores[w] : 0;
    ws.cpu = w < _worker_cpus.size() ? _worker_cpus[w] : 0;
    for (int side = 0; side < 2; side++) {
      const direction_counters& d = c.dir[side];
      port_stats& in = st.ports[side];
      port_stats& out = st.ports[1 - side];
      in.rx_pkts += d.rx_pkts.get();
      in.rx_bytes += d.rx_bytes.get();
      in.forwarded += d.tx_pkts.get() - d.injected.get();
      out.tx_pkts += d.tx_pkts.get();
      out.injected += d.injected.get();
      out.tx_bytes += d.tx_bytes.get();
      for (size_t r = 0; r < k_drop_reasons; r++) {
        in.drops[r] += d.drops[r].get();
        ws.drops += d.drops[r].get();
      }
      for (size_t k = 0; k < k_port_counters; k++) in.counts[k] += d.port_counts[k].get();
      ws.rx_pkts += d.rx_pkts.get();
      ws.tx_pkts += d.tx_pkts.get();
    }
    ws.busy_polls = c.busy_polls.get();
    ws.idle_polls = c.idle_polls.get();
    st.workers.push_back(ws);
  }
  if (!_closed) {
    for (int side = 0; side < 2; side++) {
      if (_packet[side]) st.ports[side].nic_imissed = _packet[side]->stats().kernel_drops;
      if (!_port_configured[side]) continue;
      rte_eth_stats es{};
      if (rte_eth_stats_get(_port_id[side], &es) == 0) {
        st.ports[side].nic_imissed = es.imissed;
        st.ports[side].nic_ierrors = es.ierrors;
        st.ports[side].nic_oerrors = es.oerrors;
        st.ports[side].nic_rx_nombuf = es.rx_nombuf;
      }
      if (!_xsk_fds[side].empty()) {
        xsk_drops x;
        add_xsk_drops(_xsk_fds[side], &x);
        st.ports[side].xsk_rx_ring_full = x.rx_ring_full;
        st.ports[side].xsk_fill_ring_empty = x.fill_ring_empty;
        st.ports[side].xsk_rx_invalid = x.rx_invalid;
        st.ports[side].xsk_tx_invalid = x.tx_invalid;
      }
    }
  }
  if (_pool != nullptr) {
    st.mbufs_total = _pool->size;
    st.mbufs_in_use = rte_mempool_in_use_count(_pool);
  }
  return st;
}

}  // namespace ringbridge::dp
