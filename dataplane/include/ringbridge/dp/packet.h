// SPDX-License-Identifier: BSD-3-Clause
// L2/L3/L4 header parsing of a frame (Ethernet, 802.1Q/802.1ad, IPv4, IPv6, UDP, TCP).
//
// Pure function over bytes: no DPDK, no allocation; every length from the wire is checked
// against the frame. Worker lcores call it per frame; tests call it on crafted frames.
#pragma once

#include <cstdint>

namespace ringbridge::dp {

enum class l4_result : uint8_t {
  ok,           ///< UDP or TCP with a payload view
  not_ip,       ///< ARP, LLDP, ... (or IP inside more than two VLAN tags)
  not_udp_tcp,  ///< ICMP, ESP, ...
  fragment,     ///< an IP fragment: frag_* describe it (reassembled for inspection, ip_reasm.h)
  malformed,    ///< a length or header field that does not fit the frame
};

struct l4_info {
  uint8_t ip_version = 0;        ///< 4 or 6
  uint8_t proto = 0;             ///< 17 (UDP) or 6 (TCP)
  uint8_t vlans = 0;             ///< VLAN tags skipped (0..2)
  uint8_t tcp_flags = 0;         ///< TCP: FIN 0x01, SYN 0x02, RST 0x04, ...
  const uint8_t* src = nullptr;  ///< source address inside the frame (4 or 16 bytes)
  const uint8_t* dst = nullptr;
  uint16_t sport = 0, dport = 0;
  uint32_t tcp_seq = 0;
  uint32_t payload_offset = 0;  ///< from the start of the frame
  uint32_t payload_len = 0;     ///< UDP: from the UDP length; TCP: from the IP length
  // l4_result::fragment only: proto is the protocol (IPv6: the header after the fragment
  // header), payload_offset/len the fragment's data.
  uint32_t frag_id = 0;
  uint32_t frag_offset = 0;  ///< bytes
  bool frag_more = false;

  uint8_t addr_len() const { return ip_version == 6 ? 16 : 4; }
  /// Copies the addresses into 16-byte fields (IPv4 in the first 4 bytes, rest zero).
  void copy_addrs(uint8_t* src16, uint8_t* dst16) const;
};

/// Parses FRAME (LEN bytes, the contiguous start of the frame). IPv6 extension headers
/// hop-by-hop, routing, destination options and fragment are walked (at most 8).
l4_result parse_l4(const uint8_t* frame, uint32_t len, l4_info* out);

/// The common case of parse_l4(), inline: an untagged IPv4 packet without options that is
/// not a fragment, carrying UDP whose lengths fit the packet and the frame F[0..LEN). Its
/// UDP length (8 or more), or 0 for any other frame (then parse_l4() decides).
inline uint32_t ipv4_udp_length(const uint8_t* f, uint32_t len) {
  if (len < 42 || f[12] != 0x08 || f[13] != 0x00) return 0;
  const uint8_t* ip = f + 14;
  const uint32_t total = static_cast<uint32_t>(ip[2] << 8 | ip[3]);
  // Version 4, 20-byte header, UDP, no fragment bits but DF, the packet within the frame.
  if (ip[0] != 0x45 || ip[9] != 17 || ((ip[6] & 0x3f) | ip[7]) != 0 || total < 28 ||
      14 + total > len)
    return 0;
  const uint32_t ulen = static_cast<uint32_t>(ip[24] << 8 | ip[25]);
  return ulen >= 8 && 20 + ulen <= total ? ulen : 0;
}

/// Whether a frame F[0..LEN) (LEN: its first segment) can carry IP for parse_l4(): an
/// ethertype of IPv4, IPv6, 802.1Q, 802.1ad or the old QinQ 0x9100, or too short to have
/// one (parse_l4() then says malformed). False for ARP, LLDP and every other type: the
/// worker classifies each frame once with this, and the stages that look at IP traffic
/// skip the rest (frame_burst::ip).
inline bool may_carry_ip(const uint8_t* f, uint32_t len) {
  if (len < 14) return true;
  const uint8_t hi = f[12];
  if (hi == 0x08) return f[13] == 0x00;  // IPv4 (0x0806 ARP is not)
  // 0x81, 0x86, 0x88, 0x91: one range and one bit test on the high byte, most types are
  // out there; the exact type after.
  const unsigned d = hi - 0x81u;
  if (d > 0x10 || ((0x100a1u >> d) & 1) == 0) return false;
  const unsigned type = unsigned{hi} << 8 | f[13];
  return type == 0x86dd || type == 0x8100 || type == 0x88a8 || type == 0x9100;
}

/// parse_l4() for that common case: true with *OUT (default-constructed) filled exactly as
/// parse_l4() fills it (l4_result::ok); false for any other frame.
inline bool parse_ipv4_udp(const uint8_t* f, uint32_t len, l4_info* out) {
  const uint32_t ulen = ipv4_udp_length(f, len);
  if (ulen == 0) return false;
  out->ip_version = 4;
  out->proto = 17;
  out->src = f + 26;
  out->dst = f + 30;
  out->sport = static_cast<uint16_t>(f[34] << 8 | f[35]);
  out->dport = static_cast<uint16_t>(f[36] << 8 | f[37]);
  out->payload_offset = 42;
  out->payload_len = ulen - 8;
  return true;
}

/// The UDP datagram in a reassembled IP payload D[0..LEN) whose first header is PROTO
/// (IPv6 destination-options / routing headers walked): fills ports, payload offset and
/// length in *OUT (UDP length checked against LEN). False if it is not UDP or malformed.
bool udp_in_datagram(const uint8_t* d, uint32_t len, uint8_t proto, l4_info* out);

}  // namespace ringbridge::dp
