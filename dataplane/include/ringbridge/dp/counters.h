// SPDX-License-Identifier: BSD-3-Clause
// Dataplane counters: drop reasons (declared once, X-macro) and per-worker counter blocks.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "ringbridge/sip/sip_parser.h"

namespace ringbridge::dp {

/// Every reason the dataplane drops a frame it received: name, help text.
/// Each becomes a drop_reason value, a string, and (control side) a metric label.
/// Invariant per ingress port: rx = forwarded + sum(drops), exactly, once workers stop.
#define RB_DP_FOREACH_DROP(_)                                                               \
  _(oversize, "frame longer than the configured maximum (dataplane.mtu + 22 bytes)")        \
  _(tx_refused, "the egress port refused the frame after the bounded tx retries")           \
  _(sip_blocked, "SIP of a blocked call: the INVITE, its retransmissions, ACK, CANCEL")     \
  _(sip_unparsed, "INVITEs that could not be parsed, dropped by [filters] on_unparsable")   \
  _(rx_truncated, "frames the port could not receive whole (AF_PACKET: socket queue full)") \
  _(gso_unsupported, "offload super-frames the bridge cannot cut into wire-size frames")    \
  _(no_mbuf, "frames received with no mbuf free to hold them (raise dataplane.mbufs)")

enum class drop_reason : uint8_t {
#define RB_DP_DROP_ENUM(name, help) name,
  RB_DP_FOREACH_DROP(RB_DP_DROP_ENUM)
#undef RB_DP_DROP_ENUM
};

#define RB_DP_DROP_COUNT(name, help) +1
inline constexpr size_t k_drop_reasons = 0 RB_DP_FOREACH_DROP(RB_DP_DROP_COUNT);
#undef RB_DP_DROP_COUNT

/// "oversize", "tx_refused", ...
const char* drop_reason_name(drop_reason r);
const char* drop_reason_help(drop_reason r);

/// A counter with one writer (its worker lcore) and any number of readers. The writer
/// adds with a relaxed load + store (a plain add on x86, no locked instruction); readers
/// see a value that is at most a few updates old, never a torn one.
class counter {
 public:
  void add(uint64_t n) {
    _v.store(_v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void inc() { add(1); }
  uint64_t get() const { return _v.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> _v{0};
};

/// What a port did to frames on their way in, besides dropping them: name, help text.
/// Each becomes a port stats field and a metric.
#define RB_DP_FOREACH_PORT_COUNTER(_)                                                        \
  _(csum_completed,                                                                          \
    "frames whose TCP/UDP checksum, left unfinished by the sender's checksum offload, the "  \
    "bridge completed")                                                                      \
  _(csum_left_partial,                                                                       \
    "frames forwarded with an unfinished checksum (dataplane.complete_checksums = \"off\")") \
  _(gso_frames, "segmentation-offload super-frames received and cut into wire-size frames")  \
  _(gso_segments, "frames made by cutting super-frames (counted as received)")

enum class port_counter : uint8_t {
#define RB_DP_PORT_ENUM(name, help) name,
  RB_DP_FOREACH_PORT_COUNTER(RB_DP_PORT_ENUM)
#undef RB_DP_PORT_ENUM
};
#define RB_DP_PORT_COUNT(name, help) +1
inline constexpr size_t k_port_counters = 0 RB_DP_FOREACH_PORT_COUNTER(RB_DP_PORT_COUNT);
#undef RB_DP_PORT_COUNT

const char* port_counter_name(port_counter c);
const char* port_counter_help(port_counter c);

/// Counters of one direction (ingress port → its peer) in one worker.
struct direction_counters {
  counter rx_pkts;  ///< frames received on the ingress port
  counter rx_bytes;
  counter tx_pkts;  ///< frames the egress port accepted (forwarded + injected)
  counter tx_bytes;
  counter injected;  ///< of those, frames the bridge made itself (486/603/200 replies)
  std::array<counter, k_drop_reasons> drops;
  std::array<counter, k_port_counters> port_counts;  ///< RB_DP_FOREACH_PORT_COUNTER

  void drop(drop_reason r, uint64_t n = 1) { drops[static_cast<size_t>(r)].add(n); }
  counter& port(port_counter k) { return port_counts[static_cast<size_t>(k)]; }
};

/// What SIP inspection saw and did (never a drop: inspected frames are forwarded). Each
/// becomes a stats field and a metric.
#define RB_DP_FOREACH_SIP_COUNTER(_)                                                              \
  _(sip_messages, "SIP messages parsed")                                                          \
  _(sip_events, "call events handed to the control thread")                                       \
  _(ring_full, "call events lost: the event ring was full (the control thread fell behind)")      \
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

struct sip_counters {
  std::array<counter, k_sip_counters> c;
  std::array<counter, k_sip_methods> requests;    ///< by sip::method
  std::array<counter, 6> responses;               ///< by class: [0] = 1xx ... [5] = 6xx
  std::array<counter, k_sip_parse_errors> parse;  ///< by sip::parse_status (ok unused)
  std::array<counter, k_unscreened_reasons> unscreened;

  counter& operator[](sip_counter k) { return c[static_cast<size_t>(k)]; }
  const counter& operator[](sip_counter k) const { return c[static_cast<size_t>(k)]; }
};

/// One worker's counters, on their own cache lines. Written by that worker lcore only.
struct alignas(64) worker_counters {
  std::array<direction_counters, 2> dir;  ///< [0] = A→B, [1] = B→A (index = ingress side)
  counter busy_polls;                     ///< loop iterations that received something
  counter idle_polls;                     ///< loop iterations that received nothing
  alignas(64) sip_counters sip;
};

}  // namespace ringbridge::dp
