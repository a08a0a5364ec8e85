// SPDX-License-Identifier: BSD-3-Clause
// Event draining, call-state persistence and publication.
#include "ringbridge/ctl/control_loop.h"

#include <chrono>
#include <cstring>
#include <ctime>

#include "ringbridge/common/utf8.h"
#include "ringbridge/dp/clock.h"
#include "ringbridge/sip/call_view.h"

namespace ringbridge::ctl {

namespace {
double realtime_s() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double mono_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

constexpr const char* k_interrupted_reason =
    "ringbridge stopped before the call ended (closed at the next start)";
constexpr double k_publish_interval_s = 0.1;
}  // namespace

const char* control_stage_name(control_stage s) {
  switch (s) {
#define RB_CONTROL_STAGE_CASE(name, help) \
  case control_stage::name: return #name;
    RB_CONTROL_FOREACH_STAGE(RB_CONTROL_STAGE_CASE)
#undef RB_CONTROL_STAGE_CASE
  }
  return "?";
}

control_loop::control_loop(dp::sip_dataplane* sip, store& db, active_calls& active,
                           control_counters& counters, call_limits limits, storage_limits storage,
                           plugin::hub* notify)
    : _sip(sip),
      _db(db),
      _log(db),
      _active(active),
      _cc(counters),
      _table(std::move(limits)),
      _writer(db, storage, counters.storage),
      _notify(notify) {
  _tsc0 = dp::tsc_now();
  _wall0 = realtime_s();
  _hz = static_cast<double>(dp::tsc_hz());
  _db.set_stats(&_cc.storage);
  // Row ids continue the log (a read: WAL never makes it wait for a writer).
  int64_t last = _log.last_call_id();
  if (last < 0) {
    // Ids must not reuse an existing row's: start far above any row a log can hold.
    last = static_cast<int64_t>(_wall0) * 1000;
    RB_LOG_ERR("call log: cannot read the last call id; new calls are numbered from %lld",
               static_cast<long long>(last + 1));
  }
  _table.set_last_id(last);
  // From here on the control thread never waits for SQLite: a locked database fails a
  // write at once and call_writer retries it later. (The workers are running already.)
  _db.set_busy_timeout(0);
  _interrupted_up_to = last;
  close_interrupted();
}

template <typename F>
void control_loop::guarded(control_stage stage, F&& f) {
  std::string what;  // a copy: the exception is gone after its handler
  try {
    f();
    return;
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
    what = "an exception that is not a std::exception";
  }
  const auto i = static_cast<size_t>(stage);
  _cc.control_errors[i].fetch_add(1, std::memory_order_relaxed);
  // A transaction cut short by the exception must not stay open.
  if (_db.in_transaction()) _db.rollback();
  uint64_t held = 0;
  if (_limit[i].allow(&held))
    RB_LOG_WARN(
        "control: %s failed (%s); skipped, carrying on%s", control_stage_name(stage), what.c_str(),
        held ? (" (" + std::to_string(held) + " more since the last message)").c_str() : "");
}

double control_loop::wall_time(uint64_t tsc) const {
  return _wall0 + (static_cast<double>(static_cast<int64_t>(tsc - _tsc0)) / _hz);
}

size_t control_loop::drain(size_t max) {
  size_t n = 0;
  for (unsigned w = 0; _sip != nullptr && w < _sip->workers(); w++) {
    dp::event_ring* ring = _sip->events(w);
    if (ring == nullptr) continue;
    // Events are applied where they lie in the ring, not copied out first. The functor
    // must not throw (the ring would offer the same event again): guarded() catches.
    for (size_t i = 0; i < max; i++) {
      const bool got = ring->consume_one(
          [&](const dp::sip_event& ev) { guarded(control_stage::event, [&] { apply(ev); }); });
      if (!got) break;
      n++;
    }
  }
  _cc.events += n;
  if (_media_only)
    guarded(control_stage::event, [&] {
      for (const media_only_call& m : _media_only()) {
        const auto changes = m.ended ? _table.end_media_only(m.call_id, m.at, m.reason)
                                     : _table.start_media_only(m.call_id, m.key, m.side, m.at);
        for (const call_change& ch : changes) persist(ch);
      }
    });
  guarded(control_stage::storage, [&] { _writer.flush(mono_s()); });
  _cc.calls_evicted = _table.evicted();
  for (int d = 0; d < 2; d++) _cc.active[d] = _table.active_count(static_cast<call_direction>(d));
  // Under load at most every 100 ms; as soon as the rings run dry otherwise.
  if (_active_dirty) guarded(control_stage::publish, [&] { publish_active(n == 0); });
  return n + drain_captures(max);
}

size_t control_loop::drain_captures(size_t max) {
  size_t n = 0;
  for (unsigned w = 0; _sip != nullptr && w < _sip->workers(); w++) {
    dp::capture_ring* ring = _sip->captures(w);
    if (ring == nullptr) continue;
    for (; n < max; n++) {
      const bool got = ring->consume_one([&](const dp::sip_capture& c) {
        if (_notify == nullptr) return;
        guarded(control_stage::capture, [&] {
          plugin::sip_message m;
          m.time = wall_time(c.tsc);
          m.ip_version = c.ip_version;
          m.transport = c.transport;
          m.side = c.side;
          m.truncated = c.truncated != 0;
          std::memcpy(m.src, c.src, sizeof(m.src));
          std::memcpy(m.dst, c.dst, sizeof(m.dst));
          m.sport = c.sport;
          m.dport = c.dport;
          // The correlation id is text for the collector; the message stays as captured.
          m.call_id = utf8_sanitize(c.call_id.view());
          m.data.assign(c.data, c.len);
          _notify->post(m);
        });
      });
      if (!got) break;
    }
  }
  return n;
}

void control_loop::notify(const call_change& ch, std::optional<plugin::event_kind> kind,
                          double when) {
  if (_notify == nullptr || _notify->empty()) return;
  const call_record& c = ch.call;
  plugin::call_event ev;
  if (kind) {
    ev.kind = *kind;
    ev.time = when;
    if (c.rule_id != 0) ev.rule = std::to_string(c.rule_id);
  } else
    switch (ch.what) {
      case call_change::created:
        ev.kind = c.state == call_state::blocked ? plugin::event_kind::blocked
                                                 : plugin::event_kind::ringing;
        ev.time = c.started_at;
        if (c.rule_id != 0) ev.rule = std::to_string(c.rule_id);
        break;
      case call_change::updated:
        if (c.state != call_state::answered) return;
        ev.kind = plugin::event_kind::answered;
        ev.time = c.answered_at;
        break;
      case call_change::finished:
        ev.kind = plugin::event_kind::ended;
        ev.time = c.ended_at;
        break;
    }
  describe_call(c, _call_fields, &ev);
  _notify->post(ev);
}

void describe_call(const call_record& c, const call_fields_fn& fields, plugin::call_event* ev) {
  ev->inbound = c.direction == call_direction::inbound;
  ev->id = c.id;
  ev->call_id = c.call_id;
  ev->number = c.from_number;
  ev->name = c.caller_name;
  ev->name_sent = c.from_name;
  ev->to_number = c.to_number;
  ev->state = call_state_name(c.state);
  ev->status_code = c.status_code;
  ev->duration_s = c.duration_s();
  ev->call_json = call_json(c, fields);
}

void control_loop::apply(const dp::sip_event& ev) {
  using dp::sip::method;
  if (!ev.is_request && ev.cseq_method == method::register_ && ev.status >= 200) {
    if (ev.status < 300)
      _cc.registrations_ok++;
    else if (ev.status == 401 || ev.status == 407)
      _cc.registrations_challenged++;
    else
      _cc.registrations_failed++;
    return;
  }
  if (ev.repeat && ev.is_request && ev.method == method::cancel &&
      ev.block_mode == static_cast<uint8_t>(dp::block_mode::drop))
    voicemail(ev);
  struct current {  // the event behind the changes, for the observer; cleared however we leave
    const dp::sip_event*& slot;
    ~current() { slot = nullptr; }
  } cur{_event};
  _event = &ev;
  for (call_change& ch : _table.apply(ev, wall_time(ev.tsc))) {
    if (ch.what == call_change::created) name_caller(ch.call, dp::call_key(ev));
    persist(ch);
  }
}

void control_loop::voicemail(const dp::sip_event& ev) {
  // The provider gave up on an INVITE the bridge dropped: it sends the caller to voicemail.
  const call_record* c = _table.find(dp::call_key(ev));
  if (c == nullptr || c->state != call_state::blocked || c->direction != call_direction::inbound)
    return;
  if (!_table.mark_voicemail(dp::call_key(ev))) return;  // once per call
  call_change ch{call_change::updated, *c};
  notify(ch, plugin::event_kind::voicemail, wall_time(ev.tsc));
}

void control_loop::name_caller(call_record& c, std::string_view raw_call_id) {
  // The phonebook names the caller: a name the user set, else what the caller sent
  // earlier; a new name as sent fills an automatic entry. The lookup is a read (WAL:
  // never blocked by a writer); if it fails the call shows the name as sent.
  if (c.from_number.empty()) return;
  auto entry = _log.phonebook_get(c.from_number);
  if (entry && entry->source == "user")
    c.caller_name = entry->name;
  else if (c.from_name.empty() && entry)
    c.caller_name = entry->name;
  if (c.direction == call_direction::inbound && !c.from_name.empty() &&
      (!entry || entry->source == "auto"))
    _writer.put_phonebook(c.from_number, c.from_name, c.started_at);
  _table.set_caller_name(raw_call_id, c.caller_name);
}

void control_loop::persist(const call_change& ch) {
  const call_record& c = ch.call;
  _active_dirty = true;
  _writer.put_call(c);
  if (_observer) _observer(ch, _event);
  if ((ch.what == call_change::created && c.state == call_state::blocked) ||
      ch.what == call_change::finished)
    _cc.calls[static_cast<int>(c.direction)][static_cast<int>(c.state)]++;
  notify(ch);
}

void control_loop::publish_active(bool force) {
  // A copy of every call in progress: while events keep coming at most every 100 ms, so
  // a flood of new calls does not turn into a copy of the table per batch.
  const double now = mono_s();
  if (!force && now - _last_publish < k_publish_interval_s) return;
  _active.publish(_table.active());
  _last_publish = now;
  _active_dirty = false;
}

void control_loop::close_interrupted() {
  const int64_t n = _log.close_interrupted(_interrupted_up_to, k_interrupted_reason);
  if (n < 0) return;  // locked or failing: housekeeping tries again
  if (n > 0)
    RB_LOG_NOTICE(
        "call log: %lld call(s) the previous run left ringing or answered closed as "
        "interrupted",
        static_cast<long long>(n));
  _cc.storage.interrupted.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
  _interrupted_up_to = -1;
}

void control_loop::finish(double max_wait_s) {
  // Nothing is left to drain: a bounded wait now keeps the end of the log.
  const double deadline = mono_s() + max_wait_s;
  _db.set_busy_timeout(static_cast<int>(max_wait_s * 1000));
  guarded(control_stage::storage, [&] {
    while (_writer.pending() != 0 && mono_s() < deadline) {
      if (_writer.flush(mono_s()) == 0) {
        timespec ts{0, 50 * 1000 * 1000};
        nanosleep(&ts, nullptr);
      }
    }
  });
  _db.set_busy_timeout(0);
  if (_writer.pending() != 0)
    RB_LOG_ERR("call log: %zu change(s) could not be written before exit (%s)", _writer.pending(),
               _cc.storage.last_error().c_str());
}

void control_loop::housekeeping() {
  const double wall = realtime_s(), now = mono_s();
  guarded(control_stage::expire, [&] {
    for (const call_change& ch : _table.expire(wall)) persist(ch);
  });
  guarded(control_stage::storage, [&] {
    if (_interrupted_up_to >= 0) close_interrupted();
    _writer.flush(now);
  });
  guarded(control_stage::prune, [&] { _writer.prune(wall, now); });
  _cc.calls_evicted = _table.evicted();
  for (int d = 0; d < 2; d++) _cc.active[d] = _table.active_count(static_cast<call_direction>(d));
  if (_active_dirty) guarded(control_stage::publish, [&] { publish_active(true); });
}

}  // namespace ringbridge::ctl
