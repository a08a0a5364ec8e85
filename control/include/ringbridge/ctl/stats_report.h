// SPDX-License-Identifier: BSD-3-Clause
// Text rendering of the dataplane counters (SIGUSR1, periodic and exit reports).
#pragma once

#include <string>

#include "ringbridge/ctl/dataplane_stats.h"

namespace ringbridge::ctl {

/// One logfmt line per port, per worker and for the mempool, each starting "stats: ",
/// e.g. "stats: port=a spec=xdp:eth0 rx_pkts=10 ... drops=0 drop_oversize=0 ...".
/// Readable by people and by scripts (key=value, values without spaces).
std::string format_stats(const dataplane_stats& st, double uptime_s);

}  // namespace ringbridge::ctl
