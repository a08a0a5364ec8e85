// SPDX-License-Identifier: BSD-3-Clause
// The calls in progress as the control thread last published them, for readers on other
// threads (the HTTP server's GET /api/v1/calls/active and /api/v1/status).
//
// Owns: one copy of the active calls under a mutex. The control thread writes it (at most
// every 100 ms, see control_loop::publish_active); any thread reads a copy.
#pragma once

#include <mutex>
#include <utility>
#include <vector>

#include "ringbridge/sip/calls.h"

namespace ringbridge::ctl {

class active_calls {
 public:
  /// Control thread: replaces the published set.
  void publish(std::vector<call_record> calls) {
    std::lock_guard<std::mutex> g(_mu);
    _calls = std::move(calls);
  }
  /// Any thread: a copy of the published set.
  std::vector<call_record> copy() const {
    std::lock_guard<std::mutex> g(_mu);
    return _calls;
  }
  /// Any thread: how many calls are in progress.
  size_t size() const {
    std::lock_guard<std::mutex> g(_mu);
    return _calls.size();
  }

 private:
  mutable std::mutex _mu;
  std::vector<call_record> _calls;  ///< guarded by _mu
};

}  // namespace ringbridge::ctl
