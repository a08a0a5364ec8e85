// SPDX-License-Identifier: BSD-3-Clause
// Dataplane core counters: drop reasons and port counters (declared once, X-macros) and the
// per-worker counter block. Features keep their own counters (e.g. plugins/sip: sip_counters).
// Owned by the dataplane core; a feature names a drop reason here when its stage drops.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace ringbridge::dp {

// clang-format off
/// Defines NAME_FN(TYPE) and HELP_FN(TYPE) for an enum listed by the X-macro FOREACH
/// (entries _(name, help)): one switch each. Used once per counter family, in a .cc.
#define RB_DP_DEFINE_NAME_AND_HELP(type, FOREACH, name_fn, help_fn)            \
  const char* name_fn(type v) {                                                \
    switch (v) {                                                               \
      FOREACH(RB_DP_CASE_NAME_)                                                \
    }                                                                          \
    return "?";                                                                \
  }                                                                            \
  const char* help_fn(type v) {                                                \
    switch (v) {                                                               \
      FOREACH(RB_DP_CASE_HELP_)                                                \
    }                                                                          \
    return "?";                                                                \
  }
#define RB_DP_CASE_NAME_(name, help) case decltype(v)::name: return #name;
#define RB_DP_CASE_HELP_(name, help) case decltype(v)::name: return help;
// clang-format on

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

/// One worker's counters, on their own cache lines. Written by that worker lcore only.
struct alignas(64) worker_counters {
  std::array<direction_counters, 2> dir;  ///< [0] = A→B, [1] = B→A (index = ingress side)
  counter busy_polls;                     ///< loop iterations that received something
  counter idle_polls;                     ///< loop iterations that received nothing
};

}  // namespace ringbridge::dp
