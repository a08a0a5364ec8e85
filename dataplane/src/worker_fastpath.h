// SPDX-License-Identifier: BSD-3-Clause
// Hot path: one poll of both directions. Each rx burst goes through the frame path:
// parse (size, which frames may carry IP, unfinished checksums) → the features' stages
// (stage.h) → forward (a whole burst straight from the rx array, else the tx buffer; drops
// counted by reason; answers sent back out of the ingress port).
//
// Rules here: no heap, no locks, no syscalls of our own, no logging, no exceptions.
// Counters are updated once per burst, not per packet. Included by worker_loop.cc and by
// the microbenchmarks in perf/bench/.
#pragma once

#include <cstring>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "l4_csum.h"
#include "packet_port.h"
#include "ringbridge/dp/packet.h"
#include "ringbridge/dp/stage.h"
#include "worker.h"

namespace ringbridge::dp {

/// Frames waiting to go out of one port's queue. Flushed when it holds a burst, when the
/// rx queue feeding it gave less than a burst (it is drained: nothing more to batch with),
/// or when its oldest frame has waited flush_tsc cycles (a queue that never runs dry).
struct tx_buffer {
  packet_queue* pq = nullptr;  ///< ringbridge's own AF_PACKET queue, else the DPDK port
  uint16_t port = 0;
  uint16_t queue = 0;
  uint16_t count = 0;
  uint64_t bytes = 0;
  uint64_t first_tsc = 0;  ///< when the oldest buffered frame arrived
  rte_mbuf* pkts[k_max_burst];
};

/// A worker's mutable state between polls.
struct worker_state {
  tx_buffer txb[2];  ///< txb[s] carries frames that came in on side s out of the other side

