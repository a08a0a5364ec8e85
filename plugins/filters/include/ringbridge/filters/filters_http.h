// SPDX-License-Identifier: BSD-3-Clause
// The /api/v1/filters resource and "block this caller" (POST /api/v1/calls/{id}/block):
// the HTTP edge of filter_manager, registered into the control core's route table.
#pragma once

#include <prometheus/collectable.h>
#include <memory>

#include "ringbridge/ctl/http_api.h"
#include "ringbridge/ctl/http_router.h"

namespace ringbridge::ctl {

class filter_manager;

/// GET/POST /api/v1/filters, GET/PUT/DELETE /api/v1/filters/{id},
/// POST /api/v1/filters/import, POST /api/v1/calls/{id}/block. With ctx.filters null
/// (filtering off) they answer 503 saying so.
void add_filters_routes(http_router& r, api_context& ctx);

/// The filter manager's figures for /metrics (rules, reloads, reload failures, the last
/// reload's time), read at scrape time on the server's threads. FM outlives it.
std::unique_ptr<prometheus::Collectable> filter_metrics(const filter_manager& fm);

}  // namespace ringbridge::ctl
