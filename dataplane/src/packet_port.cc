// SPDX-License-Identifier: BSD-3-Clause
// ringbridge's AF_PACKET port (see packet_port.h).
#include "packet_port.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <net/if.h>
#include <rte_branch_prediction.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "gso_split.h"
#include "l4_csum.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif
#ifndef PACKET_FANOUT_FLAG_UNIQUEID
#define PACKET_FANOUT_FLAG_UNIQUEID 0x2000
#endif

namespace ringbridge::dp {

namespace {

constexpr uint32_t k_vnet = sizeof(vnet_hdr);
// Largest super-frame: 64 KB of IP datagram plus Ethernet header and two VLAN tags.
constexpr uint32_t k_big_frame = 65535 + 14 + 8;

uint32_t pow2_at_least(uint32_t v) {
  uint32_t p = 1;
  while (p < v) p <<= 1;
  return p;
}

std::string errno_text(const char* what) {
  return std::string(what) + ": " + std::strerror(errno);
}

// Sets up a TPACKET_V2 ring of FRAMES slots of FRAME_SIZE bytes (a power of two) on FD
// (OPT: PACKET_RX_RING or PACKET_TX_RING) and maps it, locked in memory when allowed.
bool map_ring(int fd, int opt, uint32_t frames, uint32_t frame_size, uint8_t** ring, size_t* bytes,
              std::string* error) {
  const uint32_t block = std::max<uint32_t>(frame_size, 4096);
  tpacket_req req{};
  req.tp_block_size = block;
  req.tp_frame_size = frame_size;
  req.tp_frame_nr = frames;
  req.tp_block_nr = static_cast<unsigned>(static_cast<uint64_t>(frames) * frame_size / block);
  const char* name = opt == PACKET_RX_RING ? "PACKET_RX_RING" : "PACKET_TX_RING";
  if (setsockopt(fd, SOL_PACKET, opt, &req, sizeof(req)) != 0) {
    *error = errno_text(name) + " (" + std::to_string(frames) + " slots of " +
             std::to_string(frame_size) + " bytes)";
    return false;
  }
  const size_t len = static_cast<size_t>(req.tp_block_size) * req.tp_block_nr;
  void* p =
      mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED | MAP_POPULATE, fd, 0);
  if (p == MAP_FAILED)  // no CAP_IPC_LOCK and over RLIMIT_MEMLOCK: unlocked then
    p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
  if (p == MAP_FAILED) {
    *error = errno_text("mmap of the ring");
    return false;
  }
  *ring = static_cast<uint8_t*>(p);
  *bytes = len;
  return true;
}

}  // namespace

// --- opening -------------------------------------------------------------------------------

