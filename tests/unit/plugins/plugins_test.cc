// SPDX-License-Identifier: BSD-3-Clause
// The plugin core (settings, queues, registry) and each sink's wire format, without peers.
// Sinks against real peers (mosquitto, GNTP and HTTP servers, HEP receivers) are in
// tests/integration/test_notify.py.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>

#include "../../../plugins/notify/growl/growl_sink.h"
#include "../../../plugins/notify/hep/hep_sink.h"
#include "../../../plugins/notify/mqtt/mqtt_sink.h"
#include "../../../plugins/notify/udp/callerid_wire.h"
#include "../../../plugins/notify/udp/udp_sink.h"
#include "../../../plugins/notify/webhook/webhook_sink.h"
#include "ringbridge/common/utf8.h"
#include "ringbridge/notify/hub.h"

namespace rp = ringbridge::plugin;

namespace {

rp::call_event sample_event() {
  rp::call_event ev;
  ev.kind = rp::event_kind::ringing;
  ev.id = 7;
  ev.call_id = "abc@host";
  ev.number = "+15551234567";
  ev.name = "Mom";
  ev.name_sent = "MARY SMITH";
  ev.to_number = "100";
  ev.state = "ringing";
  ev.time = 1764107000.25;
  ev.call_json = R"({"id":7,"call_id":"abc@host","caller_name":"Mom"})";
  return ev;
}

rp::sink_config section(const std::string& name,
                        std::vector<std::pair<std::string, rp::settings::value>> kv) {
  rp::sink_config c{name, rp::settings("notify." + name)};
  for (auto& [k, v] : kv) c.values.set(k, v, "test.toml:1:1");
  return c;
}

}  // namespace

TEST(Settings, TypedValuesAndUnknownKeys) {
  rp::settings s("notify.x");
  s.set("port", int64_t{80});
  s.set("name", std::string("n"));
  s.set("typo", true, "f.toml:3:1");
  EXPECT_EQ(s.get_int("port", 1, 1, 65535), 80);
  EXPECT_EQ(s.get_string("name", ""), "n");
  EXPECT_EQ(s.get_string("absent", "def"), "def");
  std::string err;
  EXPECT_FALSE(s.finish(&err));
  EXPECT_NE(err.find("f.toml:3:1: unknown key 'notify.x.typo'"), std::string::npos) << err;
  EXPECT_NE(err.find("known keys in [notify.x]: absent, name, port"), std::string::npos) << err;
}

TEST(Settings, RangeAndTypeErrorsNameTheKey) {
  rp::settings s("notify.w");
  s.set("timeout_ms", int64_t{0}, "f.toml:5:14");
  s.get_int("timeout_ms", 3000, 50, 120000);
  std::string err;
  EXPECT_FALSE(s.finish(&err));
  EXPECT_EQ(err,
            "f.toml:5:14: notify.w.timeout_ms: expected an integer between 50 and 120000, got 0");
  rp::settings t("notify.w");
  t.set("urls", int64_t{3});
  t.get_strings("urls", {});
  EXPECT_FALSE(t.finish(&err));
  EXPECT_NE(err.find("notify.w.urls: expected an array of strings, got an integer"),
            std::string::npos);
}

TEST(Settings, HostPort) {
  std::string h;
  uint16_t p = 0;
  EXPECT_TRUE(rp::split_host_port("192.168.1.255:7651", &h, &p));
  EXPECT_EQ(h, "192.168.1.255");
  EXPECT_EQ(p, 7651);
  EXPECT_TRUE(rp::split_host_port("[fd00::1]:9060", &h, &p));
  EXPECT_EQ(h, "fd00::1");
  for (const char* bad : {"host", "host:", ":80", "host:0", "host:65536", "fd00::1:80", "h:8x"})
    EXPECT_FALSE(rp::split_host_port(bad, &h, &p)) << bad;
}

TEST(Hub, EveryCompiledInTypeIsRegistered) {
  const auto types = rp::sink_types();
  for (const char* t : {"udp", "growl", "webhook", "mqtt", "hep"})
    EXPECT_NE(std::find(types.begin(), types.end(), t), types.end()) << t;
}

