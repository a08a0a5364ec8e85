// SPDX-License-Identifier: BSD-3-Clause
// Set-up of SIP inspection (cold path): the Hyperscan database of SIP start lines, the
// per-worker state (scratch, TCP stream table, reassembly table, event ring), and
// sip_dataplane, which owns them all and hands the bridge one stage per worker. The
// per-frame code is in plugins/sip/dataplane/sip_stage.h.
//
// Owned by the sip feature. It uses the dataplane core (counters, packet, stage) and
// knows no other feature: a verdict on a SIP request (filters) comes in through
// request_hook.
#pragma once

#include <array>
#include <bitset>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ringbridge/dp/counters.h"
#include "ringbridge/dp/packet.h"
#include "ringbridge/dp/stage.h"
#include "ringbridge/sip/identity.h"
#include "ringbridge/sip/sip_counters.h"
#include "ringbridge/sip/sip_event.h"

struct hs_database;
struct hs_scratch;
struct rte_mbuf;

namespace ringbridge::dp {

/// SIP inspection settings, fixed while the bridge runs.
struct sip_config {
  bool enabled = true;
  std::vector<uint16_t> hint_ports = {5060, 5061, 10000};
  uint32_t tcp_streams = 256;             ///< followed TCP streams per worker
  uint32_t tcp_buffer = 16384;            ///< bytes buffered per stream (largest message)
  uint32_t tcp_idle_s = 900;              ///< a followed stream idle this long is forgotten
  uint32_t reassembly_slots = 64;         ///< fragmented datagrams reassembled at once, per worker
  uint32_t reassembly_max_bytes = 16384;  ///< larger fragmented datagrams are not inspected
  uint32_t reassembly_timeout_s = 60;     ///< fragments are held (as copies) at most this long
  bool capture_messages = false;          ///< copy each SIP message for exports (HEP sinks)
  bool drop_unparsable_invites = false;   ///< an INVITE that cannot be parsed: drop (else forward)
  identity_options identity;              ///< who the caller of an INVITE is
};

/// The compiled Hyperscan database of SIP request and status lines. Immutable once
/// built; shared by all workers. Control thread builds it before the workers start.
class sip_database {
 public:
  /// Compiles the database; nullptr with *error naming the Hyperscan failure.
  static std::unique_ptr<sip_database> compile(std::string* error);
  ~sip_database();
  hs_database* db() const { return _db; }

  /// Pattern ids: requests of known methods are 1..14 (sip::method values), extension
  /// methods 100, status lines 200.
  static constexpr unsigned k_extension_request = sip::k_start_line_extension;
  static constexpr unsigned k_status_line = sip::k_start_line_status;

 private:
  hs_database* _db = nullptr;
};

struct tcp_stream_table;
class reasm_table;
inline constexpr size_t k_linear_bytes = 65536;  ///< sip_worker::linear

/// The filter step's result as the event reports it.
struct event_verdict {
  uint8_t verdict = 0;  ///< filters' filter_action (0: none)
  uint8_t block_mode = 0;
  uint8_t repeat = 0;
  uint32_t rule_id = 0;
};

/// A parsed SIP request over UDP, as a request hook sees it. Views into the frame (or the
/// reassembled datagram): valid during the call only.
struct sip_request {
  /// Parsed lazily (sip::parse_fresh(..., lazy)): To's tag is settled, and for an initial
  /// INVITE the caller's headers the identity read (identify_caller()); the hook settle()s
  /// anything else it reads.
  sip::message& msg;
  const char* raw;       ///< the message's bytes (msg.length of them)
  const uint8_t* frame;  ///< the frame it came in (for an answer: addresses, VLAN tags)
  const l4_info& li;
  int side;
  unsigned worker;
  uint64_t tsc;
  const caller_id* caller;  ///< initial INVITEs: who is calling; else nullptr
  sip_counters& counters;
};

/// A verdict on SIP requests (the filters feature). Called on the worker for every request
/// over UDP that parsed; fills *EV for the call event and returns what to do with the
/// frame (forward, drop, answer).
struct request_hook {
  verdict (*fn)(void* ctx, const sip_request& r, event_verdict* ev) = nullptr;
  void* ctx = nullptr;
};

/// A parsed SIP message (any method or response, UDP or TCP) that goes on through the
/// bridge, as a message hook sees it. Views into the frame: valid during the call only.
/// Over UDP the message was parsed lazily (sip::parse_fresh(..., lazy)): To's tag is
/// settled, and for an initial INVITE the caller's headers the identity read; other
/// name-addrs and message::sdp may not be read (a hook that needs them reads them from
/// name_addr::value or sip::sdp_body()).
struct sip_message_seen {
  const sip::message& msg;
  const char* raw;  ///< the message's bytes (msg.length of them)
  const l4_info& li;
  rte_mbuf* frame;  ///< the frame that carried it whole; nullptr when it came reassembled
                    ///< from IP fragments or out of a TCP stream
  int side;
  unsigned worker;
  uint64_t tsc;
  /// 0: a message not handed over lately; n: the nth copy of one whose event was handed
  /// over less than k_repeat_window_s ago (recent_events::repeat()).
  unsigned nth_copy = 0;
};

/// Who else wants the SIP messages the bridge forwards (the media feature: the flows an
/// SDP announces, the call's SIP frames for its recording). Called on the worker after the
/// verdict step, for messages whose frame goes on; it must not keep the views, and takes a
/// reference to FRAME (rte_mbuf_refcnt_update) if it keeps the frame.
struct message_hook {
  void (*fn)(void* ctx, const sip_message_seen& s) = nullptr;
  void* ctx = nullptr;
  /// A header name the hook wants to know about (msg.watched): the parser looks out for it
  /// in its own walk over the headers. Empty: none. The text must outlive the hook.
  std::string_view header;
};

/// One worker's SIP state. Owned by sip_dataplane; used only by its worker lcore.
/// The messages a worker handed to the control thread lately, by signature (Call-ID, To
/// tag, CSeq, method or status, side, verdict, Request-URI and length: sip_stage.h,
/// event_signature()). A message
/// whose signature was handed over less than k_repeat_window_s ago is a retransmission:
/// its event is not sent again (counted, repeats_coalesced), and the copies are counted so
/// that a flood of one message can be told from a phone's retransmissions (RFC 3261's
/// timers: at most two copies a second). Sets of four slots, the oldest replaced: a message
/// pushed out early only means that one event more goes through.
struct recent_events {
  static constexpr size_t k_ways = 4;
  static constexpr size_t k_sets = 1024;
  /// A slot's stamp: the TSC it was handed over at, its low 8 bits the copies since.
  static constexpr uint64_t k_count_bits = 0xff;
  struct slot {
    uint64_t sig = 0;
    uint64_t stamp = 0;
  };
  std::array<std::array<slot, k_ways>, k_sets> sets{};
  uint64_t window_tsc = 0;

