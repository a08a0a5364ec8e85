// SPDX-License-Identifier: BSD-3-Clause
// Internal: reassembly of fragmented UDP datagrams, for inspection only. Pure code (no
// DPDK): the worker feeds it every IPv4/IPv6 fragment and forwards the fragments
// themselves unchanged; a datagram that completes here is inspected like any other, and
// when it must not reach the phone (a blocked INVITE) the worker drops the fragment that
// completed it — the receiver can then never reassemble it — and every later fragment of
// it (retransmissions, duplicates) until its entry expires.
//
// Bounded: `slots` datagrams in progress of at most `max_bytes` each, allocated once; the
// hash is keyed (SipHash). A datagram whose first fragment shows it is not SIP is marked
// and passed through without copying. Fragments that overlap with different bytes make a
// datagram "ambiguous" (receivers resolve overlaps differently, RFC 5722): not inspected,
// counted. The owning worker is the only user.
#pragma once

#include <bitset>
#include <cstdint>
#include <cstring>
#include <memory>

#include "ringbridge/common/keyed_hash.h"
#include "ringbridge/dp/counters.h"

namespace ringbridge::dp {

/// One fragment as parse_l4() describes it.
struct frag_info {
  uint8_t ip_version = 4;
  uint8_t proto = 0;  ///< IPv4 protocol / IPv6 next header after the fragment header
  const uint8_t* src = nullptr;
  const uint8_t* dst = nullptr;
  uint32_t id = 0;                ///< IPv4 identification / IPv6 fragment identification
  uint32_t offset = 0;            ///< bytes
  bool more = false;              ///< MF / M flag
  const uint8_t* data = nullptr;  ///< the fragment's payload (after the IP / fragment header)
  uint32_t len = 0;
};

struct frag_key {
  uint8_t src[16], dst[16];
  uint32_t id;
  uint8_t proto, ip_version, side, pad;
  bool operator==(const frag_key& o) const { return std::memcmp(this, &o, sizeof(*this)) == 0; }
};
static_assert(sizeof(frag_key) == 40, "compared and hashed as bytes: no padding");

class reasm_table {
 public:
  static constexpr uint32_t k_max_bytes = 65535;
  static constexpr uint32_t k_probe = 8;

  enum class state : uint8_t {
    free,
    collecting,  ///< fragments arriving, the datagram may be SIP
    pass,        ///< not SIP, too big, ambiguous, or inspected and forwarded: let fragments by
    drop,        ///< inspected and not to be delivered: drop every further fragment
  };

  /// What to do with the fragment just added.
  enum class verdict : uint8_t {
    forward,    ///< nothing to decide (yet)
    complete,   ///< the datagram is whole: inspect datagram(), then judge()
    drop,       ///< part of a datagram judged earlier not to be delivered
    no_room,    ///< no slot for it (all in use by datagrams that may be SIP): unscreened
    too_big,    ///< the datagram is larger than max_bytes: unscreened
    ambiguous,  ///< overlapping fragments with different bytes: unscreened
  };

  /// SLOTS datagrams in progress of at most MAX_BYTES bytes; an entry lives TTL_TSC after
  /// its first fragment (receivers keep fragments 30 s (IPv4) to 60 s (IPv6) on Linux).
  /// Counts frag_reassembled, frag_evicted, frag_expired in C.
  reasm_table(uint32_t slots, uint32_t max_bytes, uint64_t ttl_tsc, sip_counters& c);

  /// Adds fragment F that arrived on SIDE. IS_SIP(first_udp_payload, len, sport, dport)
  /// decides from the first fragment whether the datagram is worth holding. FAIL_CLOSED
  /// (screening that drops what it cannot screen): a full table refuses the newcomer
  /// (verdict::no_room) instead of giving up a datagram being collected, and a datagram
  /// that cannot be screened (too big, ambiguous) has all its later fragments dropped.
  template <typename IsSip>
  verdict add(const frag_info& f, int side, uint64_t now, bool fail_closed, IsSip&& is_sip);

