// SPDX-License-Identifier: BSD-3-Clause
// Internal: ASCII helpers shared by the dataplane's text code (cold and hot paths).
#pragma once

#include <string_view>

namespace ringbridge::dp {

/// C with A-Z as a-z (what std::tolower does in the C locale, ringbridge's, without a call).
inline char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
}

/// Case-insensitive ASCII equality (SIP header names, parameters, tokens).
inline bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

}  // namespace ringbridge::dp
