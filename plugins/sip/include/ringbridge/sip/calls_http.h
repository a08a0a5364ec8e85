// SPDX-License-Identifier: BSD-3-Clause
// The /api/v1/calls resource (call log and calls in progress), registered into the
// control core's route table at start-up.
#pragma once

#include "ringbridge/ctl/http_api.h"
#include "ringbridge/ctl/http_router.h"

namespace ringbridge::ctl {

/// GET /api/v1/calls, /api/v1/calls/active and /api/v1/calls/{id}. Handlers run on the
/// server's threads and read the call log (their own connection) and ctx.active.
void add_calls_routes(http_router& r, api_context& ctx);

}  // namespace ringbridge::ctl
