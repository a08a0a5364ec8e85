// SPDX-License-Identifier: BSD-3-Clause
// EAL argument planning (hugepages or --no-huge, lcores, devices) and EAL start/stop.
#include "ringbridge/dp/eal.h"

#include <dirent.h>
#include <signal.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string_view>
#include <vector>

#include "ringbridge/common/log.h"

namespace ringbridge::dp {

namespace {

// AF_XDP keeps up to 2 x 2048 mbufs per queue in its fill ring and umem.
constexpr uint32_t k_af_xdp_reserve = 4096;
constexpr uint32_t k_mempool_cache = 256;
// Memory DPDK needs beside the mempool: rings, AF_XDP/AF_PACKET queues, malloc heap.
constexpr uint64_t k_overhead_mb = 160;

// libbpf and libxdp (loaded by net_af_xdp) print harmless warnings on every start, e.g.
// "No bpffs found ... falling back to loading single prog". Keep them at info level.
int relay_libbpf(enum libbpf_print_level level, const char* fmt, va_list ap) {
  log_vmsg(level == LIBBPF_WARN ? log_level::info : log_level::debug, "libbpf: ", fmt, ap);
  return 0;
}
int relay_libxdp(enum libxdp_print_level level, const char* fmt, va_list ap) {
  log_vmsg(level == LIBXDP_WARN ? log_level::info : log_level::debug, "libxdp: ", fmt, ap);
  return 0;
}

uint32_t pow2_minus_one_at_least(uint32_t n) {
  uint32_t v = 1;
  while (v - 1 < n) v <<= 1;
  return v - 1;
}

}  // namespace

host_facts probe_host() {
  host_facts h;
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  uint64_t value;
  std::string line;
  while (std::getline(meminfo, line)) {
    std::istringstream ls(line);
    if (!(ls >> key >> value)) continue;
    if (key == "HugePages_Free:") h.hugepages_free = value;
    if (key == "Hugepagesize:") h.hugepage_size_kb = value;
  }
  std::ifstream mounts("/proc/mounts");
  while (std::getline(mounts, line)) {
    std::istringstream ls(line);
    std::string dev, dir, type;
    if (ls >> dev >> dir >> type && type == "hugetlbfs") h.hugetlbfs_mounted = true;
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    for (unsigned c = 0; c < CPU_SETSIZE; c++)
      if (CPU_ISSET(c, &set)) h.cpus.push_back(c);
  }
  if (h.cpus.empty()) h.cpus.push_back(0);
  h.pid = static_cast<int>(getpid());
  if (getuid() == 0) {
    h.runtime_base = "/var/run/dpdk";
  } else if (const char* xdg = std::getenv("XDG_RUNTIME_DIR"); xdg != nullptr && *xdg) {
    h.runtime_base = std::string(xdg) + "/dpdk";
  } else {
    h.runtime_base = "/tmp/dpdk";
  }
  return h;
}

bool plan_eal(const eal_options& opt, const host_facts& host, eal_plan* plan, std::string* error) {
  eal_plan p;
  if (opt.workers == 0 || opt.workers > 64) {
    *error = "workers must be between 1 and 64 (got " + std::to_string(opt.workers) + ")";
    return false;
  }
  if (opt.mtu < 68 || opt.mtu > 9600) {
    *error = "dataplane.mtu must be between 68 and 9600 (got " + std::to_string(opt.mtu) + ")";
    return false;
  }
  p.geometry = frame_geometry_for_mtu(opt.mtu);
  p.file_prefix =
      opt.file_prefix.empty() ? "ringbridge-" + std::to_string(host.pid) : opt.file_prefix;
  if (p.file_prefix.find_first_of("/ ") != std::string::npos) {
    *error = "eal.file_prefix '" + p.file_prefix + "' must not contain '/' or spaces";
    return false;
  }
  p.runtime_dir = host.runtime_base + "/" + p.file_prefix;

  // Mempool: every rx and tx descriptor of every queue may hold an mbuf, plus per-lcore
  // caches and the frames in flight in each worker's rx burst and tx buffers.
  uint64_t need = 0;
  for (const auto& port : opt.ports) {
    uint64_t per_queue = uint64_t(opt.rx_desc) + opt.tx_desc + 2 * 64;
    if (port.kind == port_kind::af_xdp) per_queue += k_af_xdp_reserve;
    need += per_queue * opt.workers;
  }
  need += uint64_t(k_mempool_cache) * (opt.workers + 1) + 1024 + opt.held_mbufs;
  if (opt.mbufs != 0) {
    if (opt.mbufs < need) {
      *error = "dataplane.mbufs = " + std::to_string(opt.mbufs) + " is too small for " +
               std::to_string(opt.workers) + " worker(s) with these ports and descriptors; " +
               "it needs at least " + std::to_string(need) + " (or leave it 0 for automatic)";
      return false;
    }
    p.mbufs = opt.mbufs;
  } else {
    p.mbufs = pow2_minus_one_at_least(static_cast<uint32_t>(need));
  }
  p.mbuf_size = p.geometry.mbuf_data_room + RTE_PKTMBUF_HEADROOM + sizeof(rte_mbuf) + 64;
  uint64_t pool_mb = (uint64_t(p.mbufs) * p.mbuf_size + (1u << 20) - 1) >> 20;
  uint64_t need_mb = pool_mb + k_overhead_mb;

  // Hugepages: used only when enough are free on a mounted hugetlbfs.
  uint64_t huge_free_mb = host.hugepages_free * host.hugepage_size_kb / 1024;
  bool huge_ok = host.hugetlbfs_mounted && huge_free_mb >= need_mb;
  if (opt.hugepages == hugepage_mode::require && !huge_ok) {
    *error = "eal.hugepages = \"require\" but only " + std::to_string(huge_free_mb) +
             " MB of hugepages are free" + (host.hugetlbfs_mounted ? "" : " and none is mounted") +
             " (" + std::to_string(need_mb) +
             " MB needed); run deploy/hugepages.sh or set eal.hugepages = \"auto\"";
    return false;
  }
  p.no_huge = opt.hugepages == hugepage_mode::off || !huge_ok;
  if (p.no_huge && opt.hugepages == hugepage_mode::automatic)
    p.warnings.push_back("no usable hugepages (" + std::to_string(huge_free_mb) + " MB free, " +
                         std::string(host.hugetlbfs_mounted ? "" : "no hugetlbfs mounted, ") +
                         std::to_string(need_mb) +
                         " MB needed): running with --no-huge, which is slower; "
                         "deploy/hugepages.sh sets them up");

  // lcores: lcore 0 (control) on the first CPU, workers on the next ones. When there are
  // not enough CPUs the workers share them, which works but costs throughput.
  const auto& cpus = host.cpus;
  std::string lcores = "0@" + std::to_string(cpus[0]);
  for (unsigned w = 0; w < opt.workers; w++) {
    unsigned cpu = cpus.size() == 1 ? cpus[0] : cpus[1 + w % (cpus.size() - 1)];
    p.worker_cpus.push_back(cpu);
    lcores += "," + std::to_string(w + 1) + "@" + std::to_string(cpu);
  }
  if (opt.workers + 1 > cpus.size())
    p.warnings.push_back(std::to_string(opt.workers) + " worker(s) + control need " +
                         std::to_string(opt.workers + 1) + " CPUs but " +
                         std::to_string(cpus.size()) +
                         " are available: CPUs are shared, so throughput suffers and frames wait "
                         "milliseconds while the threads on a CPU take turns");

  auto& a = p.args;
  a = {"ringbridge", "--file-prefix", p.file_prefix, "--lcores",      lcores, "--main-lcore",
       "0",          "--log-level",   opt.log_level, "--no-telemetry"};
  if (p.no_huge) {
    uint64_t mem = opt.memory_mb != 0 ? opt.memory_mb : std::max<uint64_t>(256, need_mb * 2);
    if (opt.memory_mb != 0 && opt.memory_mb < need_mb) {
      *error = "eal.memory_mb = " + std::to_string(opt.memory_mb) + " is too small; " +
               std::to_string(need_mb) + " MB are needed (or leave it 0 for automatic)";
      return false;
    }
    a.insert(a.end(), {"--no-huge", "--no-shconf", "-m", std::to_string(mem)});
  } else {
    a.push_back("--in-memory");
  }
  bool any_pci = false;
  for (int side = 0; side < 2; side++) {
    const auto& port = opt.ports[side];
    char s = side == 0 ? 'a' : 'b';
    if (port.kind == port_kind::pci) any_pci = true;
    auto arg = port_eal_arg(port, s, opt.workers, opt.af_xdp_busy_budget);
    if (!arg.flag.empty()) {
      a.push_back(arg.flag);
      a.push_back(arg.value);
    }
    p.port_names[side] = port_device_name(port, s);
  }
  if (p.port_names[0] == p.port_names[1] ||
      (opt.ports[0].is_kernel_iface() && opt.ports[1].is_kernel_iface() &&
       opt.ports[0].iface == opt.ports[1].iface)) {
    *error = "ports a and b name the same device ('" + opt.ports[0].text + "', '" +
             opt.ports[1].text + "'); a bridge needs two different ports";
    return false;
  }
  if (!any_pci) a.push_back("--no-pci");
  *plan = std::move(p);
  return true;
}

void route_bpf_logs() {
  libbpf_set_print(relay_libbpf);
  libxdp_set_print(relay_libxdp);
}

bool eal_start(const eal_plan& plan, std::string* error) {
  // rte_eal_init may reorder argv; give it copies that live for the whole process.
  static std::vector<std::string> storage;
  static std::vector<char*> argv;
  storage = plan.args;
  argv.clear();
  for (auto& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  std::string cmd;
  for (const auto& s : plan.args) cmd += (cmd.empty() ? "" : " ") + s;
  RB_LOG_INFO("EAL arguments: %s", cmd.c_str());
  route_bpf_logs();
  if (auto slash = plan.runtime_dir.rfind('/'); slash != std::string::npos && slash > 0)
    sweep_stale_runtime_dirs(plan.runtime_dir.substr(0, slash), static_cast<int>(getpid()));
  int rc = rte_eal_init(static_cast<int>(storage.size()), argv.data());
  if (rc < 0) {
    *error = std::string("DPDK EAL initialisation failed: ") + rte_strerror(rte_errno) +
             " (EAL arguments: " + cmd + ")";
    return false;
  }
  return true;
}

namespace {

bool remove_dir_and_files(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return errno == ENOENT;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    std::string path = dir + "/" + name;
    if (unlink(path.c_str()) != 0 && errno == EISDIR) rmdir(path.c_str());
  }
  closedir(d);
  return rmdir(dir.c_str()) == 0 || errno == ENOENT;
}

/// The pid in "ringbridge-<digits>", or 0 for any other name.
long default_prefix_pid(const std::string& name) {
  static constexpr std::string_view k_prefix = "ringbridge-";
  if (name.size() <= k_prefix.size() || name.size() > k_prefix.size() + 9 ||
      name.compare(0, k_prefix.size(), k_prefix) != 0)
    return 0;
  long pid = 0;
  for (size_t i = k_prefix.size(); i < name.size(); i++) {
    if (name[i] < '0' || name[i] > '9') return 0;
    pid = pid * 10 + (name[i] - '0');
  }
  return pid;
}

}  // namespace

void remove_runtime_dir(const eal_plan& plan) {
  if (plan.runtime_dir.empty()) return;
  if (!remove_dir_and_files(plan.runtime_dir))
    RB_LOG_WARN("could not remove DPDK runtime directory %s: %s", plan.runtime_dir.c_str(),
                std::strerror(errno));
}

unsigned sweep_stale_runtime_dirs(const std::string& base, int self_pid) {
  DIR* d = opendir(base.c_str());
  if (d == nullptr) return 0;
  std::vector<std::string> stale;
  while (dirent* e = readdir(d)) {
    long pid = default_prefix_pid(e->d_name);
    if (pid <= 0 || pid == self_pid) continue;
    // Alive, or not ours to judge (EPERM: a process of another user has that pid).
    if (kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    stale.emplace_back(base + "/" + e->d_name);
  }
  closedir(d);
  unsigned removed = 0;
  for (const auto& dir : stale) {
    if (remove_dir_and_files(dir)) {
      removed++;
      RB_LOG_NOTICE("removed %s: the ringbridge that made it is gone (killed?)", dir.c_str());
    }
  }
  return removed;
}

void eal_stop(const eal_plan& plan, bool eal_started) {
  if (eal_started) {
    int rc = rte_eal_cleanup();
    if (rc != 0) RB_LOG_WARN("rte_eal_cleanup failed: %s", rte_strerror(-rc));
  }
  remove_runtime_dir(plan);
}

}  // namespace ringbridge::dp
