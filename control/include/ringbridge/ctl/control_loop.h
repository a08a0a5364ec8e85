// SPDX-License-Identifier: BSD-3-Clause
// The control thread's work: drain the workers' event rings, keep call state, persist the
// call log and phonebook, publish what the HTTP API serves. Control thread only.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_set>

#include "ringbridge/ctl/calls.h"
#include "ringbridge/ctl/http_api.h"
#include "ringbridge/ctl/metrics.h"
#include "ringbridge/ctl/store.h"
#include "ringbridge/dp/bridge.h"
#include "ringbridge/plugin/hub.h"

namespace ringbridge::ctl {

class control_loop {
 public:
  control_loop(dp::bridge& br, store& db, api_context& api, control_counters& counters,
               call_limits limits, plugin::hub* notify = nullptr);

  /// Takes up to MAX events from each worker ring and applies them. Returns how many.
  /// Writes to the database in one transaction per call.
  size_t drain(size_t max = 4096);

  /// Once a second or so: times out stale calls, publishes the active calls.
  void housekeeping();

 private:
  void apply(const dp::sip_event& ev);
  size_t drain_captures(size_t max);
  /// Posts CH to the sinks as the event it implies, or as KIND (at WHEN) when given.
  void notify(const call_change& ch, std::optional<plugin::event_kind> kind = std::nullopt,
              double when = 0);
  void voicemail(const dp::sip_event& ev);
  void persist(call_change& ch);
  void publish_active();
  double wall_time(uint64_t tsc) const;

  dp::bridge& _br;
  store& _db;
  api_context& _api;
  control_counters& _cc;
  call_table _table;
  plugin::hub* _notify = nullptr;
  std::unordered_set<std::string> _voicemail_sent;
  uint64_t _tsc0 = 0;
  double _wall0 = 0;
  double _hz = 1;
  bool _active_dirty = false;
};

}  // namespace ringbridge::ctl
