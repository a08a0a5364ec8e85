// SPDX-License-Identifier: BSD-3-Clause
// Internal: ASCII helpers shared by the dataplane's text code (cold and hot paths).
#pragma once

#include <cctype>
#include <string_view>

namespace ringbridge::dp {

/// Case-insensitive ASCII equality (SIP header names, parameters, tokens).
inline bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

}  // namespace ringbridge::dp
