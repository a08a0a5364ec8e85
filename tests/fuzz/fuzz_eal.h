// SPDX-License-Identifier: BSD-3-Clause
// DPDK's EAL for the fuzz targets that need real mbufs: --no-huge, one lcore, a private
// file prefix, and the runtime directory removed right after start-up (with --no-shconf
// nothing in it is used later), so not even a crash leaves it behind.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

#include "ringbridge/common/log.h"
#include "ringbridge/dp/eal.h"

namespace ringbridge::fuzz {

/// Starts the EAL for target NAME (messages, file prefix "rb-fuzz-NAME-<pid>") or exits.
inline dp::eal_plan start_eal(const char* argv0, const char* name) {
  set_log_level(log_level::error);
  const dp::host_facts h = dp::probe_host();
  dp::eal_plan plan;
  plan.file_prefix = std::string("rb-fuzz-") + name + "-" + std::to_string(h.pid);
  plan.runtime_dir = h.runtime_base + "/" + plan.file_prefix;
  plan.args = {argv0 ? argv0 : name,
               "--no-huge",
               "--no-pci",
               "--no-shconf",
               "--no-telemetry",
               "--file-prefix",
               plan.file_prefix,
               "-m",
               "128",
               "--lcores",
               "0@" + std::to_string(h.cpus.empty() ? 0 : h.cpus[0]),
               "--log-level",
               "error"};
  std::string err;
  if (!dp::eal_start(plan, &err)) {
    std::fprintf(stderr, "%s_fuzz: %s\n", name, err.c_str());
    std::exit(1);
  }
  dp::remove_runtime_dir(plan);
  return plan;
}

}  // namespace ringbridge::fuzz
