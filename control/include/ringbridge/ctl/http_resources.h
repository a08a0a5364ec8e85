// SPDX-License-Identifier: BSD-3-Clause
// The control core's own REST resources: /metrics, /api/v1/status, /api/v1/phonebook.
// Each add_*_routes() is called once at start-up; the handlers run on civetweb's threads
// and read only what api_context offers.
#pragma once

#include <string>
#include <string_view>

#include "ringbridge/ctl/http_api.h"
#include "ringbridge/ctl/http_router.h"

namespace ringbridge::ctl {

/// GET /metrics (Prometheus text): the core counters and ctx.metric_sources.
void add_metrics_routes(http_router& r, api_context& ctx, http_auth auth);

/// GET /api/v1/status: version, ports, SIP counters, calls, storage, notify sinks.
void add_status_routes(http_router& r, api_context& ctx, http_auth auth);

/// GET /api/v1/phonebook and GET/PUT/DELETE /api/v1/phonebook/{number}.
void add_phonebook_routes(http_router& r, api_context& ctx);

/// The name in a phonebook PUT body ({"name": "Mom"}). False with *error (the 400 answer's
/// text) when BODY is not such an object, or the name is empty, longer than 64 bytes or
/// holds control characters. Pure; any thread (split out so it can be fuzzed).
bool parse_phonebook_body(std::string_view body, std::string* name, std::string* error);

}  // namespace ringbridge::ctl
