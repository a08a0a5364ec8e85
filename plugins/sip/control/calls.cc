// SPDX-License-Identifier: BSD-3-Clause
// The call state machine and the bounded call table.
#include "ringbridge/sip/calls.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "ringbridge/common/keyed_hash.h"
#include "ringbridge/common/utf8.h"

namespace ringbridge::ctl {

using dp::sip::method;

namespace {

// A field the worker cut to fit its fixed-size slot may end inside a multi-byte
// character: drop that partial character rather than show a U+FFFD for it.
std::string_view whole_chars(std::string_view s, bool truncated) {
  if (!truncated || s.empty()) return s;
  size_t i = s.size(), cont = 0;
  while (i > 0 && cont < 3 && (static_cast<unsigned char>(s[i - 1]) & 0xC0) == 0x80) {
    i--;
    cont++;
  }
  if (i == 0) return s;
  const auto lead = static_cast<unsigned char>(s[i - 1]);
  const size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
  return need > cont + 1 ? s.substr(0, i - 1) : s;
}

template <size_t N>
std::string_view whole_chars(const dp::fixed_str<N>& f) {
  return whole_chars(f.view(), f.truncated != 0);
}

// A From or To value as the worker handed it over, read; empty when it does not parse, and
// when the worker had to cut it: a cut name-addr can read as another one (its '<' beyond the
// cut, an addr-spec before it), and no number is better than a wrong one.
dp::sip::name_addr party(const dp::fixed_str<256>& value) {
  dp::sip::name_addr na;
  if (value.truncated || !dp::sip::parse_name_addr(value.view(), &na)) return {};
  return na;
}

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.0f", s);
  return buf;
}

}  // namespace

const char* call_state_name(call_state s) {
  switch (s) {
#define RB_CALL_STATE_CASE(name, help) \
  case call_state::name: return #name;
    RB_CALL_FOREACH_STATE(RB_CALL_STATE_CASE)
#undef RB_CALL_STATE_CASE
  }
  return "?";
}

bool call_state_final(call_state s) {
  return s != call_state::ringing && s != call_state::answered;
}

const char* direction_name(call_direction d) {
  return d == call_direction::inbound ? "inbound" : "outbound";
}

namespace {
dp::number_format g_numbers;  // set once at start, before other threads run; read-only after
}  // namespace

void set_number_format(const dp::number_format& f) {
  g_numbers = f;
}

std::string normalize_number(std::string_view raw) {
  char out[64];
  return utf8_sanitize({out, dp::normalize_number(raw, g_numbers, out, sizeof(out))});
}

identity caller_identity(const dp::sip_event& ev) {
  if (ev.has_caller)  // the worker's reading, the one the filters matched
    return {utf8_sanitize(ev.caller.number_view()), utf8_sanitize(ev.caller.name_view())};
  // Not an initial INVITE seen by a worker: the From header through the same normaliser.
  const dp::sip::name_addr from = party(ev.from);
  char name[96];
  const size_t n = dp::clean_name(from.display, name, sizeof(name));
  return {normalize_number(from.user), utf8_sanitize({name, n})};
}

size_t call_table::key_hash::operator()(std::string_view s) const {
  return static_cast<size_t>(keyed_hash64(s));
}

call_table::call_table(call_limits limits) : _limits(std::move(limits)) {
  keyed_hash_init();  // idempotent: the key is drawn once per process
}

call_table::~call_table() = default;

size_t call_table::size() const {
  return _index.size();
}

bool call_table::lookup(std::string_view key, list::iterator* out) const {
  auto it = _index.find(key);
  if (it == _index.end()) return false;
  *out = it->second;
  return true;
}

const call_record* call_table::find(std::string_view raw_call_id) const {
  auto it = _index.find(raw_call_id);
  return it == _index.end() ? nullptr : &it->second->rec;
}

void call_table::settle(list::iterator e) {
  const bool fin = call_state_final(e->rec.state);
  list& from = e->finished ? _done : _live;
  list& to = fin ? _done : _live;
  to.splice(to.end(), from, e);  // iterators stay valid across lists
  if (fin != e->finished) {
    uint64_t& n = _active[static_cast<int>(e->rec.direction)];
    n = fin ? n - 1 : n + 1;
    e->finished = fin;
  }
  const timer want = e->rec.state == call_state::ringing    ? timer::ringing
                     : e->rec.state == call_state::answered ? timer::answered
                                                            : timer::none;
  if (want == e->armed) return;
  if (e->armed != timer::none) queue(e->armed).erase(e->timer_it);
  if (want != timer::none) e->timer_it = queue(want).insert(queue(want).end(), e);
  e->armed = want;
}

