// SPDX-License-Identifier: BSD-3-Clause
// Internal (filters, worker side): the per-worker table of calls this worker blocked, so
// that retransmissions, the ACK and the CANCEL of a blocked call get the same treatment.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

#include "ringbridge/common/keyed_hash.h"
#include "ringbridge/filters/filter.h"
#include "ringbridge/sip/sip_parser.h"

namespace ringbridge::dp {

/// Who a blocked call is: a keyed 128-bit hash of the whole Call-ID, the caller's From tag
/// and the side the INVITE came in on. Nothing is cut to a fixed size, so a long Call-ID
/// stays blocked, and a message from the other side (or another dialog reusing the
/// Call-ID) never matches. Reads M's From if the lazy parse left it unread.
inline hash128 blocked_identity(sip::message& m, int side) {
  sip::settle(m, &m.from);
  // side, tag length, tag, Call-ID — hashed in one piece when short (the usual case).
  char buf[256];
  const std::string_view tag = m.from.tag.substr(0, 64);
  const std::string_view id = m.call_id;
  const bool whole_tag = m.from.tag.size() <= 64;
  if (whole_tag && 2 + tag.size() + id.size() <= sizeof(buf)) {
    buf[0] = static_cast<char>(side);
    buf[1] = static_cast<char>(tag.size());
    // An absent tag or Call-ID is an empty view with no data(): memcpy must not see it.
    if (!tag.empty()) std::memcpy(buf + 2, tag.data(), tag.size());
    if (!id.empty()) std::memcpy(buf + 2 + tag.size(), id.data(), id.size());
    return keyed_hash128(buf, 2 + tag.size() + id.size());
  }
  const hash128 parts[2] = {keyed_hash128(m.from.tag), keyed_hash128(id)};
  buf[0] = static_cast<char>(side);
  buf[1] = static_cast<char>(0xff);  // never a tag length: the long form
  std::memcpy(buf + 2, parts, sizeof(parts));
  return keyed_hash128(buf, 2 + sizeof(parts));
}

/// A call blocked in this worker.
struct blocked_call {
  hash128 who;
  uint64_t expires = 0;  ///< TSC; 0 = free slot
  uint32_t rule_id = 0;
  block_mode mode = block_mode::drop;
  uint8_t tag_len = 0;
  char to_tag[16];
};

/// Open addressing, bounded probing; an insert into a full window evicts the entry that
/// expires first. Entries live ttl_tsc (the SIP transaction lifetime, 32 s by default).
struct blocked_table {
  static constexpr uint32_t k_slots = 4096;  // power of two
  static constexpr uint32_t k_probe = 16;
  std::unique_ptr<blocked_call[]> slots{new blocked_call[k_slots]};
  uint32_t live = 0;  ///< entries inserted and not yet seen expired (an upper bound)
  uint64_t ttl_tsc = 0;

  blocked_call* find(const hash128& who, uint64_t now) {
    for (uint32_t i = 0; i < k_probe; i++) {
      blocked_call& b = slots[(who.lo + i) & (k_slots - 1)];
      if (b.expires == 0) continue;
      if (b.expires <= now) {
        b.expires = 0;
        if (live) live--;
        continue;
      }
      if (b.who == who) return &b;
    }
    return nullptr;
  }

  blocked_call* insert(const hash128& who, uint64_t now, bool* evicted) {
    blocked_call* victim = nullptr;
    for (uint32_t i = 0; i < k_probe; i++) {
      blocked_call& b = slots[(who.lo + i) & (k_slots - 1)];
      if (b.expires == 0 || b.expires <= now) {
        victim = &b;
        *evicted = false;
        break;
      }
      if (victim == nullptr || b.expires < victim->expires) victim = &b;
      *evicted = true;
    }
    if (!*evicted) live++;
    victim->who = who;
    victim->expires = now + ttl_tsc;
    return victim;
  }
};

}  // namespace ringbridge::dp
