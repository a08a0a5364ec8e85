// SPDX-License-Identifier: BSD-3-Clause
// Hot path: the filter verdict on an INVITE, the per-worker table of blocked calls
// (retransmissions, ACKs and CANCELs of a blocked call get the same treatment), and the
// 486 / 603 / 200-for-CANCEL frames sent back out of the ingress port.
//
// Only SIP over UDP is acted on: dropping or answering inside a TCP stream would break
// the stream for every other message on it (docs/design/filters.md).
#pragma once

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include <cstring>
#include <string_view>

#include "ringbridge/common/keyed_hash.h"
#include "ringbridge/dp/counters.h"
#include "ringbridge/filters/filter.h"
#include "ringbridge/dp/packet.h"
#include "ringbridge/sip/sip_event.h"
#include "ringbridge/sip/sip_setup.h"
#include "ringbridge/filters/sip_reply.h"

namespace ringbridge::dp {

/// What the worker does with a frame after inspection.
enum class sip_action : uint8_t { forward, drop_blocked, drop_unparsed };
struct sip_outcome {
  sip_action act = sip_action::forward;
  rte_mbuf* reply = nullptr;  ///< a response to send back out of the ingress port
};

/// The filter step's result as the event reports it.
struct event_verdict {
  uint8_t verdict = 0;  ///< filter_action
  uint8_t block_mode = 0;
  uint8_t repeat = 0;
  uint32_t rule_id = 0;
};

/// Who a blocked call is: a keyed 128-bit hash of the whole Call-ID, the caller's From tag
/// and the side the INVITE came in on. Nothing is cut to a fixed size, so a long Call-ID
/// stays blocked, and a message from the other side (or another dialog reusing the
/// Call-ID) never matches.
inline hash128 blocked_identity(const sip::message& m, int side) {
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

/// May the bridge send a frame back to the source of IN? Never to a multicast or
/// broadcast MAC, an unspecified, loopback, multicast or reserved IP address, or port 0:
/// a forged source must not turn the bridge into an amplifier.
inline bool reply_destination_ok(const uint8_t* in, const l4_info& li) {
  if (in[6] & 0x01) return false;  // group bit of the source MAC
  if (li.sport == 0) return false;
  if (li.ip_version == 4) {
    const uint8_t a = li.src[0];
    return a != 0 && a != 127 && a < 224;  // 0/8, 127/8, 224/4 multicast, 240/4 + broadcast
  }
  static const uint8_t k_zero[16] = {},
                       k_loop[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return li.src[0] != 0xff && std::memcmp(li.src, k_zero, 16) != 0 &&
         std::memcmp(li.src, k_loop, 16) != 0;
}

/// A UDP frame carrying SIP text TEXT back to where the request IN came from: MACs, IP
/// addresses and ports swapped, VLAN tags kept, fresh IP header, checksums filled in.
inline rte_mbuf* reply_frame(rte_mempool* pool, const uint8_t* in, const l4_info& li,
                             const char* text, size_t n) {
  const uint32_t l2 = 14u + 4u * li.vlans;
  const uint32_t l3 = li.ip_version == 4 ? 20u : 40u;
  rte_mbuf* r = rte_pktmbuf_alloc(pool);
  if (r == nullptr) return nullptr;
  auto* o =
      reinterpret_cast<uint8_t*>(rte_pktmbuf_append(r, static_cast<uint16_t>(l2 + l3 + 8 + n)));
  if (o == nullptr) {
    rte_pktmbuf_free(r);
    return nullptr;
  }
  std::memcpy(o, in + 6, 6);
  std::memcpy(o + 6, in, 6);
  std::memcpy(o + 12, in + 12, l2 - 12);  // VLAN tags and the ethertype, as they came
  auto* udp = reinterpret_cast<rte_udp_hdr*>(o + l2 + l3);
  udp->src_port = rte_cpu_to_be_16(li.dport);
  udp->dst_port = rte_cpu_to_be_16(li.sport);
  udp->dgram_len = rte_cpu_to_be_16(static_cast<uint16_t>(8 + n));
  udp->dgram_cksum = 0;
  std::memcpy(o + l2 + l3 + 8, text, n);
  if (li.ip_version == 4) {
    auto* ip = reinterpret_cast<rte_ipv4_hdr*>(o + l2);
    ip->version_ihl = 0x45;
    ip->type_of_service = 0;
    ip->total_length = rte_cpu_to_be_16(static_cast<uint16_t>(20 + 8 + n));
    ip->packet_id = 0;
    ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
    ip->time_to_live = 64;
    ip->next_proto_id = IPPROTO_UDP;
    std::memcpy(&ip->src_addr, li.dst, 4);
    std::memcpy(&ip->dst_addr, li.src, 4);
    ip->hdr_checksum = 0;
    ip->hdr_checksum = rte_ipv4_cksum(ip);
    udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
  } else {
    auto* ip = reinterpret_cast<rte_ipv6_hdr*>(o + l2);
    ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
    ip->payload_len = rte_cpu_to_be_16(static_cast<uint16_t>(8 + n));
    ip->proto = IPPROTO_UDP;
    ip->hop_limits = 64;
    std::memcpy(ip->src_addr, li.dst, 16);
    std::memcpy(ip->dst_addr, li.src, 16);
    udp->dgram_cksum = rte_ipv6_udptcp_cksum(ip, udp);
  }
  return r;
}

/// Sends CODE REASON back for the request P[0..N) (blocked INVITE, or its CANCEL), if the
/// destination is a sane unicast one and the reply budget allows.
inline rte_mbuf* answer(sip_worker& sw, sip_counters& sc, const char* p, size_t n,
                        const uint8_t* frame, const l4_info& li, int code, std::string_view reason,
                        std::string_view to_tag, uint64_t now) {
  if (!reply_destination_ok(frame, li)) {
    sc[sip_counter::reply_suppressed].inc();
    return nullptr;
  }
  if (!sw.replies.take(now)) {
    sc[sip_counter::reply_rate_limited].inc();
    return nullptr;
  }
  const size_t len =
      build_sip_response({p, n}, code, reason, to_tag, sw.reply_buf.get(), k_reply_buf);
  rte_mbuf* r = len ? reply_frame(sw.pool, frame, li, sw.reply_buf.get(), len) : nullptr;
  sc[r ? sip_counter::replies_sent : sip_counter::reply_failed].inc();
  return r;
}

/// The filter step for a parsed SIP request over UDP that entered on SIDE. Fills *EV;
/// returns what to do with the frame.
inline sip_outcome apply_filters(sip_worker& sw, sip_counters& sc, const sip::message& msg,
                                 const char* p, const uint8_t* frame, const l4_info& li, int side,
                                 unsigned worker, uint64_t tsc, event_verdict* ev) {
  sip_outcome out;
  // Rules screen calls to the phone: INVITEs entering on side A. The phone's own calls out
  // are never blocked, and nothing from side B can match a blocked call.
  if (side != 0) return out;
  blocked_table& bt = *sw.blocked;
  const bool initial_invite = msg.req_method == sip::method::invite && msg.to.tag.empty();
  hash128 who;
  bool have_who = false;
  if (bt.live != 0) {
    who = blocked_identity(msg, side);
    have_who = true;
    if (blocked_call* b = bt.find(who, tsc)) {
      // A retransmitted INVITE, the ACK for our answer, a CANCEL, anything else of the call.
      ev->verdict = static_cast<uint8_t>(filter_action::block);
      ev->block_mode = static_cast<uint8_t>(b->mode);
      ev->rule_id = b->rule_id;
      ev->repeat = 1;
      sc[sip_counter::blocked_repeats].inc();
      out.act = sip_action::drop_blocked;
      const std::string_view tag(b->to_tag, b->tag_len);
      if (b->mode != block_mode::drop) {
        if (initial_invite)
          out.reply = b->mode == block_mode::busy
                          ? answer(sw, sc, p, msg.length, frame, li, 486, "Busy Here", tag, tsc)
                          : answer(sw, sc, p, msg.length, frame, li, 603, "Decline", tag, tsc);
        else if (msg.req_method == sip::method::cancel)
          out.reply = answer(sw, sc, p, msg.length, frame, li, 200, "OK", tag, tsc);
      }
      return out;
    }
  }
  if (!initial_invite) return out;
  const filter_set* fs = sw.filters ? sw.filters->current() : nullptr;
  if (fs == nullptr) return out;
  const caller_id who_called = fs->identify(msg);
  const filter_verdict v = fs->evaluate(who_called, worker);
  ev->verdict = static_cast<uint8_t>(v.action);
  ev->block_mode = static_cast<uint8_t>(v.mode);
  ev->rule_id = v.rule_id;
  switch (v.action) {
    case filter_action::none: sc[sip_counter::verdict_none].inc(); return out;
    case filter_action::allow: sc[sip_counter::verdict_allow].inc(); return out;
    case filter_action::record: sc[sip_counter::verdict_record].inc(); return out;
    case filter_action::norecord: sc[sip_counter::verdict_norecord].inc(); return out;
    case filter_action::block: break;
  }
  sc[sip_counter::verdict_block].inc();
  if (!have_who) who = blocked_identity(msg, side);
  bool evicted = false;
  blocked_call* b = bt.insert(who, tsc, &evicted);
  if (evicted) sc[sip_counter::blocked_evicted].inc();
  b->rule_id = v.rule_id;
  b->mode = v.mode;
  // Our To tag: the same for every retransmission of this call.
  static const char k_hex[] = "0123456789abcdef";
  uint64_t t = who.hi ^ tsc ^ (static_cast<uint64_t>(worker) << 56);
  b->tag_len = 12;
  for (int i = 0; i < 12; i++, t >>= 4) b->to_tag[i] = k_hex[t & 15];
  out.act = sip_action::drop_blocked;
  const std::string_view tag(b->to_tag, b->tag_len);
  if (v.mode == block_mode::busy)
    out.reply = answer(sw, sc, p, msg.length, frame, li, 486, "Busy Here", tag, tsc);
  else if (v.mode == block_mode::decline)
    out.reply = answer(sw, sc, p, msg.length, frame, li, 603, "Decline", tag, tsc);
  return out;
}

}  // namespace ringbridge::dp
