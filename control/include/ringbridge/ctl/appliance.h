// SPDX-License-Identifier: BSD-3-Clause
// The ringbridge program: CLI + config → EAL → bridge → control loop → clean exit.
//
// Owns: the order in which the parts are built (state directory, call log, API token,
// EAL, notification hub, bridge, filters, HTTP server, control loop), run and torn down,
// the signal handlers, and the exit status. Each part's options come from ctl/options.h;
// what the parts do is theirs. May touch every control-side part and the dataplane's
// public start/stop (dp/eal.h, dp/bridge.h); nothing per packet.
#pragma once

#include <array>
#include <memory>

#include "ringbridge/ctl/config.h"
#include "ringbridge/dp/eal.h"
#include "ringbridge/dp/port_spec.h"

namespace ringbridge::ctl {

/// Exit statuses of the ringbridge binary.
enum exit_status : int {
  exit_ok = 0,
  exit_runtime_error = 1,  ///< EAL, port or mempool set-up failed
  exit_usage_error = 2,    ///< bad CLI, config, port spec, file permission or missing
                           ///< capability found before anything was started
  exit_leak = 70,          ///< stopped, but mbufs were not all returned (a bug)
};

/// The running appliance: every part, built by start(), run by run(), torn down by stop().
/// Main thread only (the EAL's main lcore); one per process (the EAL is). Not copyable.
class appliance {
 public:
  /// CFG validated (validate_config), PORTS parsed from its [ports], PLAN derived by
  /// dp::plan_eal() for them. Builds nothing.
  appliance(config cfg, const std::array<dp::port_spec, 2>& ports, dp::eal_plan plan);
  /// stop(), if it has not run.
  ~appliance();
  appliance(const appliance&) = delete;
  appliance& operator=(const appliance&) = delete;

  /// Builds every part in order, installs the signal handlers and starts the workers.
  /// exit_ok when all runs; otherwise the failure is logged, what was built is undone, and
  /// the exit status is returned (exit_usage_error: state directory, call log, API token,
  /// TLS files, interfaces held by another ringbridge, a notification sink; exit_runtime_error:
  /// EAL, ports, filters, HTTP listen address). Call once.
  int start();

  /// The control loop: drains the workers' events, housekeeping once a second, stats on
  /// SIGUSR1 and every [stats] interval_s, the injected stall on SIGUSR2. Returns on
  /// SIGINT/SIGTERM, or in pcap replay once the input is exhausted. After start() == exit_ok.
  void run();

  /// Tears down in the reverse order of start(): workers stopped, their last events
  /// applied, HTTP server and sinks stopped, final stats printed, ports closed (interfaces
  /// restored), mbufs accounted for, EAL stopped, state directory unlocked. Returns the exit
  /// status (exit_ok, or exit_leak when mbufs were not returned). Idempotent.
  int stop();

 private:
  struct parts;
  std::unique_ptr<parts> _p;
};

/// Runs the appliance until SIGINT/SIGTERM (or end of input in pcap replay mode): parses
/// the CLI and config, checks everything that can be checked before DPDK starts, runs the
/// one-shot modes (--help, --version, --check, --fallback, --prepare), else start(), run(),
/// stop(). Main thread only; returns the process exit status.
int run_appliance(int argc, char** argv);

}  // namespace ringbridge::ctl
