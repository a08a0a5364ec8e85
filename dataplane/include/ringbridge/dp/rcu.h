// SPDX-License-Identifier: BSD-3-Clause
// Quiescent-state based reclamation (rte_rcu_qsbr) for everything the control side
// publishes to the workers (filter sets; media flow tables next): publishers swap a pointer
// and free the old object once every worker has passed a quiescent state. Workers never
// wait.
//
// Owned by the dataplane core (the bridge creates one, workers report to it once per loop
// iteration); features hold a reference and use start()/check() for their own objects.
#pragma once

#include <cstdint>

struct rte_rcu_qsbr;

namespace ringbridge::dp {

class qsbr_domain {
 public:
  /// WORKERS threads report (thread id = worker index).
  explicit qsbr_domain(unsigned workers);
  ~qsbr_domain();
  qsbr_domain(const qsbr_domain&) = delete;
  qsbr_domain& operator=(const qsbr_domain&) = delete;

  /// Worker side, once per loop iteration: "I hold no reference to anything published
  /// before now".
  void quiescent(unsigned worker) const;
  /// Worker side: around the worker loop (an offline worker is not waited for).
  void online(unsigned worker) const;
  void offline(unsigned worker) const;

  /// Control side (any thread): a token for "everything retired until now".
  uint64_t start() const;
  /// Control side: has every online worker passed a quiescent state since TOKEN?
  bool check(uint64_t token) const;

 private:
  rte_rcu_qsbr* _qsbr = nullptr;
};

}  // namespace ringbridge::dp
