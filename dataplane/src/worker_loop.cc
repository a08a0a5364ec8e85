// SPDX-License-Identifier: BSD-3-Clause
// The worker lcore's run-to-completion loop; the per-packet code is in worker_fastpath.h.
#include "worker_fastpath.h"

namespace ringbridge::dp {

namespace {
// Idle polls do a little housekeeping: the stages' idle steps (bounded by each).
inline void idle_work(const worker_ctx& w) {
  if (w.n_stages == 0) return;
  const uint64_t now = rte_rdtsc();
  for (unsigned k = 0; k < w.n_stages; k++)
    if (w.stages[k].idle != nullptr) w.stages[k].idle(w.stages[k].ctx, now);
}
}  // namespace

int worker_main(void* arg) {
  const worker_ctx& w = *static_cast<const worker_ctx*>(arg);
  worker_state st(w);
  if (w.rcu == nullptr) {
    while (likely(w.running->load(std::memory_order_relaxed)))
      if (!poll_once(w, st)) idle_work(w);
  } else {
    // Each pass through the loop is a quiescent state: nothing published (filter sets) is
    // referenced across it, so a replaced one can be freed once every worker passed one.
    w.rcu->online(w.index);
    while (likely(w.running->load(std::memory_order_relaxed))) {
      if (!poll_once(w, st)) idle_work(w);
      w.rcu->quiescent(w.index);
    }
    w.rcu->offline(w.index);
  }
  // Drain: what is buffered goes out (or is counted as refused) before the ports stop.
  drain(w, st);
  return 0;
}

}  // namespace ringbridge::dp
