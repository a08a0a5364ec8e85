// SPDX-License-Identifier: BSD-3-Clause
// Names of the verdict fields the event carries.
#include "ringbridge/sip/sip_event.h"

#include <iterator>

#include "ringbridge/common/enum_names.h"

namespace ringbridge::dp {

namespace {
const char* const k_action[] = {"none", "allow", "block", "record", "norecord"};
const char* const k_mode[] = {"drop", "busy", "decline"};
}  // namespace

const char* filter_action_name(filter_action a) {
  const auto i = static_cast<size_t>(a);
  return i < std::size(k_action) ? k_action[i] : "?";
}
const char* block_mode_name(block_mode m) {
  const auto i = static_cast<size_t>(m);
  return i < std::size(k_mode) ? k_mode[i] : "?";
}
bool parse_filter_action(std::string_view s, filter_action* o) {
  return s != "none" && parse_enum_name(s, k_action, o);
}
bool parse_block_mode(std::string_view s, block_mode* o) {
  return parse_enum_name(s, k_mode, o);
}

}  // namespace ringbridge::dp