bool packet_queue::open(const packet_port_config& cfg, int ifindex, unsigned index, int* fanout_id,
                        std::string* error) {
  auto fail = [&](const std::string& msg) {
    *error = "queue " + std::to_string(index) + ": " + msg;
    return false;
  };
  _max_frame = cfg.max_frame;
  _data_room = cfg.mbuf_data_room;
  _complete_csum = cfg.complete_checksums;
  _pool = cfg.pool;
  _stash = std::make_unique<rte_mbuf*[]>(k_stash);
  _big.resize(k_vnet + k_big_frame + 4);

  // Receive socket: protocol 0 until it is bound, so it sees nothing before the ring and
  // the options are in place; then bound to the interface for every protocol.
  _rx_fd = socket(AF_PACKET, SOCK_RAW, 0);
  if (_rx_fd < 0)
    return fail(errno_text("socket(AF_PACKET)") +
                (errno == EPERM ? " (needs CAP_NET_RAW: run as root or with the unit's "
                                  "capabilities, see docs/deploy.md)"
                                : ""));
  int v = TPACKET_V2;
  if (setsockopt(_rx_fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v)) != 0)
    return fail(errno_text("PACKET_VERSION"));
  v = 1;
  if (setsockopt(_rx_fd, SOL_PACKET, PACKET_VNET_HDR, &v, sizeof(v)) != 0)
    return fail(errno_text("PACKET_VNET_HDR"));
  // Frames larger than a slot (super-frames) are queued whole on the socket as well.
  if (setsockopt(_rx_fd, SOL_PACKET, PACKET_COPY_THRESH, &v, sizeof(v)) != 0)
    return fail(errno_text("PACKET_COPY_THRESH"));
  if (setsockopt(_rx_fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &v, sizeof(v)) != 0)
    return fail(errno_text("PACKET_IGNORE_OUTGOING"));
  // Room for a burst of super-frames in that queue (the default holds about three).
  int rcvbuf = 8 << 20;
  if (setsockopt(_rx_fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) != 0)
    setsockopt(_rx_fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));

  // Slot layout (TPACKET_V2 with a virtio-net header): the kernel puts the frame at
  // TPACKET_ALIGN(52 + 16) + 10 - 14 = 76 bytes into the slot; 96 leaves room.
  _rx_frame_size = pow2_at_least(TPACKET_ALIGN(96 + cfg.max_frame));
  if (!map_ring(_rx_fd, PACKET_RX_RING, cfg.rx_frames, _rx_frame_size, &_rx_ring, &_rx_ring_bytes,
                error))
    return fail(*error + "; lower dataplane.rx_desc");
  _rx_mask = cfg.rx_frames - 1;

  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ALL);
  sll.sll_ifindex = ifindex;
  if (bind(_rx_fd, reinterpret_cast<sockaddr*>(&sll), sizeof(sll)) != 0)
    return fail(errno_text("bind"));

  if (cfg.queues > 1) {
    // Hash fanout, no defragment flag (the kernel would hold fragments back), no rollover
    // (a flow must stay on its worker). The first queue asks the kernel for an unused group
    // id; the others join it.
    int arg = PACKET_FANOUT_HASH << 16;
    if (*fanout_id < 0)
      arg |= PACKET_FANOUT_FLAG_UNIQUEID << 16;
    else
      arg |= *fanout_id;
    if (setsockopt(_rx_fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof(arg)) != 0)
      return fail(errno_text("PACKET_FANOUT"));
    if (*fanout_id < 0) {
      int got = 0;
      socklen_t gl = sizeof(got);
      if (getsockopt(_rx_fd, SOL_PACKET, PACKET_FANOUT, &got, &gl) != 0)
        return fail(errno_text("PACKET_FANOUT (reading the group id)"));
      *fanout_id = got & 0xffff;
    }
  }

  // Transmit socket: protocol 0, so it never receives.
  _tx_fd = socket(AF_PACKET, SOCK_RAW, 0);
  if (_tx_fd < 0) return fail(errno_text("socket(AF_PACKET) for transmit"));
  v = TPACKET_V2;
  if (setsockopt(_tx_fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v)) != 0)
    return fail(errno_text("PACKET_VERSION (transmit)"));
  v = 1;
  if (setsockopt(_tx_fd, SOL_PACKET, PACKET_LOSS, &v, sizeof(v)) != 0)
    return fail(errno_text("PACKET_LOSS"));
  v = cfg.qdisc_bypass ? 1 : 0;
  if (v != 0 && setsockopt(_tx_fd, SOL_PACKET, PACKET_QDISC_BYPASS, &v, sizeof(v)) != 0)
    return fail(errno_text("PACKET_QDISC_BYPASS"));
  // TPACKET_V2 transmit slots hold the frame at TPACKET2_HDRLEN - sizeof(sockaddr_ll).
  const uint32_t tx_off = TPACKET2_HDRLEN - sizeof(sockaddr_ll);
  _tx_frame_size = pow2_at_least(TPACKET_ALIGN(tx_off + cfg.max_frame));
  _tx_room = _tx_frame_size - tx_off;
  if (!map_ring(_tx_fd, PACKET_TX_RING, cfg.tx_frames, _tx_frame_size, &_tx_ring, &_tx_ring_bytes,
                error))
    return fail(*error + "; lower dataplane.tx_desc");
  _tx_mask = cfg.tx_frames - 1;
  sll.sll_protocol = 0;
  if (bind(_tx_fd, reinterpret_cast<sockaddr*>(&sll), sizeof(sll)) != 0)
    return fail(errno_text("bind (transmit)"));
  return true;
}

