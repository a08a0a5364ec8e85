// SPDX-License-Identifier: BSD-3-Clause
// Config parsing: defaults, every section, and errors that name the key and the fix.
#include <gtest/gtest.h>

#include <fstream>

#include "ringbridge/ctl/config.h"

namespace ringbridge::ctl {
namespace {

bool parse(const std::string& text, config* c, std::string* err) {
  return parse_config(text, "test.toml", c, err);
}

TEST(config, empty_text_gives_embedded_defaults) {
  config c;
  std::string err;
  ASSERT_TRUE(parse("", &c, &err)) << err;
  EXPECT_EQ(c.dataplane.workers, 1u);
  EXPECT_EQ(c.dataplane.mtu, 1500u);
  EXPECT_EQ(c.dataplane.burst, 32);
  EXPECT_EQ(c.dataplane.tx_flush_us, 100u);
  EXPECT_EQ(c.eal.hugepages, dp::hugepage_mode::automatic);
  EXPECT_EQ(c.dataplane.af_xdp_busy_budget, 64u);
  EXPECT_FALSE(c.dataplane.af_xdp_tune_napi) << "off: perf/RESULTS.md, issue 11";
  EXPECT_TRUE(c.ports.a.empty());
  EXPECT_TRUE(c.sip.enabled);
  EXPECT_EQ(c.sip.hint_ports, (std::vector<uint16_t>{5060, 5061, 10000}));
  EXPECT_EQ(c.http.listen, "127.0.0.1:8080");
  EXPECT_TRUE(c.http.token.empty()) << "no default secret";
  EXPECT_FALSE(c.http.public_metrics);
  EXPECT_EQ(c.storage.max_calls, 100000u);
  EXPECT_EQ(c.storage.max_call_age_days, 365u);
  EXPECT_EQ(c.storage.phonebook_auto_max, 10000u);
}

TEST(config, full_file_is_applied) {
  config c;
  std::string err;
  ASSERT_TRUE(parse(R"(
[ports]
a = "xdp:eth0"
b = "afpacket:eth1"
[dataplane]
workers = 2
mtu = 9000
burst = 64
rx_desc = 2048
tx_desc = 512
tx_flush_us = 0
tx_retries = 0
mbufs = 65535
af_xdp_busy_budget = 0
af_xdp_tune_napi = true
af_xdp_gro_flush_us = 200
[eal]
hugepages = "off"
memory_mb = 2048
file_prefix = "rb-test"
log_level = "debug"
[replay]
idle_ms = 250
[stats]
interval_s = 10
[log]
level = "info"
[sip]
enabled = false
hint_ports = [5060, 7000]
tcp_streams = 64
[storage]
state_dir = "/tmp/rb-state"
max_calls = 5000
max_call_age_days = 0
phonebook_auto_max = 200
[http]
enabled = true
listen = "[::1]:9090"
token = "0123456789abcdef0123"
public_metrics = true
public_status = true
[calls]
max_active = 100
ringing_timeout_s = 60
answered_timeout_s = 3600
)",
                    &c, &err))
      << err;
  EXPECT_EQ(c.ports.a, "xdp:eth0");
  EXPECT_EQ(c.ports.b, "afpacket:eth1");
  EXPECT_EQ(c.dataplane.workers, 2u);
  EXPECT_EQ(c.dataplane.mtu, 9000u);
  EXPECT_EQ(c.dataplane.burst, 64);
  EXPECT_EQ(c.dataplane.rx_desc, 2048);
  EXPECT_EQ(c.dataplane.tx_desc, 512);
  EXPECT_EQ(c.dataplane.tx_flush_us, 0u);
  EXPECT_EQ(c.dataplane.tx_retries, 0);
  EXPECT_EQ(c.dataplane.mbufs, 65535u);
  EXPECT_EQ(c.dataplane.af_xdp_busy_budget, 0u);
  EXPECT_TRUE(c.dataplane.af_xdp_tune_napi);
  EXPECT_EQ(c.dataplane.af_xdp_gro_flush_us, 200u);
  EXPECT_EQ(c.eal.hugepages, dp::hugepage_mode::off);
  EXPECT_EQ(c.eal.memory_mb, 2048u);
  EXPECT_EQ(c.eal.file_prefix, "rb-test");
  EXPECT_EQ(c.eal.log_level, "debug");
  EXPECT_EQ(c.replay.idle_ms, 250u);
  EXPECT_EQ(c.stats.interval_s, 10u);
  EXPECT_EQ(c.log.level, "info");
  EXPECT_FALSE(c.sip.enabled);
  EXPECT_EQ(c.sip.hint_ports, (std::vector<uint16_t>{5060, 7000}));
  EXPECT_EQ(c.sip.tcp_streams, 64u);
  EXPECT_EQ(c.storage.state_dir, "/tmp/rb-state");
  EXPECT_EQ(c.storage.max_calls, 5000u);
  EXPECT_EQ(c.storage.max_call_age_days, 0u);
  EXPECT_EQ(c.storage.phonebook_auto_max, 200u);
  EXPECT_EQ(c.http.listen, "[::1]:9090");
  EXPECT_EQ(c.http.token, "0123456789abcdef0123");
  EXPECT_TRUE(c.http.public_metrics);
  EXPECT_TRUE(c.http.public_status);
  EXPECT_EQ(c.calls.max_active, 100u);
  EXPECT_EQ(c.calls.ringing_timeout_s, 60u);
  EXPECT_EQ(c.calls.answered_timeout_s, 3600u);
}

TEST(config, recording_section_is_applied) {
  config c;
  std::string err;
  ASSERT_TRUE(parse("[recording]\ndefault = \"none\"\nspool = \"/srv/rec\"\nmax_bytes = 1000000\n"
                    "max_days = 30\njitter_ms = 200\nno_record_header = \"\"\nmax_flows = 100\n"
                    "rtp_heuristics = true\n",
                    &c, &err))
      << err;
  EXPECT_FALSE(c.recording.record_all);
  EXPECT_EQ(c.recording.spool, "/srv/rec");
  EXPECT_EQ(c.recording.max_bytes, 1000000u);
  EXPECT_EQ(c.recording.max_days, 30u);
  EXPECT_EQ(c.recording.jitter_ms, 200u);
  EXPECT_EQ(c.recording.no_record_header, "");
  EXPECT_EQ(c.recording.max_flows, 100u);
  EXPECT_TRUE(c.recording.rtp_heuristics);
  EXPECT_FALSE(config{}.recording.rtp_heuristics) << "off by default";
  EXPECT_TRUE(config{}.recording.enabled);
  EXPECT_TRUE(config{}.recording.record_all);
}

struct bad_case {
  const char* text;
  std::vector<const char*> expect;  // substrings the message must contain
};

class config_errors : public ::testing::TestWithParam<bad_case> {};

TEST_P(config_errors, are_rejected_with_a_message_naming_the_problem) {
  config c;
  std::string err;
  EXPECT_FALSE(parse(GetParam().text, &c, &err));
  for (const char* e : GetParam().expect) EXPECT_NE(err.find(e), std::string::npos) << err;
  EXPECT_EQ(err.rfind("test.toml:", 0), 0u) << "message starts with the source: " << err;
}

INSTANTIATE_TEST_SUITE_P(
    all, config_errors,
    ::testing::Values(
        bad_case{"[dataplane]\nwrokers = 2\n",
                 {"unknown key 'dataplane.wrokers'", "workers", ":2:"}},
        bad_case{"[dataplan]\nworkers = 2\n", {"unknown section 'dataplan'", "dataplane"}},
        bad_case{"[dataplane]\nworkers = \"two\"\n",
                 {"dataplane.workers", "expected an integer", "a string"}},
        bad_case{"[dataplane]\nworkers = 0\n", {"dataplane.workers", "between 1 and 64", "got 0"}},
        bad_case{"[dataplane]\nmtu = 20000\n", {"dataplane.mtu", "between 68 and 9600"}},
        bad_case{"[dataplane]\nburst = 65\n", {"dataplane.burst"}},
        bad_case{"[dataplane]\nworkers = 1.5\n", {"dataplane.workers", "a number"}},
        bad_case{"[dataplane]\naf_xdp_tune_napi = 1\n",
                 {"dataplane.af_xdp_tune_napi", "true or false"}},
        bad_case{"[eal]\nhugepages = \"yes\"\n",
                 {"eal.hugepages", "\"auto\", \"require\" or \"off\""}},
        bad_case{"[eal]\nfile_prefix = \"a/b\"\n", {"eal.file_prefix", "'/'"}},
        bad_case{"[eal]\nlog_level = \"loud\"\n", {"eal.log_level", "notice"}},
        bad_case{"[log]\nlevel = 3\n", {"log.level", "expected a string"}},
        bad_case{"[sip]\nhint_ports = [5060, 70000]\n", {"sip.hint_ports", "1 to 65535"}},
        bad_case{"[sip]\nhint_ports = 5060\n", {"sip.hint_ports", "an array"}},
        bad_case{"[storage]\nstate_dir = \"relative/dir\"\n", {"storage.state_dir", "absolute"}},
        bad_case{"[storage]\nmax_calls = 0\n", {"storage.max_calls", "between 100 and"}},
        bad_case{"[storage]\nmax_call_age_days = -1\n", {"storage.max_call_age_days"}},
        bad_case{"[storage]\nphonebook_auto_max = \"many\"\n",
                 {"storage.phonebook_auto_max", "expected an integer"}},
        bad_case{"[http]\nlisten = \"8080\"\n", {"http.listen", "HOST:PORT"}},
        bad_case{"[http]\nlisten = \"127.0.0.1:99999\"\n", {"http.listen", "1 to 65535"}},
        bad_case{"[http]\ntoken = \"short\"\n", {"http.token", "at least 16"}},
        bad_case{"[http]\npublic_metrics = \"yes\"\n", {"http.public_metrics", "true or false"}},
        bad_case{"[calls]\nmax_active = 1\n", {"calls.max_active"}},
        bad_case{"[recording]\ndefault = \"some\"\n",
                 {"recording.default", "\"all\"", "\"none\"", "got \"some\""}},
        bad_case{"[recording]\nspool = \"rec\"\n", {"recording.spool", "absolute"}},
        bad_case{"[recording]\njitter_ms = 5000\n", {"recording.jitter_ms", "between 20 and 1000"}},
        bad_case{"[recording]\nno_record_header = \"X-No: Record\"\n",
                 {"recording.no_record_header", "header name"}},
        bad_case{"[recording]\nenabled = \"no\"\n", {"recording.enabled", "true or false"}},
        bad_case{"[recording]\nrtp_heuristics = 1\n", {"recording.rtp_heuristics", "true or false"}},
        bad_case{"[ports]\na = 1\n", {"ports.a", "expected a string"}},
        bad_case{"ports = \"eth0\"\n", {"'ports' must be a table"}},
        bad_case{"[ports\na = \"x\"\n", {"test.toml:1:"}},
        bad_case{"[ports]\na = \"x\"\na = \"y\"\n", {"test.toml:3:"}}));

TEST(config, notify_sections_become_sinks) {
  config c;
  std::string err;
  ASSERT_TRUE(parse(R"(
[notify.udp]
targets = ["192.168.1.255:7651"]
[notify.office_hook]
type = "webhook"
urls = ["https://example.org/hook"]
retries = 5
[notify.mqtt]
)",
                    &c, &err))
      << err;
  ASSERT_EQ(c.notify.size(), 3u);
  EXPECT_EQ(c.notify[1].name, "office_hook");
  EXPECT_TRUE(c.notify[1].values.has("retries"));
}

