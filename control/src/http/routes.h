// SPDX-License-Identifier: BSD-3-Clause
// The API's route table as one list: which resources the server serves.
#pragma once

#include "ringbridge/ctl/http_api.h"
#include "ringbridge/ctl/http_router.h"

namespace ringbridge::ctl {

/// Adds every resource's routes to R (start-up, before the server runs).
void add_api_routes(http_router& r, api_context& ctx, const http_settings& s);

}  // namespace ringbridge::ctl
