// SPDX-License-Identifier: BSD-3-Clause
// Port spec parsing, host checks and the EAL device arguments they turn into.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "ringbridge/dp/port_spec.h"

namespace ringbridge::dp {
namespace {

port_spec ok(const char* text) {
  port_spec s;
  std::string err;
  EXPECT_TRUE(parse_port_spec(text, &s, &err)) << text << ": " << err;
  return s;
}

TEST(port_spec, forms) {
  auto x = ok("xdp:eth0");
  EXPECT_EQ(x.kind, port_kind::af_xdp);
  EXPECT_EQ(x.iface, "eth0");
  auto bare = ok("veth-rb1");
  EXPECT_EQ(bare.kind, port_kind::af_xdp);
  EXPECT_EQ(bare.iface, "veth-rb1");
  auto p = ok("afpacket:enp3s0");
  EXPECT_EQ(p.kind, port_kind::af_packet);
  EXPECT_EQ(p.iface, "enp3s0");
  auto pci = ok("pci:0000:03:00.0");
  EXPECT_EQ(pci.kind, port_kind::pci);
  EXPECT_EQ(pci.pci_addr, "0000:03:00.0");
  EXPECT_EQ(ok("pci:3b:00.1").pci_addr, "0000:3b:00.1");
  EXPECT_EQ(ok("pci:0001:AF:1F.7").pci_addr, "0001:af:1f.7");
  auto pc = ok("pcap:/tmp/in.pcap,/tmp/out.pcap");
  EXPECT_EQ(pc.kind, port_kind::pcap);
  EXPECT_EQ(pc.rx_pcap, "/tmp/in.pcap");
  EXPECT_EQ(pc.tx_pcap, "/tmp/out.pcap");
  EXPECT_EQ(ok("null:").kind, port_kind::null);
  EXPECT_EQ(pc.text, "pcap:/tmp/in.pcap,/tmp/out.pcap");
}

struct bad {
  const char* text;
  const char* expect;
};
class port_spec_errors : public ::testing::TestWithParam<bad> {};

TEST_P(port_spec_errors, name_the_spec_and_the_fix) {
  port_spec s;
  std::string err;
  EXPECT_FALSE(parse_port_spec(GetParam().text, &s, &err));
  EXPECT_NE(err.find(std::string("'") + GetParam().text + "'"), std::string::npos) << err;
  EXPECT_NE(err.find(GetParam().expect), std::string::npos) << err;
}

INSTANTIATE_TEST_SUITE_P(
    all, port_spec_errors,
    ::testing::Values(
        bad{"", "empty"}, bad{"xdp:", "empty"}, bad{"tap:eth0", "unknown port kind 'tap'"},
        bad{"xdp:averyveryverylongname0", "at most 15"}, bad{"xdp:a/b", "cannot contain"},
        bad{"xdp:a b", "cannot contain"}, bad{"pci:03:00", "DDDD:BB:DD.F"},
        bad{"pci:0000:03:20.0", "not a PCI address"}, bad{"pci:0000:03:00.8", "not a PCI address"},
        bad{"pci:zz:00.0", "not a PCI address"}, bad{"pcap:in.pcap", "pcap:IN.pcap,OUT.pcap"},
        bad{"pcap:a=b.pcap,out.pcap", "','"}, bad{"pcap:x.pcap,x.pcap", "same file"},
        bad{"null:x", "no argument"}));

TEST(port_spec, host_checks) {
  std::string err;
  EXPECT_TRUE(check_port_present(ok("xdp:lo"), 1, &err)) << err;
  EXPECT_FALSE(check_port_present(ok("xdp:rbnosuch0"), 1, &err));
  EXPECT_NE(err.find("'rbnosuch0' does not exist"), std::string::npos) << err;
  EXPECT_FALSE(check_port_present(ok("afpacket:rbnosuch0"), 1, &err));
  EXPECT_FALSE(check_port_present(ok("pci:0000:ee:1f.7"), 1, &err));
  EXPECT_NE(err.find("no PCI device 0000:ee:1f.7"), std::string::npos) << err;

  char in[] = "/tmp/rb_port_spec_XXXXXX";
  int fd = mkstemp(in);
  ASSERT_GE(fd, 0);
  close(fd);
  std::string good = std::string("pcap:") + in + ",/tmp/rb_port_spec_out.pcap";
  EXPECT_TRUE(check_port_present(ok(good.c_str()), 1, &err)) << err;
  EXPECT_FALSE(check_port_present(ok(good.c_str()), 2, &err));
  EXPECT_NE(err.find("--workers 1"), std::string::npos) << err;
  EXPECT_FALSE(check_port_present(ok("pcap:/nonexistent/in.pcap,/tmp/o.pcap"), 1, &err));
  EXPECT_NE(err.find("cannot read input file '/nonexistent/in.pcap'"), std::string::npos) << err;
  std::string nodir = std::string("pcap:") + in + ",/nonexistent/dir/out.pcap";
  EXPECT_FALSE(check_port_present(ok(nodir.c_str()), 1, &err));
  EXPECT_NE(err.find("/nonexistent/dir"), std::string::npos) << err;
  unlink(in);
}

TEST(port_spec, eal_arguments) {
  frame_geometry g = frame_geometry_for_mtu(1500);
  EXPECT_EQ(g.max_frame, 1522u);
  EXPECT_EQ(g.mbuf_data_room, 2048u);
  auto a = port_eal_arg(ok("xdp:eth0"), 'a', 2);
  EXPECT_EQ(a.flag, "--vdev");
  EXPECT_EQ(a.value, "net_af_xdp_a,iface=eth0,start_queue=0,queue_count=2,busy_budget=64");
  // AF_PACKET ports are ringbridge's own (packet_port.h): nothing for the EAL.
  EXPECT_TRUE(port_eal_arg(ok("afpacket:eth1"), 'b', 1).flag.empty());
  EXPECT_EQ(port_device_name(ok("afpacket:eth1"), 'b'), "rb_af_packet_b");
  EXPECT_EQ(port_eal_arg(ok("pcap:i.pcap,o.pcap"), 'a', 1).value,
            "net_pcap_a,rx_pcap=i.pcap,tx_pcap=o.pcap");
  auto pci = port_eal_arg(ok("pci:0000:03:00.0"), 'b', 4);
  EXPECT_EQ(pci.flag, "-a");
  EXPECT_EQ(pci.value, "0000:03:00.0");
  EXPECT_EQ(port_device_name(ok("pci:0000:03:00.0"), 'b'), "0000:03:00.0");
  EXPECT_EQ(port_device_name(ok("eth0"), 'a'), "net_af_xdp_a");
}

TEST(port_spec, jumbo_frames_fit_one_mbuf) {
  frame_geometry g = frame_geometry_for_mtu(9000);
  EXPECT_EQ(g.max_frame, 9022u);
  EXPECT_GE(g.mbuf_data_room, g.max_frame + 64);
  EXPECT_EQ(g.mbuf_data_room % 16, 0u);
}

}  // namespace
}  // namespace ringbridge::dp
