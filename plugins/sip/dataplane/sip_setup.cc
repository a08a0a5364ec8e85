// SPDX-License-Identifier: BSD-3-Clause
// SIP inspection set-up: the Hyperscan database of start lines, per-worker state, and the
// stage the bridge runs on every burst.
#include "ringbridge/sip/sip_setup.h"

#include <hs/hs.h>

#include <string>
#include <vector>

#include <rte_cycles.h>

#include "ip_reasm.h"
#include "sip_stage.h"
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
  linear.reset(new uint8_t[k_linear_bytes]);
  ring = std::make_unique<event_ring>();
  recent = std::make_unique<recent_events>();
  recent->window_tsc = static_cast<uint64_t>(static_cast<double>(tsc_hz) * k_repeat_window_s);
  if (cfg.capture_messages) capture = std::make_unique<capture_ring>();
  drop_unparsable_invites = cfg.drop_unparsable_invites;
  identity = cfg.identity;
  this->counters = &counters;
  return true;
}

sip_worker::sip_worker() = default;

sip_worker::~sip_worker() {
  if (scratch != nullptr) hs_free_scratch(scratch);
}

// The stage's entry, by a name of its own: perf/rbcallgrind counts inspection per frame
// from it (--toggle-collect).
void sip_stage_run(void* ctx, frame_burst& b);
void sip_stage_run(void* ctx, frame_burst& b) {
  // A burst without a frame that can carry IP (or whose IP frames an earlier stage took)
  // costs this test, not the visit's call.
  if ((b.pass & b.ip) == 0) return;
  sip_stage_visit(*static_cast<sip_worker*>(ctx), b);
}

namespace {
void idle_stage(void* ctx, uint64_t tsc) {
  // A few TCP stream slots checked for idleness, so the table empties (and bulk TCP
  // skips the lookup again) without a timer.
  sip_worker& sw = *static_cast<sip_worker*>(ctx);
  if (sw.streams->in_use != 0) sw.streams->sweep(tsc, 4);
}
}  // namespace

std::unique_ptr<sip_dataplane> sip_dataplane::create(const sip_config& cfg, unsigned workers,
                                                     std::string* error) {
  std::unique_ptr<sip_dataplane> d(new sip_dataplane());
  d->_db = sip_database::compile(error);
  if (!d->_db) return nullptr;
  for (unsigned w = 0; w < workers; w++) {
    d->_counters.push_back(std::make_unique<sip_counters>());
    auto sw = std::make_unique<sip_worker>();
    sw->index = w;
    if (!sw->init(*d->_db, cfg, rte_get_tsc_hz(), *d->_counters[w], error)) return nullptr;
    d->_workers.push_back(std::move(sw));
  }
  return d;
}

sip_dataplane::~sip_dataplane() = default;

stage sip_dataplane::stage_for(unsigned w) {
  return {"sip", sip_stage_run, idle_stage, _workers[w].get()};
}

void sip_stats::add(const sip_counters& w) {
  for (size_t k = 0; k < k_sip_counters; k++) c[k] += w.c[k].get();
  for (size_t k = 0; k < k_sip_methods; k++) requests[k] += w.requests[k].get();
  for (size_t k = 0; k < 6; k++) responses[k] += w.responses[k].get();
  for (size_t k = 0; k < k_sip_parse_errors; k++) parse_errors[k] += w.parse[k].get();
  for (size_t k = 0; k < k_unscreened_reasons; k++) unscreened[k] += w.unscreened[k].get();
}

sip_stats sip_dataplane::stats() const {
  sip_stats st;
  for (const auto& c : _counters) st.add(*c);
  return st;
}

RB_DP_DEFINE_NAME_AND_HELP(sip_counter, RB_DP_FOREACH_SIP_COUNTER, sip_counter_name,
                           sip_counter_help)
RB_DP_DEFINE_NAME_AND_HELP(unscreened_reason, RB_DP_FOREACH_UNSCREENED, unscreened_reason_name,
                           unscreened_reason_help)

}  // namespace ringbridge::dp
