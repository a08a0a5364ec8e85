// SPDX-License-Identifier: BSD-3-Clause
// Hot path: SIP inspection of one frame (classify → parse → event), UDP and TCP.
//
// Inspection never changes or holds the frame: it is forwarded whatever happens here.
// Costs, cheapest first: L2-L4 headers; a 10-byte probe (skipped on hint ports); a
// Hyperscan scan of the start line; the parser. Non-SIP traffic pays the first two.
#pragma once

#include <hs/hs.h>
#include <rte_branch_prediction.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cstring>

#include "ringbridge/dp/counters.h"
#include "ringbridge/dp/packet.h"
#include "ringbridge/dp/sip_inspect.h"
#include "sip_block.h"
#include "tcp_stream.h"

namespace ringbridge::dp {

/// Is P (LEN bytes) the start of a SIP message? Only the start line (within 256 bytes) is
/// scanned.
inline bool sip_start_line(const sip_worker& sw, const char* p, uint32_t len) {
  const void* nl = std::memchr(p, '\n', std::min<uint32_t>(len, 256));
  if (nl == nullptr) return false;
  len = static_cast<uint32_t>(static_cast<const char*>(nl) - p) + 1;
  unsigned matched = 0;
  auto on_match = [](unsigned id, unsigned long long, unsigned long long, unsigned,
                     void* ctx) -> int {
    *static_cast<unsigned*>(ctx) = id;
    return 1;  // one match is enough
  };
  hs_scan(sw.db->db(), p, len, 0, sw.scratch, on_match, &matched);
  return matched != 0;
}

/// Copies the message's bytes for exports (only while a sink wants them).
inline void capture(sip_worker& sw, sip_counters& sc, const sip::message& m, const char* raw,
                    const l4_info& li, int side, const sip_event& ev, uint64_t tsc) {
  if (sw.capture->write_available() == 0) {
    sc[sip_counter::capture_full].inc();
    return;
  }
  sip_capture c;
  c.tsc = tsc;
  c.side = static_cast<uint8_t>(side);
  c.transport = li.proto;
  c.ip_version = li.ip_version;
  c.sport = li.sport;
  c.dport = li.dport;
  std::memcpy(c.src, ev.src, sizeof(c.src));
  std::memcpy(c.dst, ev.dst, sizeof(c.dst));
  c.call_id = ev.call_id;
  c.len = static_cast<uint16_t>(std::min<size_t>(m.length, k_capture_bytes));
  c.truncated = m.length > k_capture_bytes;
  if (unlikely(c.truncated)) sc[sip_counter::capture_truncated].inc();
  std::memcpy(c.data, raw, c.len);
  sw.capture->push(c);
}

/// Turns a parsed message into an event and hands it to the control thread.
inline void emit(sip_worker& sw, sip_counters& sc, const sip::message& m, const char* raw,
                 const l4_info& li, int side, unsigned worker, uint64_t tsc,
                 const event_verdict& v = {}) {
  sc[sip_counter::sip_messages].inc();
  if (m.is_request)
    sc.requests[static_cast<size_t>(m.req_method)].inc();
  else if (m.status >= 100 && m.status <= 699)
    sc.responses[m.status / 100 - 1].inc();
  sip_event ev;
  ev.tsc = tsc;
  ev.worker = static_cast<uint8_t>(worker);
  ev.side = static_cast<uint8_t>(side);
  ev.transport = li.proto;
  ev.ip_version = li.ip_version;
  ev.sport = li.sport;
  ev.dport = li.dport;
  li.copy_addrs(ev.src, ev.dst);
  fill_event(m, &ev);
  ev.verdict = v.verdict;
  ev.block_mode = v.block_mode;
  ev.repeat = v.repeat;
  ev.rule_id = v.rule_id;
  if (unlikely(ev.truncated)) sc[sip_counter::truncated_fields].inc();
  if (likely(sw.ring->push(ev)))
    sc[sip_counter::sip_events].inc();
  else
    sc[sip_counter::ring_full].inc();
  if (sw.capture) capture(sw, sc, m, raw, li, side, ev, tsc);
}

inline void count_parse_error(sip_counters& sc, sip::parse_status r) {
  sc.parse[static_cast<size_t>(r)].inc();
}

// Parses as many whole messages as P holds; returns the bytes consumed. Leading CRLFs
// (RFC 5626 keep-alives) are skipped. A malformed message discards the rest of P.
inline uint32_t parse_stream(sip_worker& sw, sip_counters& sc, const char* p, uint32_t n,
                             const l4_info& li, int side, unsigned worker, uint64_t tsc) {
  uint32_t used = 0;
  while (used < n) {
    while (used < n && (p[used] == '\r' || p[used] == '\n')) used++;
    if (used == n) break;
    sip::message m;
    const sip::parse_status r = sip::parse(p + used, n - used, false, &m);
    if (r == sip::parse_status::incomplete) break;
    if (r != sip::parse_status::ok) {
      count_parse_error(sc, r);
      return n;
    }
    emit(sw, sc, m, p + used, li, side, worker, tsc);
    used += static_cast<uint32_t>(m.length);
  }
  return used;
}

inline bool seq_before(uint32_t a, uint32_t b) {
  return static_cast<int32_t>(a - b) < 0;
}

inline void inspect_tcp(sip_worker& sw, sip_counters& sc, const l4_info& li, const char* p,
                        uint32_t n, bool hinted, int side, unsigned worker, uint64_t tsc) {
  tcp_stream_table& table = *sw.streams;
  // Bulk TCP pays nothing more when no SIP stream is followed and nothing looks like SIP.
  if (table.in_use == 0 && (n == 0 || (!hinted && !sip::could_be_sip(p, n)))) return;
  tcp_key key;
  li.copy_addrs(key.src, key.dst);
  key.sport = li.sport;
  key.dport = li.dport;
  tcp_stream* s = table.find(key);
  const bool closing = (li.tcp_flags & 0x05) != 0;  // FIN or RST
  if (s == nullptr) {
    if (n == 0 || closing) return;
    if (!hinted && !sip::could_be_sip(p, n)) return;
    if (!sip_start_line(sw, p, n)) return;
    bool evicted;
    s = table.insert(key, tsc, &evicted);
    s->next_seq = li.tcp_seq;
    sc[sip_counter::tcp_streams].inc();
    if (evicted) sc[sip_counter::tcp_evicted].inc();
  }
  s->last_tsc = tsc;
  uint32_t seq = li.tcp_seq;
  if (seq != s->next_seq) {
    if (!seq_before(s->next_seq, seq + n) && n != 0) return;  // a retransmission
    if (seq_before(seq, s->next_seq)) {                       // overlaps: keep the new tail
      const uint32_t skip = s->next_seq - seq;
      p += skip;
      n -= skip;
      seq = s->next_seq;
    } else if (n != 0) {  // a gap: what was buffered can never complete
      sc[sip_counter::tcp_out_of_order].inc();
      s->len = 0;
      if (!sip::could_be_sip(p, n)) {
        table.remove(s);
        return;
      }
    }
  }
  s->next_seq = seq + n;
  if (n != 0) {
    if (s->len == 0) {
      // Common case: whole messages in this segment, parsed where they lie.
      const uint32_t used = parse_stream(sw, sc, p, n, li, side, worker, tsc);
      p += used;
      n -= used;
    }
    if (n != 0) {
      if (s->len + n > table.buffer_size) {
        sc[sip_counter::tcp_overflow].inc();
        s->len = 0;
      } else {
        std::memcpy(s->buf + s->len, p, n);
        s->len += n;
        const uint32_t used = parse_stream(sw, sc, reinterpret_cast<const char*>(s->buf), s->len,
                                           li, side, worker, tsc);
        if (used != 0) {
          std::memmove(s->buf, s->buf + used, s->len - used);
          s->len -= used;
        }
      }
    }
  }
  if (closing) table.remove(s);
}

/// Inspects frame M that arrived on SIDE. TSC: when its burst arrived. Not inlined: one
/// call per frame is noise, and it lets callgrind count exactly what inspection costs
/// (perf/harness: --toggle-collect on this function).
__attribute__((noinline)) inline sip_outcome sip_inspect(sip_worker& sw, sip_counters& sc,
                                                         rte_mbuf* m, int side, unsigned worker,
                                                         uint64_t tsc) {
  const auto* data = rte_pktmbuf_mtod(m, const uint8_t*);
  // ARP, LLDP, ...: out before any parsing.
  if (rte_pktmbuf_data_len(m) >= 14) {
    const uint16_t type = static_cast<uint16_t>(data[12] << 8 | data[13]);
    if (type != 0x0800 && type != 0x86dd && type != 0x8100 && type != 0x88a8 && type != 0x9100)
      return {};
  }
  l4_info li;
  const l4_result r = parse_l4(data, rte_pktmbuf_data_len(m), &li);
  if (likely(r != l4_result::ok)) {
    if (r == l4_result::fragment)
      sc[sip_counter::ip_fragments].inc();
    else if (r == l4_result::malformed)
      sc[sip_counter::malformed_headers].inc();
    return {};
  }
  uint32_t n = li.payload_len;
  if (n == 0 && li.proto != 6) return {};
  const bool hinted = sw.hints.test(li.sport) || sw.hints.test(li.dport);
  // The payload is usually in the first segment; jumbo chains are copied out.
  const char* p;
  if (li.payload_offset + n <= rte_pktmbuf_data_len(m)) {
    p = reinterpret_cast<const char*>(data + li.payload_offset);
  } else {
    p = static_cast<const char*>(rte_pktmbuf_read(m, li.payload_offset, n, sw.linear.get()));
    if (p == nullptr) {
      sc[sip_counter::malformed_headers].inc();
      return {};
    }
  }
  if (li.proto == 6) {
    inspect_tcp(sw, sc, li, p, n, hinted, side, worker, tsc);
    return {};
  }
  if (!hinted && !sip::could_be_sip(p, n)) return {};
  if (!sip_start_line(sw, p, n)) {
    if (hinted && n > 4) sc[sip_counter::not_sip].inc();  // 4 bytes: CRLFCRLF keep-alive
    return {};
  }
  sip::message msg;
  const sip::parse_status pr = sip::parse(p, n, true, &msg);
  if (pr != sip::parse_status::ok) {
    count_parse_error(sc, pr);
    if (n >= 7 && std::memcmp(p, "INVITE ", 7) == 0) {
      sc[sip_counter::invite_unparsed].inc();
      if (sw.drop_unparsable_invites && side == 0) return {sip_action::drop_unparsed, nullptr};
    }
    return {};
  }
  event_verdict v;
  sip_outcome out;
  if (sw.filters != nullptr && msg.is_request)
    out = apply_filters(sw, sc, msg, p, data, li, side, worker, tsc, &v);
  emit(sw, sc, msg, p, li, side, worker, tsc, v);
  return out;
}

}  // namespace ringbridge::dp