TEST(Hub, ConfigErrorsNameTheSectionAndKey) {
  std::string err;
  EXPECT_FALSE(rp::hub::check(section("x", {{"type", std::string("fax")}}), &err));
  EXPECT_NE(err.find("notify.x.type: unknown sink type \"fax\""), std::string::npos) << err;
  EXPECT_FALSE(rp::hub::check(section("webhook", {}), &err));
  EXPECT_NE(err.find("notify.webhook.urls: give at least one URL"), std::string::npos) << err;
  EXPECT_FALSE(
      rp::hub::check(section("webhook", {{"urls", std::vector<std::string>{"ftp://x"}}}), &err));
  EXPECT_NE(err.find("is not an http:// or https:// URL"), std::string::npos) << err;
  EXPECT_FALSE(
      rp::hub::check(section("udp", {{"targets", std::vector<std::string>{"nope"}}}), &err));
  EXPECT_NE(err.find("notify.udp.targets: \"nope\" is not host:port"), std::string::npos) << err;
  EXPECT_FALSE(rp::hub::check(
      section("udp", {{"events", std::vector<std::string>{"ringing", "rang"}}}), &err));
  EXPECT_NE(err.find("unknown event \"rang\""), std::string::npos) << err;
  EXPECT_FALSE(rp::hub::check(section("hep", {}), &err));
  EXPECT_NE(err.find("notify.hep.address"), std::string::npos) << err;
  EXPECT_FALSE(rp::hub::check(
      section("growl", {{"host", std::string("h")}, {"hash", std::string("SHA3")}}), &err));
  EXPECT_NE(err.find("notify.growl.hash: must be one of MD5, SHA1, SHA256, SHA512"),
            std::string::npos)
      << err;
  EXPECT_FALSE(rp::hub::check(section("mqtt", {{"topic", std::string("a/#")}}), &err));
  EXPECT_NE(err.find("notify.mqtt.topic"), std::string::npos) << err;
  EXPECT_TRUE(rp::hub::check(section("mqtt", {}), &err)) << err;
  EXPECT_TRUE(
      rp::hub::check(section("office", {{"type", std::string("udp")},
                                        {"targets", std::vector<std::string>{"127.0.0.1:7651"}}}),
                     &err))
      << err;
}

// A sink that blocks until released: the queue in front of it fills, the rest is dropped
// and counted, and posting never waits.
class gate_sink final : public rp::sink {
 public:
  explicit gate_sink(std::atomic<bool>* open, std::atomic<int>* got) : _open(open), _got(got) {}
  bool on_call_event(const rp::call_event&) override {
    while (!_open->load() && !stopping()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    _got->fetch_add(1);
    return true;
  }

 private:
  std::atomic<bool>* _open;
  std::atomic<int>* _got;
};

TEST(Hub, FullQueueDropsAndCountsWithoutBlocking) {
  std::atomic<bool> open{false};
  std::atomic<int> got{0};
  rp::sink_runner::options o;
  o.name = "slow";
  o.type = "test";
  o.queue = 4;
  o.events = ~0u;
  rp::sink_runner r(o, std::make_unique<gate_sink>(&open, &got));
  r.start();
  const auto t0 = std::chrono::steady_clock::now();
  int accepted = 0;
  for (int i = 0; i < 100; i++) accepted += r.post(sample_event()) ? 1 : 0;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(100));
  EXPECT_LE(accepted, 5);  // 4 queued + at most 1 taken by the sink thread
  EXPECT_EQ(r.stats().dropped, static_cast<uint64_t>(100 - accepted));
  open = true;
  r.stop(5);
  EXPECT_EQ(got.load(), accepted);
  EXPECT_EQ(r.stats().delivered, static_cast<uint64_t>(accepted));
}

TEST(Hub, StopGivesUpOnAHungSinkAfterTheDeadline) {
  std::atomic<bool> open{false};
  std::atomic<int> got{0};
  rp::sink_runner::options o;
  o.name = "hung";
  o.queue = 10;
  o.events = ~0u;
  rp::sink_runner r(o, std::make_unique<gate_sink>(&open, &got));
  r.start();
  for (int i = 0; i < 5; i++) r.post(sample_event());
  const auto t0 = std::chrono::steady_clock::now();
  r.stop(0.2);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  const auto st = r.stats();
  EXPECT_EQ(st.delivered + st.dropped, 5u);
}