packet_queue::~packet_queue() {
  if (_rx_ring != nullptr) munmap(_rx_ring, _rx_ring_bytes);
  if (_tx_ring != nullptr) munmap(_tx_ring, _tx_ring_bytes);
  if (_rx_fd >= 0) close(_rx_fd);
  if (_tx_fd >= 0) close(_tx_fd);
}

std::unique_ptr<packet_port> packet_port::open(const packet_port_config& cfg, std::string* error) {
  if (cfg.rx_frames == 0 || (cfg.rx_frames & (cfg.rx_frames - 1)) != 0 || cfg.tx_frames == 0 ||
      (cfg.tx_frames & (cfg.tx_frames - 1)) != 0) {
    *error = "dataplane.rx_desc and dataplane.tx_desc must be powers of two";
    return nullptr;
  }
  if (cfg.max_frame > cfg.mbuf_data_room) {
    *error = "frames of " + std::to_string(cfg.max_frame) + " bytes do not fit a " +
             std::to_string(cfg.mbuf_data_room) + "-byte mbuf";
    return nullptr;
  }
  const int ifindex = static_cast<int>(if_nametoindex(cfg.iface.c_str()));
  if (ifindex == 0) {
    *error = "network interface '" + cfg.iface + "' does not exist";
    return nullptr;
  }
  std::unique_ptr<packet_port> port(new packet_port());
  int fanout_id = -1;
  for (unsigned q = 0; q < cfg.queues; q++) {
    std::unique_ptr<packet_queue> pq(new packet_queue());
    if (!pq->open(cfg, ifindex, q, &fanout_id, error)) return nullptr;
    port->_queues.push_back(std::move(pq));
  }
  // A bridge must see frames for every MAC address. A membership rather than IFF_PROMISC:
  // the kernel counts it and drops it with the socket, so a crash cannot leave the
  // interface promiscuous.
  packet_mreq mr{};
  mr.mr_ifindex = ifindex;
  mr.mr_type = PACKET_MR_PROMISC;
  if (setsockopt(port->_queues[0]->_rx_fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) !=
      0) {
    *error = errno_text("PACKET_ADD_MEMBERSHIP (promiscuous)");
    return nullptr;
  }
  return port;
}

packet_port::~packet_port() {
  release_stashed();
}

void packet_port::release_stashed() {
  for (auto& q : _queues) {
    if (q->_stash_n != 0) rte_pktmbuf_free_bulk(q->_stash.get() + q->_stash_head, q->_stash_n);
    q->_stash_n = 0;
    q->_stash_head = 0;
  }
}

uint64_t packet_queue::take_kernel_drops() {
  tpacket_stats st{};
  socklen_t len = sizeof(st);
  if (getsockopt(_rx_fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) != 0) return 0;
  return st.tp_drops;
}

packet_port_stats packet_port::stats() {
  std::lock_guard<std::mutex> g(_stats_lock);
  for (auto& q : _queues) _kernel_drops += q->take_kernel_drops();
  packet_port_stats s;
  s.kernel_drops = _kernel_drops;
  return s;
}

// --- receive ---------------------------------------------------------------------------------

