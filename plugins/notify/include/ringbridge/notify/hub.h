// SPDX-License-Identifier: BSD-3-Clause
// The sinks of one appliance: each behind a bounded queue with its own thread. The control
// thread posts without blocking (a full queue drops the item and counts it); a slow or
// failing sink delays nobody but itself.
//
// Owned by the notify feature. Sees no dataplane: the control thread posts copies.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "ringbridge/notify/sink.h"

namespace ringbridge::plugin {

/// One [notify.<name>] section from the config file.
struct sink_config {
  std::string name;
  settings values;
};

/// Counters of one sink, for /metrics and the status API.
struct sink_stats {
  std::string name, type;
  uint64_t delivered = 0;  ///< events / messages handed over successfully
  uint64_t failed = 0;     ///< the sink tried and could not deliver
  uint64_t dropped = 0;    ///< the queue was full (or still full at shutdown)
  uint64_t queued = 0;     ///< waiting now
};

/// A sink, its queue and its thread.
class sink_runner {
 public:
  struct options {
    std::string name, type;
    size_t queue = 256;
    uint32_t events = 0;  ///< bit (1 << kind) per event kind delivered
    bool inbound_only = false;
  };
  sink_runner(options o, std::unique_ptr<sink> s);
  ~sink_runner();

  void start();
  /// Stops taking new items (what is queued is still delivered).
  void close();
  /// Stops taking items, delivers what is queued for up to DRAIN_S seconds, then stops.
  void stop(double drain_s);

  /// Non-blocking: false (and counted as dropped) when the queue is full.
  bool post(const call_event& ev);
  bool post(const sip_message& m);
  bool wants(const call_event& ev) const;
  bool wants_sip_messages() const { return _sink->wants_sip_messages(); }
  sink_stats stats() const;

 private:
  using item = std::variant<call_event, sip_message>;
  template <typename T>
  bool push(const T& v);
  void run();

  options _o;
  std::unique_ptr<sink> _sink;
  mutable std::mutex _mu;
  std::condition_variable _cv;
  std::deque<item> _q;
  bool _stop = false;
  bool _done = false;
  std::thread _thread;
  std::atomic<uint64_t> _delivered{0}, _failed{0}, _dropped{0};
};

class hub {
 public:
  /// Builds every configured sink (no I/O yet). nullptr with *error naming the section
  /// and key when one is misconfigured or its type is unknown or not compiled in.
  static std::unique_ptr<hub> create(const std::vector<sink_config>& cfgs, std::string* error);
  /// Checks a config section without keeping the sink (for --check and config loading).
  static bool check(const sink_config& cfg, std::string* error);

  void start();
  void stop(double drain_s = 2.0);
  void post(const call_event& ev);
  void post(const sip_message& m);
  bool wants_sip_messages() const { return _want_sip; }
  bool empty() const { return _runners.empty(); }
  std::vector<sink_stats> stats() const;

 private:
  std::vector<std::unique_ptr<sink_runner>> _runners;
  bool _want_sip = false;
};

}  // namespace ringbridge::plugin
