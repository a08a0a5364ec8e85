// SPDX-License-Identifier: BSD-3-Clause
// Event draining, call-state persistence and publication.
#include "ringbridge/ctl/control_loop.h"

#include <cstring>
#include <ctime>

#include "ringbridge/ctl/http_api.h"

#include "ringbridge/dp/clock.h"

namespace ringbridge::ctl {

namespace {
double realtime_s() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}
}  // namespace

control_loop::control_loop(dp::bridge& br, store& db, api_context& api, control_counters& counters,
                           call_limits limits, plugin::hub* notify)
    : _br(br), _db(db), _api(api), _cc(counters), _table(limits), _notify(notify) {
  _tsc0 = dp::tsc_now();
  _wall0 = realtime_s();
  _hz = static_cast<double>(dp::tsc_hz());
}

double control_loop::wall_time(uint64_t tsc) const {
  return _wall0 + (static_cast<double>(static_cast<int64_t>(tsc - _tsc0)) / _hz);
}

size_t control_loop::drain(size_t max) {
  size_t n = 0;
  bool in_tx = false;
  for (unsigned w = 0; w < _br.workers(); w++) {
    dp::event_ring* ring = _br.events(w);
    if (ring == nullptr) continue;
    // Events are applied where they lie in the ring, not copied out first.
    for (size_t i = 0; i < max; i++) {
      const bool got = ring->consume_one([&](const dp::sip_event& ev) {
        if (!in_tx) {
          _db.begin();
          in_tx = true;
        }
        apply(ev);
      });
      if (!got) break;
      n++;
    }
  }
  if (in_tx) _db.commit();
  _cc.events += n;
  if (_active_dirty) publish_active();
  return n + drain_captures(max);
}

size_t control_loop::drain_captures(size_t max) {
  size_t n = 0;
  for (unsigned w = 0; w < _br.workers(); w++) {
    dp::capture_ring* ring = _br.captures(w);
    if (ring == nullptr) continue;
    for (; n < max; n++) {
      const bool got = ring->consume_one([&](const dp::sip_capture& c) {
        if (_notify == nullptr) return;
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
        m.call_id.assign(c.call_id.view());
        m.data.assign(c.data, c.len);
        _notify->post(m);
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
  ev.inbound = c.direction == call_direction::inbound;
  ev.id = c.id;
  ev.call_id = c.call_id;
  ev.number = c.from_number;
  ev.name = c.caller_name;
  ev.name_sent = c.from_name;
  ev.to_number = c.to_number;
  ev.state = call_state_name(c.state);
  ev.status_code = c.status_code;
  ev.duration_s = c.duration_s();
  ev.call_json = call_json(c);
  _notify->post(ev);
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
  for (call_change& ch : _table.apply(ev, wall_time(ev.tsc))) persist(ch);
}

void control_loop::voicemail(const dp::sip_event& ev) {
  // The provider gave up on an INVITE the bridge dropped: it sends the caller to voicemail.
  const call_record* c = _table.find(std::string(ev.call_id.view()));
  if (c == nullptr || c->state != call_state::blocked || c->direction != call_direction::inbound)
    return;
  if (!_voicemail_sent.insert(c->call_id).second) return;  // once per call
  if (_voicemail_sent.size() > 4096) _voicemail_sent.clear();
  call_change ch{call_change::updated, *c};
  notify(ch, plugin::event_kind::voicemail, wall_time(ev.tsc));
}

void control_loop::persist(call_change& ch) {
  call_record& c = ch.call;
  _active_dirty = true;
  if (ch.what == call_change::created) {
    // The phonebook names the caller: a name the user set, else what the caller sent
    // earlier; a new name as sent fills an automatic entry.
    if (!c.from_number.empty()) {
      auto entry = _db.phonebook_get(c.from_number);
      if (entry && entry->source == "user")
        c.caller_name = entry->name;
      else if (c.from_name.empty() && entry)
        c.caller_name = entry->name;
      if (c.direction == call_direction::inbound && !c.from_name.empty() &&
          (!entry || entry->source == "auto"))
        _db.phonebook_set(c.from_number, c.from_name, "auto");
    }
    c.id = _db.insert_call(c);
    _table.set_row_id(c.call_id, c.id);
    _table.set_caller_name(c.call_id, c.caller_name);
    if (c.state == call_state::blocked)
      _cc.calls[static_cast<int>(c.direction)][static_cast<int>(c.state)]++;
    notify(ch);
    return;
  }
  _db.update_call(c);
  if (ch.what == call_change::finished)
    _cc.calls[static_cast<int>(c.direction)][static_cast<int>(c.state)]++;
  notify(ch);
}

void control_loop::publish_active() {
  std::vector<call_record> active = _table.active();
  uint64_t by_dir[2] = {0, 0};
  for (const auto& c : active) by_dir[static_cast<int>(c.direction)]++;
  _cc.active[0] = by_dir[0];
  _cc.active[1] = by_dir[1];
  {
    std::lock_guard<std::mutex> g(_api.mu);
    _api.active = std::move(active);
  }
  _active_dirty = false;
}

void control_loop::housekeeping() {
  auto changes = _table.expire(realtime_s());
  if (!changes.empty()) {
    _db.begin();
    for (call_change& ch : changes) persist(ch);
    _db.commit();
  }
  _cc.calls_evicted = _table.evicted();
  if (_active_dirty) publish_active();
}

}  // namespace ringbridge::ctl
