// SPDX-License-Identifier: BSD-3-Clause
// UTF-8 for text that leaves the process: validation, repair, and cutting on code-point
// boundaries. Bytes from the wire (display names, numbers with %XX escapes, Call-IDs) are
// not trusted to be UTF-8; everything ringbridge writes out (JSON, logs, MQTT, GNTP, HEP
// strings) goes through utf8_sanitize() or is cut with utf8_cut().
//
// Pure functions, any thread, no allocation except utf8_sanitize()'s result. Hot-path
// safe: utf8_cut() looks at no more than 4 bytes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ringbridge {

/// The largest length <= MAX at which S can be cut without splitting a multi-byte
/// sequence (judged from lead/continuation bytes only: an invalid S stays invalid, but
/// a valid S stays valid). MAX >= S.size() returns S.size().
size_t utf8_cut(std::string_view s, size_t max);

/// The length of S without a multi-byte sequence cut off at its end (for text that was cut
/// to a size elsewhere). Looks at no more than the last 4 bytes.
size_t utf8_whole(std::string_view s);

/// Is S well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, <= U+10FFFF)?
bool utf8_valid(std::string_view s);

/// S with every ill-formed subsequence replaced by U+FFFD (the "maximal subpart"
/// practice of Unicode §3.9). Valid input comes back unchanged.
std::string utf8_sanitize(std::string_view s);

/// In place; returns whether anything was replaced.
bool utf8_sanitize_inplace(std::string* s);

}  // namespace ringbridge
