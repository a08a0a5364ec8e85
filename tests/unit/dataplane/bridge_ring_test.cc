// SPDX-License-Identifier: BSD-3-Clause
// The real bridge and worker loop over DPDK net_ring ports: order, byte-exactness,
// timed flush, oversize and tx-refused drops, the rx = tx + drops invariant, no leaks.
#include <gtest/gtest.h>

#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "ringbridge/dp/bridge.h"
#include "ringbridge/dp/eal.h"
#include "ringbridge/dp/mbuf_pool.h"
#include "worker_fastpath.h"

namespace ringbridge::dp {
namespace {

eal_plan g_plan;

class dpdk_env : public ::testing::Environment {
 public:
  void SetUp() override {
    host_facts h = probe_host();
    g_plan.file_prefix = "rb-unit-" + std::to_string(h.pid);
    g_plan.runtime_dir = h.runtime_base + "/" + g_plan.file_prefix;
    std::string lcores = "0@" + std::to_string(h.cpus[0]) + ",1@" +
                         std::to_string(h.cpus.size() > 1 ? h.cpus[1] : h.cpus[0]);
    g_plan.args = {"bridge_ring_test", "--no-huge",        "--no-shconf", "-m",   "256",
                   "--file-prefix",    g_plan.file_prefix, "--lcores",    lcores, "--no-pci",
                   "--no-telemetry",   "--log-level",      "warning"};
    std::string err;
    ASSERT_TRUE(eal_start(g_plan, &err)) << err;
  }
  void TearDown() override { eal_stop(g_plan, true); }
};

const auto* g_env = ::testing::AddGlobalTestEnvironment(new dpdk_env);

/// Two ring ports and the rings behind them, named uniquely per test.
struct ring_pair {
  rte_ring* rx[2];  // what the bridge receives on side a / b (the test enqueues here)
  rte_ring* tx[2];  // what the bridge sends out of side a / b (the test dequeues here)
  std::string names[2];

  ring_pair(const std::string& tag, unsigned tx_size_b = 4096) {
    for (int s = 0; s < 2; s++) {
      std::string base = tag + (s == 0 ? "a" : "b");
      rx[s] = rte_ring_create((base + "rx").c_str(), 4096, SOCKET_ID_ANY,
                              RING_F_SP_ENQ | RING_F_SC_DEQ);
      tx[s] = rte_ring_create((base + "tx").c_str(), s == 1 ? tx_size_b : 4096, SOCKET_ID_ANY,
                              RING_F_SP_ENQ | RING_F_SC_DEQ);
      EXPECT_NE(rx[s], nullptr);
      EXPECT_NE(tx[s], nullptr);
      EXPECT_GE(rte_eth_from_rings(base.c_str(), &rx[s], 1, &tx[s], 1, SOCKET_ID_ANY), 0);
      names[s] = "net_ring_" + base;
    }
  }
  ~ring_pair() {
    for (int s = 0; s < 2; s++) {
      rte_mbuf* m = nullptr;
      while (rte_ring_dequeue(tx[s], reinterpret_cast<void**>(&m)) == 0) rte_pktmbuf_free(m);
      while (rte_ring_dequeue(rx[s], reinterpret_cast<void**>(&m)) == 0) rte_pktmbuf_free(m);
      rte_ring_free(rx[s]);
      rte_ring_free(tx[s]);
    }
  }
};

struct test_pool {
  rte_mempool* mp;
  explicit test_pool(const char* name, unsigned n = 8191) {
    mp = rte_pktmbuf_pool_create(name, n, 0, 0, 10240, SOCKET_ID_ANY);
    EXPECT_NE(mp, nullptr);
  }
  ~test_pool() {
    EXPECT_EQ(rte_mempool_in_use_count(mp), 0u) << "test mbufs leaked";
    rte_mempool_free(mp);
  }
};

/// A frame whose bytes encode (side, seq) so order and content can be checked.
rte_mbuf* make_frame(rte_mempool* mp, int side, uint32_t seq, uint32_t len) {
  rte_mbuf* m = rte_pktmbuf_alloc(mp);
  if (m == nullptr) return nullptr;
  auto* p = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, static_cast<uint16_t>(len)));
  for (uint32_t i = 0; i < len; i++) p[i] = static_cast<uint8_t>(seq * 7 + i + side);
  std::memcpy(p, &seq, sizeof(seq));
  p[4] = static_cast<uint8_t>(side);
  return m;
}

