// SPDX-License-Identifier: BSD-3-Clause
// Internal: SIP over TCP — a bounded table of byte streams and the incremental message
// framer that runs on each. Pure code (no DPDK, no Hyperscan): the worker plugs in its
// start-line classifier and its event emitter; tests and the fuzzer plug in their own.
//
// Guarantees, because a TCP stream is whatever the sender makes of it:
// - O(bytes): every byte is copied at most once and searched for a header end at most
//   once; a message is parsed once when its headers are complete and once more when its
//   body is (a slow drip of one byte per segment costs the same per byte as one segment).
// - Segmentation does not matter: for a stream that starts with a SIP start line, the
//   messages found are a function of the byte stream alone — one segment, any split,
//   retransmissions, overlaps and keep-alives give the same messages (fuzzed).
// - Bounded: `capacity` streams of `buffer` bytes each, allocated once; streams expire
//   after `idle_tsc` without a segment, the least recently used in a full probe window is
//   evicted; the hash is keyed (SipHash) so nobody can aim many streams at one window.
// The worker that owns a table is its only user.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>

#include "ringbridge/common/keyed_hash.h"
#include "ringbridge/dp/counters.h"
#include "ringbridge/sip/sip_parser.h"

namespace ringbridge::dp {

struct tcp_key {
  uint8_t src[16], dst[16];
  uint16_t sport, dport;

