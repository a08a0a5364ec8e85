// SPDX-License-Identifier: BSD-3-Clause
// Setup of SIP inspection: the Hyperscan database of SIP start lines, hint ports, and the
// per-worker state (scratch, TCP stream table, event ring). Cold path; the per-frame code
// is in plugins/sip/dataplane/sip_stage.h.
#pragma once

#include <bitset>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ringbridge/dp/counters.h"
#include "ringbridge/sip/sip_event.h"

struct hs_database;
struct rte_mempool;
struct hs_scratch;

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
  uint32_t reply_rate = 50;               ///< 486/603/200 replies a second, per worker (0: none)
  uint32_t reply_burst = 100;             ///< replies that may go out at once
  bool capture_messages = false;          ///< copy each SIP message for exports (HEP sinks)
  bool filters = false;                   ///< decide on INVITEs with the published filter rules
  bool drop_unparsable_invites = false;   ///< an INVITE that cannot be parsed: drop (else forward)
  uint32_t blocked_ttl_s = 32;            ///< how long a blocked Call-ID is remembered
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
struct blocked_table;
class reasm_table;
class filter_slot;
inline constexpr size_t k_reply_buf = 1400;
inline constexpr size_t k_linear_bytes = 65536;  ///< sip_worker::linear

/// A token bucket (GCRA form): on average one token per PERIOD cycles, at most BURST in a
/// row. Worker-local, no atomics. period 0 = never a token.
struct token_bucket {
  uint64_t period = 0;
  uint64_t burst = 1;
  uint64_t tat = 0;  ///< theoretical arrival time of the next token

  bool take(uint64_t now) {
    if (period == 0) return false;
    const uint64_t t = tat > now ? tat : now;
    if (t - now > (burst - 1) * period) return false;
    tat = t + period;
    return true;
  }
};

/// One worker's SIP state. Owned by the bridge; used only by its worker lcore.
struct sip_worker {
  const sip_database* db = nullptr;
  hs_scratch* scratch = nullptr;
  std::bitset<65536> hints;
  std::unique_ptr<tcp_stream_table> streams;
  std::unique_ptr<reasm_table> reasm;      ///< fragmented UDP datagrams being put together
  std::unique_ptr<uint8_t[]> linear;       ///< 64 KiB: payloads that span mbuf segments
  std::unique_ptr<event_ring> ring;        ///< this worker → control
  std::unique_ptr<capture_ring> capture;   ///< SIP message bytes → control (when exporting)
  const filter_slot* filters = nullptr;    ///< the published rules (nullptr: no filtering)
  std::unique_ptr<blocked_table> blocked;  ///< Call-IDs this worker blocked
  std::unique_ptr<char[]> reply_buf;       ///< k_reply_buf bytes: a response being built
  token_bucket replies;                    ///< how many responses the bridge may send
  rte_mempool* pool = nullptr;             ///< where response frames come from
  bool drop_unparsable_invites = false;

  /// Allocates scratch, stream and reassembly tables, buffers and the ring. TSC_HZ turns
  /// the configured times into TSC cycles. False with *error on failure.
  bool init(const sip_database& database, const sip_config& cfg, uint64_t tsc_hz,
            sip_counters& counters, std::string* error);
  /// Turns on the filter step (before the workers start).
  void enable_filters(const filter_slot* slot, rte_mempool* mp, uint64_t ttl_tsc);
  sip_worker();
  ~sip_worker();
  sip_worker(const sip_worker&) = delete;
  sip_worker& operator=(const sip_worker&) = delete;
};

}  // namespace ringbridge::dp
