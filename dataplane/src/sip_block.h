// SPDX-License-Identifier: BSD-3-Clause
// Hot path: the filter verdict on an INVITE, the per-worker table of blocked Call-IDs
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
#include <functional>
#include <string_view>

#include "ringbridge/dp/counters.h"
#include "ringbridge/dp/filter.h"
#include "ringbridge/dp/packet.h"
#include "ringbridge/dp/sip_event.h"
#include "ringbridge/dp/sip_inspect.h"
#include "ringbridge/dp/sip_reply.h"

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

/// A call blocked in this worker.
struct blocked_call {
  uint64_t hash = 0;
  uint64_t expires = 0;  ///< TSC; 0 = free slot
  uint32_t rule_id = 0;
  block_mode mode = block_mode::drop;
  uint8_t len = 0;
  uint8_t tag_len = 0;
  char call_id[128];
  char to_tag[16];
  std::string_view id() const { return {call_id, len}; }
};

/// Open addressing, bounded probing; an insert into a full window evicts the entry that
/// expires first. Entries live ttl_tsc (the SIP transaction lifetime, 32 s by default).
struct blocked_table {
  static constexpr uint32_t k_slots = 4096;  // power of two
  static constexpr uint32_t k_probe = 16;
  std::unique_ptr<blocked_call[]> slots{new blocked_call[k_slots]};
  uint32_t live = 0;  ///< entries inserted and not yet seen expired (an upper bound)
  uint64_t ttl_tsc = 0;

  blocked_call* find(std::string_view id, uint64_t h, uint64_t now) {
    for (uint32_t i = 0; i < k_probe; i++) {
      blocked_call& b = slots[(h + i) & (k_slots - 1)];
      if (b.expires == 0) continue;
      if (b.expires <= now) {
        b.expires = 0;
        if (live) live--;
        continue;
      }
      if (b.hash == h && b.id() == id) return &b;
    }
    return nullptr;
  }

  blocked_call* insert(std::string_view id, uint64_t h, uint64_t now, bool* evicted) {
    blocked_call* victim = nullptr;
    for (uint32_t i = 0; i < k_probe; i++) {
      blocked_call& b = slots[(h + i) & (k_slots - 1)];
      if (b.expires == 0 || b.expires <= now) {
        victim = &b;
        *evicted = false;
        break;
      }
      if (victim == nullptr || b.expires < victim->expires) victim = &b;
      *evicted = true;
    }
    if (!*evicted) live++;
    victim->hash = h;
    victim->expires = now + ttl_tsc;
    victim->len = static_cast<uint8_t>(std::min<size_t>(id.size(), sizeof(victim->call_id)));
    std::memcpy(victim->call_id, id.data(), victim->len);
    return victim;
  }
};

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

/// Sends CODE REASON back for the request P[0..N) (blocked INVITE, or its CANCEL).
inline rte_mbuf* answer(sip_worker& sw, sip_counters& sc, const char* p, size_t n,
                        const uint8_t* frame, const l4_info& li, int code, std::string_view reason,
                        std::string_view to_tag) {
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
  const std::string_view id = msg.call_id;
  blocked_table& bt = *sw.blocked;
  const bool initial_invite = msg.req_method == sip::method::invite && msg.to.tag.empty();
  uint64_t h = 0;
  blocked_call* b = nullptr;
  if (bt.live != 0) {
    h = std::hash<std::string_view>{}(id);
    b = bt.find(id, h, tsc);
  }
  if (b != nullptr) {
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
                        ? answer(sw, sc, p, msg.length, frame, li, 486, "Busy Here", tag)
                        : answer(sw, sc, p, msg.length, frame, li, 603, "Decline", tag);
      else if (msg.req_method == sip::method::cancel)
        out.reply = answer(sw, sc, p, msg.length, frame, li, 200, "OK", tag);
    }
    return out;
  }
  // Rules screen calls to the phone: INVITEs entering on side A. The phone's own calls out
  // are never blocked.
  if (!initial_invite || side != 0) return out;
  const filter_set* fs = sw.filters ? sw.filters->current() : nullptr;
  if (fs == nullptr) return out;
  const caller_id who = fs->identify(msg);
  const filter_verdict v = fs->evaluate(who, worker);
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
  if (h == 0) h = std::hash<std::string_view>{}(id);
  bool evicted = false;
  b = bt.insert(id, h, tsc, &evicted);
  if (evicted) sc[sip_counter::blocked_evicted].inc();
  b->rule_id = v.rule_id;
  b->mode = v.mode;
  // Our To tag: the same for every retransmission of this call.
  static const char k_hex[] = "0123456789abcdef";
  uint64_t t = h ^ tsc ^ (static_cast<uint64_t>(worker) << 56);
  b->tag_len = 12;
  for (int i = 0; i < 12; i++, t >>= 4) b->to_tag[i] = k_hex[t & 15];
  out.act = sip_action::drop_blocked;
  const std::string_view tag(b->to_tag, b->tag_len);
  if (v.mode == block_mode::busy)
    out.reply = answer(sw, sc, p, msg.length, frame, li, 486, "Busy Here", tag);
  else if (v.mode == block_mode::decline)
    out.reply = answer(sw, sc, p, msg.length, frame, li, 603, "Decline", tag);
  return out;
}

}  // namespace ringbridge::dp
