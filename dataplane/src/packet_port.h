// SPDX-License-Identifier: BSD-3-Clause
// ringbridge's own AF_PACKET port. DPDK 22.11's net_af_packet cannot forward every frame
// unchanged: it joins its fanout group with the defragment flag (the kernel holds IP
// fragments back and reassembles them), re-inserts every outer VLAN tag as 802.1Q (an
// 802.1ad QinQ tag changes), drops segmentation-offload super-frames, and leaves the
// unfinished checksums of senders with checksum offload unfinished. This port does what a
// bridge needs instead:
//
// - one TPACKET_V2 receive ring per queue (socket bound with protocol 0 first, so nothing
//   from other interfaces slips in), PACKET_IGNORE_OUTGOING, and for several queues a hash
//   fanout group without the defragment flag (the kernel's symmetric flow hash: both
//   directions of a flow, and every fragment of a datagram, reach the same queue index);
// - the outer VLAN tag re-inserted with the TPID the kernel reports;
// - a virtio-net header per frame: unfinished checksums are completed (counted), and
//   super-frames (which do not fit a ring slot and are read from the socket's queue) are
//   split into wire-size frames (gso_split.h);
// - one TPACKET_V2 transmit ring per queue on a socket of its own (protocol 0: it receives
//   nothing), PACKET_QDISC_BYPASS, PACKET_LOSS (a frame the kernel rejects is skipped,
//   never wedges the ring).
//
// The worker calls rx_burst()/tx_burst() of the queue it owns; the port is opened and
// closed by the bridge on the control thread; stats() from any thread.
#pragma once

#include <linux/if_packet.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ringbridge/dp/counters.h"

struct rte_mbuf;
struct rte_mempool;

namespace ringbridge::dp {

struct packet_port_config {
  std::string iface;
  unsigned queues = 1;        ///< one per worker
  uint32_t rx_frames = 2048;  ///< receive ring slots per queue (power of two)
  uint32_t tx_frames = 1024;  ///< transmit ring slots per queue (power of two)
  uint32_t max_frame = 1522;  ///< largest frame forwarded
  uint32_t mbuf_data_room = 2048;
  rte_mempool* pool = nullptr;
  bool complete_checksums = true;
  bool qdisc_bypass = true;
};

/// One queue: the receive ring and the transmit ring one worker owns.
class packet_queue {
 public:
  ~packet_queue();
  packet_queue(const packet_queue&) = delete;
  packet_queue& operator=(const packet_queue&) = delete;

  /// Worker: up to N frames into PKTS; what the port itself drops (truncated, unsplittable,
  /// no mbuf) is counted in C as received and dropped, with its reason.
  uint16_t rx_burst(rte_mbuf** pkts, uint16_t n, direction_counters& c);

  /// Worker: copies up to N frames into the transmit ring, frees them and asks the kernel
  /// to send. Returns how many were taken (fewer when the ring is full).
  uint16_t tx_burst(rte_mbuf** pkts, uint16_t n);

  /// The kernel's count of frames it could not put into the receive ring (reset by reading).
  /// Control thread, under the port's lock.
  uint64_t take_kernel_drops();

 private:
  friend class packet_port;
  packet_queue() = default;
  bool open(const packet_port_config& cfg, int ifindex, unsigned index, int* fanout_id,
            std::string* error);
  uint16_t take(tpacket2_hdr* h, uint32_t status, rte_mbuf** out, uint16_t room,
                direction_counters& c);
  tpacket2_hdr* rx_slot(uint32_t i) const {
    return reinterpret_cast<tpacket2_hdr*>(_rx_ring + static_cast<size_t>(i) * _rx_frame_size);
  }
  tpacket2_hdr* tx_slot(uint32_t i) const {
    return reinterpret_cast<tpacket2_hdr*>(_tx_ring + static_cast<size_t>(i) * _tx_frame_size);
  }

  int _rx_fd = -1, _tx_fd = -1;
  uint8_t* _rx_ring = nullptr;
  uint8_t* _tx_ring = nullptr;
  size_t _rx_ring_bytes = 0, _tx_ring_bytes = 0;
  uint32_t _rx_frame_size = 0, _tx_frame_size = 0;
  uint32_t _rx_mask = 0, _tx_mask = 0;
  uint32_t _rx_head = 0, _tx_head = 0;
  uint32_t _tx_room = 0;  ///< frame bytes one transmit slot holds
  uint32_t _max_frame = 0, _data_room = 0;
  bool _complete_csum = true;
  rte_mempool* _pool = nullptr;
  // Super-frames: read whole from the socket's queue into _big; their segments beyond the
  // caller's burst wait in _stash for the next rx_burst.
  std::vector<uint8_t> _big;
  static constexpr uint32_t k_stash = 1024;
  std::unique_ptr<rte_mbuf*[]> _stash;
  uint32_t _stash_head = 0, _stash_n = 0;
  rte_mbuf* _fresh[64];  ///< allocated in bulk for one rx_burst (k_max_burst)
  uint32_t _fresh_i = 0, _fresh_n = 0;
};

/// Totals the kernel keeps for an AF_PACKET port.
struct packet_port_stats {
  uint64_t kernel_drops = 0;  ///< frames the receive rings had no room for
};

class packet_port {
 public:
  /// Opens CFG.queues queues on CFG.iface and makes the interface promiscuous for as long
  /// as the sockets live (a membership, not the interface flag: it ends with the process,
  /// however it ends). On failure returns nullptr with *error naming the cause and the fix.
  static std::unique_ptr<packet_port> open(const packet_port_config& cfg, std::string* error);

  ~packet_port();

  packet_queue* queue(unsigned q) const { return _queues[q].get(); }
  unsigned queues() const { return static_cast<unsigned>(_queues.size()); }

  /// Any thread.
  packet_port_stats stats();

  /// After the workers stopped: frees the segments still waiting in the queues' stashes.
  void release_stashed();

 private:
  packet_port() = default;
  std::vector<std::unique_ptr<packet_queue>> _queues;
  std::mutex _stats_lock;
  uint64_t _kernel_drops = 0;
};

}  // namespace ringbridge::dp
