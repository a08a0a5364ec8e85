// SPDX-License-Identifier: BSD-3-Clause
// Internal: a bounded table of TCP byte streams carrying SIP, for reassembly of messages
// split across segments. Fixed capacity, allocated once; the worker that owns it is the only
// user. In-order data only: a gap restarts the stream at the next message start.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>

namespace ringbridge::dp {

struct tcp_key {
  uint8_t src[16], dst[16];
  uint16_t sport, dport;

  bool operator==(const tcp_key& o) const {
    return sport == o.sport && dport == o.dport && std::memcmp(src, o.src, 16) == 0 &&
           std::memcmp(dst, o.dst, 16) == 0;
  }
  uint32_t hash() const {
    uint32_t h = 2166136261u;  // FNV-1a
    auto mix = [&h](const uint8_t* p, size_t n) {
      for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
    };
    mix(src, 16);
    mix(dst, 16);
    mix(reinterpret_cast<const uint8_t*>(&sport), 2);
    mix(reinterpret_cast<const uint8_t*>(&dport), 2);
    return h;
  }
};

struct tcp_stream {
  tcp_key key;
  bool used = false;
  uint32_t next_seq = 0;  ///< the sequence number of the next byte expected
  uint32_t len = 0;       ///< bytes buffered (a message not yet complete)
  uint64_t last_tsc = 0;
  uint8_t* buf = nullptr;  ///< capacity bytes, inside the table's arena
};

struct tcp_stream_table {
  static constexpr uint32_t k_probe = 8;  ///< slots looked at per lookup

  uint32_t capacity;
  uint32_t buffer_size;
  uint32_t in_use = 0;  ///< streams followed now: 0 lets most TCP skip the lookup
  std::unique_ptr<tcp_stream[]> slots;
  std::unique_ptr<uint8_t[]> arena;

  tcp_stream_table(uint32_t cap, uint32_t buf)
      : capacity(cap),
        buffer_size(buf),
        slots(new tcp_stream[cap]),
        arena(new uint8_t[size_t(cap) * buf]) {
    for (uint32_t i = 0; i < cap; i++) slots[i].buf = arena.get() + size_t(i) * buf;
  }

  tcp_stream* find(const tcp_key& k) {
    const uint32_t h = k.hash();
    for (uint32_t i = 0; i < k_probe; i++) {
      tcp_stream& s = slots[(h + i) % capacity];
      if (s.used && s.key == k) return &s;
    }
    return nullptr;
  }

  /// A slot for K: a free one among the probed slots, else the least recently used of
  /// them (*evicted set). Never fails.
  tcp_stream* insert(const tcp_key& k, uint64_t now, bool* evicted) {
    const uint32_t h = k.hash();
    tcp_stream* victim = nullptr;
    *evicted = false;
    for (uint32_t i = 0; i < k_probe; i++) {
      tcp_stream& s = slots[(h + i) % capacity];
      if (!s.used) {
        victim = &s;
        break;
      }
      if (victim == nullptr || s.last_tsc < victim->last_tsc) victim = &s;
    }
    *evicted = victim->used;
    if (!victim->used) in_use++;
    victim->used = true;
    victim->key = k;
    victim->len = 0;
    victim->last_tsc = now;
    return victim;
  }

  void remove(tcp_stream* s) {
    if (s->used) in_use--;
    s->used = false;
    s->len = 0;
  }
};

}  // namespace ringbridge::dp
