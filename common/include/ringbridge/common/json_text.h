// SPDX-License-Identifier: BSD-3-Clause
// The one way ringbridge turns a JSON value into text: never throws on a string that is
// not UTF-8 (the bytes are replaced with U+FFFD), so a caller's display name can neither
// abort a thread nor make an API answer 500. Strings from the wire are sanitized where
// they are first built (utf8_sanitize); this is the second line of defence.
//
// Header-only (nlohmann/json is header-only too); any thread.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace ringbridge {

/// Compact JSON text of J, valid UTF-8 whatever J's strings hold.
inline std::string json_text(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace ringbridge