TEST(Hub, FiltersByEventAndDirection) {
  rp::sink_runner::options o;
  o.events = 1u << static_cast<unsigned>(rp::event_kind::ringing);
  o.inbound_only = true;
  std::atomic<bool> open{true};
  std::atomic<int> got{0};
  rp::sink_runner r(o, std::make_unique<gate_sink>(&open, &got));
  rp::call_event ev = sample_event();
  EXPECT_TRUE(r.wants(ev));
  ev.inbound = false;
  EXPECT_FALSE(r.wants(ev));
  ev.inbound = true;
  ev.kind = rp::event_kind::ended;
  EXPECT_FALSE(r.wants(ev));
}

TEST(EventJson, CarriesTheCallAsTheApiServesIt) {
  const std::string j = rp::event_json(sample_event());
  EXPECT_EQ(
      j,
      R"({"call":{"call_id":"abc@host","caller_name":"Mom","id":7},"event":"ringing","time":1764107000.25})");
}

TEST(CallerIdWire, RoundTripsAndMatchesTheDocumentedLayout) {
  const rp::callerid::message m = rp::callerid_from_event(sample_event());
  const std::string d = rp::callerid::encode(m);
  ASSERT_GE(d.size(), 20u);
  EXPECT_EQ(d.substr(0, 4), "RBCI");
  EXPECT_EQ(d[4], 1);  // version
  EXPECT_EQ(d[5], 1);  // ringing
  EXPECT_EQ(d[6], 0);  // inbound
  EXPECT_EQ(d[7], rp::callerid::k_flag_phonebook);
  EXPECT_EQ(d[18], 5);
  EXPECT_EQ(d[20], 3);
  EXPECT_EQ(d.substr(21, 3), "Mom");
  rp::callerid::message back;
  std::string err;
  ASSERT_TRUE(
      rp::callerid::decode(reinterpret_cast<const uint8_t*>(d.data()), d.size(), &back, &err));
  EXPECT_EQ(back.name, "Mom");
  EXPECT_EQ(back.number, "+15551234567");
  EXPECT_EQ(back.name_sent, "MARY SMITH");
  EXPECT_EQ(back.to_number, "100");
  EXPECT_EQ(back.call_id, "abc@host");
  EXPECT_EQ(back.time_us, 1764107000250000u);
  EXPECT_TRUE(back.inbound);
}

TEST(CallerIdWire, RejectsWhatIsNotOneAndCutsAtUtf8Boundaries) {
  rp::callerid::message m;
  m.name = std::string(254, 'a') + "\xC3\xA9";  // 256 bytes, é straddles the 255 cut
  const std::string d = rp::callerid::encode(m);
  rp::callerid::message back;
  std::string err;
  ASSERT_TRUE(
      rp::callerid::decode(reinterpret_cast<const uint8_t*>(d.data()), d.size(), &back, &err));
  EXPECT_EQ(back.name, std::string(254, 'a'));
  for (size_t cut = 0; cut < d.size(); cut++)
    EXPECT_FALSE(rp::callerid::decode(reinterpret_cast<const uint8_t*>(d.data()), cut, &back, &err))
        << cut;
  const std::string bad = "XXXX" + d.substr(4);
  EXPECT_FALSE(
      rp::callerid::decode(reinterpret_cast<const uint8_t*>(bad.data()), bad.size(), &back, &err));
}

TEST(Gntp, KeyHashAsTheSpecDefinesIt) {
  std::vector<uint8_t> salt(16);
  for (int i = 0; i < 16; i++) salt[i] = static_cast<uint8_t>(i);
  // Computed independently: sha256(sha256(b"secret" + salt)).
  EXPECT_EQ(rp::gntp::key_hash("SHA256", "secret", salt),
            "SHA256:DD78B72BBCE584A1301F4AA906E8746FF4757F43F6D3A63807D69B92FE577DC3."
            "000102030405060708090A0B0C0D0E0F");
  EXPECT_EQ(rp::gntp::key_hash("MD5", "secret", salt),
            "MD5:719D90B26C6FBA076DC5E1B842BBB36F.000102030405060708090A0B0C0D0E0F");
  EXPECT_EQ(rp::gntp::key_hash("SHA256", "", salt), "");
}

