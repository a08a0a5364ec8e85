// SPDX-License-Identifier: BSD-3-Clause
// The call state machine.
#include "ringbridge/ctl/calls.h"

#include <algorithm>
#include <cctype>

#include "ringbridge/dp/filter.h"

namespace ringbridge::ctl {

using dp::sip::method;

namespace {
constexpr double k_finished_grace_s = 32;  // SIP timer B/F: retransmissions end by then
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

std::string normalize_number(std::string_view raw) {
  // Escapes decoded and separators dropped; no prefix rewriting (the number as sent).
  static const dp::number_format k_as_sent = [] {
    dp::number_format f;
    f.intl_prefixes.clear();
    return f;
  }();
  char out[64];
  return std::string(out, dp::normalize_number(raw, k_as_sent, out, sizeof(out)));
}

std::string clean_display_name(std::string_view raw) {
  std::string out;
  bool space = false;
  for (size_t i = 0; i < raw.size(); i++) {
    char c = raw[i];
    if (c == '\\' && i + 1 < raw.size()) c = raw[++i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      space = !out.empty();
      continue;
    }
    if (static_cast<unsigned char>(c) < 0x20) continue;
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

identity caller_identity(const dp::sip_event& ev, const std::vector<dp::identity_source>& order) {
  for (dp::identity_source src : order) {
    const dp::sip_party* p = src == dp::identity_source::pai    ? &ev.pai
                             : src == dp::identity_source::rpid ? &ev.rpid
                                                                : &ev.from;
    if (!p->present || p->user.len == 0) continue;
    return {normalize_number(p->user.view()), clean_display_name(p->display.view())};
  }
  // No user part anywhere (e.g. From: <sip:anonymous.invalid>): the From name at least.
  return {"", clean_display_name(ev.from.display.view())};
}

std::vector<call_change> call_table::apply(const dp::sip_event& ev, double now) {
  std::vector<call_change> changes;
  const std::string key(ev.call_id.view());
  auto it = _calls.find(key);

  if (ev.is_request && ev.method == method::invite) {
    if (it != _calls.end()) {  // retransmission, or a re-INVITE inside the dialog
      it->second.last_seen = now;
      return changes;
    }
    if (ev.to.present && ev.to.tag.len != 0) return changes;  // re-INVITE of a call we missed
    if (_calls.size() >= _limits.max_calls) evict_one(now, &changes);
    entry e;
    e.last_seen = now;
    call_record& c = e.rec;
    c.call_id = key;
    c.direction = ev.side == 0 ? call_direction::inbound : call_direction::outbound;
    identity who = caller_identity(ev, _limits.identity);
    c.from_number = who.number;
    c.from_name = who.name;
    c.caller_name = who.name;
    c.to_number = normalize_number(ev.to.user.view());
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
    auto ins = _calls.emplace(key, std::move(e)).first;
    changes.push_back({call_change::created, ins->second.rec});
    return changes;
  }
  if (it == _calls.end()) return changes;
  entry& e = it->second;
  call_record& c = e.rec;
  e.last_seen = now;
  if (call_state_final(c.state) && c.state != call_state::missed &&
      c.state != call_state::cancelled)
    return changes;

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
  return changes;
}

void call_table::evict_one(double now, std::vector<call_change>* changes) {
  // A finished call waiting out its grace period goes first, else the least recently seen.
  auto victim = _calls.end();
  for (auto it = _calls.begin(); it != _calls.end(); ++it) {
    const bool fin = call_state_final(it->second.rec.state);
    if (victim == _calls.end()) {
      victim = it;
      continue;
    }
    const bool vfin = call_state_final(victim->second.rec.state);
    if ((fin && !vfin) || (fin == vfin && it->second.last_seen < victim->second.last_seen))
      victim = it;
  }
  if (victim == _calls.end()) return;
  call_record& c = victim->second.rec;
  if (!call_state_final(c.state)) {
    c.state = call_state::timeout;
    c.ended_at = now;
    changes->push_back({call_change::finished, c});
  }
  _evicted++;
  _calls.erase(victim);
}

std::vector<call_change> call_table::expire(double now) {
  std::vector<call_change> changes;
  for (auto it = _calls.begin(); it != _calls.end();) {
    entry& e = it->second;
    call_record& c = e.rec;
    if (call_state_final(c.state)) {
      if (now - e.last_seen > k_finished_grace_s) {
        it = _calls.erase(it);
        continue;
      }
    } else if ((c.state == call_state::ringing && now - c.started_at > _limits.ringing_timeout_s) ||
               (c.state == call_state::answered &&
                now - c.answered_at > _limits.answered_timeout_s)) {
      c.state = call_state::timeout;
      c.ended_at = now;
      changes.push_back({call_change::finished, c});
    }
    ++it;
  }
  return changes;
}

void call_table::set_row_id(const std::string& call_id, int64_t id) {
  auto it = _calls.find(call_id);
  if (it != _calls.end()) it->second.rec.id = id;
}

void call_table::set_caller_name(const std::string& call_id, const std::string& name) {
  auto it = _calls.find(call_id);
  if (it != _calls.end()) it->second.rec.caller_name = name;
}

std::vector<call_record> call_table::active() const {
  std::vector<call_record> out;
  for (const auto& [k, e] : _calls)
    if (!call_state_final(e.rec.state)) out.push_back(e.rec);
  std::sort(out.begin(), out.end(),
            [](const call_record& a, const call_record& b) { return a.started_at > b.started_at; });
  return out;
}

}  // namespace ringbridge::ctl
