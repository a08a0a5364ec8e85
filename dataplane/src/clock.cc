// SPDX-License-Identifier: BSD-3-Clause
// TSC access for the control side (which does not include DPDK headers itself).
#include "ringbridge/dp/clock.h"

#include <rte_cycles.h>

namespace ringbridge::dp {

uint64_t tsc_now() {
  return rte_rdtsc();
}
uint64_t tsc_hz() {
  return rte_get_tsc_hz();
}

}  // namespace ringbridge::dp
