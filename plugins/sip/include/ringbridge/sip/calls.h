// SPDX-License-Identifier: BSD-3-Clause
// Call state from SIP events: one record per Call-ID, ringing → answered → ended (or
// missed, cancelled, failed), with caller identity and direction. Control thread only.
//
// Owned by the sip feature's control half. Reads sip_events (the identity the worker
// computed, the verdict it carried out); touches no storage, HTTP or sink.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ringbridge/sip/sip_event.h"

namespace ringbridge::ctl {

#define RB_CALL_FOREACH_STATE(_)                                                     \
  _(ringing, "INVITE seen, no final answer yet")                                     \
  _(answered, "a 2xx answered the INVITE")                                           \
  _(ended, "answered, then a BYE ended it")                                          \
  _(missed, "an inbound call the caller gave up on (CANCEL / 487) before an answer") \
  _(cancelled, "an outbound call cancelled before an answer")                        \
  _(failed, "a final 3xx-6xx answer (busy, declined, not found, ...)")               \
  _(timeout, "no final answer, or no BYE, within the configured time")               \
  _(blocked, "a filter rule blocked the INVITE: the phone never saw it")             \
  _(interrupted, "ringbridge stopped before the call ended (closed at the next start)")

enum class call_state : uint8_t {
#define RB_CALL_STATE_ENUM(name, help) name,
  RB_CALL_FOREACH_STATE(RB_CALL_STATE_ENUM)
#undef RB_CALL_STATE_ENUM
};
#define RB_CALL_STATE_COUNT(name, help) +1
inline constexpr size_t k_call_states = 0 RB_CALL_FOREACH_STATE(RB_CALL_STATE_COUNT);
#undef RB_CALL_STATE_COUNT
const char* call_state_name(call_state s);
bool call_state_final(call_state s);

enum class call_direction : uint8_t { inbound, outbound };
const char* direction_name(call_direction d);

/// One call, as logged and served over the API. Times are Unix seconds. Every string is
/// valid UTF-8 (built from wire bytes with utf8_sanitize).
struct call_record {
  int64_t id = 0;  ///< call log row id (given when the call is created)
  std::string call_id;
  call_direction direction = call_direction::inbound;
  std::string from_number;  ///< caller: P-Asserted-Identity, Remote-Party-ID, From
  std::string from_name;    ///< caller's display name as sent
  std::string caller_name;  ///< the phonebook's name for from_number, else from_name
  std::string to_number;
  call_state state = call_state::ringing;
  int status_code = 0;     ///< the final response status, when there was one
  int64_t rule_id = 0;     ///< blocked: the filter rule that matched
  std::string block_mode;  ///< blocked: drop, busy or decline
  std::string end_reason;  ///< why ringbridge itself closed the call (timeout, table full,
                           ///< interrupted); empty when SIP ended it
  double started_at = 0, answered_at = 0, ended_at = 0;
  /// A call seen without SIP (RTP the media plane's heuristics found): the workers' media
  /// key of it. 0 for SIP calls. Not stored.
  uint64_t media_key = 0;

  double duration_s() const {
    return answered_at > 0 && ended_at > answered_at ? ended_at - answered_at : 0;
  }
};

/// The number format of the whole appliance ([filters] numbers): the workers' caller
/// identity uses it, and so does normalize_number(). Call once at start, before any other
/// thread runs.
void set_number_format(const dp::number_format& f);

/// RAW through the one normaliser (dp::normalize_number) in the appliance's format: %XX
/// escapes decoded, visual separators stripped, an international prefix made "+", national
/// numbers made international when a country code is set — "+1%20(555)%20123-4567" →
/// "+15551234567", "0049301234567" → "+49301234567". For called numbers, phonebook entries
/// and queries, so they compare equal to the caller numbers the workers log. Valid UTF-8
/// out (bytes that are not become U+FFFD).
std::string normalize_number(std::string_view raw);
/// The caller of an INVITE: the identity the worker computed (sip_event::caller; the one
/// the filters matched), as valid UTF-8.
struct identity {
  std::string number;
  std::string name;
};
identity caller_identity(const dp::sip_event& ev);

/// What changed, for the caller to persist and publish: a copy of the call as it is now.
struct call_change {
  enum kind : uint8_t { created, updated, finished } what;
  call_record call;
};

/// Limits of the call table.
struct call_limits {
  uint32_t max_calls = 4096;          ///< tracked at once; the oldest is evicted beyond
  double ringing_timeout_s = 300;     ///< no final answer by then → timeout
  double answered_timeout_s = 86400;  ///< answered, no BYE by then → timeout
  double finished_grace_s = 32;       ///< finished calls are kept this long (SIP timer B/F)
};

/// Calls in progress (and recently finished, until the retransmissions die down).
///
/// Control thread only. Keyed by the Call-ID exactly as sent (the record shows it
/// sanitized) through a keyed hash, so nobody can choose Call-IDs that collide. Every
/// operation is O(1) per call it touches: calls sit in a least-recently-seen list (live
/// calls and finished ones apart, so finished calls are evicted first) and in one of two
/// timeout queues (ringing by start, answered by answer time), so expire() looks only at
/// what expires.
class call_table {
 public:
  explicit call_table(call_limits limits);
  ~call_table();
  call_table(const call_table&) = delete;
  call_table& operator=(const call_table&) = delete;

