// SPDX-License-Identifier: BSD-3-Clause
// EAL planning: hugepages vs --no-huge, lcore layout, devices, errors.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "ringbridge/dp/eal.h"

namespace ringbridge::dp {
namespace {

host_facts two_cpus_no_huge() {
  host_facts h;
  h.cpus = {0, 1};
  h.pid = 4242;
  h.runtime_base = "/var/run/dpdk";
  return h;
}

eal_options xdp_pair() {
  eal_options o;
  std::string err;
  EXPECT_TRUE(parse_port_spec("xdp:rbA", &o.ports[0], &err));
  EXPECT_TRUE(parse_port_spec("afpacket:rbB", &o.ports[1], &err));
  return o;
}

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST(eal_plan, no_hugepages_falls_back_with_a_warning) {
  eal_plan p;
  std::string err;
  ASSERT_TRUE(plan_eal(xdp_pair(), two_cpus_no_huge(), &p, &err)) << err;
  EXPECT_TRUE(p.no_huge);
  EXPECT_TRUE(has(p.args, "--no-huge"));
  EXPECT_TRUE(has(p.args, "--no-shconf"));
  EXPECT_FALSE(has(p.args, "--in-memory"));
  EXPECT_TRUE(has(p.args, "--no-pci"));
  ASSERT_EQ(p.warnings.size(), 1u);
  EXPECT_NE(p.warnings[0].find("--no-huge"), std::string::npos);
  EXPECT_EQ(p.file_prefix, "ringbridge-4242");
  EXPECT_EQ(p.runtime_dir, "/var/run/dpdk/ringbridge-4242");
  EXPECT_TRUE(has(p.args, "0@0,1@1"));
  EXPECT_TRUE(has(p.args, "net_af_xdp_a,iface=rbA,start_queue=0,queue_count=1,busy_budget=64"));
  EXPECT_FALSE(has(p.args, "net_af_packet_b,iface=rbB,qpairs=1"));  // ringbridge's own port
  EXPECT_EQ(p.port_names[0], "net_af_xdp_a");
  EXPECT_EQ(p.port_names[1], "rb_af_packet_b");
  // Mempool covers both ports' descriptors plus the AF_XDP reserve.
  EXPECT_GE(p.mbufs, 2u * (1024 + 1024) + 4096);
  EXPECT_EQ((p.mbufs + 1) & p.mbufs, 0u) << "2^n - 1 is the efficient mempool size";
}

TEST(eal_plan, hugepages_used_when_enough_are_free) {
  host_facts h = two_cpus_no_huge();
  h.hugetlbfs_mounted = true;
  h.hugepage_size_kb = 2048;
  h.hugepages_free = 512;  // 1 GB
  eal_plan p;
  std::string err;
  ASSERT_TRUE(plan_eal(xdp_pair(), h, &p, &err)) << err;
  EXPECT_FALSE(p.no_huge);
  EXPECT_TRUE(has(p.args, "--in-memory"));
  EXPECT_FALSE(has(p.args, "--no-huge"));
  EXPECT_TRUE(p.warnings.empty());

  h.hugetlbfs_mounted = false;  // free pages but nowhere mounted
  ASSERT_TRUE(plan_eal(xdp_pair(), h, &p, &err));
  EXPECT_TRUE(p.no_huge);
}

TEST(eal_plan, require_hugepages_fails_with_the_fix) {
  eal_options o = xdp_pair();
  o.hugepages = hugepage_mode::require;
  eal_plan p;
  std::string err;
  EXPECT_FALSE(plan_eal(o, two_cpus_no_huge(), &p, &err));
  EXPECT_NE(err.find("eal.hugepages"), std::string::npos) << err;
  EXPECT_NE(err.find("deploy/hugepages.sh"), std::string::npos) << err;
}

TEST(eal_plan, workers_beyond_cpus_share_them_with_a_warning) {
  eal_options o = xdp_pair();
  o.workers = 3;
  eal_plan p;
  std::string err;
  ASSERT_TRUE(plan_eal(o, two_cpus_no_huge(), &p, &err)) << err;
  EXPECT_TRUE(has(p.args, "0@0,1@1,2@1,3@1"));
  EXPECT_EQ(p.worker_cpus, (std::vector<unsigned>{1, 1, 1}));
  EXPECT_TRUE(std::any_of(p.warnings.begin(), p.warnings.end(), [](const std::string& w) {
    return w.find("CPUs") != std::string::npos;
  }));
  EXPECT_TRUE(has(p.args, "net_af_xdp_a,iface=rbA,start_queue=0,queue_count=3,busy_budget=64"));
}

TEST(eal_plan, pci_ports_are_allow_listed) {
  eal_options o;
  std::string err;
  ASSERT_TRUE(parse_port_spec("pci:0000:03:00.0", &o.ports[0], &err));
  ASSERT_TRUE(parse_port_spec("pci:0000:03:00.1", &o.ports[1], &err));
  eal_plan p;
  ASSERT_TRUE(plan_eal(o, two_cpus_no_huge(), &p, &err)) << err;
  EXPECT_FALSE(has(p.args, "--no-pci"));
  EXPECT_TRUE(has(p.args, "0000:03:00.0"));
  EXPECT_TRUE(has(p.args, "0000:03:00.1"));
}

TEST(eal_plan, errors) {
  eal_plan p;
  std::string err;
  eal_options o = xdp_pair();
  o.ports[1] = o.ports[0];
  o.ports[1].kind = port_kind::af_packet;  // same interface through another PMD
  EXPECT_FALSE(plan_eal(o, two_cpus_no_huge(), &p, &err));
  EXPECT_NE(err.find("same device"), std::string::npos) << err;

  o = xdp_pair();
  o.mbufs = 100;
  EXPECT_FALSE(plan_eal(o, two_cpus_no_huge(), &p, &err));
  EXPECT_NE(err.find("dataplane.mbufs"), std::string::npos) << err;

  o = xdp_pair();
  o.memory_mb = 16;
  EXPECT_FALSE(plan_eal(o, two_cpus_no_huge(), &p, &err));
  EXPECT_NE(err.find("eal.memory_mb"), std::string::npos) << err;

  o = xdp_pair();
  o.file_prefix = "x/y";
  EXPECT_FALSE(plan_eal(o, two_cpus_no_huge(), &p, &err));
  EXPECT_NE(err.find("file_prefix"), std::string::npos) << err;
}

// A SIGKILLed ringbridge cannot remove its runtime directory; the next start does, and
// touches nothing else: live processes' directories, other prefixes, other names.
TEST(eal_runtime_dirs, sweep_removes_only_dead_ringbridges) {
  namespace fs = std::filesystem;
  char tmpl[] = "/tmp/rb-eal-sweep-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const fs::path base = tmpl;
  pid_t child = fork();  // a pid that surely existed and is now gone
  ASSERT_GE(child, 0);
  if (child == 0) _exit(0);
  ASSERT_EQ(waitpid(child, nullptr, 0), child);
  const std::string dead = "ringbridge-" + std::to_string(child);
  const std::string self = "ringbridge-" + std::to_string(getpid());
  const std::string parent = "ringbridge-" + std::to_string(getppid());
  for (const auto& n : {dead, self, parent, std::string("ringbridge-99999999"),
                        std::string("rbperf-tp-1"), std::string("ringbridge-12x"),
                        std::string("ringbridge-")}) {
    fs::create_directory(base / n);
    std::ofstream(base / n / "mp_socket") << "x";
  }
  EXPECT_EQ(sweep_stale_runtime_dirs(base.string(), getpid()), 2u);
  EXPECT_FALSE(fs::exists(base / dead));
  EXPECT_FALSE(fs::exists(base / "ringbridge-99999999"));
  EXPECT_TRUE(fs::exists(base / self / "mp_socket"));
  EXPECT_TRUE(fs::exists(base / parent / "mp_socket"));
  EXPECT_TRUE(fs::exists(base / "rbperf-tp-1"));
  EXPECT_TRUE(fs::exists(base / "ringbridge-12x"));
  EXPECT_TRUE(fs::exists(base / "ringbridge-"));
  EXPECT_EQ(sweep_stale_runtime_dirs((base / "missing").string(), getpid()), 0u);
  fs::remove_all(base);
}

}  // namespace
}  // namespace ringbridge::dp
