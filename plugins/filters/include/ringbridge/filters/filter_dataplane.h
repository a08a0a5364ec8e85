// SPDX-License-Identifier: BSD-3-Clause
// The filters feature on the worker side: the published rule set (filter_slot), one
// filter_worker per worker (blocked-call table, reply budget, reply buffer), and the
// verdict step it installs into the sip stage as its request hook.
//
// Owned by the filters feature. Uses the dataplane core (mempool, RCU, verdict) and the sip
// feature (parsed requests, caller identity, SIP counters); nothing uses it but the
// appliance, which builds it, and filter_manager, which publishes through slot().
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ringbridge/dp/rcu.h"
#include "ringbridge/dp/stage.h"
#include "ringbridge/filters/filter.h"
#include "ringbridge/sip/sip_setup.h"

struct rte_mempool;

namespace ringbridge::dp {

/// The filters' worker-side settings ([filters]).
struct filter_dp_config {
  uint32_t reply_rate = 50;     ///< 486/603/200 replies a second, per worker (0: none)
  uint32_t reply_burst = 100;   ///< replies that may go out at once
  uint32_t blocked_ttl_s = 32;  ///< how long a blocked call is remembered
};

inline constexpr size_t k_reply_buf = 1400;  ///< the largest response the bridge builds

/// A token bucket (GCRA form): on average one token per PERIOD cycles, at most BURST in a
/// row. Worker-local, no atomics. period 0 = never a token.
struct token_bucket {
  uint64_t period = 0;
  uint64_t burst = 1;
  uint64_t tat = 0;  ///< theoretical arrival time of the next token

  bool take(uint64_t now) {
    if (period == 0) return false;
    const uint64_t t = tat > now ? tat : now;
    if (t - now > (burst - 1) * period) return false;
    tat = t + period;
    return true;
  }
};

struct blocked_table;

/// One worker's filter state. Used only by its worker lcore.
struct filter_worker {
  const filter_slot* slot = nullptr;
  std::unique_ptr<blocked_table> blocked;  ///< calls this worker blocked
  std::unique_ptr<char[]> reply_buf;       ///< k_reply_buf bytes: a response being built
  token_bucket replies;                    ///< how many responses the bridge may send
  rte_mempool* pool = nullptr;             ///< where response frames come from

  filter_worker();
  ~filter_worker();
};

/// The verdict step on one parsed SIP request (the sip stage's request hook): blocked
/// calls' later messages, then the rules on an initial INVITE from side A.
verdict filter_request(filter_worker& fw, const sip_request& r, event_verdict* ev);

class filter_dataplane {
 public:
  /// POOL: the bridge's mempool (reply frames); RCU: the bridge's quiescent-state domain.
  filter_dataplane(const filter_dp_config& cfg, unsigned workers, rte_mempool* pool,
                   const qsbr_domain& rcu, uint64_t tsc_hz);
  ~filter_dataplane();

  /// Installs the verdict step into SIP's stage on every worker (before they start).
  void attach(sip_dataplane& sip);
  /// The rules the workers use. Publish through it (control side).
  filter_slot& slot() { return _slot; }
  filter_worker& worker(unsigned w) { return *_workers[w]; }

 private:
  filter_slot _slot;
  std::vector<std::unique_ptr<filter_worker>> _workers;
};

}  // namespace ringbridge::dp