TEST(Gntp, RequestsAreWellFormedAndInjectionProof) {
  rp::call_event ev = sample_event();
  ev.name = "Evil\r\nNotification-Callback-Target: http://x";
  const std::string n = rp::gntp::notify_request("ringbridge", "", ev, false);
  EXPECT_EQ(n.rfind("GNTP/1.0 NOTIFY NONE\r\n", 0), 0u);
  EXPECT_EQ(n.find("\r\nNotification-Callback-Target"), std::string::npos);
  EXPECT_NE(n.find("Notification-Name: ringing\r\n"), std::string::npos);
  EXPECT_NE(n.find("Notification-Text: +15551234567 -> 100\r\n"), std::string::npos);
  EXPECT_EQ(n.substr(n.size() - 4), "\r\n\r\n");
  const std::string r = rp::gntp::register_request("ringbridge", "SHA256:AB.CD");
  EXPECT_EQ(r.rfind("GNTP/1.0 REGISTER NONE SHA256:AB.CD\r\n", 0), 0u);
  EXPECT_NE(r.find("Notifications-Count: 6\r\n"), std::string::npos);  // dtmf too
  int code = 0;
  std::string why;
  EXPECT_TRUE(rp::gntp::parse_response("GNTP/1.0 -OK NONE\r\nResponse-Action: NOTIFY\r\n\r\n",
                                       &code, &why));
  EXPECT_FALSE(rp::gntp::parse_response(
      "GNTP/1.0 -ERROR NONE\r\nError-Code: 401\r\nError-Description: Unknown app\r\n\r\n", &code,
      &why));
  EXPECT_EQ(code, 401);
  EXPECT_NE(why.find("Unknown app"), std::string::npos);
}

TEST(Webhook, RetriesOnlyWhatMayHeal) {
  EXPECT_TRUE(rp::webhook::retryable(0));
  EXPECT_TRUE(rp::webhook::retryable(500));
  EXPECT_TRUE(rp::webhook::retryable(503));
  EXPECT_TRUE(rp::webhook::retryable(429));
  EXPECT_FALSE(rp::webhook::retryable(400));
  EXPECT_FALSE(rp::webhook::retryable(404));
}

TEST(Mqtt, HomeAssistantDiscoveryPointsAtTheLastCallTopic) {
  const std::string c = rp::mqtt::ha_discovery_config("ringbridge", "box1");
  EXPECT_NE(c.find(R"("state_topic":"ringbridge/last_call")"), std::string::npos) << c;
  EXPECT_NE(c.find(R"("availability_topic":"ringbridge/status")"), std::string::npos) << c;
  EXPECT_NE(c.find(R"("unique_id":"box1_last_caller")"), std::string::npos) << c;
}

TEST(Hep, ChunksAsHepv3Defines) {
  rp::sip_message m;
  m.time = 1700000000.5;
  m.ip_version = 4;
  m.transport = 17;
  const uint8_t src[4] = {10, 0, 0, 1}, dst[4] = {10, 0, 0, 2};
  std::copy(src, src + 4, m.src);
  std::copy(dst, dst + 4, m.dst);
  m.sport = 5060;
  m.dport = 5062;
  m.call_id = "cid";
  m.data = "INVITE sip:100@x SIP/2.0\r\n\r\n";
  const std::string p = rp::hep::encode(m, 2001, "pw");
  ASSERT_EQ(p.substr(0, 4), "HEP3");
  const auto* b = reinterpret_cast<const uint8_t*>(p.data());
  EXPECT_EQ((b[4] << 8) | b[5], static_cast<int>(p.size()));
  // Walk the chunks: every one is (vendor 0, type, length >= 6) and they tile the packet.
  std::map<int, std::string> chunks;
  for (size_t off = 6; off < p.size();) {
    ASSERT_LE(off + 6, p.size());
    const int vendor = (b[off] << 8) | b[off + 1], type = (b[off + 2] << 8) | b[off + 3];
    const size_t len = static_cast<size_t>((b[off + 4] << 8) | b[off + 5]);
    ASSERT_EQ(vendor, 0);
    ASSERT_GE(len, 6u);
    ASSERT_LE(off + len, p.size());
    chunks[type] = p.substr(off + 6, len - 6);
    off += len;
  }
  EXPECT_EQ(chunks[1], std::string(1, 2));
  EXPECT_EQ(chunks[2], std::string(1, 17));
  EXPECT_EQ(chunks[3], std::string("\x0a\x00\x00\x01", 4));
  EXPECT_EQ(chunks[7], std::string("\x13\xc4", 2));
  EXPECT_EQ(chunks[10], std::string("\x00\x07\xa1\x20", 4));  // 500000 µs
  EXPECT_EQ(chunks[11], std::string(1, 1));                   // SIP
  EXPECT_EQ(chunks[14], "pw");
  EXPECT_EQ(chunks[15], m.data);
  EXPECT_EQ(chunks[17], "cid");
}

