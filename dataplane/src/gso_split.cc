// SPDX-License-Identifier: BSD-3-Clause
// Software segmentation of GSO super-frames (see gso_split.h).
#include "gso_split.h"

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cstring>

#include "l4_csum.h"

namespace ringbridge::dp {

namespace {

using csum_detail::load_be16;
using csum_detail::store_be16;

uint32_t load32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return rte_be_to_cpu_32(v);
}
void store32(uint8_t* p, uint32_t host) {
  const uint32_t v = rte_cpu_to_be_32(host);
  std::memcpy(p, &v, 4);
}

constexpr uint8_t k_tcp_fin = 0x01, k_tcp_psh = 0x08, k_tcp_cwr = 0x80;

}  // namespace

gso_result gso_split(const uint8_t* frame, uint32_t len, const gso_info& info, rte_mempool* pool,
                     uint32_t max_frame, rte_mbuf** out, uint32_t max_out, uint32_t* n) {
  *n = 0;
  const bool tcp = info.type == k_gso_tcpv4 || info.type == k_gso_tcpv6;
  if (!tcp && info.type != k_gso_udp_l4) return gso_result::unsupported;
  if (info.seg_size == 0) return gso_result::malformed;

  // The headers: locate_l4() accepts only unfragmented IPv4/IPv6 without extension headers
  // carrying TCP or UDP. Its "end" is the datagram's end as the super-frame's IP header
  // says; the kernel sets that length for the whole super-frame (or 0 for IPv6 jumbograms,
  // which locate_l4 rejects).
  l4_place p;
  if (!locate_l4(frame, len, &p)) return gso_result::unsupported;
  if ((p.proto == IPPROTO_TCP) != tcp) return gso_result::malformed;
  uint32_t l4_hdr = 8;
  if (tcp) {
    l4_hdr = static_cast<uint32_t>(frame[p.l4 + 12] >> 4) * 4;
    if (l4_hdr < 20 || p.l4 + l4_hdr > p.end) return gso_result::malformed;
  }
  const uint32_t hdrs = p.l4 + l4_hdr;
  const uint32_t payload = p.end - hdrs;
  const uint32_t mss = info.seg_size;
  const uint32_t segs = payload == 0 ? 1 : (payload + mss - 1) / mss;
  if (segs > max_out || hdrs + std::min(mss, payload) > max_frame) return gso_result::too_big;

  const uint16_t ip_id = p.v6 ? 0 : load_be16(frame + p.l3 + 4);
  const uint32_t seq = tcp ? load32(frame + p.l4 + 4) : 0;
  const uint8_t flags = tcp ? frame[p.l4 + 13] : 0;

  if (rte_pktmbuf_alloc_bulk(pool, out, segs) != 0) return gso_result::no_mbuf;
  for (uint32_t i = 0; i < segs; i++) {
    const uint32_t at = i * mss;
    const uint32_t chunk = std::min(mss, payload - at);
    rte_mbuf* m = out[i];
    auto* d =
        reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, static_cast<uint16_t>(hdrs + chunk)));
    if (d == nullptr) {  // MAX_FRAME larger than the pool's data room: a set-up error
      rte_pktmbuf_free_bulk(out, segs);
      return gso_result::too_big;
    }
    std::memcpy(d, frame, hdrs);
    std::memcpy(d + hdrs, frame + hdrs + at, chunk);
    const uint32_t l4_len = l4_hdr + chunk;
    if (p.v6) {
      store_be16(d + p.l3 + 4, static_cast<uint16_t>(l4_len));
    } else {
      auto* ip = reinterpret_cast<rte_ipv4_hdr*>(d + p.l3);
      store_be16(d + p.l3 + 2, static_cast<uint16_t>(p.l4 - p.l3 + l4_len));
      store_be16(d + p.l3 + 4, static_cast<uint16_t>(ip_id + i));  // as the kernel's GSO does
      ip->hdr_checksum = 0;
      ip->hdr_checksum = rte_ipv4_cksum(ip);
    }
    uint8_t* l4 = d + p.l4;
    if (tcp) {
      store32(l4 + 4, seq + at);
      uint8_t f = flags;
      if (i + 1 < segs) f &= static_cast<uint8_t>(~(k_tcp_fin | k_tcp_psh));
      if (i > 0) f &= static_cast<uint8_t>(~k_tcp_cwr);
      l4[13] = f;
    } else {
      store_be16(l4 + 4, static_cast<uint16_t>(l4_len));
    }
    // Pseudo-header sum of this segment in the field, then finished over the segment.
    l4_place sp = p;
    sp.end = p.l4 + l4_len;
    const uint32_t field = l4_csum_field(p.proto);
    std::memset(l4 + field, 0, 2);
    const uint16_t pseudo = l4_pseudo_sum(d, sp);
    std::memcpy(l4 + field, &pseudo, 2);
    finish_partial_csum(d, sp.end, p.l4, field);
  }
  *n = segs;
  return gso_result::ok;
}

}  // namespace ringbridge::dp
