// SPDX-License-Identifier: BSD-3-Clause
// Command-line parsing for the ringbridge binary, and applying it over the config.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ringbridge/ctl/config.h"

namespace ringbridge::ctl {

struct cli_options {
  std::string config_path;               ///< --config FILE ("" = embedded defaults)
  std::vector<std::string> ports;        ///< --port SPEC, in order: side A, then side B
  std::optional<unsigned> workers;       ///< --workers N
  std::optional<std::string> log_level;  ///< --log-level LEVEL
  bool help = false;
  bool version = false;
  bool check = false;  ///< --check: validate, print the plan, exit
  /// --fallback on|off: hand the interfaces to the kernel-bridge fallback (after undoing what
  /// a stopped or killed run left on them), or take the fallback bridge away; then exit.
  std::optional<bool> fallback;
  bool prepare = false;  ///< --prepare: apply the root-only interface tuning, then exit
};

/// Parses ARGV (argv[0] skipped). Accepts "--opt value", "--opt=value" and short forms.
/// False with *error naming the flag and the fix on bad input.
bool parse_cli(int argc, const char* const* argv, cli_options* out, std::string* error);

/// Applies CLI overrides to CFG (ports, workers, log level). False with *error when the
/// combination is wrong (e.g. --port given once).
bool apply_cli(const cli_options& cli, config* cfg, std::string* error);

/// The --help text.
std::string usage_text();

}  // namespace ringbridge::ctl
