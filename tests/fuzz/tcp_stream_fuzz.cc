// SPDX-License-Identifier: BSD-3-Clause
// Differential fuzz target for SIP over TCP (plugins/sip/dataplane/tcp_stream.h): a byte stream fed
// to a tcp_stream_table as one segment, and again as random segments with retransmissions,
// overlapping re-sends, zero-length keep-alives one below the next sequence number, 1-byte
// keep-alive probes and another stream interleaved, must give the same messages.
//
// Input: [options][k][k control bytes][stream bytes]. options bit 0: on a hint port;
// bits 1-2: stream buffer size. The control bytes seed the segmentation.
//
// tcp_stream.h promises equality only for a stream the table follows from its first line
// (a SIP start line, on a hint port or looking like SIP): a stream whose first line is not
// SIP is not followed, and a later segment may then be picked up mid-stream. Other
// streams are fed both ways too (no crash, no leak) but not compared.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "ringbridge/common/keyed_hash.h"
#include "ringbridge/dp/counters.h"
#include "ringbridge/sip/sip_setup.h"
#include "ringbridge/sip/sip_parser.h"
#include "sip_stage.h"
#include "tcp_stream.h"

namespace {

namespace dp = ringbridge::dp;
namespace sip = ringbridge::dp::sip;

struct env {
  std::unique_ptr<dp::sip_database> db;
  dp::sip_counters counters;
  dp::sip_worker sw;  // only its Hyperscan database and scratch: the worker's classifier

  env() {
    std::string err;
    db = dp::sip_database::compile(&err);
    dp::sip_config cfg;
    cfg.tcp_streams = 16;
    cfg.reassembly_slots = 8;
    cfg.reassembly_max_bytes = 1500;
    if (!db || !sw.init(*db, cfg, 1000000, counters, &err)) {
      std::fprintf(stderr, "tcp_stream_fuzz: set-up failed: %s\n", err.c_str());
      std::abort();
    }
  }
};

env& the_env() {
  static env e;
  return e;
}

struct seen_message {
  bool is_request;
  std::string method_token;
  uint16_t status;
  std::string call_id;
  uint32_t cseq;
  size_t length;
  std::string raw;

  bool operator==(const seen_message& o) const {
    return is_request == o.is_request && method_token == o.method_token && status == o.status &&
           call_id == o.call_id && cseq == o.cseq && length == o.length && raw == o.raw;
  }
};

/// The stream table's handler: the worker's start-line classifier; messages recorded.
struct recorder {
  const dp::sip_worker& sw;
  std::vector<seen_message> messages;
  size_t parse_errors = 0, notes = 0;

