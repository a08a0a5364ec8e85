// SPDX-License-Identifier: BSD-3-Clause
// The appliance: checks before DPDK starts, the start-up sequence, signal handling, the
// control loop and the shutdown, in that order (ctl/appliance.h). Each part's options come
// from ctl/options.h.
#include "ringbridge/ctl/appliance.h"

#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "ringbridge/common/keyed_hash.h"
#include "ringbridge/common/log.h"
#include "ringbridge/ctl/cli.h"
#include "ringbridge/ctl/config.h"
#include "ringbridge/ctl/control_loop.h"
#include "ringbridge/ctl/ha.h"
#include "ringbridge/ctl/http_api.h"
#include "ringbridge/ctl/options.h"
#include "ringbridge/ctl/stats_report.h"
#include "ringbridge/ctl/store.h"
#include "ringbridge/dp/bridge.h"
#include "ringbridge/dp/clock.h"
#include "ringbridge/dp/eal.h"
#include "ringbridge/dp/host_access.h"
#include "ringbridge/filters/filter_dataplane.h"
#include "ringbridge/filters/filter_manager.h"
#include "ringbridge/filters/filters_http.h"
#include "ringbridge/media/media_metrics.h"
#include "ringbridge/media/recordings_http.h"
#include "ringbridge/notify/hub_metrics.h"
#include "ringbridge/sip/sip_setup.h"
#include "ringbridge_build_info.h"
#include "ringbridge_git_rev.h"

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

// Fewer events than this in a pass, and the control loop naps before the next.
constexpr size_t k_control_batch = 64;

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

// Everything that can be checked without DPDK is checked first, so that a bad port or value
// leaves nothing behind. True to go on and start the appliance; false with *status to exit
// with (a one-shot mode ran, or something is wrong: logged).
bool prepare(int argc, char** argv, config* cfg, std::array<dp::port_spec, 2>* ports,
             dp::eal_plan* plan, int* status) {
  *status = exit_usage_error;
  cli_options cli;
  std::string err;
  if (!parse_cli(argc, argv, &cli, &err)) {
    RB_LOG_ERR("%s", err.c_str());
    return false;
  }
  if (cli.help) {
    std::fputs(usage_text().c_str(), stdout);
    *status = exit_ok;
    return false;
  }
  if (cli.version) {
    std::printf("ringbridge %s (git %s), built with %s\n", RINGBRIDGE_VERSION, RINGBRIDGE_GIT_REV,
                rte_version());
    *status = exit_ok;
    return false;
  }

  if (!cli.config_path.empty() && !load_config_file(cli.config_path, cfg, &err)) {
    RB_LOG_ERR("%s", err.c_str());
    return false;
  }
  if (!apply_cli(cli, cfg, &err) || !validate_config(*cfg, &err)) {
    RB_LOG_ERR("%s", err.c_str());
    return false;
  }
  log_level lvl;
  parse_log_level(cfg->log.level.c_str(), &lvl);
  set_log_level(lvl);

  const std::string* texts[2] = {&cfg->ports.a, &cfg->ports.b};
  for (int s = 0; s < 2; s++) {
    if (!dp::parse_port_spec(*texts[s], &(*ports)[s], &err) ||
        !dp::check_port_present((*ports)[s], cfg->dataplane.workers, &err)) {
      RB_LOG_ERR("side %c: %s", s == 0 ? 'a' : 'b', err.c_str());
      return false;
    }
  }
  if (!check_ha_config(*cfg, *ports, &err)) {
    RB_LOG_ERR("%s", err.c_str());
    return false;
  }
  // One-shot modes for the systemd unit (ctl/ha.h): no DPDK, no call log.
  if (cli.fallback) {
    *status = run_fallback_mode(*cfg, *ports, *cli.fallback);
    return false;
  }
  if (cli.prepare) {
    *status = run_prepare_mode(*cfg, *ports);
    return false;
  }
  const dp::host_facts host = dp::probe_host();
  if (!dp::plan_eal(eal_options(*cfg, *ports), host, plan, &err)) {
    RB_LOG_ERR("%s", err.c_str());
    return false;
  }
  if (cli.check) {
    for (const auto& w : plan->warnings) RB_LOG_WARN("%s", w.c_str());
    print_plan(*cfg, *ports, *plan, host);
    if (cfg->ha.fallback == config::ha_section::fallback_kind::kernel_bridge)
      std::printf("ha: fallback kernel-bridge (bridge %s)\n",
                  fallback_bridge_name(*cfg, *ports).c_str());
    else
      std::printf("ha: fallback none\n");
    *status = exit_ok;
    return false;
  }

  // Least privilege: a port that lacks a capability fails deep inside DPDK with "Invalid
  // argument"; say which capability is missing and what for instead.
  if (auto missing = dp::missing_capabilities(*ports); !missing.empty()) {
    for (const auto& m : missing)
      RB_LOG_ERR("missing capability %s, needed for %s", m.name.c_str(), m.why.c_str());
    RB_LOG_ERR(
        "run as root, or grant the capabilities (systemd: AmbientCapabilities= as in "
        "deploy/ringbridge.service; docs/deploy.md lists what each is for)");
    return false;
  }
  return true;
}

}  // namespace

