// SPDX-License-Identifier: BSD-3-Clause
// SIP inspection's counters (declared once, X-macros): what the sip stage saw and did, the
// filter verdicts it carried out, why frames could not be screened. One block per worker,
// written by that worker only; summed for the control thread by sip_dataplane::stats().
#pragma once

#include <array>
#include <cstdint>

#include "ringbridge/dp/counters.h"
#include "ringbridge/sip/sip_parser.h"

namespace ringbridge::dp {

/// What SIP inspection saw and did (never a drop: inspected frames are forwarded). Each
/// becomes a stats field and a metric.
#define RB_DP_FOREACH_SIP_COUNTER(_)                                                              \
  _(sip_messages, "SIP messages parsed")                                                          \
  _(sip_events, "call events handed to the control thread")                                       \
  _(ring_full, "call events lost: the event ring was full (the control thread fell behind)")      \
  _(repeats_coalesced,                                                                            \
    "retransmissions within 1 s of the same message: no second event (exports still get them)")  \
  _(capture_full, "SIP messages not exported: the capture ring was full")                         \
  _(capture_truncated, "SIP messages exported cut to the capture size")                           \
  _(not_sip, "payloads on a SIP hint port that are not SIP")                                      \
  _(ip_fragments, "IP fragments seen (UDP ones are reassembled for inspection)")                  \
  _(frag_reassembled, "fragmented UDP datagrams reassembled and inspected")                       \
  _(frag_evicted, "fragmented datagrams given up to make room in the reassembly table")           \
  _(frag_expired, "fragmented datagrams that never completed within the reassembly timeout")      \
  _(malformed_headers, "frames whose IP/UDP/TCP headers do not fit the frame (forwarded)")        \
  _(truncated_fields, "events with a field cut to its fixed size")                                \
  _(tcp_streams, "TCP streams followed for SIP")                                                  \
  _(tcp_out_of_order, "TCP segments after a gap: the stream restarts at the next message")        \
  _(tcp_overflow, "TCP messages larger than the stream buffer (skipped)")                         \
  _(tcp_resync, "TCP streams that lost the message boundary and looked for the next one")         \
  _(tcp_evicted, "TCP streams evicted from the full stream table")                                \
  _(tcp_expired, "TCP streams forgotten after [sip] tcp_idle_s without a segment")                \
  _(verdict_none, "initial INVITEs no filter rule matched")                                       \
  _(verdict_allow, "initial INVITEs an allow rule matched")                                       \
  _(verdict_block, "initial INVITEs a block rule matched (not forwarded)")                        \
  _(verdict_record, "initial INVITEs a record rule matched")                                      \
  _(verdict_norecord, "initial INVITEs a norecord rule matched")                                  \
  _(blocked_repeats, "retransmissions, ACKs, CANCELs of blocked calls (not forwarded)")           \
  _(blocked_evicted, "blocked calls forgotten early: the blocked-call table was full")            \
  _(replies_sent, "486 / 603 / 200 responses sent for blocked calls")                             \
  _(reply_failed, "responses that could not be built or had no mbuf (the request is dropped)")    \
  _(reply_rate_limited, "responses not sent: over [filters] reply_rate (the request is dropped)") \
  _(reply_suppressed,                                                                             \
    "responses not sent: the request came from a broadcast, multicast or unspecified address")    \
  _(invite_unparsed, "INVITEs that could not be parsed (forwarded or dropped by policy)")

/// Why a frame that may carry an INVITE could not be screened. Each case is counted;
/// on side A it is forwarded or dropped by [filters] on_unparsable.
#define RB_DP_FOREACH_UNSCREENED(_)                                                         \
  _(invite_parse_error, "an INVITE that could not be parsed (sip_parse_errors says why)")   \
  _(invite_start_line, "a payload starting with INVITE without a valid SIP start line")     \
  _(frag_no_room, "a UDP fragment the full reassembly table had no room for")               \
  _(frag_too_big, "a fragmented UDP datagram larger than [sip] reassembly_max_bytes")       \
  _(frag_ambiguous, "fragments overlapping with different bytes, or contradicting lengths") \
  _(frag_malformed, "a reassembled datagram whose UDP header does not fit it")

enum class unscreened_reason : uint8_t {
#define RB_DP_UNSCREENED_ENUM(name, help) name,
  RB_DP_FOREACH_UNSCREENED(RB_DP_UNSCREENED_ENUM)
#undef RB_DP_UNSCREENED_ENUM
};
#define RB_DP_UNSCREENED_COUNT(name, help) +1
inline constexpr size_t k_unscreened_reasons = 0 RB_DP_FOREACH_UNSCREENED(RB_DP_UNSCREENED_COUNT);
#undef RB_DP_UNSCREENED_COUNT
const char* unscreened_reason_name(unscreened_reason r);
const char* unscreened_reason_help(unscreened_reason r);

enum class sip_counter : uint8_t {
#define RB_DP_SIP_ENUM(name, help) name,
  RB_DP_FOREACH_SIP_COUNTER(RB_DP_SIP_ENUM)
#undef RB_DP_SIP_ENUM
};
#define RB_DP_SIP_COUNT(name, help) +1
inline constexpr size_t k_sip_counters = 0 RB_DP_FOREACH_SIP_COUNTER(RB_DP_SIP_COUNT);
#undef RB_DP_SIP_COUNT
const char* sip_counter_name(sip_counter c);
const char* sip_counter_help(sip_counter c);

inline constexpr size_t k_sip_methods = static_cast<size_t>(sip::method::other) + 1;
#define RB_DP_PARSE_COUNT(name, help) +1
inline constexpr size_t k_sip_parse_errors =
    2 RB_SIP_FOREACH_PARSE_ERROR(RB_DP_PARSE_COUNT);  // indexed by sip::parse_status
#undef RB_DP_PARSE_COUNT

struct alignas(64) sip_counters {
  std::array<counter, k_sip_counters> c;
  std::array<counter, k_sip_methods> requests;    ///< by sip::method
  std::array<counter, 6> responses;               ///< by class: [0] = 1xx ... [5] = 6xx
  std::array<counter, k_sip_parse_errors> parse;  ///< by sip::parse_status (ok unused)
  std::array<counter, k_unscreened_reasons> unscreened;

  counter& operator[](sip_counter k) { return c[static_cast<size_t>(k)]; }
  const counter& operator[](sip_counter k) const { return c[static_cast<size_t>(k)]; }
};

/// SIP inspection totals over all workers.
struct sip_stats {
  std::array<uint64_t, k_sip_counters> c{};
  std::array<uint64_t, k_sip_methods> requests{};
  std::array<uint64_t, 6> responses{};
  std::array<uint64_t, k_sip_parse_errors> parse_errors{};
  std::array<uint64_t, k_unscreened_reasons> unscreened{};

  uint64_t operator[](sip_counter k) const { return c[static_cast<size_t>(k)]; }
  void add(const sip_counters& w);
};

}  // namespace ringbridge::dp
