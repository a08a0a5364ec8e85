// SPDX-License-Identifier: BSD-3-Clause
// The ringbridge program: CLI + config → EAL → bridge → control loop → clean exit.
#pragma once

namespace ringbridge::ctl {

/// Exit statuses of the ringbridge binary.
enum exit_status : int {
  exit_ok = 0,
  exit_runtime_error = 1,  ///< EAL, port or mempool set-up failed
  exit_usage_error = 2,    ///< bad CLI, config, port spec, file permission or missing
                           ///< capability found before anything was started
  exit_leak = 70,          ///< stopped, but mbufs were not all returned (a bug)
};

/// Runs the appliance until SIGINT/SIGTERM (or end of input in pcap replay mode).
/// Main thread only; installs signal handlers; returns the process exit status.
int run_appliance(int argc, char** argv);

}  // namespace ringbridge::ctl
