// SPDX-License-Identifier: BSD-3-Clause
// The fixed-size record a worker hands to the control thread for each SIP message, and
// the single-producer/single-consumer ring that carries it.
//
// Plain old data only: a worker fills one on its stack and copies it into its ring (never
// blocking: a full ring drops the event and counts it); the control thread copies it out.
//
// Owned by the sip feature: the contract between its worker half and the control side
// (call table, notifications, exports). Carries the caller identity and the verdict.
#pragma once

#include <boost/lockfree/spsc_queue.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

#include "ringbridge/common/keyed_hash.h"
#include "ringbridge/dp/spsc_ring.h"
#include "ringbridge/sip/call_verdict.h"
#include "ringbridge/sip/identity.h"
#include "ringbridge/sip/sip_parser.h"

namespace ringbridge::dp {

/// Copies N bytes from SRC to DST. Short strings (most SIP fields) without a call: two
/// overlapping loads and stores, which read and write only [0, N).
inline void copy_bytes(char* dst, const char* src, size_t n) {
  if (n >= 8 && n <= 16) {
    uint64_t a, b;
    std::memcpy(&a, src, 8);
    std::memcpy(&b, src + n - 8, 8);
    std::memcpy(dst, &a, 8);
    std::memcpy(dst + n - 8, &b, 8);
  } else if (n >= 4 && n < 8) {
    uint32_t a, b;
    std::memcpy(&a, src, 4);
    std::memcpy(&b, src + n - 4, 4);
    std::memcpy(dst, &a, 4);
    std::memcpy(dst + n - 4, &b, 4);
  } else if (n > 16 && n <= 32) {
    char a[16], b[16];
    std::memcpy(a, src, 16);
    std::memcpy(b, src + n - 16, 16);
    std::memcpy(dst, a, 16);
    std::memcpy(dst + n - 16, b, 16);
  } else if (n > 32) {
    std::memcpy(dst, src, n);
  } else if (n != 0) {  // 1 to 3 bytes: first, middle, last (an empty view may have no data())
    dst[0] = src[0];
    dst[n >> 1] = src[n >> 1];
    dst[n - 1] = src[n - 1];
  }
}

/// A string of at most N bytes stored inline. assign() cuts longer input and says so.
template <size_t N>
struct fixed_str {
  uint16_t len = 0;
  uint8_t truncated = 0;
  char data[N];

