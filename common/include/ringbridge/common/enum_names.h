// SPDX-License-Identifier: BSD-3-Clause
// Enums named by a table of strings indexed by the enum's value (config and REST words such
// as "block", "busy", "prefix"). Pure; any thread.
#pragma once

#include <cstddef>
#include <string_view>

namespace ringbridge {

/// The enum value whose name in NAMES is S; false (OUT untouched) when S is none of them.
template <typename E, size_t N>
bool parse_enum_name(std::string_view s, const char* const (&names)[N], E* out) {
  for (size_t i = 0; i < N; i++)
    if (s == names[i]) {
      *out = static_cast<E>(i);
      return true;
    }
  return false;
}

}  // namespace ringbridge
