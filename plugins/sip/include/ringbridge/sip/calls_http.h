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
/// /api/v1/phonebook and /api/v1/phonebook/{number}: the names the user gives to numbers.
void add_phonebook_routes(http_router& r, api_context& ctx);

/// The name in a phonebook PUT body ({"name": "Mom"}). False with *error (the 400 answer's
/// text) when BODY is not such an object, or the name is empty, longer than 64 bytes or
/// holds control characters. Pure; any thread (split out so it can be fuzzed).
bool parse_phonebook_body(std::string_view body, std::string* name, std::string* error);

}  // namespace ringbridge::ctl
