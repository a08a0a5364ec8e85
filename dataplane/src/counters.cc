// SPDX-License-Identifier: BSD-3-Clause
// Names and help texts of the dataplane's counters, from their X-macros (counters.h).
#include "ringbridge/dp/counters.h"

namespace ringbridge::dp {

RB_DP_DEFINE_NAME_AND_HELP(drop_reason, RB_DP_FOREACH_DROP, drop_reason_name, drop_reason_help)
RB_DP_DEFINE_NAME_AND_HELP(port_counter, RB_DP_FOREACH_PORT_COUNTER, port_counter_name,
                           port_counter_help)

}  // namespace ringbridge::dp