  bool start_line(const char* p, uint32_t n) { return dp::sip_start_line(sw, p, n) != 0; }
  void message(const sip::message& m, const char* raw) {
    messages.push_back({m.is_request, std::string(m.method_token), m.status, std::string(m.call_id),
                        m.cseq, m.length, std::string(raw, m.length)});
  }
  void parse_error(sip::parse_status) { parse_errors++; }
  void note(dp::stream_note) { notes++; }
};

struct rng {
  uint64_t s;
  uint64_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
  uint32_t below(uint32_t n) { return n == 0 ? 0 : static_cast<uint32_t>(next() % n); }
};

dp::tcp_key make_key(uint8_t last_octet) {
  dp::tcp_key k{};
  k.src[0] = 192;
  k.src[1] = 0;
  k.src[2] = 2;
  k.src[3] = last_octet;
  k.dst[0] = 198;
  k.dst[1] = 51;
  k.dst[2] = 100;
  k.dst[3] = 7;
  k.sport = 40000;
  k.dport = 5060;
  return k;
}

// Would the table follow this stream from its first line (tcp_stream.h's promise)?
bool followed_from_start(const dp::sip_worker& sw, const char* p, uint32_t n, bool hinted,
                         uint32_t cap) {
  while (n != 0 && (*p == '\r' || *p == '\n')) {
    p++;
    n--;
  }
  if (n == 0) return false;
  if (!hinted && !sip::could_be_sip(p, n)) return false;
  const void* lf = std::memchr(p, '\n', std::min(n, cap));
  if (lf == nullptr) return false;
  return dp::sip_start_line(sw, p, static_cast<uint32_t>(static_cast<const char*>(lf) - p) + 1) !=
         0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  env& e = the_env();
  if (size < 2) return 0;
  const uint8_t opts = data[0];
  const size_t k = std::min<size_t>(data[1] % 32, size - 2);
  const uint8_t* ctl = data + 2;
  const size_t n = size - 2 - k;
  // The stream in an exact-size buffer: AddressSanitizer sees any read past its end.
  std::vector<char> stream(data + 2 + k, data + size);
  const char* s = stream.data();

  const bool hinted = opts & 1;
  static const uint32_t k_caps[] = {16384, 2048, 512, 128};
  const uint32_t cap = k_caps[(opts >> 1) & 3];
  static const uint32_t k_max_segment[] = {1, 2, 7, 16, 64, 300, 1460, 65535};
  const uint32_t max_seg = k_max_segment[k != 0 ? ctl[0] & 7 : 3];
  rng r{0x9e3779b97f4a7c15ull};
  for (size_t i = 0; i < k; i++) r.s = (r.s ^ ctl[i]) * 0x100000001b3ull + i;
  if (r.s == 0) r.s = 1;
  // Sequence numbers near the wrap-around as often as not.
  const uint32_t isn =
      (r.next() & 1) ? 0xffffffffu - r.below(4096) : static_cast<uint32_t>(r.next());
  const dp::tcp_key key = make_key(1), other = make_key(2);
  const uint64_t now = 1000;
  // RB_FUZZ_TRACE=1: the segments sent and the messages found, to study a failure.
  static const bool trace = std::getenv("RB_FUZZ_TRACE") != nullptr;

  // 1. The whole stream as one segment.
  recorder whole{e.sw};
  {
    dp::tcp_stream_table t(16, cap, UINT64_MAX / 2, e.counters);
    if (n != 0) t.segment(key, isn, 0, s, static_cast<uint32_t>(n), hinted, now, whole);
  }

  // 2. The same bytes cut at random, with what real TCP peers add.
  recorder cut{e.sw}, side{e.sw};
  {
    dp::tcp_stream_table t(16, cap, UINT64_MAX / 2, e.counters);
    uint32_t pos = 0;  // bytes of the stream sent so far
    auto send = [&](uint32_t from, uint32_t len) {
      if (trace) std::fprintf(stderr, "segment [%u, %u)\n", from, from + len);
      t.segment(key, isn + from, 0, s + from, len, hinted, now, cut);
    };
    for (int steps = 0; pos < n && steps < 100000; steps++) {
      const uint32_t action = r.below(10);
      if (action == 6 && pos != 0) {  // retransmission of something already sent
        const uint32_t from = r.below(pos);
        send(from, 1 + r.below(pos - from));
      } else if (action == 7 && pos != 0) {  // re-send of old bytes with new ones after them
        const uint32_t from = pos - 1 - r.below(std::min<uint32_t>(pos, 64));
        const uint32_t len =
            std::min<uint32_t>(pos - from + 1 + r.below(max_seg), static_cast<uint32_t>(n) - from);
        send(from, len);
        pos = std::max(pos, from + len);
      } else if (action == 8) {  // zero-length keep-alive: one below the next sequence number
        t.segment(key, isn + pos - 1, 0, s, 0, hinted, now, cut);
      } else if (action == 9 && pos != 0) {  // 1-byte keep-alive probe (a garbage byte)
        static const char k_garbage = 0;
        t.segment(key, isn + pos - 1, 0, &k_garbage, 1, hinted, now, cut);
      } else if (action == 5) {  // another stream between two segments of this one
        const uint32_t from = r.below(static_cast<uint32_t>(n));
        const uint32_t len =
            std::min<uint32_t>(1 + r.below(max_seg), static_cast<uint32_t>(n) - from);
        t.segment(other, isn + from, 0, s + from, len, hinted, now, side);
      } else {
        const uint32_t len =
            std::min<uint32_t>(1 + r.below(max_seg), static_cast<uint32_t>(n) - pos);
        send(pos, len);
        pos += len;
      }
    }
    if (pos < n) send(pos, static_cast<uint32_t>(n) - pos);
  }

  if (followed_from_start(e.sw, s, static_cast<uint32_t>(n), hinted, cap) &&
      !(whole.messages == cut.messages)) {
    std::fprintf(stderr,
                 "tcp_stream_fuzz: one segment gave %zu messages, random segments gave %zu\n",
                 whole.messages.size(), cut.messages.size());
    for (const auto* run : {&whole, &cut})
      for (const auto& m : run->messages)
        std::fprintf(stderr, "  %s: %zu bytes, Call-ID %s\n", run == &whole ? "whole" : "cut",
                     m.length, m.call_id.c_str());
    __builtin_trap();
  }
  return 0;
}
