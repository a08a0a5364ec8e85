// SPDX-License-Identifier: BSD-3-Clause
// Who is calling: the caller identity of an INVITE, computed once in the worker (from
// P-Asserted-Identity, Remote-Party-ID or From, in the configured order) with one
// normaliser, carried in the call event, and used alike by the filters, the call log,
// notifications and the REST API.
//
// Owned by the sip feature; the filters feature reads it (its rules match on it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ringbridge/sip/sip_parser.h"

namespace ringbridge::dp {

/// Where the caller's identity comes from, in order of preference.
enum class identity_source : uint8_t { pai, rpid, from };

/// How numbers are brought to one form before matching (rules' patterns too):
/// %XX escapes decoded, visual separators removed, an international prefix ("00", "011")
/// turned into "+", and, with a country code, national numbers made international
/// ("0301234567" → "+49301234567" with country_code "49", trunk_prefix "0").
struct number_format {
  std::vector<std::string> intl_prefixes = {"00"};
  std::string country_code;         ///< empty: national numbers stay as they are
  std::string trunk_prefix;         ///< stripped from national numbers before the country code
  uint8_t min_national_digits = 7;  ///< shorter numbers (extensions) are left alone
};

/// Writes the normalised form of RAW into OUT (at most CAP bytes); returns its length.
/// READABLE (optional; in RAW's buffer, at or after its end): memory up to there may be read,
/// so RAW is checked 16 bytes at a time (the worker passes its message's end).
size_t normalize_number(std::string_view raw, const number_format& f, char* out, size_t cap,
                        const char* readable = nullptr);

/// The caller of an INVITE, as the filters match it and the call log, notifications and
/// the API show it. Plain bytes (it travels in sip_event).
struct caller_id {
  char number[64];
  uint8_t number_len = 0;
  char name[96];  ///< display name, unescaped, whitespace (folding) folded
  uint8_t name_len = 0;
  bool anonymous = false;  ///< no usable number, an anonymous user, or Privacy: id
  std::string_view number_view() const { return {number, number_len}; }
  std::string_view name_view() const { return {name, name_len}; }
};

/// Picks the identity from M by ORDER and normalises it. M may have been parsed lazily
/// (sip::parse_fresh(..., lazy)): the headers are read (sip::settle()) in ORDER until one
/// gives the number and one the display name; the rest stay unread. M's views lie in the
/// buffer it was parsed from, which is readable up to M.limit (the number and name are read
/// 16 bytes at a time within it).
caller_id identify_caller(sip::message& m, const identity_source* order, size_t n,
                          const number_format& f);

/// The display name RAW as a person reads it: quotes and \\-escapes removed, whitespace
/// runs (folding) as one space, control characters dropped, cut to CAP bytes on a UTF-8
/// character boundary. Into OUT; returns the length. READABLE: as normalize_number()'s.
size_t clean_name(std::string_view raw, char* out, size_t cap, const char* readable = nullptr);

/// The identity options: header order and number format ([sip] identity, [sip.numbers]).
struct identity_options {
  std::vector<identity_source> order = {identity_source::pai, identity_source::rpid,
                                        identity_source::from};
  number_format numbers;
};

}  // namespace ringbridge::dp
