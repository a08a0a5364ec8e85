// SPDX-License-Identifier: BSD-3-Clause
// Config sections → the option structs of the appliance's parts (see ctl/options.h).
// Pure: reads `config`, touches nothing else.
#include "ringbridge/ctl/options.h"

#include "ringbridge/ctl/ha.h"

namespace ringbridge::ctl {

std::string db_path(const config& cfg) {
  return cfg.storage.state_dir + "/ringbridge.db";
}

database_spec database_options(const config& cfg) {
  return {db_path(cfg), {call_store::schema(), filter_store::schema()}};
}

bool has_kernel_ports(const std::array<dp::port_spec, 2>& ports) {
  return ports[0].is_kernel_iface() || ports[1].is_kernel_iface();
}

dp::eal_options eal_options(const config& cfg, const std::array<dp::port_spec, 2>& ports) {
  dp::eal_options eo;
  eo.ports = ports;
  eo.workers = cfg.dataplane.workers;
  eo.mtu = cfg.dataplane.mtu;
  eo.mbufs = cfg.dataplane.mbufs;
  eo.rx_desc = cfg.dataplane.rx_desc;
  eo.tx_desc = cfg.dataplane.tx_desc;
  eo.hugepages = cfg.eal.hugepages;
  eo.memory_mb = cfg.eal.memory_mb;
  eo.file_prefix = cfg.eal.file_prefix;
  eo.log_level = cfg.eal.log_level;
  eo.af_xdp_busy_budget = cfg.dataplane.af_xdp_busy_budget;
  if (media_enabled(cfg))
    eo.held_mbufs = static_cast<uint32_t>(
        dp::media_dataplane::mbufs_held_max(cfg.dataplane.workers) + media::k_pending_total);
  return eo;
}

dp::sip_config sip_options(const config& cfg) {
  dp::sip_config sc;
  sc.hint_ports = cfg.sip.hint_ports;
  sc.tcp_streams = cfg.sip.tcp_streams;
  sc.tcp_idle_s = cfg.sip.tcp_idle_s;
  sc.reassembly_slots = cfg.sip.reassembly_slots;
  sc.reassembly_max_bytes = cfg.sip.reassembly_max_bytes;
  sc.reassembly_timeout_s = cfg.sip.reassembly_timeout_s;
  sc.drop_unparsable_invites = cfg.filters.drop_unparsable_invites;
  sc.identity.order = cfg.filters.identity;
  sc.identity.numbers = cfg.filters.numbers;
  return sc;
}

dp::filter_dp_config filter_dp_options(const config& cfg) {
  dp::filter_dp_config fc;
  fc.blocked_ttl_s = cfg.filters.blocked_ttl_s;
  fc.reply_rate = cfg.filters.reply_rate;
  fc.reply_burst = cfg.filters.reply_burst;
  return fc;
}

dp::bridge_config dataplane_options(const config& cfg, const std::array<dp::port_spec, 2>& ports,
                                    const dp::eal_plan& plan) {
  dp::bridge_config bc;
  bc.specs = ports;
  bc.port_names = plan.port_names;
  bc.workers = cfg.dataplane.workers;
  bc.geometry = plan.geometry;
  bc.mbufs = plan.mbufs;
  bc.rx_desc = cfg.dataplane.rx_desc;
  bc.tx_desc = cfg.dataplane.tx_desc;
  bc.burst = cfg.dataplane.burst;
  bc.tx_flush_us = cfg.dataplane.tx_flush_us;
  bc.tx_retries = cfg.dataplane.tx_retries;
  // NAPI deferral needs a busy poll to run the deferred work.
  bc.af_xdp_tune_napi = cfg.dataplane.af_xdp_tune_napi && cfg.dataplane.af_xdp_busy_budget > 0;
  bc.af_xdp_gro_flush_us = cfg.dataplane.af_xdp_gro_flush_us;
  bc.complete_checksums = cfg.dataplane.complete_checksums;
  if (has_kernel_ports(ports)) bc.tuning_record = iface_record_path(cfg);
  return bc;
}

filters_settings filter_options(const config& cfg) {
  filters_settings fs;
  fs.options.numbers = cfg.filters.numbers;
  fs.default_mode = cfg.filters.default_block_mode;
  fs.config_rules = cfg.filters.rules;
  return fs;
}

http_settings http_options(const config& cfg) {
  http_settings hs;
  hs.listen = cfg.http.listen;
  hs.public_metrics = cfg.http.public_metrics;
  hs.public_status = cfg.http.public_status;
  hs.token = cfg.http.token;
  return hs;
}

call_limits call_options(const config& cfg) {
  call_limits limits;
  limits.max_calls = cfg.calls.max_active;
  limits.ringing_timeout_s = cfg.calls.ringing_timeout_s;
  limits.answered_timeout_s = cfg.calls.answered_timeout_s;
  return limits;
}

storage_limits retention_options(const config& cfg) {
  storage_limits retention;
  retention.max_calls = cfg.storage.max_calls;
  retention.max_call_age_days = cfg.storage.max_call_age_days;
  retention.phonebook_auto_max = cfg.storage.phonebook_auto_max;
  return retention;
}

bool media_enabled(const config& cfg) {
  return cfg.recording.enabled && cfg.sip.enabled;
}

dp::media_dp_config media_dp_options(const config& cfg) {
  dp::media_dp_config m;
  m.max_flows = cfg.recording.max_flows;
  m.no_record_header = cfg.recording.no_record_header;
  m.rtp_heuristics = cfg.recording.rtp_heuristics;
  return m;
}

media::recording_options recording_options(const config& cfg) {
  media::recording_options r;
  r.record_all = cfg.recording.record_all;
  r.spool = cfg.recording.spool.empty() ? cfg.storage.state_dir + "/recordings"
                                        : cfg.recording.spool;
  r.max_bytes = cfg.recording.max_bytes;
  r.max_days = cfg.recording.max_days;
  r.jitter_ms = cfg.recording.jitter_ms;
  r.idle_s = cfg.recording.idle_s;
  r.max_calls = cfg.recording.max_calls;
  return r;
}

}  // namespace ringbridge::ctl
