// SPDX-License-Identifier: BSD-3-Clause
// Assembles the API from its resources: the core ones (status, metrics) and
// each feature's (calls from plugins/sip, filters from plugins/filters).
//
// Owns: the list of resources and which of them [http] public_* opens. May touch: each
// resource's add_*_routes(); nothing else.
#include "routes.h"

#include "ringbridge/ctl/http_resources.h"
#include "ringbridge/filters/filters_http.h"
#include "ringbridge/sip/calls_http.h"

namespace ringbridge::ctl {

void add_api_routes(http_router& r, api_context& ctx, const http_settings& s) {
  add_metrics_routes(r, ctx, s.public_metrics ? http_auth::open : http_auth::token);
  add_status_routes(r, ctx, s.public_status ? http_auth::open : http_auth::token);
  add_calls_routes(r, ctx);
  add_phonebook_routes(r, ctx);
  add_filters_routes(r, ctx);
  for (const auto& add : ctx.feature_routes) add(r);
}

}  // namespace ringbridge::ctl
