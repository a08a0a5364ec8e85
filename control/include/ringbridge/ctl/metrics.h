// SPDX-License-Identifier: BSD-3-Clause
// Prometheus exposition of the dataplane and call counters (prometheus-cpp types and text
// serializer). Everything is read at scrape time: no metric object is touched per packet.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "ringbridge/ctl/calls.h"
#include "ringbridge/dp/bridge.h"
#include "ringbridge/plugin/hub.h"

namespace ringbridge::ctl {

inline constexpr size_t k_call_states = 8;

/// Counters the control thread keeps (written by it, read by the HTTP threads).
struct control_counters {
  std::atomic<uint64_t> events{0};                     ///< SIP events taken from the rings
  std::atomic<uint64_t> calls[2][k_call_states] = {};  ///< [direction][final or current state]
  std::atomic<uint64_t> calls_evicted{0};
  std::atomic<uint64_t> active[2] = {};  ///< calls in progress by direction
  std::atomic<uint64_t> registrations_ok{0}, registrations_challenged{0}, registrations_failed{0};
  const plugin::hub* notify = nullptr;            ///< the sinks (set before the HTTP server starts)
  const class filter_manager* filters = nullptr;  ///< nullptr when filtering is off
};

/// Prometheus text format (version 0.0.4) of everything ringbridge counts.
std::string render_metrics(const dp::bridge_stats& st, const control_counters& cc, double uptime_s);

}  // namespace ringbridge::ctl
