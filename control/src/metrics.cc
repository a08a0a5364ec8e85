// SPDX-License-Identifier: BSD-3-Clause
// Builds prometheus-cpp metric families from the counters and serializes them.
#include "ringbridge/ctl/metrics.h"

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <deque>
#include <iterator>
#include <sstream>
#include <vector>

namespace ringbridge::ctl {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

// Families are filled through references while more are added: a deque keeps them valid
// (a vector would move them on growth).
struct families {
  std::deque<MetricFamily> all;

  MetricFamily& add(const std::string& name, const std::string& help, MetricType type) {
    all.push_back(MetricFamily{name, help, type, {}});
    return all.back();
  }
};

void sample(MetricFamily& f, double v, std::vector<ClientMetric::Label> labels = {}) {
  ClientMetric m;
  m.label = std::move(labels);
  if (f.type == MetricType::Counter)
    m.counter.value = v;
  else
    m.gauge.value = v;
  f.metric.push_back(std::move(m));
}

}  // namespace

std::string render_metrics(const dataplane_stats& st, const control_counters& cc, double uptime_s,
                           const std::vector<const prometheus::Collectable*>& sources) {
  families fs;
  auto& up =
      fs.add("ringbridge_uptime_seconds", "Seconds since ringbridge started", MetricType::Gauge);
  sample(up, uptime_s);

  // Port counters (RB_DP_FOREACH_PORT_STAT): the workers' counts with a metric name get a
  // family each, then drops, what was lost below ringbridge, the port counters, the link.
  // Family order is the exposition order, kept as it was before the X-macro.
  std::vector<MetricFamily*> port_family(std::size(dp::k_port_stat_info), nullptr);
  auto own_families = [&](dp::port_stat_group g) {
    for (size_t i = 0; i < port_family.size(); i++) {
      const auto& info = dp::k_port_stat_info[i];
      if (info.group == g && *info.metric != '\0')
        port_family[i] = &fs.add(std::string("ringbridge_port_") + info.metric + "_total",
                                 info.help, MetricType::Counter);
    }
  };
  own_families(dp::port_stat_group::traffic);
  auto& drops = fs.add("ringbridge_port_drops_total",
                       "Frames received on the port and dropped, by reason "
                       "(rx = forwarded + drops)",
                       MetricType::Counter);
  auto& nic = fs.add("ringbridge_port_nic_errors_total",
                     "Frames lost or failed below ringbridge, as the PMD reports them",
                     MetricType::Counter);
  auto& frames = fs.add("ringbridge_port_frames_total",
                        "What the port did to received frames besides forwarding them "
                        "(checksums completed, offload super-frames cut), by what",
                        MetricType::Counter);
  auto& link =
      fs.add("ringbridge_port_link_up", "1 while the port's link is up", MetricType::Gauge);
  own_families(dp::port_stat_group::link);
  for (const auto& p : st.ports) {
    sample(link, p.link_up ? 1 : 0, {{"port", p.name}});
    size_t i = 0;
    dp::for_each_port_stat(p, [&](const dp::port_stat_info& info, uint64_t v) {
      if (port_family[i] != nullptr)
        sample(*port_family[i], static_cast<double>(v), {{"port", p.name}});
      else if (info.group == dp::port_stat_group::below)
        sample(nic, static_cast<double>(v), {{"port", p.name}, {"kind", info.metric}});
      i++;
    });
    for (size_t r = 0; r < dp::k_drop_reasons; r++)
      sample(drops, static_cast<double>(p.drops[r]),
             {{"port", p.name}, {"reason", dp::drop_reason_name(static_cast<dp::drop_reason>(r))}});
    for (size_t k = 0; k < dp::k_port_counters; k++)
      sample(frames, static_cast<double>(p.counts[k]),
             {{"port", p.name}, {"what", dp::port_counter_name(static_cast<dp::port_counter>(k))}});
  }
  auto& polls = fs.add("ringbridge_worker_polls_total",
                       "Worker loop iterations that received something (busy) or not (idle)",
                       MetricType::Counter);
  auto& wrx = fs.add("ringbridge_worker_rx_packets_total", "Frames received by the worker",
                     MetricType::Counter);
  for (size_t w = 0; w < st.workers.size(); w++) {
    const std::string id = std::to_string(w);
    sample(polls, static_cast<double>(st.workers[w].busy_polls),
           {{"worker", id}, {"kind", "busy"}});
    sample(polls, static_cast<double>(st.workers[w].idle_polls),
           {{"worker", id}, {"kind", "idle"}});
    sample(wrx, static_cast<double>(st.workers[w].rx_pkts), {{"worker", id}});
  }

  auto& req =
      fs.add("ringbridge_sip_requests_total", "SIP requests seen, by method", MetricType::Counter);
  for (size_t m = 1; m < dp::k_sip_methods; m++)
    sample(req, static_cast<double>(st.sip.requests[m]),
           {{"method", dp::sip::method_name(static_cast<dp::sip::method>(m))}});
  auto& resp = fs.add("ringbridge_sip_responses_total", "SIP responses seen, by status class",
                      MetricType::Counter);
  for (size_t c = 0; c < 6; c++)
    sample(resp, static_cast<double>(st.sip.responses[c]),
           {{"status_class", std::to_string(c + 1) + "xx"}});
  auto& perr = fs.add("ringbridge_sip_parse_errors_total",
                      "SIP messages that could not be parsed (forwarded anyway), by reason",
                      MetricType::Counter);
  for (size_t e = 2; e < dp::k_sip_parse_errors; e++)
    sample(perr, static_cast<double>(st.sip.parse_errors[e]),
           {{"reason", dp::sip::parse_status_name(static_cast<dp::sip::parse_status>(e))}});
  auto& unscr = fs.add("ringbridge_sip_unscreened_total",
                       "Frames that may carry an INVITE but could not be screened, by reason "
                       "(forwarded, or dropped on side A with [filters] on_unparsable = drop)",
                       MetricType::Counter);
  for (size_t r = 0; r < dp::k_unscreened_reasons; r++)
    sample(unscr, static_cast<double>(st.sip.unscreened[r]),
           {{"reason", dp::unscreened_reason_name(static_cast<dp::unscreened_reason>(r))}});
  for (size_t k = 0; k < dp::k_sip_counters; k++) {
    const auto id = static_cast<dp::sip_counter>(k);
    auto& f = fs.add(std::string("ringbridge_") + dp::sip_counter_name(id) + "_total",
                     dp::sip_counter_help(id), MetricType::Counter);
    sample(f, static_cast<double>(st.sip.c[k]));
  }

  auto& calls =
      fs.add("ringbridge_calls_total", "Calls by direction and state (final states once finished)",
             MetricType::Counter);
  auto& active =
      fs.add("ringbridge_calls_active", "Calls in progress, by direction", MetricType::Gauge);
  for (int d = 0; d < 2; d++) {
    const char* dir = direction_name(static_cast<call_direction>(d));
    for (size_t s = 0; s < k_call_states; s++) {
      const auto state = static_cast<call_state>(s);
      if (!call_state_final(state)) continue;
      sample(calls, static_cast<double>(cc.calls[d][s].load()),
             {{"direction", dir}, {"state", call_state_name(state)}});
    }
    sample(active, static_cast<double>(cc.active[d].load()), {{"direction", dir}});
  }
  auto& ev =
      fs.add("ringbridge_control_events_total",
             "SIP events the control thread took from the worker rings", MetricType::Counter);
  sample(ev, static_cast<double>(cc.events.load()));
  auto& evict = fs.add("ringbridge_call_table_evictions_total",
                       "Calls dropped from the full call table", MetricType::Counter);
  sample(evict, static_cast<double>(cc.calls_evicted.load()));
  auto& cerr = fs.add("ringbridge_control_errors_total",
                      "Steps of the control thread that failed with an exception and were "
                      "skipped (the loop goes on), by stage",
                      MetricType::Counter);
  for (size_t s = 0; s < k_control_stages; s++)
    sample(cerr, static_cast<double>(cc.control_errors[s].load()),
           {{"stage", control_stage_name(static_cast<control_stage>(s))}});
  const storage_stats& ss = cc.storage;
  auto& serr =
      fs.add("ringbridge_storage_errors_total",
             "SQLite calls that failed, by what they did (op) and why (kind)", MetricType::Counter);
  for (size_t o = 0; o < k_storage_ops; o++)
    for (size_t k = 0; k < k_storage_errors; k++)
      sample(serr, static_cast<double>(ss.errors[o][k].load()),
             {{"op", storage_op_name(static_cast<storage_op>(o))},
              {"kind", storage_error_name(static_cast<storage_error>(k))}});
  sample(
      fs.add("ringbridge_storage_pending",
             "Call log and phonebook writes waiting in memory for the database", MetricType::Gauge),
      static_cast<double>(ss.pending.load()));
  sample(fs.add("ringbridge_storage_pending_dropped_total",
                "Pending writes dropped because the queue was full (the oldest goes)",
                MetricType::Counter),
         static_cast<double>(ss.pending_dropped.load()));
  sample(fs.add("ringbridge_storage_degraded",
                "1 while the last attempt to write the call log failed", MetricType::Gauge),
         ss.degraded.load() ? 1 : 0);
  auto& pruned = fs.add("ringbridge_storage_pruned_total",
                        "Rows deleted by [storage] retention, by table", MetricType::Counter);
  sample(pruned, static_cast<double>(ss.pruned_calls.load()), {{"table", "calls"}});
  sample(pruned, static_cast<double>(ss.pruned_phonebook.load()), {{"table", "phonebook"}});
  sample(fs.add("ringbridge_calls_interrupted_total",
                "Calls a previous run left ringing or answered, closed as interrupted at start",
                MetricType::Counter),
         static_cast<double>(ss.interrupted.load()));
  auto& reg = fs.add("ringbridge_sip_registrations_total", "Final responses to REGISTER, by result",
                     MetricType::Counter);
  sample(reg, static_cast<double>(cc.registrations_ok.load()), {{"result", "ok"}});
  sample(reg, static_cast<double>(cc.registrations_challenged.load()), {{"result", "challenged"}});
  sample(reg, static_cast<double>(cc.registrations_failed.load()), {{"result", "failed"}});
  auto& verdicts =
      fs.add("ringbridge_filter_verdicts_total",
             "Initial INVITEs by the action of the first matching rule", MetricType::Counter);
  sample(verdicts, static_cast<double>(st.sip[dp::sip_counter::verdict_none]),
         {{"action", "none"}});
  sample(verdicts, static_cast<double>(st.sip[dp::sip_counter::verdict_allow]),
         {{"action", "allow"}});
  sample(verdicts, static_cast<double>(st.sip[dp::sip_counter::verdict_block]),
         {{"action", "block"}});
  sample(verdicts, static_cast<double>(st.sip[dp::sip_counter::verdict_record]),
         {{"action", "record"}});
  sample(verdicts, static_cast<double>(st.sip[dp::sip_counter::verdict_norecord]),
         {{"action", "norecord"}});
  auto& mb = fs.add("ringbridge_mbufs_in_use", "Packet buffers not in the pool", MetricType::Gauge);
  sample(mb, static_cast<double>(st.mbufs_in_use));
  for (const prometheus::Collectable* src : sources)
    if (src != nullptr)
      for (auto& f : src->Collect()) fs.all.push_back(std::move(f));

  std::ostringstream out;
  prometheus::TextSerializer().Serialize(
      out, std::vector<MetricFamily>(std::make_move_iterator(fs.all.begin()),
                                     std::make_move_iterator(fs.all.end())));
  return out.str();
}

}  // namespace ringbridge::ctl
