// SPDX-License-Identifier: BSD-3-Clause
// Renders bridge_stats as logfmt lines.
#include "ringbridge/ctl/stats_report.h"

#include <algorithm>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>

namespace ringbridge::ctl {

namespace {
void appendf(std::string& s, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void appendf(std::string& s, const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  int n = std::vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  if (n > 0) s.append(buf, std::min<size_t>(static_cast<size_t>(n), sizeof(buf) - 1));
}
}  // namespace

std::string format_stats(const dataplane_stats& st, double uptime_s) {
  std::string s;
  appendf(s, "stats: uptime_s=%.1f\n", uptime_s);
  for (const auto& p : st.ports) {
    // Field order is part of the format: the workers' counts, the drops, the port counters,
    // what was lost below ringbridge, the link.
    appendf(s, "stats: port=%s spec=%s", p.name.c_str(), p.spec.c_str());
    auto fields = [&](dp::port_stat_group g) {
      dp::for_each_port_stat(p, [&](const dp::port_stat_info& i, uint64_t v) {
        if (i.group == g) appendf(s, " %s=%" PRIu64, i.name, v);
      });
    };
    fields(dp::port_stat_group::traffic);
    appendf(s, " drops=%" PRIu64, p.drops_total());
    for (size_t r = 0; r < dp::k_drop_reasons; r++)
      appendf(s, " drop_%s=%" PRIu64, dp::drop_reason_name(static_cast<dp::drop_reason>(r)),
              p.drops[r]);
    for (size_t k = 0; k < dp::k_port_counters; k++)
      appendf(s, " %s=%" PRIu64, dp::port_counter_name(static_cast<dp::port_counter>(k)),
              p.counts[k]);
    fields(dp::port_stat_group::below);
    appendf(s, " link_up=%d", p.link_up ? 1 : 0);
    fields(dp::port_stat_group::link);
    appendf(s, "\n");
  }
  for (size_t w = 0; w < st.workers.size(); w++) {
    const auto& ws = st.workers[w];
    const uint64_t polls = ws.busy_polls + ws.idle_polls;
    appendf(s,
            "stats: worker=%zu lcore=%u cpu=%u rx_pkts=%" PRIu64 " tx_pkts=%" PRIu64
            " drops=%" PRIu64 " busy_polls=%" PRIu64 " idle_polls=%" PRIu64 " busy_pct=%.1f\n",
            w, ws.lcore, ws.cpu, ws.rx_pkts, ws.tx_pkts, ws.drops, ws.busy_polls, ws.idle_polls,
            polls ? 100.0 * static_cast<double>(ws.busy_polls) / static_cast<double>(polls) : 0.0);
  }
  appendf(s, "stats: sip=all");
  for (size_t k = 0; k < dp::k_sip_counters; k++)
    appendf(s, " %s=%" PRIu64, dp::sip_counter_name(static_cast<dp::sip_counter>(k)), st.sip.c[k]);
  for (size_t m = 1; m < dp::k_sip_methods; m++)
    appendf(s, " requests_%s=%" PRIu64, dp::sip::method_name(static_cast<dp::sip::method>(m)),
            st.sip.requests[m]);
  for (size_t c = 0; c < 6; c++)
    appendf(s, " responses_%zuxx=%" PRIu64, c + 1, st.sip.responses[c]);
  for (size_t e = 2; e < dp::k_sip_parse_errors; e++)
    appendf(s, " parse_%s=%" PRIu64,
            dp::sip::parse_status_name(static_cast<dp::sip::parse_status>(e)),
            st.sip.parse_errors[e]);
  for (size_t r = 0; r < dp::k_unscreened_reasons; r++)
    appendf(s, " unscreened_%s=%" PRIu64,
            dp::unscreened_reason_name(static_cast<dp::unscreened_reason>(r)),
            st.sip.unscreened[r]);
  appendf(s, "\n");
  appendf(s, "stats: mbufs_in_use=%" PRIu64 " mbufs_total=%" PRIu64 "\n", st.mbufs_in_use,
          st.mbufs_total);
  return s;
}

}  // namespace ringbridge::ctl
