// SPDX-License-Identifier: BSD-3-Clause
// Frame header parsing with every length checked against the frame.
#include "ringbridge/dp/packet.h"

#include <cstring>

namespace ringbridge::dp {

namespace {
inline uint16_t rd16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] << 8 | p[1]);
}
inline uint32_t rd32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}
}  // namespace

void l4_info::copy_addrs(uint8_t* src16, uint8_t* dst16) const {
  // Fixed sizes: a few moves, no calls (once per SIP message).
  if (src != nullptr && ip_version == 6) {
    std::memcpy(src16, src, 16);
    std::memcpy(dst16, dst, 16);
    return;
  }
  std::memset(src16, 0, 16);
  std::memset(dst16, 0, 16);
  if (src == nullptr) return;
  std::memcpy(src16, src, 4);
  std::memcpy(dst16, dst, 4);
}

l4_result parse_l4(const uint8_t* f, uint32_t len, l4_info* out) {
  l4_info li;
  if (len < 14) return l4_result::malformed;
  uint32_t off = 12;
  uint16_t type = rd16(f + off);
  off += 2;
  // 802.1ad / 802.1Q / the old 0x9100 QinQ tag: at most two.
  while ((type == 0x8100 || type == 0x88a8 || type == 0x9100) && li.vlans < 2) {
    if (off + 4 > len) return l4_result::malformed;
    type = rd16(f + off + 2);
    off += 4;
    li.vlans++;
  }
  uint32_t l4_end;  // end of the IP packet within the frame
  if (type == 0x0800) {
    if (off + 20 > len) return l4_result::malformed;
    const uint8_t* ip = f + off;
    const uint32_t ihl = (ip[0] & 0x0f) * 4u;
    const uint32_t total = rd16(ip + 2);
    if ((ip[0] >> 4) != 4 || ihl < 20 || total < ihl || off + total > len)
      return l4_result::malformed;
    li.ip_version = 4;
    li.proto = ip[9];
    li.src = ip + 12;
    li.dst = ip + 16;
    const uint16_t frag = rd16(ip + 6);
    if ((frag & 0x3fff) != 0) {  // MF set or a non-zero offset
      li.frag_id = rd16(ip + 4);
      li.frag_offset = (frag & 0x1fffu) * 8u;
      li.frag_more = (frag & 0x2000) != 0;
      li.payload_offset = off + ihl;
      li.payload_len = total - ihl;
      *out = li;
      return l4_result::fragment;
    }
    l4_end = off + total;  // Ethernet padding after the IP packet is not payload
    off += ihl;
  } else if (type == 0x86dd) {
    if (off + 40 > len) return l4_result::malformed;
    const uint8_t* ip = f + off;
    if ((ip[0] >> 4) != 6) return l4_result::malformed;
    const uint32_t plen = rd16(ip + 4);
    if (off + 40 + plen > len) return l4_result::malformed;
    li.ip_version = 6;
    li.src = ip + 8;
    li.dst = ip + 24;
    uint8_t next = ip[6];
    l4_end = off + 40 + plen;
    off += 40;
    for (int i = 0; i < 8; i++) {
      if (next == 0 || next == 43 || next == 60) {  // hop-by-hop, routing, dest options
        if (off + 8 > l4_end) return l4_result::malformed;
        const uint32_t hlen = (f[off + 1] + 1u) * 8u;
        next = f[off];
        if (off + hlen > l4_end) return l4_result::malformed;
        off += hlen;
      } else if (next == 44) {  // fragment header
        if (off + 8 > l4_end) return l4_result::malformed;
        li.proto = f[off];
        li.frag_offset = rd16(f + off + 2) & 0xfff8u;
        li.frag_more = (f[off + 3] & 1) != 0;
        li.frag_id = rd32(f + off + 4);
        li.payload_offset = off + 8;
        li.payload_len = l4_end - (off + 8);
        *out = li;
        return l4_result::fragment;
      } else {
        break;
      }
    }
    li.proto = next;
  } else {
    return l4_result::not_ip;
  }
  if (li.proto == 17) {
    if (off + 8 > l4_end) return l4_result::malformed;
    const uint32_t ulen = rd16(f + off + 4);
    if (ulen < 8 || off + ulen > l4_end) return l4_result::malformed;
    li.sport = rd16(f + off);
    li.dport = rd16(f + off + 2);
    li.payload_offset = off + 8;
    li.payload_len = ulen - 8;
  } else if (li.proto == 6) {
    if (off + 20 > l4_end) return l4_result::malformed;
    const uint32_t doff = (f[off + 12] >> 4) * 4u;
    if (doff < 20 || off + doff > l4_end) return l4_result::malformed;
    li.sport = rd16(f + off);
    li.dport = rd16(f + off + 2);
    li.tcp_seq = rd32(f + off + 4);
    li.tcp_flags = f[off + 13];
    li.payload_offset = off + doff;
    li.payload_len = l4_end - (off + doff);
  } else {
    *out = li;
    return l4_result::not_udp_tcp;
  }
  *out = li;
  return l4_result::ok;
}

bool udp_in_datagram(const uint8_t* d, uint32_t len, uint8_t proto, l4_info* out) {
  uint32_t off = 0;
  for (int i = 0; i < 8 && (proto == 0 || proto == 43 || proto == 60); i++) {
    if (off + 8 > len) return false;
    const uint32_t hlen = (d[off + 1] + 1u) * 8u;
    proto = d[off];
    if (off + hlen > len) return false;
    off += hlen;
  }
  if (proto != 17 || off + 8 > len) return false;
  const uint32_t ulen = rd16(d + off + 4);
  if (ulen < 8 || off + ulen > len) return false;  // the receiver drops it too
  out->proto = 17;
  out->sport = rd16(d + off);
  out->dport = rd16(d + off + 2);
  out->payload_offset = off + 8;
  out->payload_len = ulen - 8;
  return true;
}

}  // namespace ringbridge::dp
