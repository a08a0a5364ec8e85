// SPDX-License-Identifier: BSD-3-Clause
// The worker lcore's run-to-completion loop; the per-packet code is in worker_fastpath.h.
#include "ringbridge/dp/filter.h"
#include "worker_fastpath.h"

namespace ringbridge::dp {

int worker_main(void* arg) {
  const worker_ctx& w = *static_cast<const worker_ctx*>(arg);
  worker_state st(w);
  if (w.filters == nullptr) {
    while (likely(w.running->load(std::memory_order_relaxed))) poll_once(w, st);
  } else {
    // Each pass through the loop is a quiescent state: no filter set is referenced
    // across it, so a replaced set can be freed once every worker has passed one.
    w.filters->online(w.index);
    while (likely(w.running->load(std::memory_order_relaxed))) {
      poll_once(w, st);
      w.filters->quiescent(w.index);
    }
    w.filters->offline(w.index);
  }
  // Drain: what is buffered goes out (or is counted as refused) before the ports stop.
  drain(w, st);
  return 0;
}

}  // namespace ringbridge::dp