  /// After verdict::complete: the datagram (IP payload: UDP header + data, or for IPv6 the
  /// fragmentable part starting with header proto()).
  const uint8_t* datagram() const { return _done->buf; }
  uint32_t datagram_len() const { return _done->total; }
  uint8_t datagram_proto() const { return _done->proto; }
  /// After verdict::complete: whether the datagram may be delivered; if not, whether it
  /// is a blocked call's (else it could not be screened).
  void judge(bool deliver, bool blocked) {
    _done->st = deliver ? state::pass : state::drop;
    _done->blocked = blocked;
  }
  /// After verdict::drop: the datagram was a blocked call's (else it was unscreenable).
  bool dropped_as_blocked() const { return _hit != nullptr && _hit->blocked; }

 private:
  struct entry {
    frag_key key;
    state st = state::free;
    uint8_t proto = 0;  ///< of the fragmentable part (IPv6: may be an extension header)
    bool have_first = false;
    bool blocked = false;     ///< state drop: a blocked call's datagram
    uint32_t total = 0;       ///< known once the last fragment arrived; 0 before
    uint32_t blocks_set = 0;  ///< 8-byte blocks received
    uint32_t max_end = 0;     ///< the highest byte offset any fragment reached
    uint64_t expires = 0;
    std::bitset<k_max_bytes / 8 + 1> blocks;
    uint8_t* buf = nullptr;
  };

  entry* lookup(const frag_key& k, uint64_t h, uint64_t now, bool* found);
  void release(entry& e);