TEST(config, notify_errors_name_the_place_the_key_and_the_fix) {
  struct bad {
    const char* text;
    const char* want;
  } cases[] = {
      {"[notify.webhook]\nurls = 3\n",
       "test.toml:2:8: notify.webhook.urls: expected an array of strings, got an integer"},
      {"[notify.webhook]\nurls = [\"http://x\"]\nretrys = 2\n",
       "test.toml:3:10: unknown key 'notify.webhook.retrys'; known keys in [notify.webhook]:"},
      {"[notify.pager]\nhost = \"x\"\n",
       "notify.pager.type: unknown sink type \"pager\"; compiled-in types: growl, hep, mqtt, udp, "
       "webhook"},
      {"[notify.growl]\n", "notify.growl.host: set the Growl host"},
      {"[notify.udp]\ntargets = [1, 2]\n",
       "test.toml:2:11: notify.udp.targets: expected an array of strings"},
      {"[notify.mqtt]\nport = 0\n",
       "test.toml:2:8: notify.mqtt.port: expected an integer between 1 and 65535, got 0"},
      {"[notify]\nudp = 1\n", "notify.udp: expected a table"},
  };
  for (const auto& b : cases) {
    config c;
    std::string err;
    EXPECT_FALSE(parse(b.text, &c, &err)) << b.text;
    EXPECT_NE(err.find(b.want), std::string::npos) << "got: " << err << "\nwant: " << b.want;
  }
}

