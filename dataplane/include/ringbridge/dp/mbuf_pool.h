// SPDX-License-Identifier: BSD-3-Clause
// The bridge's mbuf pool, and the layout net_af_xdp needs from it.
//
// net_af_xdp (DPDK 22.11) registers a pool as the AF_XDP UMEM starting at the page of its
// first object, populated_size object sizes long, and names each mbuf to the kernel by its
// offset from there. That holds only when the objects lie back to back in one chunk.
// DPDK's default populate keeps every object inside one page when the pool needs IOVA-
// contiguous objects: without hugepages (4 KiB pages) a 2,368-byte mbuf then takes a whole
// page, and 42 % of the pool lies past the UMEM's end. The kernel drops such addresses from
// the fill ring without a counter, so a port that cycles through its whole pool (frees
// arriving out of order, from the media thread or a second worker) empties its fill ring
// and never receives again. docs/design/ports.md, "AF_XDP UMEM".
#pragma once

#include <cstdint>
#include <string>

struct rte_mempool;

namespace ringbridge::dp {

/// Creates a pktmbuf pool of N mbufs with DATA_ROOM bytes (headroom included) each. PACKED
/// lays the objects back to back, crossing page boundaries (fine for ports that do no DMA:
/// AF_XDP, AF_PACKET, pcap, null); otherwise no object crosses a page, as a NIC's DMA needs.
/// Null with ERROR set when DPDK cannot create it.
rte_mempool* create_mbuf_pool(const char* name, uint32_t n, uint32_t cache, uint16_t data_room,
                              int socket, bool packed, std::string* error);

/// Whether every object of MP lies inside the UMEM net_af_xdp registers for it; if not, WHY
/// says how far it misses.
bool pool_fits_af_xdp_umem(const rte_mempool* mp, std::string* why);

}  // namespace ringbridge::dp