void call_table::erase(list::iterator e) {
  if (e->armed != timer::none) queue(e->armed).erase(e->timer_it);
  if (!e->finished) _active[static_cast<int>(e->rec.direction)]--;
  _index.erase(std::string_view(e->key));
  (e->finished ? _done : _live).erase(e);
}

void call_table::close(list::iterator e, call_state s, double now, std::string reason,
                       std::vector<call_change>* changes) {
  call_record& c = e->rec;
  c.state = s;
  c.ended_at = now;
  c.end_reason = std::move(reason);
  e->last_seen = now;  // its grace period starts now (keeps _done in last-seen order)
  changes->push_back({call_change::finished, c});
}

std::vector<call_change> call_table::start_media_only(const std::string& call_id,
                                                     uint64_t media_key, int side, double at) {
  std::vector<call_change> changes;
  list::iterator it;
  if (lookup(call_id, &it)) {
    if (!it->finished) return changes;  // already followed
    erase(it);  // the same endpoints again after their media stopped: a new call
  }
  if (_index.size() >= _limits.max_calls) evict_one(at, &changes);
  it = _live.emplace(_live.end());
  it->key = call_id;
  it->last_seen = at;
  _active[side == 0 ? 0 : 1]++;
  call_record& c = it->rec;
  c.id = ++_last_id;
  c.call_id = call_id;
  c.direction = side == 0 ? call_direction::inbound : call_direction::outbound;
  c.state = call_state::answered;
  c.started_at = c.answered_at = at;
  c.media_key = media_key;
  _index.emplace(std::string_view(it->key), it);
  settle(it);
  changes.push_back({call_change::created, c});
  return changes;
}

std::vector<call_change> call_table::end_media_only(const std::string& call_id, double at,
                                                   std::string reason) {
  std::vector<call_change> changes;
  list::iterator it;
  if (!lookup(call_id, &it) || call_state_final(it->rec.state)) return changes;
  close(it, call_state::ended, at, std::move(reason), &changes);
  settle(it);
  return changes;
}

