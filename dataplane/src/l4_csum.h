// SPDX-License-Identifier: BSD-3-Clause
// Finishing TCP/UDP checksums a sender left to "hardware" (checksum offload) that the frame
// never met: the kernel hands such frames to a veth, tap or container interface with only
// the pseudo-header sum in the checksum field (CHECKSUM_PARTIAL). Once a frame leaves the
// kernel through AF_PACKET or AF_XDP, nobody finishes it unless the bridge does.
//
// Hot path: no heap, no syscalls. Every length comes from the frame and is checked.
#pragma once

#include <rte_byteorder.h>
#include <rte_ip.h>

#include <cstdint>
#include <cstring>

namespace ringbridge::dp {

/// Where a frame's L3 datagram and L4 header are; filled by locate_l4().
struct l4_place {
  uint32_t l3 = 0;    ///< offset of the IP header
  uint32_t l4 = 0;    ///< offset of the TCP/UDP header
  uint32_t end = 0;   ///< end of the IP datagram (Ethernet padding excluded)
  uint8_t proto = 0;  ///< IPPROTO_TCP or IPPROTO_UDP
  bool v6 = false;
};

namespace csum_detail {
inline uint16_t load16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}
inline void store16(uint8_t* p, uint16_t v) {
  std::memcpy(p, &v, 2);
}
/// Big-endian (wire order) fields at any alignment.
inline uint16_t load_be16(const uint8_t* p) {
  return rte_be_to_cpu_16(load16(p));
}
inline void store_be16(uint8_t* p, uint16_t host) {
  store16(p, rte_cpu_to_be_16(host));
}
}  // namespace csum_detail

/// Finds the TCP or UDP header of an unfragmented IPv4/IPv6 datagram behind up to two
/// VLAN tags (802.1Q or 802.1ad). False for anything else (IPv6 extension headers
/// included: no stack leaves those partial on an interface ringbridge bridges).
inline bool locate_l4(const uint8_t* f, uint32_t len, l4_place* out) {
  using csum_detail::load_be16;
  uint32_t off = 12;
  if (len < off + 2) return false;
  uint16_t type = load_be16(f + off);
  for (int tags = 0; (type == 0x8100 || type == 0x88a8) && tags < 2; tags++) {
    off += 4;
    if (len < off + 2) return false;
    type = load_be16(f + off);
  }
  off += 2;
  if (type == 0x0800) {
    if (len < off + 20) return false;
    const uint8_t ihl = (f[off] & 0x0f) * 4;
    if ((f[off] >> 4) != 4 || ihl < 20) return false;
    const uint16_t total = load_be16(f + off + 2);
    const uint16_t frag = load_be16(f + off + 6);
    if ((frag & 0x3fff) != 0) return false;  // MF or an offset: a fragment
    if (total < ihl || off + total > len) return false;
    out->l3 = off;
    out->l4 = off + ihl;
    out->end = off + total;
    out->proto = f[off + 9];
    out->v6 = false;
  } else if (type == 0x86dd) {
    if (len < off + 40 || (f[off] >> 4) != 6) return false;
    const uint16_t payload = load_be16(f + off + 4);
    if (off + 40 + payload > len) return false;
    out->l3 = off;
    out->l4 = off + 40;
    out->end = off + 40 + payload;
    out->proto = f[off + 6];
    out->v6 = true;
  } else {
    return false;
  }
  if (out->proto == IPPROTO_TCP) return out->end >= out->l4 + 20;
  if (out->proto == IPPROTO_UDP) return out->end >= out->l4 + 8;
  return false;
}

/// Offset of the checksum field inside the L4 header.
inline uint32_t l4_csum_field(uint8_t proto) {
  return proto == IPPROTO_TCP ? 16 : 6;
}

/// The ones'-complement sum of the pseudo header (not inverted), as a sender that
/// offloads its checksum leaves it in the checksum field.
inline uint16_t l4_pseudo_sum(const uint8_t* f, const l4_place& p) {
  const uint32_t l4_len = p.end - p.l4;
  struct {
    uint8_t addrs[32];
    uint32_t len;
    uint8_t zero[3];
    uint8_t proto;
  } ph{};
  const uint32_t alen = p.v6 ? 32 : 8;
  std::memcpy(ph.addrs, f + p.l3 + (p.v6 ? 8 : 12), alen);
  // The IPv4 pseudo header is saddr, daddr, 0, proto, 16-bit length; summing the same
  // words as (32-bit length, 0, proto) gives the same ones'-complement sum.
  ph.len = rte_cpu_to_be_32(l4_len);
  ph.proto = p.proto;
  uint32_t sum = rte_raw_cksum(ph.addrs, alen);
  sum += rte_raw_cksum(&ph.len, 8);
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

/// Finishes a partial checksum: the field at START + OFFSET already holds the pseudo-header
/// sum, so the checksum is the complement of the sum from START to END. Returns false (and
/// changes nothing) when the positions do not fit the frame.
inline bool finish_partial_csum(uint8_t* f, uint32_t end, uint32_t start, uint32_t offset) {
  if (start >= end || offset > end - start || end - start - offset < 2) return false;
  uint16_t c = static_cast<uint16_t>(~rte_raw_cksum(f + start, end - start));
  if (c == 0) c = 0xffff;  // UDP reserves 0 for "no checksum"; for TCP 0xffff is the same
  csum_detail::store16(f + start + offset, c);
  return true;
}

/// For ports that say nothing about checksums (AF_XDP): finishes a TCP/UDP checksum that
/// was left partial. Detected without touching the payload in the common case: a partial
/// field equals the pseudo-header sum; only then is the whole checksum verified (a
/// finished checksum equals the pseudo sum once in 65,536 frames) and, when it fails,
/// completed. Returns true when the frame was changed.
inline bool complete_if_partial(uint8_t* f, uint32_t len) {
  l4_place p;
  if (!locate_l4(f, len, &p)) return false;
  const uint32_t field = p.l4 + l4_csum_field(p.proto);
  const uint16_t have = csum_detail::load16(f + field);
  if (p.proto == IPPROTO_UDP && have == 0 && !p.v6) return false;  // IPv4 UDP without checksum
  if (have != l4_pseudo_sum(f, p)) return false;
  // A finished checksum sums (with the pseudo header) to 0xffff.
  const uint32_t sum = static_cast<uint32_t>(rte_raw_cksum(f + p.l4, p.end - p.l4)) + have;
  const uint16_t folded = static_cast<uint16_t>((sum & 0xffff) + (sum >> 16));
  if (folded == 0xffff) return false;
  return finish_partial_csum(f, p.end, p.l4, l4_csum_field(p.proto));
}

}  // namespace ringbridge::dp
