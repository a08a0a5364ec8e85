// SPDX-License-Identifier: BSD-3-Clause
// SIP inspection set-up: the Hyperscan database of start lines and per-worker state.
#include "ringbridge/sip/sip_setup.h"

#include <hs/hs.h>

#include <string>
#include <vector>

#include "ip_reasm.h"
#include "sip_block.h"
#include "tcp_stream.h"

namespace ringbridge::dp {

std::unique_ptr<sip_database> sip_database::compile(std::string* error) {
  // Anchored at the start of the payload; only the start line is scanned. As lenient as
  // the parser (sip_parser.h): runs of spaces or tabs, the version in any case.
  static const char k_uri_version[] = "[ \\t]+[^ \\t\\r\\n]+[ \\t]+(?i:SIP/2\\.0)[ \\t]*\\r?\\n";
  std::vector<std::string> exprs;
  std::vector<unsigned> ids;
  const char* known[] = {
#define RB_SIP_METHOD_TEXT(id, text) text,
      RB_SIP_FOREACH_METHOD(RB_SIP_METHOD_TEXT)
#undef RB_SIP_METHOD_TEXT
  };
  unsigned id = 1;
  for (const char* m : known) {
    exprs.push_back(std::string("^") + m + k_uri_version);
    ids.push_back(id++);
  }
  exprs.emplace_back(std::string("^[A-Za-z0-9.!%*_+`'~-]{1,32}") + k_uri_version);
  ids.push_back(k_extension_request);
  exprs.emplace_back("^(?i:SIP/2\\.0)[ \\t]+[1-6][0-9][0-9]([ \\t][^\\r\\n]*)?\\r?\\n");
  ids.push_back(k_status_line);

  std::vector<const char*> ptrs;
  std::vector<unsigned> flags(exprs.size(), HS_FLAG_SINGLEMATCH);
  for (const auto& e : exprs) ptrs.push_back(e.c_str());
  hs_database_t* db = nullptr;
  hs_compile_error_t* cerr = nullptr;
  if (hs_compile_multi(ptrs.data(), flags.data(), ids.data(), static_cast<unsigned>(exprs.size()),
                       HS_MODE_BLOCK, nullptr, &db, &cerr) != HS_SUCCESS) {
    *error = std::string("Hyperscan could not compile the SIP start-line patterns: ") +
             (cerr ? cerr->message : "unknown error") +
             (cerr && cerr->expression >= 0 ? " (pattern " + exprs[cerr->expression] + ")" : "");
    hs_free_compile_error(cerr);
    return nullptr;
  }
  std::unique_ptr<sip_database> out(new sip_database());
  out->_db = db;
  return out;
}

sip_database::~sip_database() {
  hs_free_database(_db);
}

bool sip_worker::init(const sip_database& database, const sip_config& cfg, uint64_t tsc_hz,
                      sip_counters& counters, std::string* error) {
  db = &database;
  if (!keyed_hash_init()) {
    *error = "libsodium could not initialise (no entropy source for the hash keys)";
    return false;
  }
  if (hs_alloc_scratch(database.db(), &scratch) != HS_SUCCESS) {
    *error = "Hyperscan could not allocate scratch space";
    return false;
  }
  for (uint16_t p : cfg.hint_ports) hints.set(p);
  streams = std::make_unique<tcp_stream_table>(cfg.tcp_streams, cfg.tcp_buffer,
                                               tsc_hz * cfg.tcp_idle_s, counters);
  reasm = std::make_unique<reasm_table>(cfg.reassembly_slots, cfg.reassembly_max_bytes,
                                        tsc_hz * cfg.reassembly_timeout_s, counters);
  if (cfg.reply_rate != 0) {
    replies.period = tsc_hz / cfg.reply_rate;
    replies.burst = cfg.reply_burst == 0 ? 1 : cfg.reply_burst;
  }
  linear.reset(new uint8_t[k_linear_bytes]);
  ring = std::make_unique<event_ring>();
  if (cfg.capture_messages) capture = std::make_unique<capture_ring>();
  drop_unparsable_invites = cfg.drop_unparsable_invites;
  return true;
}

void sip_worker::enable_filters(const filter_slot* slot, rte_mempool* mp, uint64_t ttl_tsc) {
  filters = slot;
  pool = mp;
  blocked = std::make_unique<blocked_table>();
  blocked->ttl_tsc = ttl_tsc;
  reply_buf.reset(new char[k_reply_buf]);
}

sip_worker::sip_worker() = default;

sip_worker::~sip_worker() {
  if (scratch != nullptr) hs_free_scratch(scratch);
}

}  // namespace ringbridge::dp