// ---- hostile text: whatever a caller sends, every sink writes valid UTF-8 ----------------

namespace {
bool valid_utf8(const std::string& s) {
  return ringbridge::utf8_valid(s);
}

rp::call_event hostile_event() {
  rp::call_event ev = sample_event();
  ev.call_id = "cid\xff@x";
  ev.number =
      "\xfe\xfe"
      "555";
  ev.name = std::string(250, 'a') + "\xe4\xb8\xad\xe4\xb8";  // cut inside the 2nd character
  ev.name_sent = "\xc0\xaf";
  ev.to_number = "\xed\xa0\x80";
  ev.rule = "r\xff";
  ev.call_json = "{\"from_name\":\"\xff\"}";  // not what call_json() makes, but possible
  return ev;
}

// A sink whose first delivery throws: it must count as failed, not end the thread.
class throwing_sink final : public rp::sink {
 public:
  explicit throwing_sink(std::atomic<int>* calls) : _calls(calls) {}
  bool on_call_event(const rp::call_event&) override {
    if (_calls->fetch_add(1) == 0) throw std::runtime_error("boom");
    return true;
  }

 private:
  std::atomic<int>* _calls;
};
}  // namespace

TEST(Utf8, EventJsonIsValidWhateverTheStringsHold) {
  const std::string j = rp::event_json(hostile_event());
  EXPECT_TRUE(valid_utf8(j)) << j;
  const auto parsed = nlohmann::json::parse(j);
  ASSERT_TRUE(parsed["call"].is_object()) << j;
  EXPECT_EQ(parsed["call"]["from_name"], "\xEF\xBF\xBD");
  rp::call_event garbage = sample_event();
  garbage.call_json = "{not json";
  EXPECT_EQ(nlohmann::json::parse(rp::event_json(garbage))["call"], nlohmann::json::object());
}

TEST(Utf8, CallerIdDatagramStringsAreValidAndCutOnCharacters) {
  const std::string d = rp::callerid::encode(rp::callerid_from_event(hostile_event()));
  rp::callerid::message m;
  std::string err;
  ASSERT_TRUE(rp::callerid::decode(reinterpret_cast<const uint8_t*>(d.data()), d.size(), &m, &err))
      << err;
  for (const std::string* s : {&m.name, &m.number, &m.name_sent, &m.to_number, &m.call_id})
    EXPECT_TRUE(valid_utf8(*s)) << *s;
  // The cut character became U+FFFD (3 bytes), which no longer fits in 255: left out.
  EXPECT_EQ(m.name, std::string(250, 'a') + "\xe4\xb8\xad");
  EXPECT_EQ(m.number,
            "\xEF\xBF\xBD\xEF\xBF\xBD"
            "555");
}

TEST(Utf8, GntpAndHepStringsAreValid) {
  const std::string n = rp::gntp::notify_request("ringbridge", "", hostile_event(), false);
  EXPECT_TRUE(valid_utf8(n));
  rp::sip_message m;
  m.call_id = "cid\xff";
  m.data = "INVITE sip:\xff@x SIP/2.0\r\n\r\n";
  const std::string p = rp::hep::encode(m, 1, "");
  // The correlation id (last chunk) is sanitized; the captured message stays raw.
  EXPECT_EQ(p.substr(p.size() - 6), "cid\xEF\xBF\xBD");
  EXPECT_NE(p.find(m.data), std::string::npos);
}

TEST(Hub, AnExceptionInASinkCountsAsFailedAndTheThreadGoesOn) {
  std::atomic<int> calls{0};
  rp::sink_runner::options o;
  o.name = "thrower";
  o.queue = 10;
  o.events = ~0u;
  rp::sink_runner r(o, std::make_unique<throwing_sink>(&calls));
  r.start();
  for (int i = 0; i < 3; i++) EXPECT_TRUE(r.post(sample_event()));
  r.stop(5);
  const auto st = r.stats();
  EXPECT_EQ(calls.load(), 3);
  EXPECT_EQ(st.failed, 1u);
  EXPECT_EQ(st.delivered, 2u);
}
