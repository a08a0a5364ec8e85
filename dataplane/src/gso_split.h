// SPDX-License-Identifier: BSD-3-Clause
// Splitting GSO super-frames into wire-size frames. A sender with segmentation offload (a
// veth, tap or virtio interface by default) hands the kernel TCP and UDP "frames" of up to
// 64 KB that a NIC would cut into MTU-size packets; AF_PACKET delivers them whole. The
// bridge cuts them the way the kernel's software GSO does (one header copy per segment,
// sequence numbers, IP ids, lengths and checksums per segment), so every frame it forwards
// is one a wire could carry.
//
// Worker lcore only (called from the AF_PACKET port's receive path). No heap: segments go
// into mbufs from the given pool.
#pragma once

#include <cstdint>

struct rte_mbuf;
struct rte_mempool;

namespace ringbridge::dp {

/// The virtio-net header AF_PACKET puts in front of each frame with PACKET_VNET_HDR
/// (<linux/virtio_net.h> cannot be included from C++: it names a field "class"). Fields in
/// host byte order, as the kernel writes them for a packet socket on a little-endian host.
struct vnet_hdr {
  uint8_t flags;
  uint8_t gso_type;
  uint16_t hdr_len;
  uint16_t gso_size;
  uint16_t csum_start;
  uint16_t csum_offset;
};
static_assert(sizeof(vnet_hdr) == 10);
inline constexpr uint8_t k_vnet_needs_csum = 1;  // VIRTIO_NET_HDR_F_NEEDS_CSUM
inline constexpr uint8_t k_gso_none = 0, k_gso_tcpv4 = 1, k_gso_udp = 3, k_gso_tcpv6 = 4,
                         k_gso_udp_l4 = 5, k_gso_ecn = 0x80;

/// What the virtio-net header says about a received super-frame.
struct gso_info {
  uint8_t type = 0;       ///< k_gso_tcpv4 / k_gso_tcpv6 / k_gso_udp_l4 (ECN bit removed)
  uint16_t seg_size = 0;  ///< payload bytes per segment (MSS)
};

enum class gso_result : uint8_t {
  ok,
  unsupported,  ///< not TCP/UDP over IPv4/IPv6 without options the splitter handles
  malformed,    ///< headers do not fit, or segment size 0
  too_big,      ///< a segment would exceed MAX_FRAME, or more than MAX_OUT segments
  no_mbuf,      ///< the pool ran out (segments made so far are freed)
};

/// Cuts FRAME (LEN bytes, a complete Ethernet frame, VLAN tags in line) into segments of
/// at most INFO.seg_size payload bytes each, with finished checksums. On ok, *N mbufs are in
/// OUT (at most MAX_OUT). On any other result nothing is left allocated and *N is 0.
gso_result gso_split(const uint8_t* frame, uint32_t len, const gso_info& info, rte_mempool* pool,
                     uint32_t max_frame, rte_mbuf** out, uint32_t max_out, uint32_t* n);

}  // namespace ringbridge::dp