TEST(config, validate_requires_two_ports) {
  config c;
  std::string err;
  EXPECT_FALSE(validate_config(c, &err));
  EXPECT_NE(err.find("--port"), std::string::npos) << err;
  c.ports.a = "xdp:a";
  c.ports.b = "xdp:b";
  EXPECT_TRUE(validate_config(c, &err)) << err;
  c.dataplane.rx_desc = 1000;
  EXPECT_FALSE(validate_config(c, &err));
  EXPECT_NE(err.find("powers of two"), std::string::npos) << err;
}

TEST(config, missing_file_names_the_path) {
  config c;
  std::string err;
  EXPECT_FALSE(load_config_file("/nonexistent/ringbridge.toml", &c, &err));
  EXPECT_NE(err.find("/nonexistent/ringbridge.toml"), std::string::npos) << err;
}

TEST(config, example_config_in_deploy_parses) {
  // The commented example a user copies must stay valid.
  config c;
  std::string err;
  ASSERT_TRUE(load_config_file(RB_SOURCE_ROOT "/deploy/ringbridge.toml", &c, &err)) << err;
  EXPECT_FALSE(c.ports.a.empty());
  EXPECT_FALSE(c.ports.b.empty());
}

TEST(config, example_notify_sections_are_valid_once_uncommented) {
  std::ifstream f(RB_SOURCE_ROOT "/deploy/ringbridge.toml");
  std::string line, text;
  bool in_notify = false;
  while (std::getline(f, line)) {
    if (line.find("--- Notifications") != std::string::npos) in_notify = true;
    // "# [notify.x]" and "# key = value" lines lose their "# "; prose stays a comment.
    if (in_notify && line.rfind("# ", 0) == 0) {
      const std::string rest = line.substr(2);
      const size_t eq = rest.find(" = ");
      if (rest.rfind("[notify.", 0) == 0 || (eq != std::string::npos && rest.find(' ') == eq))
        line = rest;
    }
    text += line + "\n";
  }
  config c;
  std::string err;
  ASSERT_TRUE(parse(text, &c, &err)) << err;
  std::vector<std::string> types;
  for (const auto& n : c.notify) types.push_back(n.name);
  EXPECT_EQ(types, (std::vector<std::string>{"growl", "hep", "mqtt", "udp", "webhook"}));
}

}  // namespace
}  // namespace ringbridge::ctl
