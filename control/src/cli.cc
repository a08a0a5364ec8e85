// SPDX-License-Identifier: BSD-3-Clause
// Command-line parsing (no global getopt state, so it is testable) and --help text.
#include "ringbridge/ctl/cli.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "ringbridge/common/log.h"

namespace ringbridge::ctl {

std::string usage_text() {
  return R"(Usage: ringbridge [OPTIONS]

A transparent two-port Ethernet bridge on DPDK that understands SIP.
Side A is the network/provider side, side B the phone/PBX side.

Options:
  -c, --config FILE     TOML configuration (see deploy/ringbridge.toml); without it the
                        built-in defaults are used and the ports must come from --port
  -p, --port SPEC       a bridged port; give it twice: first side A, then side B
                        (overrides [ports] a and b). SPEC is one of
                          xdp:IFNAME          kernel interface through AF_XDP
                          afpacket:IFNAME     kernel interface through AF_PACKET
                          pci:0000:03:00.0    NIC bound to vfio-pci
                          pcap:IN.pcap,OUT.pcap  offline replay: read IN, write OUT
                          null:               DPDK net_null (benchmarks)
                          IFNAME              same as xdp:IFNAME
  -w, --workers N       worker lcores (one queue pair per port each); default 1
      --log-level LVL   error, warning, notice (default), info or debug
      --check           validate the configuration and ports, print the DPDK EAL
                        arguments that would be used, and exit
      --fallback on|off on: undo what a stopped or killed ringbridge left on the
                        interfaces (XDP programs, NAPI tuning, promiscuous mode), then
                        with [ha] fallback = "kernel-bridge" bridge them in the kernel
                        until ringbridge is back; off: remove that bridge. Exits after
                        doing it (the systemd unit runs "on" in ExecStopPost=, as root)
      --prepare         apply the AF_XDP NAPI tuning (root-only sysfs files) and record
                        the originals, then exit (the unit's ExecStartPre=, as root)
  -h, --help            this text
  -V, --version         version and the DPDK version built against

Signals: SIGINT/SIGTERM stop cleanly (workers drained, ports stopped, exit 0);
SIGUSR1 prints the counters to stdout.
)";
}

bool parse_cli(int argc, const char* const* argv, cli_options* out, std::string* error) {
  cli_options o;
  for (int i = 1; i < argc; i++) {
    std::string_view arg = argv[i];
    std::string_view name = arg;
    std::optional<std::string_view> inline_value;
    if (arg.starts_with("--")) {
      size_t eq = arg.find('=');
      if (eq != std::string_view::npos) {
        name = arg.substr(0, eq);
        inline_value = arg.substr(eq + 1);
      }
    }
    auto value = [&](std::string* v) -> bool {
      if (inline_value) {
        *v = std::string(*inline_value);
        return true;
      }
      if (i + 1 >= argc) {
        *error = "option '" + std::string(name) + "' needs a value; see ringbridge --help";
        return false;
      }
      *v = argv[++i];
      return true;
    };
    auto no_value = [&]() -> bool {
      if (inline_value) {
        *error = "option '" + std::string(name) + "' takes no value";
        return false;
      }
      return true;
    };
    std::string v;
    if (name == "-h" || name == "--help") {
      if (!no_value()) return false;
      o.help = true;
    } else if (name == "-V" || name == "--version") {
      if (!no_value()) return false;
      o.version = true;
    } else if (name == "--check") {
      if (!no_value()) return false;
      o.check = true;
    } else if (name == "--fallback") {
      if (!value(&v)) return false;
      if (v != "on" && v != "off") {
        *error = "--fallback '" + v + "': expected on or off";
        return false;
      }
      o.fallback = v == "on";
    } else if (name == "--prepare") {
      if (!no_value()) return false;
      o.prepare = true;
    } else if (name == "-c" || name == "--config") {
      if (!value(&v)) return false;
      if (v.empty()) {
        *error = "--config needs a file name";
        return false;
      }
      o.config_path = v;
    } else if (name == "-p" || name == "--port") {
      if (!value(&v)) return false;
      if (o.ports.size() == 2) {
        *error = "--port given more than twice; a bridge has two ports (side A, then side B)";
        return false;
      }
      o.ports.push_back(v);
    } else if (name == "-w" || name == "--workers") {
      if (!value(&v)) return false;
      char* end = nullptr;
      errno = 0;
      long n = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || errno != 0 || n < 1 || n > 64) {
        *error = "--workers '" + v + "': expected a number from 1 to 64";
        return false;
      }
      o.workers = static_cast<unsigned>(n);
    } else if (name == "--log-level") {
      if (!value(&v)) return false;
      log_level l;
      if (!parse_log_level(v.c_str(), &l)) {
        *error = "--log-level '" + v + "': expected error, warning, notice, info or debug";
        return false;
      }
      o.log_level = v;
    } else {
      *error = "unknown option '" + std::string(arg) + "'; see ringbridge --help";
      return false;
    }
  }
  if (int(o.check) + int(o.fallback.has_value()) + int(o.prepare) > 1) {
    *error = "--check, --fallback and --prepare are separate modes; give one of them";
    return false;
  }
  *out = std::move(o);
  return true;
}

bool apply_cli(const cli_options& cli, config* cfg, std::string* error) {
  if (cli.ports.size() == 1) {
    *error = "--port given once; give it twice: first side A (network), then side B (phone)";
    return false;
  }
  if (cli.ports.size() == 2) {
    cfg->ports.a = cli.ports[0];
    cfg->ports.b = cli.ports[1];
  }
  if (cli.workers) cfg->dataplane.workers = *cli.workers;
  if (cli.log_level) cfg->log.level = *cli.log_level;
  return true;
}

}  // namespace ringbridge::ctl