  /// Applies one event seen at time NOW (Unix seconds). Returns what changed.
  std::vector<call_change> apply(const dp::sip_event& ev, double now);
  /// A call seen without SIP (RTP the media plane's heuristics found), answered at AT:
  /// CALL_ID "rtp:A-B" is its key, SIDE the side its first packet came in on. Nothing when
  /// it is already tracked.
  std::vector<call_change> start_media_only(const std::string& call_id, uint64_t media_key,
                                            int side, double at);
  /// Its media stopped at AT (REASON: why): the call ends.
  std::vector<call_change> end_media_only(const std::string& call_id, double at,
                                          std::string reason);

  /// Times out stale calls and forgets finished ones after the grace period.
  std::vector<call_change> expire(double now);

  /// Call log row ids: the next call created gets LAST + 1, and so on.
  void set_last_id(int64_t last) { _last_id = last; }
  int64_t last_id() const { return _last_id; }

  /// Records the name the phonebook gave the caller of the call with this raw Call-ID.
  void set_caller_name(std::string_view raw_call_id, const std::string& name);
  /// Marks the call's voicemail event as sent; false when it was already, or no such call.
  bool mark_voicemail(std::string_view raw_call_id);

  /// The call with this raw Call-ID, while it is tracked (nullptr otherwise).
  const call_record* find(std::string_view raw_call_id) const;

  /// Calls not yet in a final state, newest first (copies).
  std::vector<call_record> active() const;
  /// Calls not yet in a final state, by direction.
  uint64_t active_count(call_direction d) const { return _active[static_cast<int>(d)]; }
  size_t size() const;
  uint64_t evicted() const { return _evicted; }

 private:
  struct entry;
  struct key_hash {
    size_t operator()(std::string_view s) const;
  };
  using list = std::list<entry>;
  using timer_queue = std::list<list::iterator>;
  enum class timer : uint8_t { none, ringing, answered };

  struct entry {
    std::string key;  ///< the Call-ID as sent; the index's key is a view of it
    call_record rec;
    double last_seen = 0;
    bool cancel_seen = false;
    bool voicemail_sent = false;
    bool finished = false;  ///< in _done (else in _live)
    timer armed = timer::none;
    timer_queue::iterator timer_it;
  };

  bool lookup(std::string_view key, list::iterator* out) const;
  /// Puts E where its state says: at the back of _live or _done, in the right timer queue.
  void settle(list::iterator e);
  void erase(list::iterator e);
  void close(list::iterator e, call_state s, double now, std::string reason,
             std::vector<call_change>* changes);
  void evict_one(double now, std::vector<call_change>* changes);
  timer_queue& queue(timer t) { return t == timer::ringing ? _ringing : _answered; }

  call_limits _limits;
  list _live;  ///< calls in progress, least recently seen first
  list _done;  ///< finished calls in their grace period, least recently seen first
  timer_queue _ringing, _answered;
  std::unordered_map<std::string_view, list::iterator, key_hash> _index;
  int64_t _last_id = 0;
  uint64_t _active[2] = {0, 0};
  uint64_t _evicted = 0;
};

}  // namespace ringbridge::ctl
