// SPDX-License-Identifier: BSD-3-Clause
// The port counters declared once (RB_DP_FOREACH_PORT_STAT) come out of the stats line and
// /metrics under the names scripts, dashboards and docs/design/counters.md use, in order.
#include <gtest/gtest.h>

#include <set>
#include <sstream>
#include <string>

#include "ringbridge/ctl/metrics.h"
#include "ringbridge/ctl/stats_report.h"
#include "ringbridge/dp/bridge.h"

namespace ringbridge::ctl {
namespace {

// Every counter of both ports set to a different value, in declaration order.
dataplane_stats distinct_stats() {
  dataplane_stats st;
  uint64_t v = 1;
  for (int s = 0; s < 2; s++) {
    dp::port_stats& p = st.ports[s];
    p.name = s == 0 ? "a" : "b";
    p.spec = s == 0 ? "xdp:in0" : "xdp:out0";
    p.rx_pkts = v++;
    p.rx_bytes = v++;
    p.tx_pkts = v++;
    p.tx_bytes = v++;
    p.forwarded = v++;
    p.injected = v++;
    for (auto& d : p.drops) d = v++;
    for (auto& c : p.counts) c = v++;
    p.nic_imissed = v++;
    p.nic_ierrors = v++;
    p.nic_oerrors = v++;
    p.nic_rx_nombuf = v++;
    p.xsk_rx_ring_full = v++;
    p.xsk_fill_ring_empty = v++;
    p.xsk_rx_invalid = v++;
    p.xsk_tx_invalid = v++;
    p.link_up = s == 0;
    p.link_changes = v++;
  }
  return st;
}

std::string line_of(const std::string& text, const std::string& prefix) {
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (l.rfind(prefix, 0) == 0) return l;
  return "";
}

TEST(port_stats_report, stats_line_fields_names_and_order) {
  const std::string text = format_stats(distinct_stats(), 1.5);
  EXPECT_EQ(line_of(text, "stats: port=a "),
            "stats: port=a spec=xdp:in0 rx_pkts=1 rx_bytes=2 forwarded=5 tx_pkts=3 tx_bytes=4 "
            "injected=6 drops=70 drop_oversize=7 drop_tx_refused=8 drop_sip_blocked=9 "
            "drop_sip_unparsed=10 drop_rx_truncated=11 drop_gso_unsupported=12 drop_no_mbuf=13 "
            "csum_completed=14 csum_left_partial=15 gso_frames=16 gso_segments=17 "
            "nic_imissed=18 nic_ierrors=19 nic_oerrors=20 nic_rx_nombuf=21 xsk_rx_ring_full=22 "
            "xsk_fill_ring_empty=23 xsk_rx_invalid=24 xsk_tx_invalid=25 link_up=1 "
            "link_changes=26");
  EXPECT_NE(line_of(text, "stats: port=b spec=xdp:out0 rx_pkts=27 rx_bytes=28 forwarded=31 "), "");
}

TEST(port_stats_report, metrics_names_labels_and_values) {
  control_counters cc;
  const std::string m = render_metrics(distinct_stats(), cc, 1.5);
  for (const char* want : {
           "ringbridge_port_rx_packets_total{port=\"a\"} 1\n",
           "ringbridge_port_rx_bytes_total{port=\"b\"} 28\n",
           "ringbridge_port_tx_packets_total{port=\"a\"} 3\n",
           "ringbridge_port_tx_bytes_total{port=\"b\"} 30\n",
           "ringbridge_port_drops_total{port=\"a\",reason=\"no_mbuf\"} 13\n",
           "ringbridge_port_frames_total{port=\"b\",what=\"gso_segments\"} 43\n",
           "ringbridge_port_nic_errors_total{port=\"a\",kind=\"missed\"} 18\n",
           "ringbridge_port_nic_errors_total{port=\"a\",kind=\"rx_error\"} 19\n",
           "ringbridge_port_nic_errors_total{port=\"a\",kind=\"tx_error\"} 20\n",
           "ringbridge_port_nic_errors_total{port=\"a\",kind=\"rx_nombuf\"} 21\n",
           "ringbridge_port_nic_errors_total{port=\"b\",kind=\"xsk_rx_ring_full\"} 48\n",
           "ringbridge_port_nic_errors_total{port=\"b\",kind=\"xsk_fill_ring_empty\"} 49\n",
           "ringbridge_port_nic_errors_total{port=\"b\",kind=\"xsk_rx_invalid\"} 50\n",
           "ringbridge_port_nic_errors_total{port=\"b\",kind=\"xsk_tx_invalid\"} 51\n",
           "ringbridge_port_link_up{port=\"a\"} 1\n",
           "ringbridge_port_link_up{port=\"b\"} 0\n",
           "ringbridge_port_link_changes_total{port=\"b\"} 52\n",
           "# HELP ringbridge_port_rx_packets_total Frames received on the port\n",
           "# HELP ringbridge_port_link_changes_total Link up/down transitions of the port "
           "since start\n",
       })
    EXPECT_NE(m.find(want), std::string::npos) << want;
  // forwarded and injected are stats-line and status fields only (no metric of their own).
  EXPECT_EQ(m.find("ringbridge_port_forwarded"), std::string::npos);
  EXPECT_EQ(m.find("ringbridge_port_injected"), std::string::npos);
  // Families keep their exposition order.
  const char* order[] = {"ringbridge_port_rx_packets_total",  "ringbridge_port_rx_bytes_total",
                         "ringbridge_port_tx_packets_total",  "ringbridge_port_tx_bytes_total",
                         "ringbridge_port_drops_total",       "ringbridge_port_nic_errors_total",
                         "ringbridge_port_frames_total",      "ringbridge_port_link_up",
                         "ringbridge_port_link_changes_total"};
  size_t at = 0;
  for (const char* f : order) {
    const size_t pos = m.find(std::string("# HELP ") + f + " ");
    ASSERT_NE(pos, std::string::npos) << f;
    EXPECT_GT(pos, at) << f;
    at = pos;
  }
}

TEST(port_stats_report, for_each_port_stat_visits_every_field_once) {
  const dataplane_stats st = distinct_stats();
  std::set<std::string> names;
  std::set<uint64_t> values;
  dp::for_each_port_stat(st.ports[0], [&](const dp::port_stat_info& i, uint64_t v) {
    names.insert(i.name);
    values.insert(v);
    EXPECT_NE(std::string(i.help), "") << i.name;
  });
  EXPECT_EQ(names,
            (std::set<std::string>{"rx_pkts", "rx_bytes", "forwarded", "tx_pkts", "tx_bytes",
                                   "injected", "nic_imissed", "nic_ierrors", "nic_oerrors",
                                   "nic_rx_nombuf", "xsk_rx_ring_full", "xsk_fill_ring_empty",
                                   "xsk_rx_invalid", "xsk_tx_invalid", "link_changes"}));
  EXPECT_EQ(values.size(), names.size());  // each entry reads its own field
}

}  // namespace
}  // namespace ringbridge::ctl
