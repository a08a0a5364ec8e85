// SPDX-License-Identifier: BSD-3-Clause
// CLI parsing and how it overrides the config.
#include <gtest/gtest.h>

#include "ringbridge/ctl/cli.h"

namespace ringbridge::ctl {
namespace {

bool parse(std::vector<const char*> args, cli_options* o, std::string* err) {
  args.insert(args.begin(), "ringbridge");
  return parse_cli(static_cast<int>(args.size()), args.data(), o, err);
}

TEST(cli, ports_in_order_and_overrides) {
  cli_options o;
  std::string err;
  ASSERT_TRUE(parse({"--port", "xdp:a0", "-p", "afpacket:b0", "--workers=2", "-c", "x.toml",
                     "--log-level", "debug"},
                    &o, &err))
      << err;
  ASSERT_EQ(o.ports.size(), 2u);
  EXPECT_EQ(o.ports[0], "xdp:a0");
  EXPECT_EQ(o.ports[1], "afpacket:b0");
  EXPECT_EQ(o.workers.value(), 2u);
  EXPECT_EQ(o.config_path, "x.toml");
  EXPECT_EQ(o.log_level.value(), "debug");

  config c;
  c.ports.a = "xdp:old_a";
  c.ports.b = "xdp:old_b";
  ASSERT_TRUE(apply_cli(o, &c, &err)) << err;
  EXPECT_EQ(c.ports.a, "xdp:a0");
  EXPECT_EQ(c.ports.b, "afpacket:b0");
  EXPECT_EQ(c.dataplane.workers, 2u);
  EXPECT_EQ(c.log.level, "debug");
}

TEST(cli, config_ports_stay_without_port_flags) {
  cli_options o;
  std::string err;
  ASSERT_TRUE(parse({"--workers", "3"}, &o, &err));
  config c;
  c.ports.a = "xdp:a";
  c.ports.b = "xdp:b";
  ASSERT_TRUE(apply_cli(o, &c, &err));
  EXPECT_EQ(c.ports.a, "xdp:a");
  EXPECT_EQ(c.dataplane.workers, 3u);
}

TEST(cli, help_version_check) {
  cli_options o;
  std::string err;
  ASSERT_TRUE(parse({"--help", "--version", "--check"}, &o, &err));
  EXPECT_TRUE(o.help);
  EXPECT_TRUE(o.version);
  EXPECT_TRUE(o.check);
  EXPECT_NE(usage_text().find("--port"), std::string::npos);
}

struct bad {
  std::vector<const char*> args;
  const char* expect;
};

class cli_errors : public ::testing::TestWithParam<bad> {};

TEST_P(cli_errors, name_the_flag) {
  cli_options o;
  std::string err;
  EXPECT_FALSE(parse(GetParam().args, &o, &err));
  EXPECT_NE(err.find(GetParam().expect), std::string::npos) << err;
}

INSTANTIATE_TEST_SUITE_P(all, cli_errors,
                         ::testing::Values(bad{{"--frobnicate"}, "unknown option '--frobnicate'"},
                                           bad{{"--workers", "0"}, "--workers '0'"},
                                           bad{{"--workers", "two"}, "--workers 'two'"},
                                           bad{{"--workers", "65"}, "1 to 64"},
                                           bad{{"--port"}, "'--port' needs a value"},
                                           bad{{"--config"}, "'--config' needs a value"},
                                           bad{{"--help=yes"}, "takes no value"},
                                           bad{{"--log-level", "loud"}, "--log-level 'loud'"},
                                           bad{{"-p", "a", "-p", "b", "-p", "c"},
                                               "more than twice"}));

TEST(cli, a_single_port_is_an_error) {
  cli_options o;
  std::string err;
  ASSERT_TRUE(parse({"--port", "xdp:a"}, &o, &err));
  config c;
  EXPECT_FALSE(apply_cli(o, &c, &err));
  EXPECT_NE(err.find("--port given once"), std::string::npos) << err;
}

}  // namespace
}  // namespace ringbridge::ctl
