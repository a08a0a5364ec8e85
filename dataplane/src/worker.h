// SPDX-License-Identifier: BSD-3-Clause
// Internal: what a worker lcore is given, and its entry point (per-packet code is in
// worker_loop.cc).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "ringbridge/dp/counters.h"
#include "ringbridge/dp/rcu.h"
#include "ringbridge/dp/stage.h"

namespace ringbridge::dp {

/// Everything one worker needs, fixed before launch. Owned by the bridge; the worker only
/// reads it (and writes its own counters).
class packet_queue;

struct worker_ctx {
  unsigned index = 0;
  std::array<stage, k_max_stages> stages{};  ///< the features' steps, in order
  uint8_t n_stages = 0;
  const qsbr_domain* rcu = nullptr;   ///< reports quiescent states (nullptr: nothing published)
  std::array<uint16_t, 2> port{};     ///< DPDK port id of side A and side B
  std::array<packet_queue*, 2> pq{};  ///< ringbridge's own AF_PACKET queue instead (or nullptr)
  std::array<bool, 2> csum_check{};   ///< finish checksums left partial (ports that cannot tell)
  uint16_t queue = 0;                 ///< the rx and tx queue this worker owns on both ports
  uint16_t burst = 32;
  uint16_t tx_retries = 8;
  uint32_t max_frame = 1522;
  uint64_t flush_tsc = 0;  ///< tx buffer age (TSC cycles) that forces a flush
  worker_counters* counters = nullptr;
  const std::atomic<bool>* running = nullptr;
};

/// lcore_function_t for rte_eal_remote_launch(); ARG is a worker_ctx*. Returns 0.
int worker_main(void* arg);

}  // namespace ringbridge::dp
