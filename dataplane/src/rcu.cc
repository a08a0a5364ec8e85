// SPDX-License-Identifier: BSD-3-Clause
// qsbr_domain over rte_rcu_qsbr.
#include "ringbridge/dp/rcu.h"

#include <rte_rcu_qsbr.h>

#include <cstdlib>
#include <cstring>

namespace ringbridge::dp {

qsbr_domain::qsbr_domain(unsigned workers) {
  const size_t sz = rte_rcu_qsbr_get_memsize(workers);
  _qsbr = static_cast<rte_rcu_qsbr*>(std::aligned_alloc(64, (sz + 63) / 64 * 64));
  std::memset(static_cast<void*>(_qsbr), 0, sz);
  rte_rcu_qsbr_init(_qsbr, workers);
  for (unsigned w = 0; w < workers; w++) rte_rcu_qsbr_thread_register(_qsbr, w);
}

qsbr_domain::~qsbr_domain() {
  std::free(_qsbr);
}

void qsbr_domain::quiescent(unsigned worker) const {
  rte_rcu_qsbr_quiescent(_qsbr, worker);
}
void qsbr_domain::online(unsigned worker) const {
  rte_rcu_qsbr_thread_online(_qsbr, worker);
}
void qsbr_domain::offline(unsigned worker) const {
  rte_rcu_qsbr_thread_offline(_qsbr, worker);
}
uint64_t qsbr_domain::start() const {
  return rte_rcu_qsbr_start(_qsbr);
}
bool qsbr_domain::check(uint64_t token) const {
  return rte_rcu_qsbr_check(_qsbr, token, false) == 1;
}

}  // namespace ringbridge::dp
