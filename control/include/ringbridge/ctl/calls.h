// SPDX-License-Identifier: BSD-3-Clause
// Call state from SIP events: one record per Call-ID, ringing → answered → ended (or
// missed, cancelled, failed), with caller identity and direction. Control thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ringbridge/dp/filter.h"
#include "ringbridge/dp/sip_event.h"

namespace ringbridge::ctl {

#define RB_CALL_FOREACH_STATE(_)                                                     \
  _(ringing, "INVITE seen, no final answer yet")                                     \
  _(answered, "a 2xx answered the INVITE")                                           \
  _(ended, "answered, then a BYE ended it")                                          \
  _(missed, "an inbound call the caller gave up on (CANCEL / 487) before an answer") \
  _(cancelled, "an outbound call cancelled before an answer")                        \
  _(failed, "a final 3xx-6xx answer (busy, declined, not found, ...)")               \
  _(timeout, "no final answer, or no BYE, within the configured time")               \
  _(blocked, "a filter rule blocked the INVITE: the phone never saw it")

enum class call_state : uint8_t {
#define RB_CALL_STATE_ENUM(name, help) name,
  RB_CALL_FOREACH_STATE(RB_CALL_STATE_ENUM)
#undef RB_CALL_STATE_ENUM
};
const char* call_state_name(call_state s);
bool call_state_final(call_state s);

enum class call_direction : uint8_t { inbound, outbound };
const char* direction_name(call_direction d);

/// One call, as logged and served over the API. Times are Unix seconds.
struct call_record {
  int64_t id = 0;  ///< call log row id (0 until stored)
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
  double started_at = 0, answered_at = 0, ended_at = 0;

  double duration_s() const {
    return answered_at > 0 && ended_at > answered_at ? ended_at - answered_at : 0;
  }
};

/// Decodes %XX escapes (RFC 3261 user part) and strips visual separators the way
/// number matching needs: "+1%20(555)%20123-4567" → "+15551234567".
std::string normalize_number(std::string_view raw);
/// Removes quotes' backslash escapes and folds whitespace runs into one space.
std::string clean_display_name(std::string_view raw);

/// The caller identity of an INVITE: the first present of P-Asserted-Identity,
/// Remote-Party-ID, From (number and display name).
struct identity {
  std::string number;
  std::string name;
};
identity caller_identity(const dp::sip_event& ev,
                         const std::vector<dp::identity_source>& order = {
                             dp::identity_source::pai, dp::identity_source::rpid,
                             dp::identity_source::from});

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
  /// Caller identity precedence (the same as the filters use).
  std::vector<dp::identity_source> identity = {dp::identity_source::pai, dp::identity_source::rpid,
                                               dp::identity_source::from};
};

/// Calls in progress (and recently finished, until the retransmissions die down).
class call_table {
 public:
  explicit call_table(call_limits limits) : _limits(limits) {}

  /// Applies one event seen at time NOW (Unix seconds). Returns what changed.
  std::vector<call_change> apply(const dp::sip_event& ev, double now);

  /// Times out stale calls and forgets finished ones after a grace period.
  std::vector<call_change> expire(double now);

  /// Records the call log row id of a call reported as created.
  void set_row_id(const std::string& call_id, int64_t id);
  /// Records the name the phonebook gave the caller.
  void set_caller_name(const std::string& call_id, const std::string& name);

  /// The call with this Call-ID, while it is tracked (nullptr otherwise).
  const call_record* find(const std::string& call_id) const {
    auto it = _calls.find(call_id);
    return it == _calls.end() ? nullptr : &it->second.rec;
  }

  /// Calls not yet in a final state, newest first (copies).
  std::vector<call_record> active() const;
  size_t size() const { return _calls.size(); }
  uint64_t evicted() const { return _evicted; }

 private:
  struct entry {
    call_record rec;
    double last_seen = 0;
    bool cancel_seen = false;
  };
  void evict_one(double now, std::vector<call_change>* changes);

  call_limits _limits;
  std::unordered_map<std::string, entry> _calls;
  uint64_t _evicted = 0;
};

}  // namespace ringbridge::ctl