uint16_t packet_queue::take(tpacket2_hdr* h, uint32_t status, rte_mbuf** out, uint16_t room,
                            direction_counters& c) {
  const auto* sll = reinterpret_cast<const sockaddr_ll*>(reinterpret_cast<uint8_t*>(h) +
                                                         TPACKET_ALIGN(sizeof(tpacket2_hdr)));
  const uint8_t* data = reinterpret_cast<uint8_t*>(h) + h->tp_mac;
  uint32_t len = h->tp_len;
  uint32_t snap = h->tp_snaplen;
  vnet_hdr vh{};
  bool in_big = false;
  if (status & TP_STATUS_COPY) {
    // Too long for a slot: the whole frame waits in the socket's queue, in ring order.
    const ssize_t r = recv(_rx_fd, _big.data(), _big.size(), MSG_DONTWAIT | MSG_TRUNC);
    if (r >= static_cast<ssize_t>(k_vnet) && static_cast<size_t>(r) <= _big.size() &&
        static_cast<uint32_t>(r) - k_vnet == len) {
      std::memcpy(&vh, _big.data(), k_vnet);
      data = _big.data() + k_vnet;
      snap = len;
      in_big = true;
    }
  } else if (h->tp_mac >= k_vnet) {
    std::memcpy(&vh, data - k_vnet, k_vnet);
  }
  if (unlikely(sll->sll_pkttype == PACKET_OUTGOING)) return 0;  // not ours to forward
  const bool tagged = (status & TP_STATUS_VLAN_VALID) != 0;
  const uint32_t flen = len + (tagged ? 4 : 0);
  auto dropped = [&](drop_reason why) {
    c.rx_pkts.inc();
    c.rx_bytes.add(flen);
    c.drop(why);
    return uint16_t{0};
  };
  if (unlikely(snap < len || len < 14)) return dropped(drop_reason::rx_truncated);
  const uint16_t tpid = (status & TP_STATUS_VLAN_TPID_VALID) ? h->tp_vlan_tpid : 0x8100;

  if (unlikely(vh.gso_type != k_gso_none)) {
    // A super-frame: put it, tag included, into _big, then cut it.
    uint8_t* f = _big.data() + k_vnet;
    if (tagged) {
      if (flen > k_big_frame) return dropped(drop_reason::rx_truncated);
      std::memmove(f + 16, data + 12, len - 12);
      if (!in_big) std::memcpy(f, data, 12);
      const uint16_t t[2] = {htons(tpid), htons(h->tp_vlan_tci)};
      std::memcpy(f + 12, t, 4);
    } else if (!in_big) {
      if (len > k_big_frame) return dropped(drop_reason::rx_truncated);
      std::memcpy(f, data, len);
    }
    gso_info gi;
    gi.type = vh.gso_type & static_cast<uint8_t>(~k_gso_ecn);
    gi.seg_size = vh.gso_size;
    uint32_t n = 0;
    const gso_result r = gso_split(f, flen, gi, _pool, _max_frame, _stash.get(), k_stash, &n);
    if (r != gso_result::ok)
      return dropped(r == gso_result::no_mbuf ? drop_reason::no_mbuf
                                              : drop_reason::gso_unsupported);
    c.port(port_counter::gso_frames).inc();
    c.port(port_counter::gso_segments).add(n);
    c.port(port_counter::csum_completed).add(n);
    const uint16_t now = static_cast<uint16_t>(std::min<uint32_t>(n, room));
    std::memcpy(out, _stash.get(), now * sizeof(rte_mbuf*));
    _stash_head = now;
    _stash_n = n - now;
    return now;
  }

  if (unlikely(flen > _data_room)) return dropped(drop_reason::oversize);
  rte_mbuf* m = _fresh_i < _fresh_n ? _fresh[_fresh_i++] : rte_pktmbuf_alloc(_pool);
  if (unlikely(m == nullptr)) return dropped(drop_reason::no_mbuf);
  auto* d = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, static_cast<uint16_t>(flen)));
  if (tagged) {
    std::memcpy(d, data, 12);
    const uint16_t t[2] = {htons(tpid), htons(h->tp_vlan_tci)};
    std::memcpy(d + 12, t, 4);
    std::memcpy(d + 16, data + 12, len - 12);
  } else {
    std::memcpy(d, data, len);
  }
  if (vh.flags & k_vnet_needs_csum) {
    if (_complete_csum) {
      // csum_start counts from the frame as the kernel holds it, without an out-of-band tag.
      l4_place p;
      const uint32_t end = locate_l4(d, flen, &p) ? p.end : flen;
      if (finish_partial_csum(d, end, vh.csum_start + (tagged ? 4u : 0u), vh.csum_offset))
        c.port(port_counter::csum_completed).inc();
    } else {
      c.port(port_counter::csum_left_partial).inc();
    }
  }
  out[0] = m;
  return 1;
}

