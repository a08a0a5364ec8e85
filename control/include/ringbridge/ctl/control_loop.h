// SPDX-License-Identifier: BSD-3-Clause
// The control thread's work: drain the workers' event rings, keep call state, persist the
// call log and phonebook, publish what the HTTP API serves. Control thread only.
//
// Nothing the wire sends can stop it: every event is applied under a guard (an
// exception is counted in ringbridge_control_errors_total{stage}, logged rate-limited,
// and the event skipped), and it never waits for SQLite (call_writer queues what cannot
// be written yet), so the rings keep being drained while the database is locked or full.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "ringbridge/common/log.h"
#include "ringbridge/ctl/metrics.h"
#include "ringbridge/ctl/store.h"
#include "ringbridge/dp/bridge.h"
#include "ringbridge/notify/hub.h"
#include "ringbridge/sip/active_calls.h"
#include "ringbridge/sip/call_store.h"
#include "ringbridge/sip/call_view.h"
#include "ringbridge/sip/call_writer.h"
#include "ringbridge/sip/calls.h"

namespace ringbridge::ctl {

/// The call fields of a sink event (who, state, the call's JSON with FIELDS) from C.
void describe_call(const call_record& c, const call_fields_fn& fields, plugin::call_event* ev);

class control_loop {
 public:
  /// Takes over DB (the control thread's connection): calls a previous run left ringing
  /// or answered are closed as interrupted, then the connection stops waiting for locks.
  /// SIP: the workers' inspection (its event and capture rings); nullptr = none. ACTIVE
  /// receives the calls in progress (for the API) at most every 100 ms.
  control_loop(dp::sip_dataplane* sip, store& db, active_calls& active, control_counters& counters,
               call_limits limits, storage_limits storage = {}, plugin::hub* notify = nullptr);

  /// Who else follows the calls (the media plane): told of every change, created and
  /// finished above all; EV is the event behind it (nullptr for timeouts). Control thread.
  using call_observer = std::function<void(const call_change& ch, const dp::sip_event* ev)>;
  void set_observer(call_observer o) { _observer = std::move(o); }
  /// Calls found without SIP (the media plane's RTP heuristics), handed over by SOURCE:
  /// the ones that started or ended since it was last asked. drain() applies them.
  struct media_only_call {
    bool ended = false;
    uint64_t key = 0;     ///< the workers' media key
    std::string call_id;  ///< "rtp:A-B"
    int side = 0;         ///< where its first packet came in (0 = network: inbound)
    double at = 0;        ///< Unix seconds
    std::string reason;   ///< ended: why
  };
  using media_only_source = std::function<std::vector<media_only_call>()>;
  void set_media_only_source(media_only_source s) { _media_only = std::move(s); }
  /// Features' fields of a call's JSON in notifications (as the API shows them).
  void set_call_fields(call_fields_fn f) { _call_fields = std::move(f); }

  /// Takes up to MAX events from each worker ring and applies them, then writes what
  /// changed (one transaction per batch). Returns how many events and captures it took.
  size_t drain(size_t max = 4096);

  /// Once a second or so: times out stale calls, retries pending writes, retention,
  /// publishes the active calls.
  void housekeeping();

  /// At shutdown, once the workers have stopped (no ring to drain any more): writes what
  /// is still pending, waiting up to MAX_WAIT_S for a lock or for space; logs what is lost.
  void finish(double max_wait_s);

 private:
  void apply(const dp::sip_event& ev);
  size_t drain_captures(size_t max);
  /// Posts CH to the sinks as the event it implies, or as KIND (at WHEN) when given.
  void notify(const call_change& ch, std::optional<plugin::event_kind> kind = std::nullopt,
              double when = 0);
  void voicemail(const dp::sip_event& ev);
  /// The phonebook's name for a new call's caller; queues an automatic entry.
  void name_caller(call_record& c, std::string_view raw_call_id);
  void persist(const call_change& ch);
  void publish_active(bool force);
  void close_interrupted();
  double wall_time(uint64_t tsc) const;
  /// Runs F; an exception is counted under STAGE and logged (rate-limited), never thrown.
  template <typename F>
  void guarded(control_stage stage, F&& f);

  dp::sip_dataplane* _sip;
  store& _db;
  call_store _log;  ///< the call log and phonebook, over _db
  active_calls& _active;
  control_counters& _cc;
  call_table _table;
  call_writer _writer;
  plugin::hub* _notify = nullptr;
  call_observer _observer;
  media_only_source _media_only;
  call_fields_fn _call_fields;
  const dp::sip_event* _event = nullptr;  ///< the event being applied (for the observer)
  log_limiter _limit[k_control_stages];
  uint64_t _tsc0 = 0;
  double _wall0 = 0;
  double _hz = 1;
  int64_t _interrupted_up_to = -1;  ///< ≥ 0 while closing the previous run's calls is due
  bool _active_dirty = false;
  double _last_publish = 0;
};

}  // namespace ringbridge::ctl