  uint32_t _slots;
  uint32_t _max_bytes;
  uint64_t _ttl;
  std::unique_ptr<entry[]> _e;
  std::unique_ptr<uint8_t[]> _arena;
  entry* _done = nullptr;
  entry* _hit = nullptr;
  sip_counters& _c;
};

inline reasm_table::reasm_table(uint32_t slots, uint32_t max_bytes, uint64_t ttl_tsc,
                                sip_counters& c)
    : _slots(slots),
      _max_bytes(max_bytes > k_max_bytes ? k_max_bytes : max_bytes),
      _ttl(ttl_tsc),
      _e(new entry[slots]),
      _arena(new uint8_t[size_t(slots) * _max_bytes]),
      _c(c) {
  for (uint32_t i = 0; i < slots; i++) _e[i].buf = _arena.get() + size_t(i) * _max_bytes;
}

inline void reasm_table::release(entry& e) {
  e.st = state::free;
  e.have_first = e.blocked = false;
  e.total = e.blocks_set = 0;
  e.blocks.reset();
}

// The entry for K, or a slot to put it in (*FOUND false). A full probe window gives up the
// least valuable entry: a passed or dropped datagram's memory first (the oldest), else the
// oldest datagram still being collected (add() decides whether to give it up).
inline reasm_table::entry* reasm_table::lookup(const frag_key& k, uint64_t h, uint64_t now,
                                               bool* found) {
  entry* free_slot = nullptr;
  entry* oldest_done = nullptr;
  entry* oldest_collecting = nullptr;
  for (uint32_t i = 0; i < k_probe; i++) {
    entry& e = _e[(h + i) % _slots];
    if (e.st != state::free && e.expires <= now) {
      if (e.st == state::collecting) _c[sip_counter::frag_expired].inc();
      release(e);
    }
    if (e.st == state::free) {
      if (free_slot == nullptr) free_slot = &e;
      continue;
    }
    if (e.key == k) {
      *found = true;
      return &e;
    }
    entry*& o = e.st == state::collecting ? oldest_collecting : oldest_done;
    if (o == nullptr || e.expires < o->expires) o = &e;
  }
  *found = false;
  if (free_slot != nullptr) return free_slot;
  if (oldest_done != nullptr) {
    release(*oldest_done);
    return oldest_done;
  }
  return oldest_collecting;  // the caller decides whether it may be evicted
}

template <typename IsSip>
reasm_table::verdict reasm_table::add(const frag_info& f, int side, uint64_t now, bool fail_closed,
                                      IsSip&& is_sip) {
  frag_key k{};  // zeroed: the key is compared and hashed as bytes
  const size_t alen = f.ip_version == 6 ? 16 : 4;
  std::memcpy(k.src, f.src, alen);
  std::memcpy(k.dst, f.dst, alen);
  k.id = f.id;
  k.ip_version = f.ip_version;
  k.side = static_cast<uint8_t>(side);
  // IPv4 fragments all carry the protocol; IPv6 ones carry the next header, which only
  // the first fragment's value describes: leave it out of the IPv6 key.
  k.proto = f.ip_version == 4 ? f.proto : 0;
  const uint64_t h = keyed_hash64(&k, sizeof(k));
  bool found = false;
  entry* e = lookup(k, h, now, &found);
  _hit = e;
  if (found) {
    if (e->st == state::drop) return verdict::drop;
    if (e->st == state::pass) return verdict::forward;
  } else {
    if (e->st == state::collecting) {
      if (fail_closed) {
        _hit = nullptr;
        return verdict::no_room;
      }
      // Every slot in the window holds a datagram that may be SIP. Give up the oldest
      // (counted) rather than the new one: a flood of fresh fragments then costs the
      // screening of old, stalled datagrams, which receivers are about to drop anyway.
      _c[sip_counter::frag_evicted].inc();
      release(*e);
    }
    e->key = k;
    e->st = state::collecting;
    e->expires = now + _ttl;
  }

  // A fragment that does not fit the datagram limit or contradicts what came before.
  const uint64_t end = uint64_t(f.offset) + f.len;
  const state unscreenable = fail_closed ? state::drop : state::pass;
  if (end > _max_bytes) {
    e->st = unscreenable;
    return verdict::too_big;
  }
  if ((!f.more && e->total != 0 && e->total != end) || (e->total != 0 && end > e->total) ||
      (!f.more && e->max_end > end)) {
    e->st = unscreenable;
    return verdict::ambiguous;
  }
  if (f.offset == 0) {
    e->have_first = true;
    e->proto = f.proto;
    // Not worth holding: a UDP datagram whose first bytes are not SIP (and not on a SIP
    // port), or a protocol we do not inspect in fragments (TCP is not reassembled).
    const bool udp = f.proto == 17;
    const bool v6_ext = f.ip_version == 6 && (f.proto == 0 || f.proto == 60 || f.proto == 43);
    if (!udp && !v6_ext) {
      e->st = state::pass;
      return verdict::forward;
    }
    if (udp && f.len >= 8) {
      const uint16_t sport = static_cast<uint16_t>(f.data[0] << 8 | f.data[1]);
      const uint16_t dport = static_cast<uint16_t>(f.data[2] << 8 | f.data[3]);
      if (!is_sip(reinterpret_cast<const char*>(f.data + 8), f.len - 8, sport, dport)) {
        e->st = state::pass;
        return verdict::forward;
      }
    }
  }
  // Copy in, block by block; an overlap must repeat the same bytes.
  const uint32_t b0 = f.offset / 8, b1 = static_cast<uint32_t>((end + 7) / 8);
  for (uint32_t b = b0; b < b1; b++) {
    if (!e->blocks.test(b)) continue;
    const uint32_t lo = std::max(b * 8, f.offset);
    const uint32_t hi = std::min<uint32_t>(b * 8 + 8, static_cast<uint32_t>(end));
    if (std::memcmp(e->buf + lo, f.data + (lo - f.offset), hi - lo) != 0) {
      e->st = unscreenable;
      return verdict::ambiguous;
    }
  }
  std::memcpy(e->buf + f.offset, f.data, f.len);
  for (uint32_t b = b0; b < b1; b++)
    if (!e->blocks.test(b)) {
      e->blocks.set(b);
      e->blocks_set++;
    }
  if (!f.more) e->total = static_cast<uint32_t>(end);
  e->max_end = std::max(e->max_end, static_cast<uint32_t>(end));
  if (e->total == 0 || !e->have_first || e->blocks_set != (e->total + 7) / 8)
    return verdict::forward;
  _c[sip_counter::frag_reassembled].inc();
  _done = e;
  e->st = state::pass;  // until judged
  return verdict::complete;
}

}  // namespace ringbridge::dp
