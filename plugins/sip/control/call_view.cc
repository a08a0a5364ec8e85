// SPDX-License-Identifier: BSD-3-Clause
// The call → JSON view shared by the REST calls resource and the notification path.
#include "ringbridge/sip/call_view.h"

#include "ringbridge/common/json_text.h"

namespace ringbridge::ctl {

using json = nlohmann::json;

json call_to_json(const call_record& c, const call_fields_fn& extra) {
  json j{{"id", c.id},
              {"call_id", c.call_id},
              {"direction", direction_name(c.direction)},
              {"from_number", c.from_number},
              {"from_name", c.from_name},
              {"caller_name", c.caller_name},
              {"to_number", c.to_number},
              {"state", call_state_name(c.state)},
              {"status_code", c.status_code},
              {"started_at", json_time(c.started_at)},
              {"answered_at", json_time(c.answered_at)},
              {"ended_at", json_time(c.ended_at)},
              {"duration_s", c.duration_s()},
              {"rule_id", c.rule_id != 0 ? json(c.rule_id) : json(nullptr)},
              {"block_mode", c.block_mode.empty() ? json(nullptr) : json(c.block_mode)},
              {"end_reason", c.end_reason.empty() ? json(nullptr) : json(c.end_reason)}};
  if (extra) extra(c, j);
  return j;
}

std::string call_json(const call_record& c, const call_fields_fn& extra) {
  return json_text(call_to_json(c, extra));
}

}  // namespace ringbridge::ctl