  /// 0 when SIG was not handed over within the window before TSC (a new message, or one
  /// whose earlier copy was not handed over); else this copy's number since it was: 1,
  /// 2, ... (255 and above read 255).
  unsigned repeat(uint64_t sig, uint64_t tsc) {
    for (slot& s : sets[sig % k_sets]) {
      if (s.sig != sig) continue;
      if (tsc - (s.stamp & ~k_count_bits) >= window_tsc) return 0;
      if ((s.stamp & k_count_bits) != k_count_bits) s.stamp++;
      return static_cast<unsigned>(s.stamp & k_count_bits);
    }
    return 0;
  }
  /// SIG was handed over at TSC.
  void note(uint64_t sig, uint64_t tsc) {
    std::array<slot, k_ways>& set = sets[sig % k_sets];
    slot* victim = &set[0];
    for (slot& s : set) {
      if (s.sig == sig) {
        victim = &s;
        break;
      }
      if (s.stamp < victim->stamp) victim = &s;
    }
    *victim = {sig, tsc & ~k_count_bits};
  }
};
inline constexpr double k_repeat_window_s = 1.0;

struct sip_worker {
  const sip_database* db = nullptr;
  hs_scratch* scratch = nullptr;
  std::bitset<65536> hints;
  std::unique_ptr<tcp_stream_table> streams;
  std::unique_ptr<reasm_table> reasm;     ///< fragmented UDP datagrams being put together
  std::unique_ptr<uint8_t[]> linear;      ///< 64 KiB: payloads that span mbuf segments
  std::unique_ptr<event_ring> ring;       ///< this worker → control
  std::unique_ptr<capture_ring> capture;  ///< SIP message bytes → control (when exporting)
  std::unique_ptr<recent_events> recent;  ///< events handed over lately (repeats coalesced)
  request_hook on_request;                ///< the verdict step (fn nullptr: none)
  message_hook on_message;                ///< messages forwarded (fn nullptr: none)
  identity_options identity;
  bool drop_unparsable_invites = false;
  sip_counters* counters = nullptr;
  unsigned index = 0;  ///< the worker's index

  /// Allocates scratch, stream and reassembly tables, buffers and the ring. TSC_HZ turns
  /// the configured times into TSC cycles. False with *error on failure.
  bool init(const sip_database& database, const sip_config& cfg, uint64_t tsc_hz,
            sip_counters& counters, std::string* error);
  sip_worker();
  ~sip_worker();
  sip_worker(const sip_worker&) = delete;
  sip_worker& operator=(const sip_worker&) = delete;
};

/// SIP inspection for the whole bridge: the database, one sip_worker and counter block per
/// worker, their rings. Built on the control thread before the workers start; lives until
/// they have stopped.
class sip_dataplane {
 public:
  /// nullptr with *error (Hyperscan, memory) on failure.
  static std::unique_ptr<sip_dataplane> create(const sip_config& cfg, unsigned workers,
                                               std::string* error);
  ~sip_dataplane();

  /// Worker W's inspection stage, for bridge::add_stage().
  stage stage_for(unsigned w);
  /// Installs the verdict step on every worker (before the workers start).
  void set_request_hook(unsigned w, request_hook h) { _workers[w]->on_request = h; }
  /// Installs a message hook on worker W (before the workers start).
  void set_message_hook(unsigned w, message_hook h) { _workers[w]->on_message = h; }

  unsigned workers() const { return static_cast<unsigned>(_workers.size()); }
  /// Worker W's event ring; the control thread is its only consumer.
  event_ring* events(unsigned w) const { return _workers[w]->ring.get(); }
  /// Worker W's SIP message capture ring (nullptr unless capture_messages).
  capture_ring* captures(unsigned w) const { return _workers[w]->capture.get(); }
  sip_worker& worker(unsigned w) { return *_workers[w]; }
  sip_counters& counters(unsigned w) { return *_counters[w]; }
  /// Sums the per-worker counters. Any thread.
  sip_stats stats() const;

 private:
  sip_dataplane() = default;
  std::unique_ptr<sip_database> _db;
  std::vector<std::unique_ptr<sip_counters>> _counters;
  std::vector<std::unique_ptr<sip_worker>> _workers;
};

}  // namespace ringbridge::dp