  /// Copies S (cut to N bytes); returns false when it had to cut.
  bool assign(std::string_view s) {
    const size_t n = s.size() < N ? s.size() : N;
    len = static_cast<uint16_t>(n);
    copy_bytes(data, s.data(), n);
    truncated = s.size() > N;
    return !truncated;
  }
  void clear() {
    len = 0;
    truncated = 0;
  }
  std::string_view view() const { return {data, len}; }
};

/// What a worker saw: one SIP request or response crossing the bridge. Only what the control
/// side uses (the call table, the media plane's call keys, exports): the parsing that matters
/// to the dataplane (the caller's identity, the verdict, the SDP for the media hook) is done
/// and used there; From and To travel as sent and are read on the control side, if at all.
struct sip_event {
  uint64_t tsc = 0;  ///< rte_rdtsc() when the burst arrived
  uint8_t worker = 0;
  uint8_t side = 0;        ///< ingress: 0 = side A (network), 1 = side B (phone)
  uint8_t transport = 17;  ///< 17 UDP, 6 TCP
  uint8_t ip_version = 4;
  uint8_t is_request = 0;
  sip::method method = sip::method::none;
  sip::method cseq_method = sip::method::none;
  uint8_t truncated = 0;   ///< some field was cut to fit
  uint8_t verdict = 0;     ///< filter_action of the filter step (0: none / not an initial INVITE)
  uint8_t block_mode = 0;  ///< with verdict block: drop, busy, decline
  uint8_t repeat = 0;      ///< a retransmission, ACK or CANCEL of an already blocked call
  uint8_t to_tag = 0;      ///< the To header has a tag (the message is inside a dialog)
  uint32_t rule_id = 0;    ///< the rule that matched
  uint16_t status = 0;
  uint16_t sport = 0, dport = 0;
  uint32_t cseq = 0;
  uint8_t src[16] = {}, dst[16] = {};
  fixed_str<128> call_id;
  uint64_t call_id_hash = 0;  ///< call_id cut: keyed hash of the whole value (else 0)
  /// The From and To values as sent (the first of each that parses; trimmed, raw):
  /// sip::parse_name_addr() reads them where they are needed (the callee's number, the
  /// caller's when there is no `caller`). A value cut to fit is not read (it may read as
  /// another name-addr).
  fixed_str<256> from, to;
  /// Initial INVITEs: who is calling, as the filters matched it (identity.h). The call
  /// log, notifications and the API show this, never their own reading of the headers.
  uint8_t has_caller = 0;
  caller_id caller;
};
static_assert(std::is_trivially_copyable_v<sip_event>, "events cross threads as bytes");

/// Fills EV from a parsed message: every field that comes from the message (all but tsc,
/// worker, side, transport, ip_version, ports, addresses, the verdict and the caller), cut
/// to size — also those the message does not have, so EV may be a ring slot with an older
/// record in it. M may have been parsed lazily (its To tag settled: sip::settle_to_tag()).
/// Inline: one call per event on the worker's path.
inline void fill_event(const sip::message& m, sip_event* ev) {
  ev->is_request = m.is_request;
  ev->method = m.req_method;
  ev->cseq_method = m.cseq_method;
  ev->status = m.status;
  ev->cseq = m.cseq;
  ev->to_tag = !m.to.tag.empty();
  bool ok = ev->call_id.assign(m.call_id);
  ev->call_id_hash = ok ? 0 : m.call_hash != 0 ? m.call_hash : keyed_hash64(m.call_id);
  ok &= ev->from.assign(m.from.value);
  ok &= ev->to.assign(m.to.value);
  ev->truncated = !ok;
}

/// What identifies EV's call: its Call-ID, and when that was cut to fit, the hash of the
/// whole value too — so two long Call-IDs that share their first 128 bytes stay two calls.
inline std::string call_key(const sip_event& ev) {
  std::string k(ev.call_id.view());
  if (ev.call_id.truncated) {
    char h[20];
    std::snprintf(h, sizeof(h), "%c#%016llx", '\0',
                  static_cast<unsigned long long>(ev.call_id_hash));
    k.append(h, 18);
  }
  return k;
}

inline constexpr size_t k_event_ring_size = 4096;

/// One per worker: the worker fills a slot in place (claim/publish), the control thread
/// reads it where it lies (consume_one). Wait-free both ways.
using event_ring = spsc_ring<sip_event, k_event_ring_size>;

/// A SIP message's bytes, for exports (HEP). Workers fill these only when a sink asked
/// for messages (sip_config::capture_messages). Copying one copies only the used bytes.
inline constexpr size_t k_capture_bytes = 3000;
struct sip_capture {
  uint64_t tsc = 0;
  uint8_t side = 0, transport = 17, ip_version = 4, truncated = 0;
  uint16_t sport = 0, dport = 0;
  uint16_t len = 0;  ///< bytes in data
  uint8_t src[16] = {}, dst[16] = {};
  fixed_str<128> call_id;
  char data[k_capture_bytes];

  sip_capture() {}  // NOLINT: data is written before it is read, up to len
  sip_capture(const sip_capture& o) { copy_from(o); }
  sip_capture& operator=(const sip_capture& o) {
    if (this != &o) copy_from(o);
    return *this;
  }

 private:
  void copy_from(const sip_capture& o) {
    std::memcpy(static_cast<void*>(this), static_cast<const void*>(&o),
                offsetof(sip_capture, data) + o.len);
  }
};

inline constexpr size_t k_capture_ring_size = 1024;
using capture_ring =
    boost::lockfree::spsc_queue<sip_capture, boost::lockfree::capacity<k_capture_ring_size>>;

}  // namespace ringbridge::dp
