// SPDX-License-Identifier: BSD-3-Clause
// What a verdict step (the filters feature) may report about a call in its sip_event:
// the action of the rule that matched and, for block, how the call was refused. Owned by
// the sip feature because the event is: the call log and notifications read these without
// depending on the filters.
#pragma once

#include <cstdint>
#include <string_view>

namespace ringbridge::dp {

enum class filter_action : uint8_t { none = 0, allow, block, record, norecord };
enum class block_mode : uint8_t { drop, busy, decline };

/// "none", "allow", "block", "record", "norecord".
const char* filter_action_name(filter_action a);
/// "drop", "busy", "decline".
const char* block_mode_name(block_mode m);
/// From a name (not "none"); false when S is not one.
bool parse_filter_action(std::string_view s, filter_action* out);
bool parse_block_mode(std::string_view s, block_mode* out);

}  // namespace ringbridge::dp
