// SPDX-License-Identifier: BSD-3-Clause
// The dataplane's clock (TSC), for turning event timestamps into wall-clock time.
#pragma once

#include <cstdint>

namespace ringbridge::dp {

/// rte_rdtsc(): the clock sip_event::tsc uses. Any thread, after eal_start().
uint64_t tsc_now();
/// TSC ticks per second.
uint64_t tsc_hz();

}  // namespace ringbridge::dp
