// SPDX-License-Identifier: BSD-3-Clause
// One snapshot of the dataplane's counters for the control side's reports (stats lines,
// /metrics, /api/v1/status): the core's (ports, workers, mbufs) and SIP inspection's.
// Any thread.
#pragma once

#include "ringbridge/dp/bridge.h"
#include "ringbridge/sip/sip_setup.h"

namespace ringbridge::ctl {

struct dataplane_stats : dp::bridge_stats {
  dp::sip_stats sip;  ///< zeros when SIP inspection is off
};

/// BR's counters and, when SIP inspection runs (SIP not nullptr), its counters.
inline dataplane_stats collect_stats(const dp::bridge& br, const dp::sip_dataplane* sip) {
  dataplane_stats s;
  static_cast<dp::bridge_stats&>(s) = br.stats();
  if (sip != nullptr) s.sip = sip->stats();
  return s;
}

}  // namespace ringbridge::ctl
