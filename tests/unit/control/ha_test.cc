// SPDX-License-Identifier: BSD-3-Clause
// [ha] and the HTTPS/token settings: parsing, the fallback bridge's name, the CLI modes,
// loopback detection, and the token file's permission check.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "ringbridge/ctl/cli.h"
#include "ringbridge/ctl/config.h"
#include "ringbridge/ctl/ha.h"
#include "ringbridge/ctl/http_api.h"

namespace ringbridge::ctl {
namespace {

using fallback_kind = config::ha_section::fallback_kind;

bool parse(const std::string& text, config* c, std::string* err) {
  return parse_config(text, "test.toml", c, err);
}

std::array<dp::port_spec, 2> ports(const std::string& a, const std::string& b) {
  std::array<dp::port_spec, 2> p;
  std::string err;
  EXPECT_TRUE(dp::parse_port_spec(a, &p[0], &err)) << err;
  EXPECT_TRUE(dp::parse_port_spec(b, &p[1], &err)) << err;
  return p;
}

TEST(ha_config, defaults_to_no_fallback) {
  config c;
  std::string err;
  ASSERT_TRUE(parse("", &c, &err)) << err;
  EXPECT_EQ(c.ha.fallback, fallback_kind::none);
  EXPECT_TRUE(c.ha.bridge.empty());
  EXPECT_TRUE(c.http.cert.empty() && c.http.key.empty());
}

TEST(ha_config, keys_are_applied_and_checked) {
  config c;
  std::string err;
  ASSERT_TRUE(parse("[ha]\nfallback = \"kernel-bridge\"\nbridge = \"rbfb0\"\n", &c, &err)) << err;
  EXPECT_EQ(c.ha.fallback, fallback_kind::kernel_bridge);
  EXPECT_EQ(c.ha.bridge, "rbfb0");

  EXPECT_FALSE(parse("[ha]\nfallback = \"bypass\"\n", &c, &err));
  EXPECT_NE(err.find("ha.fallback: must be \"none\" or \"kernel-bridge\""), std::string::npos)
      << err;
  EXPECT_FALSE(parse("[ha]\nbridge = \"a-name-longer-than-15\"\n", &c, &err));
  EXPECT_NE(err.find("ha.bridge: must be an interface name"), std::string::npos) << err;
  EXPECT_FALSE(parse("[ha]\nbridge = \"br/0\"\n", &c, &err));
  EXPECT_FALSE(parse("[ha]\nstp = true\n", &c, &err));
  EXPECT_NE(err.find("unknown key 'ha.stp'"), std::string::npos) << err;
}

TEST(ha_config, fallback_bridge_name_derives_from_side_a) {
  config c;
  EXPECT_EQ(fallback_bridge_name(c, ports("xdp:eth1", "xdp:eth2")), "rbfb-eth1");
  EXPECT_EQ(fallback_bridge_name(c, ports("afpacket:enp3s0f0np0", "xdp:eth2")), "rbfb-enp3s0f0np");
  c.ha.bridge = "wire0";
  EXPECT_EQ(fallback_bridge_name(c, ports("xdp:eth1", "xdp:eth2")), "wire0");
}

TEST(ha_config, kernel_bridge_needs_two_kernel_interfaces) {
  config c;
  c.ha.fallback = fallback_kind::kernel_bridge;
  std::string err;
  EXPECT_TRUE(check_ha_config(c, ports("xdp:eth1", "afpacket:eth2"), &err)) << err;
  EXPECT_FALSE(check_ha_config(c, ports("xdp:eth1", "pci:0000:03:00.0"), &err));
  EXPECT_NE(err.find("port b is 'pci:0000:03:00.0'"), std::string::npos) << err;
  c.ha.bridge = "eth2";
  EXPECT_FALSE(check_ha_config(c, ports("xdp:eth1", "xdp:eth2"), &err));
  EXPECT_NE(err.find("[ha] bridge = \"eth2\" is one of the bridged interfaces"), std::string::npos)
      << err;
  c.ha.fallback = fallback_kind::none;  // nothing to check without a fallback
  EXPECT_TRUE(check_ha_config(c, ports("pcap:a,b", "null:"), &err));
}

TEST(ha_config, https_needs_cert_and_key_together) {
  config c;
  std::string err;
  ASSERT_TRUE(parse("[ports]\na = \"x\"\nb = \"y\"\n[http]\ncert = \"/etc/c.pem\"\n", &c, &err));
  EXPECT_FALSE(validate_config(c, &err));
  EXPECT_NE(err.find("[http] cert and key go together"), std::string::npos) << err;
  c.http.key = "/etc/k.pem";
  EXPECT_TRUE(validate_config(c, &err)) << err;
  EXPECT_FALSE(parse("[http]\nkey = \"\"\n", &c, &err));
}

TEST(ha_cli, fallback_and_prepare_modes) {
  cli_options o;
  std::string err;
  const char* on[] = {"ringbridge", "--config", "x.toml", "--fallback", "on"};
  ASSERT_TRUE(parse_cli(5, on, &o, &err)) << err;
  ASSERT_TRUE(o.fallback.has_value());
  EXPECT_TRUE(*o.fallback);
  const char* off[] = {"ringbridge", "--fallback=off"};
  ASSERT_TRUE(parse_cli(2, off, &o, &err)) << err;
  EXPECT_FALSE(*o.fallback);
  const char* bad[] = {"ringbridge", "--fallback", "maybe"};
  EXPECT_FALSE(parse_cli(3, bad, &o, &err));
  EXPECT_NE(err.find("--fallback 'maybe': expected on or off"), std::string::npos) << err;
  const char* prep[] = {"ringbridge", "--prepare"};
  ASSERT_TRUE(parse_cli(2, prep, &o, &err)) << err;
  EXPECT_TRUE(o.prepare);
  const char* both[] = {"ringbridge", "--prepare", "--fallback", "on"};
  EXPECT_FALSE(parse_cli(4, both, &o, &err));
  EXPECT_NE(err.find("separate modes"), std::string::npos) << err;
}

TEST(http_settings, loopback_listen_addresses) {
  EXPECT_TRUE(listen_is_loopback("127.0.0.1:8080"));
  EXPECT_TRUE(listen_is_loopback("127.1.2.3:80"));
  EXPECT_TRUE(listen_is_loopback("[::1]:8080"));
  EXPECT_TRUE(listen_is_loopback("localhost:8080"));
  EXPECT_FALSE(listen_is_loopback("0.0.0.0:8080"));
  EXPECT_FALSE(listen_is_loopback("192.168.1.2:8080"));
  EXPECT_FALSE(listen_is_loopback("[::]:8080"));
  EXPECT_FALSE(listen_is_loopback("1270.0.0.1:8080"));
}

TEST(http_settings, token_file_readable_by_others_is_refused) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("rb-token-" + std::to_string(getpid()))).string();
  std::ofstream(path) << "0123456789abcdef0123\n";
  std::string token, err;
  bool created = true;
  chmod(path.c_str(), 0640);
  EXPECT_FALSE(load_or_create_token(path, &token, &created, &err));
  EXPECT_NE(err.find("token file '" + path + "' is readable by group or others (mode 0640)"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("chmod 600 '" + path + "'"), std::string::npos) << err;
  chmod(path.c_str(), 0600);
  EXPECT_TRUE(load_or_create_token(path, &token, &created, &err)) << err;
  EXPECT_EQ(token, "0123456789abcdef0123");
  EXPECT_FALSE(created);
  std::filesystem::remove(path);
  EXPECT_TRUE(load_or_create_token(path, &token, &created, &err)) << err;
  EXPECT_TRUE(created);
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace ringbridge::ctl
