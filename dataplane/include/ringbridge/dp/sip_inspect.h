// SPDX-License-Identifier: BSD-3-Clause
// Setup of SIP inspection: the Hyperscan database of SIP start lines, hint ports, and the
// per-worker state (scratch, TCP stream table, event ring). Cold path; the per-frame code
// is in dataplane/src/sip_fastpath.h.
#pragma once

#include <bitset>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ringbridge/dp/sip_event.h"

struct hs_database;
struct hs_scratch;

namespace ringbridge::dp {

/// SIP inspection settings, fixed while the bridge runs.
struct sip_config {
  bool enabled = true;
  std::vector<uint16_t> hint_ports = {5060, 5061, 10000};
  uint32_t tcp_streams = 256;     ///< followed TCP streams per worker
  uint32_t tcp_buffer = 16384;    ///< bytes buffered per stream (largest message)
  bool capture_messages = false;  ///< copy each SIP message for exports (HEP sinks)
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
  static constexpr unsigned k_extension_request = 100;
  static constexpr unsigned k_status_line = 200;

 private:
  hs_database* _db = nullptr;
};

struct tcp_stream_table;

/// One worker's SIP state. Owned by the bridge; used only by its worker lcore.
struct sip_worker {
  const sip_database* db = nullptr;
  hs_scratch* scratch = nullptr;
  std::bitset<65536> hints;
  std::unique_ptr<tcp_stream_table> streams;
  std::unique_ptr<uint8_t[]> linear;      ///< 64 KiB: payloads that span mbuf segments
  std::unique_ptr<event_ring> ring;       ///< this worker → control
  std::unique_ptr<capture_ring> capture;  ///< SIP message bytes → control (when exporting)

  /// Allocates scratch, stream table, buffers and the ring. False with *error on failure.
  bool init(const sip_database& database, const sip_config& cfg, std::string* error);
  sip_worker();
  ~sip_worker();
  sip_worker(const sip_worker&) = delete;
  sip_worker& operator=(const sip_worker&) = delete;
};

}  // namespace ringbridge::dp
