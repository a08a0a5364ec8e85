// SPDX-License-Identifier: BSD-3-Clause
// [notify.webhook]: HTTP POST of each call event as JSON (event_json() in sink.h) to every
// configured URL (libcurl), with a timeout, and retries with exponential backoff on network
// errors, 5xx and 429.
#pragma once

#include <string>

#include "ringbridge/notify/sink.h"

namespace ringbridge::plugin::webhook {

/// Whether an HTTP status (0 = no answer) is worth another try.
bool retryable(long status);

}  // namespace ringbridge::plugin::webhook