  bool operator==(const tcp_key& o) const {
    return sport == o.sport && dport == o.dport && std::memcmp(src, o.src, 16) == 0 &&
           std::memcmp(dst, o.dst, 16) == 0;
  }
  uint64_t hash() const { return keyed_hash64(this, sizeof(*this)); }
};
static_assert(sizeof(tcp_key) == 36, "hashed as bytes: no padding");

/// Where a stream's framer stands.
enum class stream_mode : uint8_t {
  probe,       ///< the stream's first line is not yet known to be a SIP start line
  follow,      ///< at a message start, or inside a message held in the buffer
  line_start,  ///< resynchronising: at the start of a line that may start a message
  mid_line,    ///< resynchronising: skipping to the end of the current line
  skip,        ///< skipping the rest of a message larger than the buffer
  dead,        ///< the stream turned out not to be SIP: the table forgets it
};

/// What the framer reports besides messages (the handler counts them).
enum class stream_note : uint8_t {
  overflow,  ///< a message larger than the buffer: skipped
  resync,    ///< bytes that could not be framed: looking for the next start line
};

struct tcp_stream {
  tcp_key key;
  bool used = false;
  stream_mode mode = stream_mode::probe;
  uint32_t next_seq = 0;   ///< the sequence number of the next byte expected
  uint32_t len = 0;        ///< bytes buffered: the start of an undecided message or line
  uint32_t scan = 0;       ///< bytes of the current message already searched for a header end
  uint32_t need = 0;       ///< the current message's total length, once its headers are in
  uint32_t skip_left = 0;  ///< mode skip: bytes still to skip
  uint64_t last_tsc = 0;
  /// Started by a 1-byte segment: that byte may be a keep-alive probe's garbage octet
  /// (RFC 1122 4.2.3.6: SEG.SEQ = SND.NXT - 1, with or without one octet) sent on a
  /// connection the table did not follow yet (only CRLF keep-alives so far, or forgotten
  /// when idle). If the first line is not a start line, it is looked at once more
  /// without that byte.
  bool maybe_probe_byte = false;
  uint8_t* buf = nullptr;  ///< the table's buffer_size bytes for this stream
};

namespace stream_detail {

inline bool is_crlf(char c) {
  return c == '\r' || c == '\n';
}

inline const char* find_lf(const char* p, uint32_t n) {
  return static_cast<const char*>(std::memchr(p, '\n', n));
}

// The end of the header block (just past the empty line) within P[0..N), resuming the
// search at *SCAN; npos-like UINT32_MAX if not there yet (*SCAN then says how far it got).
inline uint32_t header_end(const char* p, uint32_t n, uint32_t* scan) {
  uint32_t i = *scan >= 2 ? *scan - 2 : 0;
  while (i < n) {
    const char* lf = find_lf(p + i, n - i);
    if (lf == nullptr) break;
    const uint32_t at = static_cast<uint32_t>(lf - p);
    if (at + 1 < n && p[at + 1] == '\n') return at + 2;
    if (at + 2 < n && p[at + 1] == '\r' && p[at + 2] == '\n') return at + 3;
    if (at + 2 >= n) {  // the LF is too close to the end to tell: look again next time
      *scan = at;
      return UINT32_MAX;
    }
    i = at + 1;
  }
  *scan = n;
  return UINT32_MAX;
}

}  // namespace stream_detail

/// Frames messages in W[0..WN), the stream's next bytes; returns how many it consumed.
/// Stops early only where it needs more bytes to decide, and then the undecided rest is
/// shorter than CAP (so it always fits the stream's buffer). H: the handler (see
/// tcp_stream_table::segment).
template <typename H>
uint32_t stream_frame(tcp_stream& s, uint32_t cap, const char* w, uint32_t wn, H& h) {
  using namespace stream_detail;
  uint32_t i = 0;
  for (;;) {
    switch (s.mode) {
      case stream_mode::dead: return wn;
      case stream_mode::skip: {
        const uint32_t k = std::min(s.skip_left, wn - i);
        i += k;
        s.skip_left -= k;
        if (s.skip_left != 0) return i;
        s.mode = stream_mode::follow;
        continue;
      }
      case stream_mode::mid_line: {
        const char* lf = find_lf(w + i, wn - i);
        if (lf == nullptr) return wn;
        i = static_cast<uint32_t>(lf - w) + 1;
        s.mode = stream_mode::line_start;
        continue;
      }
      case stream_mode::probe:
      case stream_mode::line_start: {
        while (i < wn && is_crlf(w[i])) i++;
        if (i == wn) return i;
        const uint32_t avail = wn - i;
        const char* lf = find_lf(w + i, std::min(avail, cap));
        if (lf == nullptr) {
          if (avail < cap) return i;  // the line is not complete yet
          if (s.mode == stream_mode::probe && s.maybe_probe_byte) {
            s.maybe_probe_byte = false;
            i += 1;
            continue;
          }
          if (s.mode == stream_mode::probe) {
            s.mode = stream_mode::dead;
            return wn;
          }
          s.mode = stream_mode::mid_line;  // a line longer than the buffer starts nothing
          continue;
        }
        const uint32_t line = static_cast<uint32_t>(lf - (w + i)) + 1;
        if (h.start_line(w + i, line)) {
          s.mode = stream_mode::follow;
          s.scan = s.need = 0;
          s.maybe_probe_byte = false;
          continue;
        }
        if (s.mode == stream_mode::probe && s.maybe_probe_byte) {
          s.maybe_probe_byte = false;
          i += 1;
          continue;
        }
        if (s.mode == stream_mode::probe) {
          s.mode = stream_mode::dead;
          return wn;
        }
        i += line;
        continue;
      }
      case stream_mode::follow: {
        if (s.need == 0 && s.scan == 0)
          while (i < wn && is_crlf(w[i])) i++;  // CRLF keep-alives between messages
        if (i == wn) return i;
        const char* m = w + i;
        const uint32_t avail = wn - i;
        auto resync = [&] {
          // Start looking for the next start line one byte into the one that failed.
          h.note(stream_note::resync);
          s.mode = stream_mode::mid_line;
          s.scan = s.need = 0;
          i += 1;
        };
        if (s.need == 0) {
          if (header_end(m, std::min(avail, cap), &s.scan) == UINT32_MAX) {
            if (avail < cap) return i;
            h.note(stream_note::overflow);  // headers longer than the buffer
            resync();
            continue;
          }
        } else if (avail < s.need) {
          return i;
        }
        sip::message msg;
        std::string_view watch;  // the handler's extra header (sip_stage.h), if it has one
        if constexpr (requires { h.watched_header(); }) watch = h.watched_header();
        const sip::parse_status r = sip::parse_fresh(m, avail, false, &msg, watch);
        if (r == sip::parse_status::incomplete && msg.length > 0 && s.need == 0) {
          s.need = static_cast<uint32_t>(std::min<size_t>(msg.length, UINT32_MAX));
          if (s.need <= cap) return i;  // the body is on its way
        }
        if (r == sip::parse_status::ok || s.need > cap) {
          const uint64_t total = r == sip::parse_status::ok ? msg.length : s.need;
          s.scan = s.need = 0;
          if (total > cap) {
            // Too big to hold: skipped whole, whether it came in one segment or many.
            h.note(stream_note::overflow);
            s.mode = stream_mode::skip;
            s.skip_left = static_cast<uint32_t>(std::min<uint64_t>(total, UINT32_MAX));
            continue;
          }
          h.message(msg, m);
          i += static_cast<uint32_t>(total);
          continue;
        }
        h.parse_error(r == sip::parse_status::incomplete ? sip::parse_status::bad_content_length
                                                         : r);
        resync();
        continue;
      }
    }
  }
}

/// Feeds P[0..N), the stream's next bytes in order, through the framer: in place when
/// nothing is buffered (the common case: whole messages in a segment), else appended to
/// the buffer first.
template <typename H>
void stream_feed(tcp_stream& s, uint32_t cap, const char* p, uint32_t n, H& h) {
  while (s.mode != stream_mode::dead) {
    if (s.len == 0) {
      if (n == 0) return;
      const uint32_t used = stream_frame(s, cap, p, n, h);
      p += used;
      n -= used;
      if (n == 0 || s.mode == stream_mode::dead) return;
      if (n >= cap) {  // cannot happen (stream_frame decides on CAP bytes); be safe anyway
        h.note(stream_note::resync);
        s.mode = stream_mode::mid_line;
        s.scan = s.need = 0;
        continue;
      }
      std::memcpy(s.buf, p, n);
      s.len = n;
      return;
    }
    const uint32_t k = std::min(n, cap - s.len);
    std::memcpy(s.buf + s.len, p, k);
    s.len += k;
    p += k;
    n -= k;
    const uint32_t used = stream_frame(s, cap, reinterpret_cast<const char*>(s.buf), s.len, h);
    if (used != 0) std::memmove(s.buf, s.buf + used, s.len - used);
    s.len -= used;
    if (n == 0) return;
    if (used == 0 && k == 0) {  // cannot happen either (a full buffer is always decided)
      h.note(stream_note::resync);
      s.len = 0;
      s.mode = stream_mode::mid_line;
      s.scan = s.need = 0;
    }
  }
}

inline bool seq_before(uint32_t a, uint32_t b) {
  return static_cast<int32_t>(a - b) < 0;
}

struct tcp_stream_table {
  static constexpr uint32_t k_probe = 8;  ///< slots looked at per lookup

