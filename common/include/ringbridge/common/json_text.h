// SPDX-License-Identifier: BSD-3-Clause
// The one way ringbridge turns a JSON value into text: never throws on a string that is
// not UTF-8 (the bytes are replaced with U+FFFD), so a caller's display name can neither
// abort a thread nor make an API answer 500. Strings from the wire are sanitized where
// they are first built (utf8_sanitize); this is the second line of defence.
//
// Header-only (nlohmann/json is header-only too); any thread.
#pragma once

#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <string>

namespace ringbridge {

/// Compact JSON text of J, valid UTF-8 whatever J's strings hold.
inline std::string json_text(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

/// Unix time T as the API writes times: UTC ISO 8601 with milliseconds
/// ("2026-11-25T19:30:01.123Z"); null when T is not set (≤ 0).
inline nlohmann::json json_time(double t) {
  if (t <= 0) return nullptr;
  const auto secs = static_cast<time_t>(t);
  const int ms = static_cast<int>((t - static_cast<double>(secs)) * 1000);
  tm utc{};
  gmtime_r(&secs, &utc);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, ms);
  return buf;
}

}  // namespace ringbridge
