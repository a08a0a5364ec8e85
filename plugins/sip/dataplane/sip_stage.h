// SPDX-License-Identifier: BSD-3-Clause
// Hot path: the sip stage — SIP inspection of every frame of a burst (classify → parse →
// caller identity → the request hook's verdict → event), UDP, TCP and IP fragments.
//
// Inspection never changes or holds the frame; it is forwarded unless the request hook
// (the filters feature) decides otherwise (a blocked INVITE, or one that cannot be screened under
// [filters] on_unparsable = "drop"). Costs, cheapest first: untagged IPv4 UDP is recognised inline
// and most of it let go after the probe (under 100 instructions a frame, perf/rbcallgrind);
// other frames: the ethertype, L2-L4 headers, a 10-byte probe (skipped on hint ports);
// then the start line (sip::start_line_id(), Hyperscan for what it turns down) and the
// parser. Non-SIP traffic pays the first steps only.
//
// Screening fails closed on side A: whatever a permissive phone would take for an INVITE
// is either screened or counted as unscreened by reason (RB_DP_FOREACH_UNSCREENED) and
// handled by the policy — leading CRLFs, start lines of any length, the version in any
// case, IP fragments (reassembled here for inspection, ip_reasm.h).
#pragma once

#include <hs/hs.h>
#include <rte_branch_prediction.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include <algorithm>
#include <cstring>

#include "ip_reasm.h"
#include "ringbridge/common/keyed_hash.h"
#include "ringbridge/common/mix.h"
#include "ringbridge/dp/counters.h"
#include "ringbridge/dp/packet.h"
#include "ringbridge/dp/stage.h"
#include "ringbridge/sip/sip_setup.h"
#include "tcp_stream.h"

