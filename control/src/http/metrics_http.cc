// SPDX-License-Identifier: BSD-3-Clause
// The /metrics resource: Prometheus text of the core counters and every feature's
// metric source.
//
// Owns: the route and its content type. May touch: bridge::stats(), the control counters
// and api_context::metric_sources (read only); rendering is render_metrics()'s.
#include <chrono>
#include <vector>

#include "ringbridge/ctl/http_resources.h"

namespace ringbridge::ctl {

void add_metrics_routes(http_router& r, api_context& ctx, http_auth auth) {
  r.add(
      {"GET", "/metrics", auth, [&ctx](const http_request&) {
         const double up =
             std::chrono::duration<double>(std::chrono::steady_clock::now() - ctx.started).count();
         std::vector<const prometheus::Collectable*> sources;
         for (const auto& s : ctx.metric_sources) sources.push_back(s.get());
         return http_response{200, render_metrics(collect_stats(*ctx.bridge, ctx.sip), *ctx.counters, up, sources),
                              "text/plain; version=0.0.4; charset=utf-8", ""};
       }});
}

}  // namespace ringbridge::ctl