  uint32_t capacity;
  uint32_t buffer_size;
  uint64_t idle_tsc;    ///< a stream with no segment for this long is forgotten
  uint32_t in_use = 0;  ///< streams followed now: 0 lets most TCP skip the lookup
  uint32_t sweep_at = 0;
  sip_counters& counters;  ///< tcp_streams, tcp_evicted, tcp_expired, tcp_out_of_order
  std::unique_ptr<tcp_stream[]> slots;
  std::unique_ptr<uint8_t[]> arena;

  tcp_stream_table(uint32_t cap, uint32_t buf, uint64_t idle, sip_counters& c)
      : capacity(cap),
        buffer_size(buf),
        idle_tsc(idle),
        counters(c),
        slots(new tcp_stream[cap]),
        arena(new uint8_t[size_t(cap) * buf]) {
    for (uint32_t i = 0; i < cap; i++) slots[i].buf = arena.get() + size_t(i) * buf;
  }

  /// Forgets S if it has been idle too long; true if it did.
  bool expire_if_idle(tcp_stream& s, uint64_t now) {
    if (!s.used || now - s.last_tsc <= idle_tsc) return false;
    remove(&s);
    counters[sip_counter::tcp_expired].inc();
    return true;
  }

  tcp_stream* find(const tcp_key& k, uint64_t h, uint64_t now) {
    for (uint32_t i = 0; i < k_probe; i++) {
      tcp_stream& s = slots[(h + i) % capacity];
      if (s.used && s.key == k) return expire_if_idle(s, now) ? nullptr : &s;
    }
    return nullptr;
  }

