// SPDX-License-Identifier: BSD-3-Clause
// The /api/v1/status resource: one JSON snapshot of the appliance's health.
//
// Owns: the status object's fields (docs/api.md). May touch, read only: bridge::stats(),
// the control counters' storage figures, the active calls, the call log's row count, the
// notify hub's per-sink figures.
#include <chrono>
#include <nlohmann/json.hpp>

#include "ringbridge/ctl/http_resources.h"
#include "ringbridge/ctl/store.h"
#include "ringbridge/notify/hub.h"
#include "ringbridge/sip/call_store.h"
#include "ringbridge_build_info.h"
#include "ringbridge_git_rev.h"

namespace ringbridge::ctl {

using json = nlohmann::json;

namespace {

json ports_json(const dp::bridge_stats& st) {
  json ports = json::object();
  for (const auto& p : st.ports) {
    json drops = json::object();
    for (size_t r = 0; r < dp::k_drop_reasons; r++)
      drops[dp::drop_reason_name(static_cast<dp::drop_reason>(r))] = p.drops[r];
    json frames = json::object();
    for (size_t k = 0; k < dp::k_port_counters; k++)
      frames[dp::port_counter_name(static_cast<dp::port_counter>(k))] = p.counts[k];
    json port = {{"spec", p.spec},
                 {"drops", drops},
                 {"frames", frames},
                 {"complete_checksums", p.complete_checksums},
                 {"link_up", p.link_up}};
    // Every counter of RB_DP_FOREACH_PORT_STAT, by its field name.
    dp::for_each_port_stat(p, [&](const dp::port_stat_info& i, uint64_t v) { port[i.name] = v; });
    ports[p.name] = std::move(port);
  }
  return ports;
}

json sip_json(const dataplane_stats& st) {
  json sip = json::object();
  for (size_t k = 0; k < dp::k_sip_counters; k++)
    sip[dp::sip_counter_name(static_cast<dp::sip_counter>(k))] = st.sip.c[k];
  json unscreened = json::object();
  for (size_t r = 0; r < dp::k_unscreened_reasons; r++)
    unscreened[dp::unscreened_reason_name(static_cast<dp::unscreened_reason>(r))] =
        st.sip.unscreened[r];
  sip["unscreened"] = unscreened;
  return sip;
}

json storage_json(const control_counters* cc, store* s) {
  if (cc == nullptr) return json::object();
  const storage_stats& st = cc->storage;
  const bool degraded = st.degraded.load();
  return json{{"state", degraded ? "degraded" : "ok"},
              {"pending", st.pending.load()},
              {"pending_dropped", st.pending_dropped.load()},
              {"errors", st.errors_total()},
              {"last_error", st.last_error().empty() ? json(nullptr) : json(st.last_error())},
              {"pruned_calls", st.pruned_calls.load()},
              {"pruned_phonebook", st.pruned_phonebook.load()},
              {"interrupted_calls_closed", st.interrupted.load()},
              {"journal_mode", s ? json(s->journal_mode()) : json(nullptr)}};
}

json notify_json(const plugin::hub* h) {
  json out = json::object();
  if (h == nullptr) return out;
  for (const auto& s : h->stats())
    out[s.name] = {{"type", s.type},
                   {"delivered", s.delivered},
                   {"failed", s.failed},
                   {"dropped", s.dropped},
                   {"queued", s.queued}};
  return out;
}

}  // namespace

void add_status_routes(http_router& r, api_context& ctx, http_auth auth) {
  r.add({"GET", "/api/v1/status", auth, [&ctx](const http_request&) {
           const dataplane_stats st = collect_stats(*ctx.bridge, ctx.sip);
           const size_t active = ctx.active.size();
           store* s = ctx.db();
           const uint64_t logged = s ? call_store(*s).call_count() : 0;
           return json_response(
               200, json{{"version", RINGBRIDGE_VERSION},
                         {"git", RINGBRIDGE_GIT_REV},
                         {"uptime_s", std::chrono::duration<double>(
                                          std::chrono::steady_clock::now() - ctx.started)
                                          .count()},
                         {"ports", ports_json(st)},
                         {"workers", st.workers.size()},
                         {"sip", sip_json(st)},
                         {"calls", {{"active", active}, {"logged", logged}}},
                         {"storage", storage_json(ctx.counters, s)},
                         {"notify", notify_json(ctx.notify)},
                         {"state_dir", ctx.state_dir}});
         }});
}

}  // namespace ringbridge::ctl