uint16_t packet_queue::rx_burst(rte_mbuf** pkts, uint16_t n, direction_counters& c) {
  uint16_t got = 0;
  if (unlikely(_stash_n != 0)) {
    const uint16_t k = static_cast<uint16_t>(std::min<uint32_t>(_stash_n, n));
    std::memcpy(pkts, _stash.get() + _stash_head, k * sizeof(rte_mbuf*));
    _stash_head += k;
    _stash_n -= k;
    got = k;
    if (_stash_n != 0) return got;
  }
  // Mbufs for the frames ready now, in one bulk allocation (what is left over after drops
  // or super-frames goes back at the end).
  uint32_t ready = 0;
  for (uint32_t i = _rx_head; ready < static_cast<uint32_t>(n - got); i = (i + 1) & _rx_mask) {
    if (!(__atomic_load_n(&rx_slot(i)->tp_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER)) break;
    ready++;
  }
  if (ready == 0) return got;
  _fresh_i = 0;
  _fresh_n = rte_pktmbuf_alloc_bulk(_pool, _fresh, ready) == 0 ? ready : 0;
  while (got < n) {
    tpacket2_hdr* h = rx_slot(_rx_head);
    const uint32_t status = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
    if (!(status & TP_STATUS_USER)) break;
    got += take(h, status, pkts + got, static_cast<uint16_t>(n - got), c);
    __atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
    _rx_head = (_rx_head + 1) & _rx_mask;
    if (_stash_n != 0) break;
  }
  if (unlikely(_fresh_i < _fresh_n)) rte_pktmbuf_free_bulk(_fresh + _fresh_i, _fresh_n - _fresh_i);
  _fresh_n = 0;
  return got;
}

// --- transmit --------------------------------------------------------------------------------

uint16_t packet_queue::tx_burst(rte_mbuf** pkts, uint16_t n) {
  constexpr uint32_t off = TPACKET2_HDRLEN - sizeof(sockaddr_ll);
  uint16_t i = 0;
  for (; i < n; i++) {
    tpacket2_hdr* h = tx_slot(_tx_head);
    const uint32_t status = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
    if (status != TP_STATUS_AVAILABLE) break;  // the kernel has not sent this slot yet
    rte_mbuf* m = pkts[i];
    const uint32_t len = rte_pktmbuf_pkt_len(m);
    // Longer than a slot: cannot happen (slots hold max_frame); left to the caller, which
    // counts what the port refused.
    if (unlikely(len > _tx_room)) break;
    uint8_t* d = reinterpret_cast<uint8_t*>(h) + off;
    if (likely(m->nb_segs == 1)) {
      std::memcpy(d, rte_pktmbuf_mtod(m, const void*), len);
    } else {
      // Copies into D when the data is spread over segments; else points into the mbuf.
      const void* src = rte_pktmbuf_read(m, 0, len, d);
      if (src != d) std::memcpy(d, src, len);
    }
    h->tp_len = len;
    __atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
    _tx_head = (_tx_head + 1) & _tx_mask;
  }
  // One kick sends every slot marked, including any an earlier kick could not (a full
  // device queue): nothing stays behind while frames keep coming.
  sendto(_tx_fd, nullptr, 0, MSG_DONTWAIT, nullptr, 0);
  if (i != 0) rte_pktmbuf_free_bulk(pkts, i);
  return i;
}

}  // namespace ringbridge::dp