bool frame_is(const rte_mbuf* m, int side, uint32_t seq, uint32_t len) {
  if (rte_pktmbuf_pkt_len(m) != len) return false;
  const auto* p = rte_pktmbuf_mtod(m, const uint8_t*);
  uint32_t got;
  std::memcpy(&got, p, sizeof(got));
  if (got != seq || p[4] != side) return false;
  for (uint32_t i = 5; i < len; i++)
    if (p[i] != static_cast<uint8_t>(seq * 7 + i + side)) return false;
  return true;
}

bridge_config config_for(const ring_pair& rp) {
  bridge_config c;
  for (int s = 0; s < 2; s++) {
    c.port_names[s] = rp.names[s];
    c.specs[s].text = rp.names[s];
    c.specs[s].kind = port_kind::null;
  }
  c.workers = 1;
  c.mbufs = 2047;
  c.rx_desc = 512;
  c.tx_desc = 512;
  c.geometry = frame_geometry_for_mtu(1500);
  return c;
}

template <typename Pred>
bool wait_for(Pred p, int ms = 5000) {
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < end) {
    if (p()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return p();
}

void expect_invariant(const bridge_stats& st) {
  for (int s = 0; s < 2; s++) {
    const port_stats& p = st.ports[s];
    EXPECT_EQ(p.rx_pkts, p.forwarded + p.drops_total()) << "port " << p.name;
    EXPECT_EQ(p.forwarded, st.ports[1 - s].tx_pkts);
  }
}

TEST(bridge_ring, forwards_both_ways_in_order_byte_for_byte) {
  test_pool pool("t_fwd");
  ring_pair rp("f");
  std::string err;
  auto br = bridge::create(config_for(rp), &err);
  ASSERT_TRUE(br) << err;
  ASSERT_TRUE(br->start(&err)) << err;

  const uint32_t n = 3000;
  const uint32_t lens[] = {60, 14, 1522, 64, 333, 1, 1000};
  uint32_t sent[2] = {0, 0};
  uint64_t bytes[2] = {0, 0};
  // Interleave the two directions and feed in chunks so the rings never overflow.
  for (uint32_t seq = 0; seq < n; seq++) {
    for (int s = 0; s < 2; s++) {
      uint32_t len = lens[(seq + s) % 7];
      rte_mbuf* m = make_frame(pool.mp, s, seq, len);
      ASSERT_NE(m, nullptr);
      while (rte_ring_enqueue(rp.rx[s], m) != 0)
        std::this_thread::sleep_for(std::chrono::microseconds(50));
      sent[s]++;
      bytes[s] += len;
    }
  }
  std::vector<rte_mbuf*> out[2];
  ASSERT_TRUE(wait_for([&] {
    for (int s = 0; s < 2; s++) {
      rte_mbuf* m = nullptr;
      while (rte_ring_dequeue(rp.tx[s], reinterpret_cast<void**>(&m)) == 0) out[s].push_back(m);
    }
    return out[0].size() == n && out[1].size() == n;
  })) << "a got "
      << out[0].size() << ", b got " << out[1].size();
  br->stop();
  // out[1] = frames that came in on side a, in order; out[0] the reverse direction.
  for (int s = 0; s < 2; s++) {
    const auto& got = out[1 - s];
    for (uint32_t seq = 0; seq < n; seq++)
      ASSERT_TRUE(frame_is(got[seq], s, seq, lens[(seq + s) % 7]))
          << "side " << s << " seq " << seq;
    for (auto* m : got) rte_pktmbuf_free(m);
  }
  bridge_stats st = br->stats();
  EXPECT_EQ(st.ports[0].rx_pkts, n);
  EXPECT_EQ(st.ports[1].rx_pkts, n);
  EXPECT_EQ(st.ports[0].rx_bytes, bytes[0]);
  EXPECT_EQ(st.ports[1].tx_bytes, bytes[0]);
  EXPECT_EQ(st.ports[0].drops_total(), 0u);
  expect_invariant(st);
  ASSERT_EQ(st.workers.size(), 1u);
  EXPECT_EQ(st.workers[0].rx_pkts, 2 * n);
  EXPECT_GT(st.workers[0].busy_polls, 0u);
  br->close_ports();
  EXPECT_EQ(br->mbufs_in_use(), 0u);
}

TEST(bridge_ring, oversize_frames_are_dropped_and_counted) {
  test_pool pool("t_big");
  ring_pair rp("o");
  bridge_config cfg = config_for(rp);
  std::string err;
  auto br = bridge::create(cfg, &err);
  ASSERT_TRUE(br) << err;
  ASSERT_TRUE(br->start(&err)) << err;
  const uint32_t max = cfg.geometry.max_frame;
  ASSERT_EQ(rte_ring_enqueue(rp.rx[0], make_frame(pool.mp, 0, 0, max)), 0);
  ASSERT_EQ(rte_ring_enqueue(rp.rx[0], make_frame(pool.mp, 0, 1, max + 1)), 0);
  ASSERT_EQ(rte_ring_enqueue(rp.rx[0], make_frame(pool.mp, 0, 2, 9000)), 0);
  ASSERT_EQ(rte_ring_enqueue(rp.rx[0], make_frame(pool.mp, 0, 3, 60)), 0);
  ASSERT_TRUE(wait_for([&] { return br->stats().ports[0].rx_pkts == 4; }));
  br->stop();
  bridge_stats st = br->stats();
  EXPECT_EQ(st.ports[0].drops[static_cast<size_t>(drop_reason::oversize)], 2u);
  EXPECT_EQ(st.ports[1].tx_pkts, 2u);
  expect_invariant(st);
  rte_mbuf* m = nullptr;
  ASSERT_EQ(rte_ring_dequeue(rp.tx[1], reinterpret_cast<void**>(&m)), 0);
  EXPECT_TRUE(frame_is(m, 0, 0, max));
  rte_pktmbuf_free(m);
  ASSERT_EQ(rte_ring_dequeue(rp.tx[1], reinterpret_cast<void**>(&m)), 0);
  EXPECT_TRUE(frame_is(m, 0, 3, 60));
  rte_pktmbuf_free(m);
}

TEST(bridge_ring, a_full_egress_port_costs_counted_drops_not_a_stall) {
  test_pool pool("t_full");
  ring_pair rp("r", 256);  // side b can take 255 frames, and nobody drains it
  bridge_config cfg = config_for(rp);
  cfg.tx_retries = 3;
  std::string err;
  auto br = bridge::create(cfg, &err);
  ASSERT_TRUE(br) << err;
  ASSERT_TRUE(br->start(&err)) << err;
  const uint32_t n = 2000;
  for (uint32_t seq = 0; seq < n; seq++) {
    rte_mbuf* m = make_frame(pool.mp, 0, seq, 128);
    while (rte_ring_enqueue(rp.rx[0], m) != 0)
      std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  // The other direction keeps flowing while b is stuck.
  for (uint32_t seq = 0; seq < 100; seq++)
    ASSERT_EQ(rte_ring_enqueue(rp.rx[1], make_frame(pool.mp, 1, seq, 64)), 0);
  ASSERT_TRUE(wait_for(
      [&] { return br->stats().ports[0].rx_pkts == n && rte_ring_count(rp.tx[0]) == 100; }));
  br->stop();
  bridge_stats st = br->stats();
  EXPECT_EQ(st.ports[1].tx_pkts, 255u);
  EXPECT_EQ(st.ports[0].drops[static_cast<size_t>(drop_reason::tx_refused)], n - 255);
  expect_invariant(st);
  // What did get through is the head of the stream, in order.
  for (uint32_t seq = 0; seq < 255; seq++) {
    rte_mbuf* m = nullptr;
    ASSERT_EQ(rte_ring_dequeue(rp.tx[1], reinterpret_cast<void**>(&m)), 0);
    ASSERT_TRUE(frame_is(m, 0, seq, 128)) << seq;
    rte_pktmbuf_free(m);
  }
}

/// poll_once() stepped by hand on ring ports (no worker thread): when frames leave.
class fastpath : public ::testing::Test {
 protected:
  void SetUp() override {
    static int n = 0;
    tag = "p" + std::to_string(n++);
    rp = std::make_unique<ring_pair>(tag);
    for (int s = 0; s < 2; s++) {
      uint16_t id;
      ASSERT_EQ(rte_eth_dev_get_port_by_name(rp->names[s].c_str(), &id), 0);
      rte_eth_conf conf{};
      ASSERT_EQ(rte_eth_dev_configure(id, 1, 1, &conf), 0);
      ASSERT_EQ(rte_eth_rx_queue_setup(id, 0, 512, SOCKET_ID_ANY, nullptr, pool.mp), 0);
      ASSERT_EQ(rte_eth_tx_queue_setup(id, 0, 512, SOCKET_ID_ANY, nullptr), 0);
      ASSERT_EQ(rte_eth_dev_start(id), 0);
      w.port[s] = id;
    }
    w.counters = &counters;
    w.running = &running;
    w.flush_tsc = UINT64_MAX;  // the timer never fires unless a test says so
  }
  void TearDown() override {
    for (int s = 0; s < 2; s++) {
      rte_eth_dev_stop(w.port[s]);
      rte_eth_dev_close(w.port[s]);
    }
    rp.reset();
  }
  void feed(int side, uint32_t first, uint32_t n) {
    for (uint32_t i = 0; i < n; i++)
      ASSERT_EQ(rte_ring_enqueue(rp->rx[side], make_frame(pool.mp, side, first + i, 64)), 0);
  }
  unsigned out(int side) { return rte_ring_count(rp->tx[side]); }

  test_pool pool{"t_fp"};
  std::string tag;
  std::unique_ptr<ring_pair> rp;
  worker_counters counters;
  std::atomic<bool> running{true};
  worker_ctx w;
};

// Less than a burst in the rx queue: it is drained, nothing more to batch with, so the
// frames leave in the poll that received them (they used to wait for an empty poll).
TEST_F(fastpath, a_partial_burst_leaves_in_the_poll_that_drained_its_queue) {
  worker_state st(w);
  feed(0, 0, 3);
  EXPECT_TRUE(poll_once(w, st));
  EXPECT_EQ(out(1), 3u);
  EXPECT_EQ(st.txb[0].count, 0);
  feed(0, 3, 31);  // one short of a burst: still sent at once
  poll_once(w, st);
  EXPECT_EQ(out(1), 34u);
}

TEST_F(fastpath, full_bursts_leave_at_once_and_the_rest_when_the_queue_drains) {
  worker_state st(w);
  feed(0, 0, 72);  // burst 32: two full tx bursts, then 8
  poll_once(w, st);
  EXPECT_EQ(out(1), 32u);
  poll_once(w, st);
  EXPECT_EQ(out(1), 64u);
  poll_once(w, st);
  EXPECT_EQ(out(1), 72u);
}

TEST_F(fastpath, a_busy_queue_is_batched_and_the_timer_bounds_the_wait) {
  worker_state st(w);
  feed(0, 0, 31);
  ASSERT_EQ(rte_ring_enqueue(rp->rx[0], make_frame(pool.mp, 0, 31, w.max_frame + 1)), 0);
  poll_once(w, st);  // a full burst: the queue may not be drained, keep batching
  EXPECT_EQ(out(1), 0u);
  EXPECT_EQ(st.txb[0].count, 31);
  feed(0, 32, 1);  // the next poll drains the queue: everything goes
  poll_once(w, st);
  EXPECT_EQ(out(1), 32u);

  feed(0, 40, 31);
  ASSERT_EQ(rte_ring_enqueue(rp->rx[0], make_frame(pool.mp, 0, 71, w.max_frame + 1)), 0);
  w.flush_tsc = 0;  // any buffered frame is old enough: the timer sends them now
  poll_once(w, st);
  EXPECT_EQ(out(1), 63u);
}

TEST_F(fastpath, drain_sends_what_is_buffered_when_stopping) {
  worker_state st(w);
  feed(1, 0, 31);
  ASSERT_EQ(rte_ring_enqueue(rp->rx[1], make_frame(pool.mp, 1, 31, w.max_frame + 1)), 0);
  poll_once(w, st);
  EXPECT_EQ(out(0), 0u);
  drain(w, st);
  EXPECT_EQ(out(0), 31u);
  EXPECT_EQ(counters.dir[1].tx_pkts.get(), 31u);
}

// The core classifies each frame once for the stages: which may carry IP (IPv4, IPv6, a
// VLAN tag, too short to tell); ARP, LLDP and the rest go out without a stage looking.
// What a stage sees is also the core's size check: an oversize frame is no longer passing.
TEST_F(fastpath, stages_see_which_frames_may_carry_ip) {
  struct seen {
    uint64_t ip = 0, pass = 0;
    unsigned bursts = 0;
  } got;
  w.stages[0] = stage{"probe",
                      [](void* ctx, frame_burst& b) {
                        auto* g = static_cast<seen*>(ctx);
                        g->ip = b.ip & frame_burst::all(b.n);
                        g->pass = b.pass;
                        g->bursts++;
                      },
                      nullptr, &got};
  w.n_stages = 1;
  const uint16_t types[] = {0x0800, 0x0806, 0x86dd, 0x8100, 0x88a8, 0x9100,
                            0x88cc, 0x0801, 0x8101, 0x0000, 0x0800};
  const uint64_t want = 0b10000111101;  // bit i: frame i (the last one is too long)
  uint32_t seq = 0;
  for (uint16_t t : types) {
    const uint32_t len = seq == 10 ? w.max_frame + 1 : 64;
    rte_mbuf* m = make_frame(pool.mp, 0, seq++, len);
    auto* p = rte_pktmbuf_mtod(m, uint8_t*);
    p[12] = static_cast<uint8_t>(t >> 8);
    p[13] = static_cast<uint8_t>(t);
    ASSERT_EQ(rte_ring_enqueue(rp->rx[0], m), 0);
  }
  ASSERT_EQ(rte_ring_enqueue(rp->rx[0], make_frame(pool.mp, 0, seq++, 13)), 0);  // no type
  worker_state st(w);
  poll_once(w, st);
  ASSERT_EQ(got.bursts, 1u);
  EXPECT_EQ(got.ip, want | uint64_t{1} << 11);
  EXPECT_EQ(got.pass, frame_burst::all(12) & ~(uint64_t{1} << 10));
  EXPECT_EQ(out(1), 11u);  // everything but the oversize frame, whatever its type
  EXPECT_EQ(counters.dir[0].drops[static_cast<size_t>(drop_reason::oversize)].get(), 1u);
  EXPECT_TRUE(may_carry_ip(nullptr, 0));  // nothing to read: the stages decide
}

TEST(bridge_ring, bad_config_is_refused_before_anything_runs) {
  ring_pair rp("x");
  bridge_config cfg = config_for(rp);
  cfg.burst = 0;
  std::string err;
  EXPECT_FALSE(bridge::create(cfg, &err));
  EXPECT_NE(err.find("dataplane.burst"), std::string::npos) << err;
  cfg = config_for(rp);
  cfg.port_names[1] = "net_ring_nosuch";
  EXPECT_FALSE(bridge::create(cfg, &err));
  EXPECT_NE(err.find("net_ring_nosuch"), std::string::npos) << err;
  ring_pair rp2("y");  // the failed create closed rp's ports, as it must
  cfg = config_for(rp2);
  cfg.workers = 2;  // ring ports were made with one queue each
  EXPECT_FALSE(bridge::create(cfg, &err));
  EXPECT_NE(err.find("lower --workers"), std::string::npos) << err;
}

// net_af_xdp names each mbuf to the kernel by its offset inside a UMEM of populated_size
// object sizes: the bridge's pool must lie back to back in it, or the kernel silently drops
// the fill addresses past its end and the port stops receiving (an INVITE flood with
// recording on did exactly that). The default page-bounded layout under --no-huge does not.
TEST(mbuf_pool, the_packed_pool_lies_inside_the_af_xdp_umem_and_the_default_one_does_not) {
  std::string err, why;
  const uint16_t room = 2048 + RTE_PKTMBUF_HEADROOM;
  rte_mempool* packed = create_mbuf_pool("t_packed", 16383, 256, room, SOCKET_ID_ANY, true, &err);
  ASSERT_NE(packed, nullptr) << err;
  EXPECT_TRUE(pool_fits_af_xdp_umem(packed, &why)) << why;
  // Still an ordinary pktmbuf pool.
  rte_mbuf* m = rte_pktmbuf_alloc(packed);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(rte_pktmbuf_data_room_size(packed), room);
  EXPECT_EQ(rte_pktmbuf_headroom(m), RTE_PKTMBUF_HEADROOM);
  EXPECT_NE(rte_pktmbuf_append(m, 1514), nullptr);
  rte_pktmbuf_free(m);
  EXPECT_EQ(rte_mempool_in_use_count(packed), 0u);
  rte_mempool_free(packed);

  rte_mempool* bounded = create_mbuf_pool("t_bounded", 4095, 256, room, SOCKET_ID_ANY, false, &err);
  ASSERT_NE(bounded, nullptr) << err;
  EXPECT_FALSE(pool_fits_af_xdp_umem(bounded, &why));  // one 2,368-byte object per 4 KiB page
  EXPECT_NE(why.find("past the end of the"), std::string::npos) << why;
  rte_mempool_free(bounded);
}

}  // namespace
}  // namespace ringbridge::dp