  /// A slot for K: a free (or idle) one among the probed slots, else the least recently
  /// used of them (counted as evicted). Never fails.
  tcp_stream* insert(const tcp_key& k, uint64_t h, uint64_t now) {
    tcp_stream* victim = nullptr;
    for (uint32_t i = 0; i < k_probe; i++) {
      tcp_stream& s = slots[(h + i) % capacity];
      if (!s.used || expire_if_idle(s, now)) {
        victim = &s;
        break;
      }
      if (victim == nullptr || s.last_tsc < victim->last_tsc) victim = &s;
    }
    if (victim->used)
      counters[sip_counter::tcp_evicted].inc();
    else
      in_use++;
    counters[sip_counter::tcp_streams].inc();
    victim->used = true;
    victim->key = k;
    victim->mode = stream_mode::probe;
    victim->len = victim->scan = victim->need = victim->skip_left = 0;
    victim->last_tsc = now;
    return victim;
  }

  void remove(tcp_stream* s) {
    if (s->used) in_use--;
    s->used = false;
    s->len = 0;
  }

  /// Housekeeping, a few slots at a time (the worker calls it when it is idle).
  void sweep(uint64_t now, uint32_t slots_to_check) {
    for (uint32_t i = 0; i < slots_to_check && in_use != 0; i++) {
      expire_if_idle(slots[sweep_at], now);
      sweep_at = sweep_at + 1 == capacity ? 0 : sweep_at + 1;
    }
  }

  /// One TCP segment: sequence number SEQ, flags FLAGS, payload P[0..N). HINTED: on a SIP
  /// hint port (every stream there is probed; elsewhere only those whose first bytes look
  /// like SIP). H provides:
  ///   bool start_line(const char* line, uint32_t len)  — is this line a SIP start line?
  ///   void message(const sip::message&, const char* raw)
  ///   void parse_error(sip::parse_status)
  ///   void note(stream_note)
  template <typename H>
  void segment(const tcp_key& key, uint32_t seq, uint8_t flags, const char* p, uint32_t n,
               bool hinted, uint64_t now, H& h) {
    const bool closing = (flags & 0x05) != 0;  // FIN or RST
    if (in_use == 0 && n == 0) return;
    const uint64_t hv = key.hash();
    tcp_stream* s = find(key, hv, now);
    if (s == nullptr) {
      // Keep-alive CRLFs are not a reason to follow anything.
      uint32_t k = 0;
      while (k < n && stream_detail::is_crlf(p[k])) k++;
      p += k;
      n -= k;
      seq += k;
      if (n == 0) return;
      if (!hinted && !sip::could_be_sip_prefix(p, n)) return;
      // Most segments that are not SIP are told by their first line, without a table slot.
      const char* lf = stream_detail::find_lf(p, std::min(n, buffer_size));
      if (lf != nullptr && !h.start_line(p, static_cast<uint32_t>(lf - p) + 1)) return;
      s = insert(key, hv, now);
      s->next_seq = seq;
      s->maybe_probe_byte = n == 1;
    }
    s->last_tsc = now;
    if (n != 0 && seq != s->next_seq) {
      if (!seq_before(s->next_seq, seq + n)) {
        n = 0;  // all of it seen before: a retransmission, or a keep-alive probe
      } else if (seq_before(seq, s->next_seq)) {
        const uint32_t seen = s->next_seq - seq;  // overlaps what was seen: keep the new tail
        p += seen;
        n -= seen;
        seq = s->next_seq;
      } else {
        // A gap: a lost segment. What is buffered can never complete.
        counters[sip_counter::tcp_out_of_order].inc();
        s->len = s->scan = s->need = s->skip_left = 0;
        s->mode = stream_mode::line_start;
      }
    }
    if (n != 0) {
      s->next_seq = seq + n;
      stream_feed(*s, buffer_size, p, n, h);
    }
    if (closing || s->mode == stream_mode::dead) remove(s);
  }
};

}  // namespace ringbridge::dp