// The parts, declared in the order start() builds them; stop() takes them down in reverse.
struct appliance::parts {
  config cfg;
  std::array<dp::port_spec, 2> ports;
  dp::eal_plan plan;

  std::unique_ptr<store> db;  ///< the control thread's connection ([sip] or [http] on)
  http_settings http_opts;
  std::unique_ptr<state_lock> lock;  ///< held while anything may change the state directory
  enum class eal_state : uint8_t { none, started, stopped } eal = eal_state::none;
  std::unique_ptr<plugin::hub> notify;
  // The features' worker halves outlive the bridge (declared before it, destroyed after):
  // the bridge's destructor stops the workers that use them.
  std::unique_ptr<dp::sip_dataplane> sip;
  std::unique_ptr<dp::filter_dataplane> filter_dp;
  std::unique_ptr<dp::media_dataplane> media_dp;
  std::unique_ptr<dp::bridge> bridge;
  std::unique_ptr<filter_manager> filters;
  std::unique_ptr<media::media_plane> media;  ///< the media thread (frees what media_dp hands it)
  control_counters counters;
  api_context api;
  std::unique_ptr<http_api> http;
  std::unique_ptr<control_loop> loop;

  bool running = false;  ///< start() succeeded and stop() has not yet finished the bridge
  bool stopped = false;
  int status = exit_ok;
  std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();

  int fail(int status_on_failure);
  void finish();
  void release(bool log_stopped = false);
};

appliance::appliance(config cfg, const std::array<dp::port_spec, 2>& ports, dp::eal_plan plan)
    : _p(std::make_unique<parts>()) {
  _p->cfg = std::move(cfg);
  _p->ports = ports;
  _p->plan = std::move(plan);
}

appliance::~appliance() {
  stop();
}

// A failed start: undoes what was built (release()) and returns STATUS.
int appliance::parts::fail(int status_on_failure) {
  release();
  stopped = true;
  status = status_on_failure;
  return status_on_failure;
}

