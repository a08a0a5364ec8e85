// SPDX-License-Identifier: BSD-3-Clause
// Prometheus exposition of the dataplane and call counters (prometheus-cpp types and text
// serializer). Everything is read at scrape time: no metric object is touched per packet.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "ringbridge/ctl/dataplane_stats.h"
#include "ringbridge/ctl/store.h"
#include "ringbridge/sip/calls.h"  // k_call_states: calls by direction and state

namespace prometheus {
class Collectable;
}

namespace ringbridge::ctl {

/// Steps of the control thread that are guarded: an exception in one is counted under
/// its stage (ringbridge_control_errors_total{stage}), logged rate-limited, and the loop
/// goes on.
#define RB_CONTROL_FOREACH_STAGE(_)                                               \
  _(event, "applying one SIP event: call state, phonebook lookup, notifications") \
  _(capture, "handing one captured SIP message to the exports")                   \
  _(expire, "timing out calls in housekeeping")                                   \
  _(storage, "writing the call log, retrying what is pending")                    \
  _(prune, "call log and phonebook retention")                                    \
  _(publish, "publishing the active calls to the API")

enum class control_stage : uint8_t {
#define RB_CONTROL_STAGE_ENUM(name, help) name,
  RB_CONTROL_FOREACH_STAGE(RB_CONTROL_STAGE_ENUM)
#undef RB_CONTROL_STAGE_ENUM
};
#define RB_CONTROL_STAGE_COUNT(name, help) +1
inline constexpr size_t k_control_stages = 0 RB_CONTROL_FOREACH_STAGE(RB_CONTROL_STAGE_COUNT);
#undef RB_CONTROL_STAGE_COUNT
const char* control_stage_name(control_stage s);

/// Counters the control thread keeps (written by it, read by the HTTP threads).
struct control_counters {
  std::atomic<uint64_t> events{0};                     ///< SIP events taken from the rings
  std::atomic<uint64_t> calls[2][k_call_states] = {};  ///< [direction][final or current state]
  std::atomic<uint64_t> calls_evicted{0};
  std::atomic<uint64_t> active[2] = {};  ///< calls in progress by direction
  std::atomic<uint64_t> registrations_ok{0}, registrations_challenged{0}, registrations_failed{0};
  std::atomic<uint64_t> control_errors[k_control_stages] = {};  ///< by control_stage
  storage_stats storage;  ///< every connection's SQLite failures, the control thread's queue
};

/// Prometheus text format (version 0.0.4) of everything ringbridge counts: the dataplane's
/// and control thread's counters, then the families of each of SOURCES (features' own
/// figures, e.g. notify sinks and filter reloads; null entries are skipped).
std::string render_metrics(const dataplane_stats& st, const control_counters& cc, double uptime_s,
                           const std::vector<const prometheus::Collectable*>& sources = {});

}  // namespace ringbridge::ctl