std::vector<call_change> call_table::apply(const dp::sip_event& ev, double now) {
  std::vector<call_change> changes;
  const std::string key = dp::call_key(ev);
  list::iterator it;
  const bool known = lookup(key, &it);

  if (ev.is_request && ev.method == method::invite) {
    if (known) {  // retransmission, or a re-INVITE inside the dialog
      it->last_seen = now;
      settle(it);
      return changes;
    }
    if (ev.to_tag) return changes;  // a re-INVITE of a call we missed
    if (_index.size() >= _limits.max_calls) evict_one(now, &changes);
    // A new call starts out in _live; settle() moves it where its state says.
    it = _live.emplace(_live.end());
    it->key.assign(key);
    it->last_seen = now;
    _active[ev.side == 0 ? 0 : 1]++;
    call_record& c = it->rec;
    c.id = ++_last_id;
    c.call_id = utf8_sanitize(whole_chars(ev.call_id));
    c.direction = ev.side == 0 ? call_direction::inbound : call_direction::outbound;
    identity who = caller_identity(ev);
    c.from_number = std::move(who.number);
    c.from_name = std::move(who.name);
    c.caller_name = c.from_name;
    c.to_number = normalize_number(party(ev.to).user);
    c.started_at = now;
    if (ev.verdict == static_cast<uint8_t>(dp::filter_action::block)) {
      // Decided in the worker on this INVITE: the phone never saw it.
      c.state = call_state::blocked;
      c.rule_id = ev.rule_id;
      c.block_mode = dp::block_mode_name(static_cast<dp::block_mode>(ev.block_mode));
      c.status_code = ev.block_mode == static_cast<uint8_t>(dp::block_mode::busy)      ? 486
                      : ev.block_mode == static_cast<uint8_t>(dp::block_mode::decline) ? 603
                                                                                       : 0;
      c.ended_at = now;
    }
    _index.emplace(std::string_view(it->key), it);
    settle(it);
    changes.push_back({call_change::created, c});
    return changes;
  }
  if (!known) return changes;
  entry& e = *it;
  call_record& c = e.rec;
  e.last_seen = now;
  if (call_state_final(c.state) && c.state != call_state::missed &&
      c.state != call_state::cancelled) {
    settle(it);  // a late retransmission keeps a finished call for its grace period
    return changes;
  }

  auto finish = [&](call_state s, int status) {
    c.state = s;
    if (status) c.status_code = status;
    c.ended_at = now;
    changes.push_back({call_change::finished, c});
  };

  if (!ev.is_request && ev.cseq_method == method::invite) {
    const int st = ev.status;
    if (st >= 200 && st < 300) {
      if (c.state == call_state::ringing || c.state == call_state::missed ||
          c.state == call_state::cancelled) {
        // An answer can cross a CANCEL: the answer wins.
        c.state = call_state::answered;
        c.status_code = st;
        c.answered_at = now;
        c.ended_at = 0;
        changes.push_back({call_change::updated, c});
      }
    } else if (st >= 300 && c.state == call_state::ringing) {
      if (st == 487 || e.cancel_seen)
        finish(c.direction == call_direction::inbound ? call_state::missed : call_state::cancelled,
               st);
      else
        finish(call_state::failed, st);
    } else if (st >= 300 && c.status_code == 0 &&
               (c.state == call_state::missed || c.state == call_state::cancelled)) {
      c.status_code = st;  // the 487 that follows a CANCEL
      changes.push_back({call_change::updated, c});
    }
  } else if (ev.is_request && ev.method == method::cancel) {
    e.cancel_seen = true;
    if (c.state == call_state::ringing)
      finish(c.direction == call_direction::inbound ? call_state::missed : call_state::cancelled,
             0);
  } else if (ev.is_request && ev.method == method::bye) {
    if (c.state == call_state::answered || c.state == call_state::ringing)
      finish(call_state::ended, 0);
  }
  settle(it);
  return changes;
}

void call_table::evict_one(double now, std::vector<call_change>* changes) {
  // A finished call waiting out its grace period goes first, else the least recently seen.
  if (!_done.empty()) {
    erase(_done.begin());
  } else if (!_live.empty()) {
    close(_live.begin(), call_state::timeout, now,
          "the call table was full ([calls] max_active = " + std::to_string(_limits.max_calls) +
              "): the least recently active call was closed",
          changes);
    erase(_live.begin());
  } else {
    return;
  }
  _evicted++;
}

std::vector<call_change> call_table::expire(double now) {
  std::vector<call_change> changes;
  // Each queue is in the order its calls time out: stop at the first that has not.
  while (!_done.empty() && now - _done.front().last_seen > _limits.finished_grace_s)
    erase(_done.begin());
  while (!_ringing.empty() && now - _ringing.front()->rec.started_at > _limits.ringing_timeout_s) {
    list::iterator e = _ringing.front();
    close(e, call_state::timeout, now,
          "no final answer within [calls] ringing_timeout_s = " +
              seconds_text(_limits.ringing_timeout_s) + " s",
          &changes);
    settle(e);
  }
  while (!_answered.empty() &&
         now - _answered.front()->rec.answered_at > _limits.answered_timeout_s) {
    list::iterator e = _answered.front();
    close(e, call_state::timeout, now,
          "no BYE within [calls] answered_timeout_s = " + seconds_text(_limits.answered_timeout_s) +
              " s",
          &changes);
    settle(e);
  }
  return changes;
}

void call_table::set_caller_name(std::string_view raw_call_id, const std::string& name) {
  if (list::iterator it; lookup(raw_call_id, &it)) it->rec.caller_name = name;
}

bool call_table::mark_voicemail(std::string_view raw_call_id) {
  list::iterator it;
  if (!lookup(raw_call_id, &it) || it->voicemail_sent) return false;
  it->voicemail_sent = true;
  return true;
}

std::vector<call_record> call_table::active() const {
  std::vector<call_record> out;
  out.reserve(_live.size());
  for (const entry& e : _live) out.push_back(e.rec);
  std::sort(out.begin(), out.end(),
            [](const call_record& a, const call_record& b) { return a.started_at > b.started_at; });
  return out;
}

}  // namespace ringbridge::ctl
