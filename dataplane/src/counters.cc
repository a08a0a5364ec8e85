// SPDX-License-Identifier: BSD-3-Clause
// Names and help texts of the dataplane's counters, from their X-macros (counters.h).
#include "ringbridge/dp/counters.h"

namespace ringbridge::dp {

// clang-format off
#define RB_DP_CASE_NAME(name, help) case decltype(v)::name: return #name;
#define RB_DP_CASE_HELP(name, help) case decltype(v)::name: return help;

// NAME_FN(v) and HELP_FN(v) for the enum TYPE listed by FOREACH: one switch each.
#define RB_DP_NAME_AND_HELP(type, FOREACH, name_fn, help_fn) \
  const char* name_fn(type v) {                              \
    switch (v) { FOREACH(RB_DP_CASE_NAME) }                  \
    return "?";                                              \
  }                                                          \
  const char* help_fn(type v) {                              \
    switch (v) { FOREACH(RB_DP_CASE_HELP) }                  \
    return "?";                                              \
  }
// clang-format on

RB_DP_NAME_AND_HELP(drop_reason, RB_DP_FOREACH_DROP, drop_reason_name, drop_reason_help)
RB_DP_NAME_AND_HELP(port_counter, RB_DP_FOREACH_PORT_COUNTER, port_counter_name, port_counter_help)
RB_DP_NAME_AND_HELP(sip_counter, RB_DP_FOREACH_SIP_COUNTER, sip_counter_name, sip_counter_help)
RB_DP_NAME_AND_HELP(unscreened_reason, RB_DP_FOREACH_UNSCREENED, unscreened_reason_name,
                    unscreened_reason_help)

#undef RB_DP_NAME_AND_HELP
#undef RB_DP_CASE_HELP
#undef RB_DP_CASE_NAME

}  // namespace ringbridge::dp
