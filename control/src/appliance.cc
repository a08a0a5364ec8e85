// SPDX-License-Identifier: BSD-3-Clause
// The control thread: start-up sequence, signal handling, housekeeping loop, shutdown.
#include "ringbridge/ctl/appliance.h"

#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "ringbridge/common/log.h"
#include "ringbridge/ctl/cli.h"
#include "ringbridge/ctl/config.h"
#include "ringbridge/ctl/control_loop.h"
#include "ringbridge/filters/filter_manager.h"
#include "ringbridge/filters/filters_http.h"
#include "ringbridge/ctl/ha.h"
#include "ringbridge/ctl/http_api.h"
#include "ringbridge/ctl/stats_report.h"
#include "ringbridge/ctl/store.h"
#include "ringbridge/dp/bridge.h"
#include "ringbridge/dp/eal.h"
#include "ringbridge/dp/host_access.h"
#include "ringbridge/filters/filter_dataplane.h"
#include "ringbridge/sip/sip_setup.h"
#include "ringbridge/notify/hub_metrics.h"
#include "ringbridge_build_info.h"

#include <rte_cycles.h>
#include <rte_version.h>

namespace ringbridge::ctl {

namespace {

std::atomic<bool> g_stop{false};
std::atomic<int> g_stop_signal{0};
std::atomic<bool> g_dump_stats{false};
std::atomic<bool> g_stall{false};

void on_signal(int sig) {
  if (sig == SIGUSR1) {
    g_dump_stats.store(true);
  } else if (sig == SIGUSR2) {
    g_stall.store(true);
  } else {
    g_stop_signal.store(sig);
    g_stop.store(true);
  }
}

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGUSR1, &sa, nullptr);
  sigaction(SIGUSR2, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
  signal(SIGHUP, SIG_IGN);  // no reload yet; do not die when a terminal goes away
}

void print_stats(const dp::bridge& br, const dp::sip_dataplane* sip,
                 std::chrono::steady_clock::time_point t0) {
  double up = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::string text = format_stats(collect_stats(br, sip), up);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

void print_plan(const config& cfg, const std::array<dp::port_spec, 2>& specs,
                const dp::eal_plan& plan, const dp::host_facts& host) {
  std::printf("config: ok\n");
  for (int s = 0; s < 2; s++) {
    std::printf("port %c: %s (%s) device %s\n", s == 0 ? 'a' : 'b', specs[s].text.c_str(),
                dp::port_kind_name(specs[s].kind), plan.port_names[s].c_str());
  }
  std::printf("workers: %u on cpu(s)", cfg.dataplane.workers);
  for (unsigned c : plan.worker_cpus) std::printf(" %u", c);
  std::printf("\nmemory: %s (hugepages free: %llu x %llu kB)\n",
              plan.no_huge ? "no-huge" : "hugepages",
              static_cast<unsigned long long>(host.hugepages_free),
              static_cast<unsigned long long>(host.hugepage_size_kb));
  std::printf("mbufs: %u of %u bytes; max frame %u bytes\n", plan.mbufs, plan.mbuf_size,
              plan.geometry.max_frame);
  std::printf("eal:");
  for (const auto& a : plan.args) std::printf(" %s", a.c_str());
  std::printf("\n");
}

void sleep_ms(long ms) {
  timespec ts{ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, nullptr);
}

// Creates DIR (one level, mode 0750) unless it exists.
bool ensure_dir(const std::string& dir, std::string* error) {
  struct stat st {};
  if (stat(dir.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return true;
    *error = "[storage] state_dir '" + dir + "' exists and is not a directory";
    return false;
  }
  if (mkdir(dir.c_str(), 0750) != 0) {
    *error = "cannot create [storage] state_dir '" + dir + "': " + std::strerror(errno) +
             " (create its parent, or choose another directory)";
    return false;
  }
  return true;
}

}  // namespace

int run_appliance(int argc, char** argv) {
  cli_options cli;
  std::string err;
  if (!parse_cli(argc, argv, &cli, &err)) {
    RB_LOG_ERR("%s", err.c_str());
    return exit_usage_error;
  }
  if (cli.help) {
    std::fputs(usage_text().c_str(), stdout);
    return exit_ok;
  }
  if (cli.version) {
    std::printf("ringbridge %s (git %s), built with %s\n", RINGBRIDGE_VERSION, RINGBRIDGE_GIT_REV,
                rte_version());
    return exit_ok;
  }

  config cfg;
  if (!cli.config_path.empty() && !load_config_file(cli.config_path, &cfg, &err)) {
    RB_LOG_ERR("%s", err.c_str());
    return exit_usage_error;
  }
  if (!apply_cli(cli, &cfg, &err) || !validate_config(cfg, &err)) {
    RB_LOG_ERR("%s", err.c_str());
    return exit_usage_error;
  }
  log_level lvl;
  parse_log_level(cfg.log.level.c_str(), &lvl);
  set_log_level(lvl);

  // Everything that can be checked without DPDK is checked first, so that a bad port or
  // value leaves nothing behind.
  dp::eal_options eo;
  const std::string* texts[2] = {&cfg.ports.a, &cfg.ports.b};
  for (int s = 0; s < 2; s++) {
    if (!dp::parse_port_spec(*texts[s], &eo.ports[s], &err) ||
        !dp::check_port_present(eo.ports[s], cfg.dataplane.workers, &err)) {
      RB_LOG_ERR("side %c: %s", s == 0 ? 'a' : 'b', err.c_str());
      return exit_usage_error;
    }
  }
  if (!check_ha_config(cfg, eo.ports, &err)) {
    RB_LOG_ERR("%s", err.c_str());
    return exit_usage_error;
  }
  // One-shot modes for the systemd unit (ctl/ha.h): no DPDK, no call log.
  if (cli.fallback) return run_fallback_mode(cfg, eo.ports, *cli.fallback);
  if (cli.prepare) return run_prepare_mode(cfg, eo.ports);
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
  dp::host_facts host = dp::probe_host();
  dp::eal_plan plan;
  if (!dp::plan_eal(eo, host, &plan, &err)) {
    RB_LOG_ERR("%s", err.c_str());
    return exit_usage_error;
  }
  if (cli.check) {
    for (const auto& w : plan.warnings) RB_LOG_WARN("%s", w.c_str());
    print_plan(cfg, eo.ports, plan, host);
    if (cfg.ha.fallback == config::ha_section::fallback_kind::kernel_bridge)
      std::printf("ha: fallback kernel-bridge (bridge %s)\n",
                  fallback_bridge_name(cfg, eo.ports).c_str());
    else
      std::printf("ha: fallback none\n");
    return exit_ok;
  }

  // Least privilege: a port that lacks a capability fails deep inside DPDK with "Invalid
  // argument"; say which capability is missing and what for instead.
  if (auto missing = dp::missing_capabilities(eo.ports); !missing.empty()) {
    for (const auto& m : missing)
      RB_LOG_ERR("missing capability %s, needed for %s", m.name.c_str(), m.why.c_str());
    RB_LOG_ERR(
        "run as root, or grant the capabilities (systemd: AmbientCapabilities= as in "
        "deploy/ringbridge.service; docs/deploy.md lists what each is for)");
    return exit_usage_error;
  }

  // The state directory, call log and API token: checked before DPDK starts too.
  std::unique_ptr<store> db;
  http_settings hs;
  // Kernel interfaces need the state directory too: the originals of what the bridge
  // changes on them are recorded there (crash recovery, ctl/ha.h).
  const bool kernel_ports = eo.ports[0].is_kernel_iface() || eo.ports[1].is_kernel_iface();
  state_lock lock;
  if (cfg.sip.enabled || cfg.http.enabled || kernel_ports) {
    if (!ensure_dir(cfg.storage.state_dir, &err) || !lock.acquire(cfg.storage.state_dir, &err)) {
      RB_LOG_ERR("%s", err.c_str());
      return exit_usage_error;
    }
  }
  if (cfg.sip.enabled || cfg.http.enabled) {
    if (!(db = store::open(cfg.storage.state_dir + "/ringbridge.db", &err))) {
      RB_LOG_ERR("%s", err.c_str());
      return exit_usage_error;
    }
  }
  if (cfg.http.enabled) {
    hs.listen = cfg.http.listen;
    hs.public_metrics = cfg.http.public_metrics;
    hs.public_status = cfg.http.public_status;
    hs.token = cfg.http.token;
    if (hs.token.empty()) {
      const std::string path = cfg.storage.state_dir + "/api-token";
      bool created = false;
      if (!load_or_create_token(path, &hs.token, &created, &err)) {
        RB_LOG_ERR("%s", err.c_str());
        return exit_usage_error;
      }
      RB_LOG_NOTICE("API token %s %s (send it as \"Authorization: Bearer <token>\")",
                    created ? "generated into" : "read from", path.c_str());
    }
    if (!cfg.http.cert.empty()) {
      hs.tls_pem = cfg.storage.state_dir + "/https.pem";
      hs.tls_chain = cfg.http.cert;
      if (!write_tls_pem(cfg.http.cert, cfg.http.key, hs.tls_pem, &err)) {
        RB_LOG_ERR("%s", err.c_str());
        return exit_usage_error;
      }
    } else if (!listen_is_loopback(cfg.http.listen)) {
      RB_LOG_WARN(
          "[http] listen = \"%s\" is reachable from other hosts but serves plain HTTP: "
          "the API token and call data cross the network readable by anyone on the "
          "path; set [http] cert and key for HTTPS",
          cfg.http.listen.c_str());
    }
  }

  RB_LOG_NOTICE("ringbridge %s starting: side a = %s, side b = %s, %u worker(s)",
                RINGBRIDGE_VERSION, eo.ports[0].text.c_str(), eo.ports[1].text.c_str(), eo.workers);
  for (const auto& w : plan.warnings) RB_LOG_WARN("%s", w.c_str());
  install_signal_handlers();
  if (!release_before_eal(cfg, eo.ports)) return exit_usage_error;

  if (!dp::eal_start(plan, &err)) {
    RB_LOG_ERR("%s", err.c_str());
    dp::eal_stop(plan, false);
    return exit_runtime_error;
  }

  int status = exit_ok;
  {
    dp::bridge_config bc;
    bc.specs = eo.ports;
    bc.port_names = plan.port_names;
    bc.workers = eo.workers;
    bc.geometry = plan.geometry;
    bc.mbufs = plan.mbufs;
    bc.rx_desc = cfg.dataplane.rx_desc;
    bc.tx_desc = cfg.dataplane.tx_desc;
    bc.burst = cfg.dataplane.burst;
    bc.tx_flush_us = cfg.dataplane.tx_flush_us;
    bc.tx_retries = cfg.dataplane.tx_retries;
    bc.af_xdp_tune_napi = cfg.dataplane.af_xdp_tune_napi && cfg.dataplane.af_xdp_busy_budget > 0;
    bc.af_xdp_gro_flush_us = cfg.dataplane.af_xdp_gro_flush_us;
    bc.complete_checksums = cfg.dataplane.complete_checksums;
    if (kernel_ports) bc.tuning_record = iface_record_path(cfg);
    dp::sip_config sc;
    sc.hint_ports = cfg.sip.hint_ports;
    sc.tcp_streams = cfg.sip.tcp_streams;
    sc.tcp_idle_s = cfg.sip.tcp_idle_s;
    sc.reassembly_slots = cfg.sip.reassembly_slots;
    sc.reassembly_max_bytes = cfg.sip.reassembly_max_bytes;
    sc.reassembly_timeout_s = cfg.sip.reassembly_timeout_s;
    sc.identity.order = cfg.filters.identity;
    sc.identity.numbers = cfg.filters.numbers;
    set_number_format(cfg.filters.numbers);  // one format for the workers and the control side
    // Notification / export sinks: built (not started) before the dataplane, so that
    // workers capture SIP messages only when a sink exports them.
    std::unique_ptr<plugin::hub> notify = plugin::hub::create(cfg.notify, &err);
    if (!notify) {
      RB_LOG_ERR("%s", err.c_str());
      dp::eal_stop(plan, true);
      return exit_usage_error;
    }
    sc.capture_messages = cfg.sip.enabled && notify->wants_sip_messages();
    sc.drop_unparsable_invites = cfg.filters.drop_unparsable_invites;
    dp::filter_dp_config fc;
    fc.blocked_ttl_s = cfg.filters.blocked_ttl_s;
    fc.reply_rate = cfg.filters.reply_rate;
    fc.reply_burst = cfg.filters.reply_burst;
    // The features' worker halves outlive the bridge (declared first, destroyed last):
    // the bridge's destructor stops the workers that use them.
    std::unique_ptr<dp::sip_dataplane> sip;
    std::unique_ptr<dp::filter_dataplane> filter_dp;
    std::unique_ptr<dp::bridge> br = dp::bridge::create(bc, &err);
    if (br && cfg.sip.enabled) {
      // The frame path: SIP inspection, with the filters' verdict as its request hook.
      sip = dp::sip_dataplane::create(sc, eo.workers, &err);
      if (!sip) br.reset();
      if (sip && cfg.filters.enabled) {
        filter_dp = std::make_unique<dp::filter_dataplane>(fc, eo.workers, br->pool(), br->rcu(),
                                                           rte_get_tsc_hz());
        filter_dp->attach(*sip);
      }
      for (unsigned w = 0; br && w < eo.workers; w++)
        if (!br->add_stage(w, sip->stage_for(w), &err)) br.reset();
    }
    // The filter rules are compiled and published before the first frame is forwarded.
    std::unique_ptr<filter_manager> filters;
    if (br && filter_dp) {
      filters_settings fs;
      fs.options.numbers = cfg.filters.numbers;
      fs.default_mode = cfg.filters.default_block_mode;
      fs.config_rules = cfg.filters.rules;
      filters = std::make_unique<filter_manager>(cfg.storage.state_dir + "/ringbridge.db",
                                                 &filter_dp->slot(), eo.workers, fs);
      if (!filters->start(&err)) br.reset();
    }
    if (!br || !br->start(&err)) {
      RB_LOG_ERR("%s", err.c_str());
      br.reset();
      dp::eal_stop(plan, true);
      return exit_runtime_error;
    }
    release_after_start(cfg, eo.ports);

    control_counters counters;
    if (filters) filters->set_storage_stats(&counters.storage);
    for (const auto& s : notify->stats())
      RB_LOG_NOTICE("notify: sink '%s' (%s)", s.name.c_str(), s.type.c_str());
    notify->start();
    api_context api;
    api.bridge = br.get();
    api.sip = sip.get();
    api.counters = &counters;
    api.db_path = cfg.storage.state_dir + "/ringbridge.db";
    api.state_dir = cfg.storage.state_dir;
    api.started = std::chrono::steady_clock::now();
    api.filters = filters.get();
    api.notify = notify.get();
    api.metric_sources.push_back(plugin::hub_metrics(*notify));
    if (filters) api.metric_sources.push_back(filter_metrics(*filters));
    std::unique_ptr<http_api> http;
    if (cfg.http.enabled) {
      http = http_api::start(hs, &api, &err);
      if (!http) {
        RB_LOG_ERR("%s", err.c_str());
        br.reset();
        dp::eal_stop(plan, true);
        return exit_runtime_error;
      }
      RB_LOG_NOTICE("HTTP API on %s://%s/api/v1/ and /metrics",
                    hs.tls_pem.empty() ? "http" : "https", hs.listen.c_str());
    }
    call_limits limits;
    limits.max_calls = cfg.calls.max_active;
    limits.ringing_timeout_s = cfg.calls.ringing_timeout_s;
    limits.answered_timeout_s = cfg.calls.answered_timeout_s;
    std::unique_ptr<control_loop> loop;
    storage_limits retention;
    retention.max_calls = cfg.storage.max_calls;
    retention.max_call_age_days = cfg.storage.max_call_age_days;
    retention.phonebook_auto_max = cfg.storage.phonebook_auto_max;
    if (db)
      loop = std::make_unique<control_loop>(sip.get(), *db, api.active, counters, limits, retention,
                                            notify.get());

    const bool replay =
        eo.ports[0].kind == dp::port_kind::pcap && eo.ports[1].kind == dp::port_kind::pcap;
    if (replay)
      RB_LOG_NOTICE("pcap replay: stopping once no frame has arrived for %u ms",
                    cfg.replay.idle_ms);
    const auto t0 = std::chrono::steady_clock::now();
    auto last_periodic = t0;
    auto last_rx_change = t0;
    auto last_housekeeping = t0;
    uint64_t last_rx = 0;
    while (!g_stop.load()) {
      // Events first: the rings are drained as fast as they fill, the loop naps only when
      // they are empty.
      if (loop == nullptr || loop->drain() == 0) sleep_ms(2);
      const auto now = std::chrono::steady_clock::now();
      if (now - last_housekeeping >= std::chrono::seconds(1)) {
        last_housekeeping = now;
        if (loop) loop->housekeeping();
        br->watch_links();
      }
      if (filter_dp) filter_dp->slot().reclaim();
      if (g_dump_stats.exchange(false)) print_stats(*br, sip.get(), t0);
      if (g_stall.exchange(false) && cfg.debug.control_stall_ms != 0) {
        // Fault injection ([debug] control_stall_ms): the control thread stops draining,
        // as if SQLite, a plugin or the machine held it up. The workers must not notice.
        RB_LOG_WARN("SIGUSR2: control thread stalling for %u ms (fault injection)",
                    cfg.debug.control_stall_ms);
        sleep_ms(cfg.debug.control_stall_ms);
        RB_LOG_WARN("control thread resumes after the injected stall");
      }
      if (cfg.stats.interval_s != 0 &&
          now - last_periodic >= std::chrono::seconds(cfg.stats.interval_s)) {
        last_periodic = now;
        print_stats(*br, sip.get(), t0);
      }
      if (replay) {
        dp::bridge_stats st = br->stats();
        const uint64_t rx = st.ports[0].rx_pkts + st.ports[1].rx_pkts;
        if (rx != last_rx) {
          last_rx = rx;
          last_rx_change = now;
        } else if (now - last_rx_change >= std::chrono::milliseconds(cfg.replay.idle_ms)) {
          RB_LOG_NOTICE("pcap replay: input exhausted after %llu frames",
                        static_cast<unsigned long long>(rx));
          break;
        }
      }
    }
    if (int sig = g_stop_signal.load(); sig != 0)
      RB_LOG_NOTICE("signal %d (%s): stopping", sig, strsignal(sig));

    br->stop();
    if (loop) {  // what the workers handed over before they stopped
      while (loop->drain() != 0) {
      }
      loop->housekeeping();
      loop->finish(2.0);
    }
    http.reset();
    notify->stop(2.0);  // what is queued gets up to 2 s to go out
    print_stats(*br, sip.get(), t0);
    br->close_ports();
    const uint64_t in_use = br->mbufs_in_use();
    const uint64_t residue_max = br->mbufs_pmd_residue_max();
    const uint64_t leaked = in_use > residue_max ? in_use - residue_max : 0;
    const uint64_t pmd_held = in_use - leaked;
    if (pmd_held != 0)
      RB_LOG_INFO(
          "%llu mbufs stay in the AF_XDP fill rings (2048 per queue): DPDK 22.11's "
          "net_af_xdp does not return them on close; they go with the process",
          static_cast<unsigned long long>(pmd_held));
    if (leaked != 0) {
      RB_LOG_ERR("%llu mbufs were not returned to the pool at exit",
                 static_cast<unsigned long long>(leaked));
      status = exit_leak;
    }
    std::printf("exit: mbufs_in_use=%llu mbufs_pmd_held=%llu mbufs_leaked=%llu status=%d\n",
                static_cast<unsigned long long>(in_use), static_cast<unsigned long long>(pmd_held),
                static_cast<unsigned long long>(leaked), status);
    std::fflush(stdout);
  }
  dp::eal_stop(plan, true);
  RB_LOG_NOTICE("stopped");
  return status;
}

}  // namespace ringbridge::ctl
