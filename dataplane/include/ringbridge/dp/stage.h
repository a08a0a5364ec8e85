// SPDX-License-Identifier: BSD-3-Clause
// The worker's frame path as a list of stages, and the verdict a stage gives a frame.
//
// A burst goes through: parse (the core: size check, which frames can carry IP,
// unfinished checksums) → the stages a feature registered, in order (inspect: SIP;
// verdict: filters, through SIP's request hook; capture/rewrite: media) → forward (the
// core: out of the other port, drops counted by reason, answers sent back out of the
// ingress port). A stage sees the whole burst and the
// verdict of every frame so far; it looks only at frames still marked forward/modified.
//
// Owned by the dataplane core. Features (plugins/<f>/dataplane) implement stages; the core
// never names a feature. Stages run on the worker lcore: no locks, no heap, no syscalls.
#pragma once

#include <cstdint>

#include "ringbridge/dp/counters.h"

struct rte_mbuf;

namespace ringbridge::dp {

inline constexpr uint16_t k_max_burst = 64;
inline constexpr unsigned k_max_stages = 4;

/// What happens to one received frame.
enum class verdict_kind : uint8_t {
  forward,   ///< out of the other port, unchanged (the default)
  drop,      ///< freed here and counted under reason
  answer,    ///< dropped (counted under reason) and reply sent back out of the ingress port
  modified,  ///< out of the other port, changed by a stage (checksums, audio)
};

/// A plain aggregate (no member initialisers), so that a burst's array of them costs
/// nothing until written; verdict{} is forward.
struct verdict {
  verdict_kind kind;
  drop_reason reason;  ///< with drop / answer
  rte_mbuf* reply;     ///< with answer

  bool passes() const { return kind == verdict_kind::forward || kind == verdict_kind::modified; }
  static verdict forwarded() { return {verdict_kind::forward, drop_reason{}, nullptr}; }
  static verdict dropped(drop_reason r) { return {verdict_kind::drop, r, nullptr}; }
  /// Drops the request (counted under R) and sends REPLY back; REPLY nullptr = a drop.
  static verdict answered(drop_reason r, rte_mbuf* reply) {
    return {reply != nullptr ? verdict_kind::answer : verdict_kind::drop, r, reply};
  }
};

/// One rx burst of one direction, as the stages see it. Which frames still go out is a
/// bit mask (k_max_burst = 64 bits), so that the common burst — every frame forwarded —
/// costs no verdict stores or loads per frame; v[i] holds the verdict of a frame whose
/// bit is clear.
struct frame_burst {
  rte_mbuf** pkts = nullptr;
  verdict* v = nullptr;  ///< v[i] for pkts[i], valid where passes(i) is false
  uint16_t n = 0;
  uint8_t side = 0;  ///< ingress: 0 = side A (network), 1 = side B (phone)
  unsigned worker = 0;
  uint64_t tsc = 0;   ///< rte_rdtsc() when the burst arrived
  uint64_t pass = 0;  ///< bit i: pkts[i] goes out of the other port (forward / modified)
  /// bit i: pkts[i] may carry IP (may_carry_ip(): IPv4, IPv6, VLAN-tagged, too short to
  /// tell). The core classifies each frame once; stages that look at IP traffic visit
  /// pass & ip and never see ARP, LLDP, ... The default (all) is always safe.
  uint64_t ip = ~uint64_t{0};

  bool passes(uint16_t i) const { return (pass >> i) & 1; }
  /// Frame I gets verdict X (forward and modified change nothing: it still goes out).
  void give(uint16_t i, const verdict& x) {
    if (x.passes()) return;
    v[i] = x;
    pass &= ~(uint64_t{1} << i);
  }
  static uint64_t all(uint16_t n) { return n >= 64 ? ~uint64_t{0} : (uint64_t{1} << n) - 1; }
};

/// A feature's step on the frame path. RUN is called once per burst (not per frame), so
/// the indirect call costs nothing per frame; IDLE (optional) on polls that received
/// nothing, for housekeeping bounded to a few microseconds.
struct stage {
  const char* name = nullptr;
  void (*run)(void* ctx, frame_burst& b) = nullptr;
  void (*idle)(void* ctx, uint64_t tsc) = nullptr;
  void* ctx = nullptr;  ///< the feature's per-worker state
};

}  // namespace ringbridge::dp