int appliance::start() {
  parts& p = *_p;
  const config& cfg = p.cfg;
  std::string err;
  // The state directory, call log and API token: checked before DPDK starts too.
  // Kernel interfaces need the state directory too: the originals of what the bridge
  // changes on them are recorded there (crash recovery, ctl/ha.h).
  const bool kernel_ports = has_kernel_ports(p.ports);
  if (cfg.sip.enabled || cfg.http.enabled || kernel_ports) {
    p.lock = std::make_unique<state_lock>();
    if (!ensure_dir(cfg.storage.state_dir, &err) || !p.lock->acquire(cfg.storage.state_dir, &err)) {
      RB_LOG_ERR("%s", err.c_str());
      return p.fail(exit_usage_error);
    }
  }
  if (cfg.sip.enabled || cfg.http.enabled) {
    if (!(p.db = store::open(database_options(cfg), &err))) {
      RB_LOG_ERR("%s", err.c_str());
      return p.fail(exit_usage_error);
    }
  }
  if (cfg.http.enabled) {
    http_settings& hs = p.http_opts;
    hs = http_options(cfg);
    if (hs.token.empty()) {
      const std::string path = cfg.storage.state_dir + "/api-token";
      bool created = false;
      if (!load_or_create_token(path, &hs.token, &created, &err)) {
        RB_LOG_ERR("%s", err.c_str());
        return p.fail(exit_usage_error);
      }
      RB_LOG_NOTICE("API token %s %s (send it as \"Authorization: Bearer <token>\")",
                    created ? "generated into" : "read from", path.c_str());
    }
    if (!cfg.http.cert.empty()) {
      hs.tls_pem = cfg.storage.state_dir + "/https.pem";
      hs.tls_chain = cfg.http.cert;
      if (!write_tls_pem(cfg.http.cert, cfg.http.key, hs.tls_pem, &err)) {
        RB_LOG_ERR("%s", err.c_str());
        return p.fail(exit_usage_error);
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
                RINGBRIDGE_VERSION, p.ports[0].text.c_str(), p.ports[1].text.c_str(),
                cfg.dataplane.workers);
  for (const auto& w : p.plan.warnings) RB_LOG_WARN("%s", w.c_str());
  install_signal_handlers();
  if (!release_before_eal(cfg, p.ports)) return p.fail(exit_usage_error);

  if (!dp::eal_start(p.plan, &err)) {
    RB_LOG_ERR("%s", err.c_str());
    p.eal = parts::eal_state::stopped;
    dp::eal_stop(p.plan, false);
    return p.fail(exit_runtime_error);
  }
  p.eal = parts::eal_state::started;

  dp::bridge_config bc = dataplane_options(cfg, p.ports, p.plan);
  // Notification / export sinks: built (not started) before the dataplane, so that
  // workers capture SIP messages only when a sink exports them.
  p.notify = plugin::hub::create(cfg.notify, &err);
  if (!p.notify) {
    RB_LOG_ERR("%s", err.c_str());
    return p.fail(exit_usage_error);
  }
  dp::sip_config sc = sip_options(cfg);
  sc.capture_messages = cfg.sip.enabled && p.notify->wants_sip_messages();
  set_number_format(cfg.filters.numbers);  // one format for the workers and the control side
  p.bridge = dp::bridge::create(bc, &err);
  if (p.bridge && cfg.sip.enabled) {
    // The frame path: SIP inspection, with the filters' verdict as its request hook.
    const unsigned workers = cfg.dataplane.workers;
    p.sip = dp::sip_dataplane::create(sc, workers, &err);
    if (!p.sip) p.bridge.reset();
    if (p.sip && cfg.filters.enabled) {
      p.filter_dp = std::make_unique<dp::filter_dataplane>(
          filter_dp_options(cfg), workers, p.bridge->pool(), p.bridge->rcu(), dp::tsc_hz());
      p.filter_dp->attach(*p.sip);
    }
    // The media plane after SIP: SIP's message hook installs the flows an SDP announces,
    // the media stage hands their frames over.
    if (p.sip && media_enabled(cfg)) {
      p.media_dp = std::make_unique<dp::media_dataplane>(media_dp_options(cfg), workers);
      p.media_dp->attach(*p.sip);
    }
    for (unsigned w = 0; p.bridge && w < workers; w++) {
      if (!p.bridge->add_stage(w, p.sip->stage_for(w), &err)) p.bridge.reset();
      if (p.bridge && p.media_dp && !p.bridge->add_stage(w, p.media_dp->stage_for(w), &err))
        p.bridge.reset();
    }
  }
  if (p.media_dp) {  // built before the workers start: they never hand over to nobody
    p.media = std::make_unique<media::media_plane>(
        recording_options(cfg), *p.media_dp, static_cast<double>(dp::tsc_hz()), dp::tsc_now(),
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());
    media::media_plane* media = p.media.get();
    p.api.call_fields = [media](const call_record& c, nlohmann::json& j) {
      if (auto m = media->info(c.id)) j.update(media::media_info_to_json(*m));
    };
    // Digits to the sinks that asked for "dtmf" events, with the call as the API shows it.
    plugin::hub* hub = p.notify.get();
    api_context* api = &p.api;
    if (!hub->empty())
      p.media->set_dtmf_listener([hub, api](int64_t id, const media::dtmf_digit& d, double when) {
        plugin::call_event ev;
        ev.kind = plugin::event_kind::dtmf;
        ev.id = id;
        ev.time = when;
        ev.digit = std::string(1, d.digit);
        ev.digit_source = d.source == media::dtmf_digit::rfc4733 ? "rfc4733" : "inband";
        for (const call_record& c : api->active.copy())
          if (c.id == id) describe_call(c, api->call_fields, &ev);
        hub->post(ev);
      });
    p.media->start();
  }
  // The filter rules are compiled and published before the first frame is forwarded.
  if (p.bridge && p.filter_dp) {
    p.filters = std::make_unique<filter_manager>(database_options(cfg), &p.filter_dp->slot(),
                                                 cfg.dataplane.workers, filter_options(cfg));
    if (!p.filters->start(&err)) p.bridge.reset();
  }
  if (!p.bridge || !p.bridge->start(&err)) {
    RB_LOG_ERR("%s", err.c_str());
    return p.fail(exit_runtime_error);
  }
  release_after_start(cfg, p.ports);

  if (p.filters) p.filters->set_storage_stats(&p.counters.storage);
  for (const auto& s : p.notify->stats())
    RB_LOG_NOTICE("notify: sink '%s' (%s)", s.name.c_str(), s.type.c_str());
  p.notify->start();
  p.api.bridge = p.bridge.get();
  p.api.sip = p.sip.get();
  p.api.notify = p.notify.get();
  p.api.metric_sources.push_back(plugin::hub_metrics(*p.notify));
  p.api.counters = &p.counters;
  p.api.database = database_options(cfg);
  p.api.state_dir = cfg.storage.state_dir;
  p.api.started = std::chrono::steady_clock::now();
  p.api.filters = p.filters.get();
  if (p.filters) p.api.metric_sources.push_back(filter_metrics(*p.filters));
  if (p.media) {
    media::media_plane* media = p.media.get();
    p.api.metric_sources.push_back(media::media_metrics(*media, *p.media_dp));
    p.api.feature_routes.push_back([media](http_router& r) { add_recording_routes(r, *media); });
  }
  if (cfg.http.enabled) {
    p.http = http_api::start(p.http_opts, &p.api, &err);
    if (!p.http) {
      RB_LOG_ERR("%s", err.c_str());
      return p.fail(exit_runtime_error);
    }
    RB_LOG_NOTICE("HTTP API on %s://%s/api/v1/ and /metrics",
                  p.http_opts.tls_pem.empty() ? "http" : "https", p.http_opts.listen.c_str());
  }
  if (p.db)
    p.loop =
        std::make_unique<control_loop>(p.sip.get(), *p.db, p.api.active, p.counters,
                                       call_options(cfg), retention_options(cfg), p.notify.get());
  if (p.loop && p.media) {
    media::media_plane* media = p.media.get();
    p.loop->set_call_fields(p.api.call_fields);
    p.loop->set_observer([media](const call_change& ch, const dp::sip_event* ev) {
      const call_record& c = ch.call;
      // The call's key as the workers computed it: the whole Call-ID as sent.
      const uint64_t key = c.media_key != 0       ? c.media_key
                           : ev == nullptr        ? keyed_hash64(c.call_id)
                           : ev->call_id.truncated ? ev->call_id_hash
                                                   : keyed_hash64(ev->call_id.view());
      if (ch.what == call_change::created && c.state != call_state::blocked)
        media->call_started(key, c.id, c.direction == call_direction::inbound ? 0 : 1,
                            c.started_at, ev != nullptr ? ev->verdict : 0);
      else if (ch.what == call_change::finished)
        media->call_ended(key, c.id);
    });
    p.loop->set_media_only_source([media] {
      std::vector<control_loop::media_only_call> out;
      for (media::media_notice& n : media->take_notices()) {
        control_loop::media_only_call m;
        m.ended = n.kind == media::media_notice::ended;
        m.key = n.key;
        m.call_id = std::move(n.call_id);
        m.side = n.side;
        m.at = n.at;
        m.reason = std::move(n.reason);
        out.push_back(std::move(m));
      }
      return out;
    });
  }
  p.running = true;
  p.t0 = std::chrono::steady_clock::now();
  return exit_ok;
}

void appliance::run() {
  parts& p = *_p;
  if (!p.running) return;
  const config& cfg = p.cfg;
  dp::bridge& br = *p.bridge;
  control_loop* loop = p.loop.get();
  const bool replay =
      p.ports[0].kind == dp::port_kind::pcap && p.ports[1].kind == dp::port_kind::pcap;
  if (replay)
    RB_LOG_NOTICE("pcap replay: stopping once no frame has arrived for %u ms", cfg.replay.idle_ms);
  const auto t0 = p.t0 = std::chrono::steady_clock::now();
  auto last_periodic = t0;
  auto last_rx_change = t0;
  auto last_housekeeping = t0;
  uint64_t last_rx = 0;
  while (!g_stop.load()) {
    // Events first. The loop naps when the rings are empty (2 ms) and when they hold only
    // a few events (1 ms): under a steady stream of events a nap gathers a batch, so the
    // per-pass work (clocks, the writer, the media plane's notices) is paid per batch and
    // not per event. A ring (4096 events) fills in 1 ms only above 4 M events/s.
    const size_t drained = loop == nullptr ? 0 : loop->drain();
    if (drained < k_control_batch) sleep_ms(drained == 0 ? 2 : 1);
    const auto now = std::chrono::steady_clock::now();
    if (now - last_housekeeping >= std::chrono::seconds(1)) {
      last_housekeeping = now;
      if (loop) loop->housekeeping();
      br.watch_links();
    }
    if (p.filter_dp) p.filter_dp->slot().reclaim();
    if (g_dump_stats.exchange(false)) print_stats(br, p.sip.get(), t0);
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
      print_stats(br, p.sip.get(), t0);
    }
    if (replay) {
      dp::bridge_stats st = br.stats();
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
}

// The orderly end of a run: workers stopped first, so that their last events are applied,
// notified and exported before the HTTP server and the sinks go; the ports closed last, so
// that the mbuf accounting sees everything returned.
void appliance::parts::finish() {
  running = false;
  dp::bridge& br = *bridge;
  br.stop();
  if (loop) {  // what the workers handed over before they stopped
    while (loop->drain() != 0) {
    }
    loop->housekeeping();
    loop->finish(2.0);
  }
  if (media) media->stop();  // every recording closed, every mbuf it held freed; live ends
  http.reset();
  notify->stop(2.0);  // what is queued gets up to 2 s to go out
  print_stats(br, sip.get(), t0);
  br.close_ports();
  const uint64_t in_use = br.mbufs_in_use();
  const uint64_t residue_max = br.mbufs_pmd_residue_max();
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

// Destroys what was built, newest first: the bridge before the EAL (its destructor stops
// the workers and closes the ports of a failed start), the EAL before the state directory's
// lock (the interface record may still be written while the ports close).
void appliance::parts::release(bool log_stopped) {
  loop.reset();
  http.reset();
  media.reset();
  filters.reset();
  bridge.reset();
  media_dp.reset();
  filter_dp.reset();
  sip.reset();
  notify.reset();
  if (eal == eal_state::started) {
    dp::eal_stop(plan, true);
    eal = eal_state::stopped;
  }
  if (log_stopped) RB_LOG_NOTICE("stopped");
  lock.reset();
  db.reset();
}

int appliance::stop() {
  parts& p = *_p;
  if (p.stopped) return p.status;
  p.stopped = true;
  const bool ran = p.running;
  if (ran) p.finish();
  p.release(ran);
  return p.status;
}

int run_appliance(int argc, char** argv) {
  config cfg;
  std::array<dp::port_spec, 2> ports;
  dp::eal_plan plan;
  int status = exit_ok;
  if (!prepare(argc, argv, &cfg, &ports, &plan, &status)) return status;
  appliance app(std::move(cfg), ports, std::move(plan));
  if (int rc = app.start(); rc != exit_ok) return rc;
  app.run();
  return app.stop();
}

}  // namespace ringbridge::ctl
