// SPDX-License-Identifier: BSD-3-Clause
// The core REST resources: /metrics, /api/v1/status.
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

}  // namespace ringbridge::ctl