  explicit worker_state(const worker_ctx& w) {
    for (int s = 0; s < 2; s++) {
      txb[s].port = w.port[1 - s];
      txb[s].pq = w.pq[1 - s];
      txb[s].queue = w.queue;
    }
  }
};

/// Sends PKTS[0..N) (BYTES in all) out of B's port and queue; retries a bounded number of
/// times, then frees what the port refused and counts it. Frames are never reordered: a
/// retry resends the unsent tail.
inline void tx_send(const tx_buffer& b, rte_mbuf** pkts, uint16_t n, uint64_t bytes,
                    direction_counters& c, uint16_t retries) {
  auto send = [&b](rte_mbuf** p, uint16_t k) {
    return b.pq != nullptr ? b.pq->tx_burst(p, k) : rte_eth_tx_burst(b.port, b.queue, p, k);
  };
  uint16_t sent = send(pkts, n);
  for (uint16_t r = 0; unlikely(sent < n) && r < retries; r++)
    sent += send(pkts + sent, static_cast<uint16_t>(n - sent));
  if (unlikely(sent < n)) {
    for (uint16_t i = sent; i < n; i++) bytes -= rte_pktmbuf_pkt_len(pkts[i]);
    rte_pktmbuf_free_bulk(pkts + sent, n - sent);
    c.drop(drop_reason::tx_refused, n - sent);
  }
  c.tx_pkts.add(sent);
  c.tx_bytes.add(bytes);
}

/// Sends everything buffered (tx_send()).
inline void tx_flush(tx_buffer& b, direction_counters& c, uint16_t retries) {
  if (b.count == 0) return;
  tx_send(b, b.pkts, b.count, b.bytes, c, retries);
  b.count = 0;
  b.bytes = 0;
}

/// Drops the frames of B longer than MAX_FRAME (counted as oversize). Rare: the parse loop
/// calls it only when the longest frame of the burst is too long.
__attribute__((noinline, cold)) inline void drop_oversize(frame_burst& b, uint32_t max_frame) {
  for (uint16_t i = 0; i < b.n; i++)
    if (rte_pktmbuf_pkt_len(b.pkts[i]) > max_frame)
      b.give(i, verdict::dropped(drop_reason::oversize));
}

/// Queues a frame the bridge made (a SIP response) to leave through port 1 - FROM_SIDE's
/// peer, i.e. back out of side FROM_SIDE, where the request came in.
inline void inject(const worker_ctx& w, worker_state& st, rte_mbuf* r, int from_side,
                   uint64_t now) {
  tx_buffer& back = st.txb[1 - from_side];
  direction_counters& c = w.counters->dir[1 - from_side];
  if (back.count == 0) back.first_tsc = now;
  back.pkts[back.count++] = r;
  back.bytes += rte_pktmbuf_pkt_len(r);
  c.injected.inc();
  if (back.count == w.burst) tx_flush(back, c, w.tx_retries);
}

/// One iteration of the worker loop: an rx burst from each side, forwarded out of the peer
/// (a burst that passes whole with nothing buffered straight from the rx array, else
/// through the peer's tx buffer), then the flushes. Returns whether anything was received.
///
/// Batching without holding frames back: a buffer is sent as soon as the rx queue that
/// fills it gives less than a full burst (the queue is drained), so below saturation a
/// frame leaves in the poll that received it, and at high rates (full rx bursts, a backlog
/// in the queue) frames leave in full tx bursts — one kernel crossing per burst on
/// AF_XDP/AF_PACKET instead of one per poll. (Waiting for an empty poll instead could hold
/// the frames of a stream that never leaves the queue quite empty until the buffer filled
/// or tx_flush_us passed.)
inline bool poll_once(const worker_ctx& w, worker_state& st) {
  worker_counters& wc = *w.counters;
  rte_mbuf* pkts[k_max_burst];
  verdict v[k_max_burst];  // v[i] is written (and read) only for a frame that does not go out
  bool busy = false;
  for (int s = 0; s < 2; s++) {
    direction_counters& c = wc.dir[s];
    const uint16_t n = w.pq[s] != nullptr ? w.pq[s]->rx_burst(pkts, w.burst, c)
                                          : rte_eth_rx_burst(w.port[s], w.queue, pkts, w.burst);
    if (n == 0) {
      if (st.txb[s].count != 0) tx_flush(st.txb[s], wc.dir[s], w.tx_retries);
      continue;
    }
    busy = true;
    const uint64_t now = rte_rdtsc();

    // Parse: what the core itself checks — the size, which frames can carry IP (the
    // stages that look at IP traffic skip the rest), and checksums left unfinished by a
    // sender's offload on ports that cannot say so. One pass without branches on the
    // frames' contents; the rare cases (a frame too long, checksums) after it.
    uint64_t rx_bytes = 0, ip = 0, bit = 1;
    const uint32_t max_frame = w.max_frame;
    bool oversize = false;
    for (rte_mbuf **p = pkts, **end = pkts + n; p != end; p++, bit <<= 1) {
      const rte_mbuf* m = *p;
      const uint32_t len = rte_pktmbuf_pkt_len(m);
      rx_bytes += len;
      oversize |= len > max_frame;
      if (may_carry_ip(rte_pktmbuf_mtod(m, const uint8_t*), rte_pktmbuf_data_len(m))) ip |= bit;
    }
    frame_burst b{pkts, v, n, static_cast<uint8_t>(s), w.index, now, frame_burst::all(n), ip};
    c.rx_pkts.add(n);
    c.rx_bytes.add(rx_bytes);
    if (unlikely(oversize)) drop_oversize(b, max_frame);
    if (w.csum_check[s]) {
      for (uint64_t todo = b.pass & ip; todo != 0; todo &= todo - 1) {
        rte_mbuf* m = pkts[__builtin_ctzll(todo)];
        if (m->nb_segs == 1 &&
            complete_if_partial(rte_pktmbuf_mtod(m, uint8_t*), rte_pktmbuf_pkt_len(m)))
          c.port(port_counter::csum_completed).inc();
      }
    }

    // The features' stages (inspect, verdict, capture/rewrite), in order: one call each
    // per burst.
    for (unsigned k = 0; k < w.n_stages; k++) w.stages[k].run(w.stages[k].ctx, b);

    // Forward: what passes goes into the peer's tx buffer; the rest is freed and counted,
    // and answers go back out of this side.
    tx_buffer& tx = st.txb[s];
    const bool whole = b.pass == frame_burst::all(n);
    if (likely(whole && tx.count == 0)) {
      // The usual burst: everything goes and nothing is buffered: out as it is, no copy
      // (it would be flushed at once anyway: a full burst, or a drained queue).
      tx_send(tx, pkts, n, rx_bytes, c, w.tx_retries);
      continue;
    }
    if (tx.count == 0) tx.first_tsc = now;
    if (whole && tx.count + n <= w.burst) {
      // Everything goes, after what is buffered, and fits.
      std::memcpy(tx.pkts + tx.count, pkts, n * sizeof(pkts[0]));
      tx.count = static_cast<uint16_t>(tx.count + n);
      tx.bytes += rx_bytes;
      if (tx.count == w.burst || n < w.burst) {
        tx_flush(tx, c, w.tx_retries);
        tx.first_tsc = rte_rdtsc();
      }
      continue;
    }
    const uint16_t burst = w.burst;
    uint16_t count = tx.count;
    uint64_t tx_bytes = tx.bytes;
    for (uint16_t i = 0; i < n; i++) {
      rte_mbuf* m = pkts[i];
      if (unlikely(!b.passes(i))) {
        c.drop(v[i].reason);
        rte_pktmbuf_free(m);
        if (v[i].kind == verdict_kind::answer) inject(w, st, v[i].reply, s, now);  // other buffer
        continue;
      }
      tx.pkts[count++] = m;
      tx_bytes += rte_pktmbuf_pkt_len(m);
      if (unlikely(count == burst)) {
        tx.count = count;
        tx.bytes = tx_bytes;
        tx_flush(tx, c, w.tx_retries);
        tx.first_tsc = rte_rdtsc();
        count = 0;
        tx_bytes = 0;
      }
    }
    tx.count = count;
    tx.bytes = tx_bytes;
    if (n < burst && count != 0) tx_flush(tx, c, w.tx_retries);
  }
  (busy ? wc.busy_polls : wc.idle_polls).inc();

  // Timed flush: a partly filled buffer leaves once its oldest frame is flush_tsc old, even
  // when its rx queue never runs dry.
  if (st.txb[0].count | st.txb[1].count) {
    const uint64_t now = rte_rdtsc();
    for (int s = 0; s < 2; s++)
      if (st.txb[s].count != 0 && now - st.txb[s].first_tsc >= w.flush_tsc)
        tx_flush(st.txb[s], wc.dir[s], w.tx_retries);
  }
  return busy;
}

/// Sends what is still buffered (or counts it as refused). Called once, when stopping.
inline void drain(const worker_ctx& w, worker_state& st) {
  for (int s = 0; s < 2; s++) tx_flush(st.txb[s], w.counters->dir[s], w.tx_retries);
}

}  // namespace ringbridge::dp
