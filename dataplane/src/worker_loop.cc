// SPDX-License-Identifier: BSD-3-Clause
// The worker lcore's run-to-completion loop; the per-packet code is in worker_fastpath.h.
#include "ringbridge/filters/filter.h"
#include "worker_fastpath.h"

namespace ringbridge::dp {

namespace {
// Idle polls do a little housekeeping: a few TCP stream slots checked for idleness, so
// the table empties (and bulk TCP skips the lookup again) without a timer.
inline void idle_work(const worker_ctx& w) {
  if (w.sip != nullptr && w.sip->streams->in_use != 0) w.sip->streams->sweep(rte_rdtsc(), 4);
}
}  // namespace

int worker_main(void* arg) {
  const worker_ctx& w = *static_cast<const worker_ctx*>(arg);
  worker_state st(w);
  if (w.filters == nullptr) {
    while (likely(w.running->load(std::memory_order_relaxed)))
      if (!poll_once(w, st)) idle_work(w);
  } else {
    // Each pass through the loop is a quiescent state: no filter set is referenced
    // across it, so a replaced set can be freed once every worker has passed one.
    w.filters->online(w.index);
    while (likely(w.running->load(std::memory_order_relaxed))) {
      if (!poll_once(w, st)) idle_work(w);
      w.filters->quiescent(w.index);
    }
    w.filters->offline(w.index);
  }
  // Drain: what is buffered goes out (or is counted as refused) before the ports stop.
  drain(w, st);
  return 0;
}

}  // namespace ringbridge::dp
