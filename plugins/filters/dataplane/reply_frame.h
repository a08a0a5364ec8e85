// SPDX-License-Identifier: BSD-3-Clause
// Internal (filters, worker side): the raw L2-L4 frame that carries a SIP response the
// bridge sends back out of the ingress port, and where it may be sent at all.
#pragma once

#include <netinet/in.h>
#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include <cstring>

#include "ringbridge/dp/packet.h"

namespace ringbridge::dp {

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

}  // namespace ringbridge::dp
