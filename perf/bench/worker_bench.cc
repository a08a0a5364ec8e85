// SPDX-License-Identifier: BSD-3-Clause
// Microbenchmarks of the worker's hot path (Google Benchmark) on DPDK net_ring ports.
//
// Frames circulate: the benchmark puts a burst on port a's rx ring, poll_once() forwards it
// to port b's tx ring, the benchmark moves it back. What is timed is poll_once() plus two
// bulk ring operations per burst, per frame.
#include <benchmark/benchmark.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "ringbridge/dp/bridge.h"
#include "ringbridge/dp/eal.h"
#include "worker_fastpath.h"

namespace ringbridge::dp {
namespace {

struct ring_ports {
  rte_ring* rx[2];
  rte_ring* tx[2];
  uint16_t port[2];
};

rte_mempool* pool() {
  static rte_mempool* mp = rte_pktmbuf_pool_create("bench", 4095, 0, 0, 2048, SOCKET_ID_ANY);
  return mp;
}

ring_ports make_ports(const char* tag) {
  ring_ports rp{};
  for (int s = 0; s < 2; s++) {
    std::string base = std::string(tag) + (s == 0 ? "a" : "b");
    rp.rx[s] =
        rte_ring_create((base + "rx").c_str(), 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    rp.tx[s] =
        rte_ring_create((base + "tx").c_str(), 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    rp.port[s] = static_cast<uint16_t>(
        rte_eth_from_rings(base.c_str(), &rp.rx[s], 1, &rp.tx[s], 1, SOCKET_ID_ANY));
    rte_eth_conf conf{};
    if (rte_eth_dev_configure(rp.port[s], 1, 1, &conf) != 0 ||
        rte_eth_rx_queue_setup(rp.port[s], 0, 1024, SOCKET_ID_ANY, nullptr, pool()) != 0 ||
        rte_eth_tx_queue_setup(rp.port[s], 0, 1024, SOCKET_ID_ANY, nullptr) != 0 ||
        rte_eth_dev_start(rp.port[s]) != 0)
      std::abort();
  }
  return rp;
}

/// Forwarding of BURST-frame bursts a → b through poll_once(), flushed on every full burst.
void BM_poll_once_forward(benchmark::State& state) {
  static ring_ports rp = make_ports("bf");
  rte_mempool* mp = pool();
  const auto burst = static_cast<uint16_t>(state.range(0));
  std::vector<rte_mbuf*> frames(burst);
  rte_pktmbuf_alloc_bulk(mp, frames.data(), burst);
  for (auto* m : frames) rte_pktmbuf_append(m, 60);

  worker_counters counters;
  std::atomic<bool> running{true};
  worker_ctx w;
  w.port = {rp.port[0], rp.port[1]};
  w.burst = burst;
  w.flush_tsc = UINT64_MAX;  // only full bursts leave: measures the steady state
  w.counters = &counters;
  w.running = &running;
  worker_state st(w);
  for (auto _ : state) {
    rte_ring_enqueue_bulk(rp.rx[0], reinterpret_cast<void* const*>(frames.data()), burst, nullptr);
    poll_once(w, st);
    rte_ring_dequeue_bulk(rp.tx[1], reinterpret_cast<void**>(frames.data()), burst, nullptr);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * burst);
  rte_pktmbuf_free_bulk(frames.data(), burst);
  if (counters.dir[0].rx_pkts.get() != counters.dir[0].tx_pkts.get())
    state.SkipWithError("frames lost");
}
BENCHMARK(BM_poll_once_forward)->Arg(1)->Arg(8)->Arg(32)->Arg(64);

/// An empty poll: what an idle worker spends per iteration.
void BM_poll_once_idle(benchmark::State& state) {
  static ring_ports rp = make_ports("bi");
  worker_counters counters;
  std::atomic<bool> running{true};
  worker_ctx w;
  w.port = {rp.port[0], rp.port[1]};
  w.counters = &counters;
  w.running = &running;
  worker_state st(w);
  for (auto _ : state) benchmark::DoNotOptimize(poll_once(w, st));
}
BENCHMARK(BM_poll_once_idle);

/// The single-writer counter update done once per burst.
void BM_counter_add(benchmark::State& state) {
  counter c;
  for (auto _ : state) {
    c.add(32);
    benchmark::ClobberMemory();
  }
  benchmark::DoNotOptimize(c.get());
}
BENCHMARK(BM_counter_add);

}  // namespace
}  // namespace ringbridge::dp

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  ringbridge::dp::eal_plan plan;
  ringbridge::dp::host_facts h = ringbridge::dp::probe_host();
  plan.file_prefix = "rb-bench-" + std::to_string(h.pid);
  plan.runtime_dir = h.runtime_base + "/" + plan.file_prefix;
  plan.args = {"worker_bench",
               "--no-huge",
               "--no-shconf",
               "-m",
               "128",
               "--file-prefix",
               plan.file_prefix,
               "--no-pci",
               "--no-telemetry",
               "--log-level",
               "warning",
               "-l",
               std::to_string(h.cpus.back())};
  std::string err;
  if (!ringbridge::dp::eal_start(plan, &err)) {
    std::fprintf(stderr, "%s\n", err.c_str());
    ringbridge::dp::remove_runtime_dir(plan);
    return 1;
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  ringbridge::dp::eal_stop(plan, true);
  return 0;
}