namespace ringbridge::dp {

/// Hyperscan pattern id of the SIP start line that P[0..LEN) begins with (a request's
/// sip::method value, sip_database::k_extension_request or k_status_line), or 0 when it
/// is not one. Only the first line is looked at, whatever its length. SL: where the line's
/// parts are, for the parser (SL->id is 0 when only Hyperscan recognised the line).
inline unsigned sip_start_line(const sip_worker& sw, const char* p, uint32_t len,
                               sip::start_line* sl = nullptr) {
  sip::start_line unused;
  if (sl == nullptr) sl = &unused;
  const void* nl = std::memchr(p, '\n', len);
  if (nl == nullptr) return 0;
  len = static_cast<uint32_t>(static_cast<const char*>(nl) - p) + 1;
  // Start lines are recognised without Hyperscan (sip::start_line_read() reports what the
  // database would, at a tenth of the cost); the database has the last word on what it
  // turns down.
  if (const unsigned id = sip::start_line_read(p, len, sl); likely(id != 0)) return id;
  unsigned matched = 0;
  auto on_match = [](unsigned id, unsigned long long, unsigned long long, unsigned,
                     void* ctx) -> int {
    *static_cast<unsigned*>(ctx) = id;
    return 1;  // one match is enough
  };
  hs_scan(sw.db->db(), p, len, 0, sw.scratch, on_match, &matched);
  return matched;
}

constexpr unsigned k_invite_pattern = static_cast<unsigned>(sip::method::invite);

/// Does P start like an INVITE request (whatever follows)?
inline bool invite_like(const char* p, uint32_t n) {
  return n > 6 && std::memcmp(p, "INVITE", 6) == 0 && (p[6] == ' ' || p[6] == '\t');
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

/// Everything of EV from M and the frame (every field: EV may be a ring slot in use before).
inline void build_event(const sip::message& m, const l4_info& li, int side, unsigned worker,
                        uint64_t tsc, const event_verdict& v, const caller_id* who, sip_event* ev) {
  ev->tsc = tsc;
  ev->worker = static_cast<uint8_t>(worker);
  ev->side = static_cast<uint8_t>(side);
  ev->transport = li.proto;
  ev->ip_version = li.ip_version;
  ev->sport = li.sport;
  ev->dport = li.dport;
  li.copy_addrs(ev->src, ev->dst);
  fill_event(m, ev);
  ev->verdict = v.verdict;
  ev->block_mode = v.block_mode;
  ev->repeat = v.repeat;
  ev->rule_id = v.rule_id;
  ev->has_caller = who != nullptr;
  if (who != nullptr) {  // the bytes in use, not the whole 160-byte record
    ev->caller.number_len = who->number_len;
    ev->caller.name_len = who->name_len;
    ev->caller.anonymous = who->anonymous;
    copy_bytes(ev->caller.number, who->number, who->number_len);
    copy_bytes(ev->caller.name, who->name, who->name_len);
  }
}

/// An INVITE that opens a dialog (no To tag): the one whose caller is identified.
inline bool initial_invite(const sip::message& m) {
  return m.is_request && m.req_method == sip::method::invite && m.to.tag.empty();
}

/// What makes M, seen on SIDE with verdict V, the same message as another: its Call-ID
/// (whole), To tag, CSeq, method, status, direction and verdict (a rule added between two
/// retransmissions makes the second a new event), and its length and Request-URI (a
/// forking proxy's INVITEs to several phones share everything else; a retransmission is
/// the same bytes again). Keyed through the Call-ID's keyed hash:
/// two calls' signatures meet only by a chance of 2^-64 that nobody outside can improve on;
/// the other fields are mixed in without a key (two messages of one call alike here differ
/// in fields no one but the call's own parties chooses).
inline uint64_t event_signature(const sip::message& m, int side, const event_verdict& v) {
  const uint64_t call = m.call_hash != 0 ? m.call_hash : keyed_hash64(m.call_id);
  // CSeq | status | method | CSeq method, and rule | verdict | block mode | repeat |
  // request | side: one bit pattern per tuple.
  const uint64_t what = uint64_t{m.cseq} | uint64_t{m.status} << 32 |
                        uint64_t{static_cast<uint8_t>(m.req_method)} << 48 |
                        uint64_t{static_cast<uint8_t>(m.cseq_method)} << 56;
  const uint64_t how = uint64_t{v.rule_id} | uint64_t{v.verdict} << 32 |
                       uint64_t{v.block_mode} << 40 | uint64_t{v.repeat} << 48 |
                       uint64_t{m.is_request} << 56 | uint64_t{static_cast<uint8_t>(side)} << 57;
  // The To tag, 8 bytes at a time (with its length), up to 48 bytes: two longer tags that
  // share their first 48 bytes are one message to this check.
  const size_t n = std::min<size_t>(m.to.tag.size(), 48);
  uint64_t tag = mix64(n + 1);
  for (size_t i = 0; i < n; i += 8) {
    uint64_t w = 0;
    std::memcpy(&w, m.to.tag.data() + i, std::min<size_t>(8, n - i));
    tag = mix64(tag ^ w);
  }
  // The Request-URI's first and last 8 bytes (fewer when it is shorter), its length and
  // the message's: two URIs that differ in one of these differ here (the multiplier is
  // odd: a bijection), the mixing below does the rest.
  const std::string_view ru = m.request_uri;
  uint64_t head = 0, tail = 0;
  if (!ru.empty()) std::memcpy(&head, ru.data(), std::min<size_t>(8, ru.size()));
  if (ru.size() > 8) std::memcpy(&tail, ru.data() + ru.size() - 8, 8);
  const uint64_t bytes =
      head ^ tail * 0x9e3779b97f4a7c15ull ^ mix64(uint64_t{m.length} << 32 | ru.size());
  return mix64(call ^ mix64(what ^ mix64(how ^ tag ^ bytes)));
}

/// A message's signature and whether it repeats one handed over lately
/// (recent_events::repeat()): looked up once, before the message hook, which hands on only
/// the first few copies of a flood.
struct repeat_check {
  uint64_t sig = 0;
  unsigned nth_copy = 0;  ///< recent_events::repeat(): 0 for a message not handed over lately
};
inline repeat_check check_repeat(sip_worker& sw, const sip::message& m, int side,
                                 const event_verdict& v, uint64_t tsc) {
  const uint64_t sig = event_signature(m, side, v);
  return {sig, sw.recent->repeat(sig, tsc)};
}

/// Turns a parsed message into an event and hands it to the control thread: built where
/// it lies in the ring, written once. A retransmission of a message handed over within
/// k_repeat_window_s is not handed over again (exports still get it): the control thread
/// learns nothing from it, and a flood of them would cost it one event each. RC: M's
/// check_repeat().
inline void emit(sip_worker& sw, sip_counters& sc, sip::message& m, const char* raw,
                 const l4_info& li, int side, unsigned worker, uint64_t tsc,
                 const repeat_check& rc, const event_verdict& v = {},
                 const caller_id* who = nullptr) {
  caller_id found;
  if (who == nullptr && initial_invite(m)) {  // SIP over TCP: no verdict step, same identity
    found =
        identify_caller(m, sw.identity.order.data(), sw.identity.order.size(), sw.identity.numbers);
    who = &found;
  }
  sc[sip_counter::sip_messages].inc();
  if (m.is_request)
    sc.requests[static_cast<size_t>(m.req_method)].inc();
  else if (m.status >= 100 && m.status <= 699)
    sc.responses[m.status / 100 - 1].inc();
  if (rc.nth_copy != 0) {
    sc[sip_counter::repeats_coalesced].inc();
    if (sw.capture) {
      sip_event seen;
      build_event(m, li, side, worker, tsc, v, who, &seen);
      capture(sw, sc, m, raw, li, side, seen, tsc);
    }
    return;
  }
  sip_event* ev = sw.ring->claim();
  if (likely(ev != nullptr)) {
    build_event(m, li, side, worker, tsc, v, who, ev);
    if (unlikely(ev->truncated)) sc[sip_counter::truncated_fields].inc();
    if (sw.capture) capture(sw, sc, m, raw, li, side, *ev, tsc);
    sw.ring->publish();
    sc[sip_counter::sip_events].inc();
    // Only what was handed over: a retransmission of an event the ring had no room for
    // goes through.
    sw.recent->note(rc.sig, tsc);
    return;
  }
  // The control thread is behind: the event is dropped (counted); exports still get the
  // message.
  sc[sip_counter::ring_full].inc();
  sip_event lost;
  build_event(m, li, side, worker, tsc, v, who, &lost);
  if (unlikely(lost.truncated)) sc[sip_counter::truncated_fields].inc();
  if (sw.capture) capture(sw, sc, m, raw, li, side, lost, tsc);
}

inline void count_parse_error(sip_counters& sc, sip::parse_status r) {
  sc.parse[static_cast<size_t>(r)].inc();
}

/// Something that may be an INVITE could not be screened: counted by REASON; on side A
/// dropped when [filters] on_unparsable = "drop", else forwarded.
inline verdict unscreened(const sip_worker& sw, sip_counters& sc, unscreened_reason reason,
                          int side) {
  sc.unscreened[static_cast<size_t>(reason)].inc();
  if (sw.drop_unparsable_invites && side == 0) return verdict::dropped(drop_reason::sip_unparsed);
  return {};
}

/// SIP over TCP: the stream table's callbacks for this segment.
struct tcp_handler {
  sip_worker& sw;
  sip_counters& sc;
  const l4_info& li;
  int side;
  unsigned worker;
  uint64_t tsc;

  bool start_line(const char* p, uint32_t n) { return sip_start_line(sw, p, n) != 0; }
  std::string_view watched_header() const { return sw.on_message.header; }
  void message(sip::message& m, const char* raw) {
    m.call_hash = keyed_hash64(m.call_id);
    const repeat_check rc = check_repeat(sw, m, side, {}, tsc);
    // The hook first: what it hands on (the media thread's copy of the INVITE) is then
    // there before the control thread can act on the event.
    if (sw.on_message.fn != nullptr)
      sw.on_message.fn(sw.on_message.ctx,
                       sip_message_seen{m, raw, li, nullptr, side, worker, tsc, rc.nth_copy});
    emit(sw, sc, m, raw, li, side, worker, tsc, rc);
  }
  void parse_error(sip::parse_status r) { count_parse_error(sc, r); }
  void note(stream_note k) {
    sc[k == stream_note::overflow ? sip_counter::tcp_overflow : sip_counter::tcp_resync].inc();
  }
};

inline void inspect_tcp(sip_worker& sw, sip_counters& sc, const l4_info& li, const char* p,
                        uint32_t n, bool hinted, int side, unsigned worker, uint64_t tsc) {
  tcp_stream_table& table = *sw.streams;
  // Bulk TCP pays nothing more when no SIP stream is followed and nothing looks like SIP.
  if (table.in_use == 0) {
    uint32_t k = 0;
    while (k < n && (p[k] == '\r' || p[k] == '\n')) k++;
    if (k == n || (!hinted && !sip::could_be_sip_prefix(p + k, n - k))) return;
  }
  tcp_key key;
  li.copy_addrs(key.src, key.dst);
  key.sport = li.sport;
  key.dport = li.dport;
  tcp_handler h{sw, sc, li, side, worker, tsc};
  table.segment(key, li.tcp_seq, li.tcp_flags, p, n, hinted, tsc, h);
}

/// One UDP datagram's payload P[0..N) (from a frame, or reassembled from fragments). Out of
/// line: what calls it stays small for the frames that never get here.
__attribute__((noinline)) inline verdict inspect_udp(sip_worker& sw, sip_counters& sc,
                                                     const l4_info& li, const char* p, uint32_t n,
                                                     const uint8_t* frame, rte_mbuf* whole,
                                                     int side, unsigned worker, uint64_t tsc) {
  const bool hinted = sw.hints[li.sport] || sw.hints[li.dport];
  // RFC 3261 §7.5: CRLFs before the start line are ignored — by phones too, so here as
  // well. A datagram of nothing but CRLFs is a keep-alive.
  while (n != 0 && (*p == '\r' || *p == '\n')) {
    p++;
    n--;
  }
  if (n == 0) return {};
  if (!hinted && !sip::could_be_sip(p, n)) return {};
  sip::start_line sl;
  const unsigned pattern = sip_start_line(sw, p, n, &sl);
  if (pattern == 0) {
    if (invite_like(p, n)) return unscreened(sw, sc, unscreened_reason::invite_start_line, side);
    if (hinted) sc[sip_counter::not_sip].inc();
    return {};
  }
  sip::message msg;
  // Lazily: of the name-addrs only what is needed below is read — To's tag, and for an
  // initial INVITE the caller's headers; the event carries From and To as sent.
  const sip::parse_status pr =
      sip::parse_fresh(p, n, true, &msg, sw.on_message.header, &sl, /*lazy=*/true);
  if (pr != sip::parse_status::ok) {
    count_parse_error(sc, pr);
    if (pattern != k_invite_pattern) return {};
    sc[sip_counter::invite_unparsed].inc();
    return unscreened(sw, sc, unscreened_reason::invite_parse_error, side);
  }
  msg.call_hash = keyed_hash64(msg.call_id);  // once: the hooks and the event use it
  sip::settle_to_tag(&msg);
  // Who is calling: once, here; the verdict step matches it and the event carries it.
  caller_id who;
  const bool initial = initial_invite(msg);
  if (initial)  // reads P-Asserted-Identity, Remote-Party-ID, From as far as it needs them
    who = identify_caller(msg, sw.identity.order.data(), sw.identity.order.size(),
                          sw.identity.numbers);
  event_verdict v;
  verdict out{};
  if (sw.on_request.fn != nullptr && msg.is_request)
    out = sw.on_request.fn(
        sw.on_request.ctx,
        sip_request{msg, p, frame, li, side, worker, tsc, initial ? &who : nullptr, sc}, &v);
  const repeat_check rc = check_repeat(sw, msg, side, v, tsc);
  // The message hook before the event (see tcp_handler::message).
  if (sw.on_message.fn != nullptr && out.passes())
    sw.on_message.fn(sw.on_message.ctx,
                     sip_message_seen{msg, p, li, whole, side, worker, tsc, rc.nth_copy});
  emit(sw, sc, msg, p, li, side, worker, tsc, rc, v, initial ? &who : nullptr);
  return out;
}

/// An IP fragment. UDP datagrams that may be SIP are put together (copies; the fragments
/// go on unchanged) and inspected when complete; the verdict then applies to the fragment
/// that completed the datagram and to every later fragment of it.
inline verdict inspect_fragment(sip_worker& sw, sip_counters& sc, const l4_info& li,
                                const uint8_t* frame, int side, unsigned worker, uint64_t tsc) {
  sc[sip_counter::ip_fragments].inc();
  // TCP is not reassembled (TCP senders avoid fragmentation; SIP over TCP is not blocked).
  const bool v6_ext = li.ip_version == 6 && (li.proto == 0 || li.proto == 43 || li.proto == 60);
  if (li.proto != 17 && !v6_ext) return {};
  frag_info f;
  f.ip_version = li.ip_version;
  f.proto = li.proto;
  f.src = li.src;
  f.dst = li.dst;
  f.id = li.frag_id;
  f.offset = li.frag_offset;
  f.more = li.frag_more;
  f.data = frame + li.payload_offset;
  f.len = li.payload_len;
  auto may_be_sip = [&sw](const char* p, uint32_t n, uint16_t sport, uint16_t dport) {
    if (sw.hints.test(sport) || sw.hints.test(dport)) return true;
    while (n != 0 && (*p == '\r' || *p == '\n')) {
      p++;
      n--;
    }
    return sip::could_be_sip_prefix(p, n);
  };
  const bool fail_closed = sw.drop_unparsable_invites && side == 0;
  reasm_table& rt = *sw.reasm;
  switch (rt.add(f, side, tsc, fail_closed, may_be_sip)) {
    case reasm_table::verdict::forward: return {};
    case reasm_table::verdict::drop:
      return verdict::dropped(rt.dropped_as_blocked() ? drop_reason::sip_blocked
                                                      : drop_reason::sip_unparsed);
    case reasm_table::verdict::no_room:
      return unscreened(sw, sc, unscreened_reason::frag_no_room, side);
    case reasm_table::verdict::too_big:
      return unscreened(sw, sc, unscreened_reason::frag_too_big, side);
    case reasm_table::verdict::ambiguous:
      return unscreened(sw, sc, unscreened_reason::frag_ambiguous, side);
    case reasm_table::verdict::complete: break;
  }
  l4_info d = li;  // addresses and VLAN tags as this fragment has them; ports from the datagram
  if (!udp_in_datagram(rt.datagram(), rt.datagram_len(), rt.datagram_proto(), &d)) {
    const verdict o = unscreened(sw, sc, unscreened_reason::frag_malformed, side);
    rt.judge(o.passes(), false);
    return o;
  }
  const verdict o =
      inspect_udp(sw, sc, d, reinterpret_cast<const char*>(rt.datagram() + d.payload_offset),
                  d.payload_len, frame, nullptr, side, worker, tsc);
  rt.judge(o.passes(), !o.passes() && o.reason == drop_reason::sip_blocked);
  return o;
}

/// Might the UDP payload P[0..N) between SPORT and DPORT be SIP? inspect_udp()'s first
/// tests (CRLFs skipped, hint ports, the probe), inline: the frames that fail them — most —
/// leave sip_inspect() without a call.
inline bool may_be_sip_udp(const sip_worker& sw, uint16_t sport, uint16_t dport, const char* p,
                           uint32_t n) {
  while (n != 0 && (*p == '\r' || *p == '\n')) {
    p++;
    n--;
  }
  if (n == 0) return false;
  return sw.hints[sport] || sw.hints[dport] || sip::could_be_sip(p, n);
}

/// sip_inspect() for an untagged IPv4 UDP frame in one segment that may be SIP.
__attribute__((noinline)) inline verdict sip_inspect_udp(sip_worker& sw, sip_counters& sc,
                                                         rte_mbuf* m, int side, unsigned worker,
                                                         uint64_t tsc) {
  const auto* data = rte_pktmbuf_mtod(m, const uint8_t*);
  l4_info li;
  parse_ipv4_udp(data, rte_pktmbuf_data_len(m), &li);
  return inspect_udp(sw, sc, li, reinterpret_cast<const char*>(data + li.payload_offset),
                     li.payload_len, data, m, side, worker, tsc);
}

/// sip_inspect() for the IP frames that are not the common case: chains of segments,
/// VLAN tags, IPv6, fragments, TCP, malformed headers.
__attribute__((noinline)) inline verdict sip_inspect_other(sip_worker& sw, sip_counters& sc,
                                                           rte_mbuf* m, int side, unsigned worker,
                                                           uint64_t tsc) {
  const auto* data = rte_pktmbuf_mtod(m, const uint8_t*);
  uint32_t len = rte_pktmbuf_data_len(m);
  if (unlikely(m->nb_segs > 1)) {
    // A jumbo frame in a chain of segments: inspected from a linear copy.
    len = std::min<uint32_t>(rte_pktmbuf_pkt_len(m), k_linear_bytes);
    data = static_cast<const uint8_t*>(rte_pktmbuf_read(m, 0, len, sw.linear.get()));
    if (data == nullptr) return {};
  }
  l4_info li;
  const l4_result r = parse_l4(data, len, &li);
  if (r != l4_result::ok) {
    if (r == l4_result::fragment) return inspect_fragment(sw, sc, li, data, side, worker, tsc);
    if (r == l4_result::malformed) sc[sip_counter::malformed_headers].inc();
    return {};
  }
  const uint32_t n = li.payload_len;
  if (n == 0 && li.proto != 6) return {};
  const char* p = reinterpret_cast<const char*>(data + li.payload_offset);
  if (li.proto == 6) {
    const bool hinted = sw.hints[li.sport] || sw.hints[li.dport];
    inspect_tcp(sw, sc, li, p, n, hinted, side, worker, tsc);
    return {};
  }
  return inspect_udp(sw, sc, li, p, n, data, m->nb_segs == 1 ? m : nullptr, side, worker, tsc);
}

/// What the first look at frame M (one that may carry IP: may_carry_ip()) decides, without
/// a call: untagged IPv4 UDP that cannot be SIP — most traffic — is let through here,
/// before anything costly; SIP-like UDP goes on to sip_inspect_udp(), every other frame
/// (IPv6, VLAN tags, TCP, fragments, chained mbufs) to sip_inspect_other().
enum class sip_front : uint8_t { pass, udp, other };

inline sip_front sip_first_look(const sip_worker& sw, const rte_mbuf* m) {
  if (likely(m->nb_segs == 1)) {
    const auto* data = rte_pktmbuf_mtod(m, const uint8_t*);
    if (const uint32_t ulen = ipv4_udp_length(data, rte_pktmbuf_data_len(m)); ulen != 0) {
      const uint16_t sport = static_cast<uint16_t>(data[34] << 8 | data[35]);
      const uint16_t dport = static_cast<uint16_t>(data[36] << 8 | data[37]);
      return may_be_sip_udp(sw, sport, dport, reinterpret_cast<const char*>(data + 42), ulen - 8)
                 ? sip_front::udp
                 : sip_front::pass;
    }
  }
  return sip_front::other;
}

/// Inspects frame M that arrived on SIDE. TSC: when its burst arrived. The whole of
/// inspection for one frame, for callers outside the stage (microbenchmarks, fuzz
/// targets); the stage makes the same first look inline and calls the rest itself.
__attribute__((noinline)) inline verdict sip_inspect(sip_worker& sw, sip_counters& sc, rte_mbuf* m,
                                                     int side, unsigned worker, uint64_t tsc) {
  if (!may_carry_ip(rte_pktmbuf_mtod(m, const uint8_t*), rte_pktmbuf_data_len(m))) return {};
  switch (sip_first_look(sw, m)) {
    case sip_front::pass: return {};
    case sip_front::udp: return sip_inspect_udp(sw, sc, m, side, worker, tsc);
    case sip_front::other: break;
  }
  return sip_inspect_other(sw, sc, m, side, worker, tsc);
}

/// The sip stage on a burst: every frame still on its way through that may carry IP is
/// inspected (the core classified them: ARP, LLDP, ... cost nothing here); a frame the
/// verdict step drops or answers gets that verdict. The first look is inline: a frame it
/// lets through costs no call (perf/RESULTS.md, instructions per frame).
__attribute__((noinline)) inline void sip_stage_visit(sip_worker& sw, frame_burst& b) {
  sip_counters& sc = *sw.counters;
  rte_mbuf** const pkts = b.pkts;
  for (uint64_t todo = b.pass & b.ip; todo != 0; todo &= todo - 1) {
    const auto i = static_cast<uint16_t>(__builtin_ctzll(todo));
    rte_mbuf* m = pkts[i];
    const sip_front f = sip_first_look(sw, m);
    if (likely(f == sip_front::pass)) continue;
    const verdict v = f == sip_front::udp ? sip_inspect_udp(sw, sc, m, b.side, b.worker, b.tsc)
                                          : sip_inspect_other(sw, sc, m, b.side, b.worker, b.tsc);
    if (unlikely(v.kind != verdict_kind::forward)) b.give(i, v);
  }
}

}  // namespace ringbridge::dp
