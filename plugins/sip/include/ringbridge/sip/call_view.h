// SPDX-License-Identifier: BSD-3-Clause
// A call as the outside world sees it: the JSON object GET /api/v1/calls/{id} serves and
// every notification carries (plugin::call_event::call_json).
//
// Owns: the field names and formats of a call in JSON (docs/api.md "A call"). Pure
// functions of a call_record, any thread; touches nothing else.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "ringbridge/sip/calls.h"

namespace ringbridge::ctl {

/// Fields other features add to a call's JSON (the media plane: recording, quality, dtmf),
/// by call. Must be callable from any thread; empty = none.
using call_fields_fn = std::function<void(const call_record&, nlohmann::json&)>;

/// The call as a JSON object (strings are valid UTF-8: call_record's are), with EXTRA's
/// fields.
nlohmann::json call_to_json(const call_record& c, const call_fields_fn& extra = {});

/// The same as compact text; never throws, valid UTF-8 whatever C holds.
std::string call_json(const call_record& c, const call_fields_fn& extra = {});

}  // namespace ringbridge::ctl
