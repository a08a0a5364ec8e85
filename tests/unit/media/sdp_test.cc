// SPDX-License-Identifier: BSD-3-Clause
// Every media stream of an SDP body (media::parse_sdp_streams) and SDP addresses
// (media::parse_sdp_addr): connection lines at both levels, RTCP ports, codecs, direction,
// line endings, bounds and garbage.
#include "ringbridge/media/sdp.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace ringbridge::media {
namespace {

// SDP lines joined with EOL.
std::string sdp(std::initializer_list<const char*> lines, const char* eol = "\r\n") {
  std::string s;
  for (const char* l : lines) s += std::string(l) + eol;
  return s;
}

const std::string k_offer = sdp({
    "v=0",
    "o=alice 2890844526 2890844526 IN IP4 host.example.com",
    "s=-",
    "c=IN IP4 192.0.2.10",
    "t=0 0",
    "m=audio 49170 RTP/AVP 8 9 101",
    "a=rtpmap:8 PCMA/8000",
    "a=rtpmap:9 G722/8000",
    "a=rtpmap:101 telephone-event/8000",
    "a=fmtp:101 0-16",
    "m=video 51372 RTP/AVP 99",
    "c=IN IP4 192.0.2.20",
    "a=rtpmap:99 H264/90000",
    "a=sendonly",
});

TEST(sdp, session_and_media_level_connection) {
  sdp_stream st[k_max_sdp_streams];
  ASSERT_EQ(parse_sdp_streams(k_offer, st, k_max_sdp_streams), 2u);
  EXPECT_EQ(st[0].media, "audio");
  EXPECT_EQ(st[0].addr, "192.0.2.10");  // the session's
  EXPECT_EQ(st[0].family, 4);
  EXPECT_EQ(st[0].port, 49170);
  EXPECT_EQ(st[0].rtcp_port, 49171);
  ASSERT_EQ(st[0].pt_count, 3);
  EXPECT_EQ(st[0].pts[0], 8);
  EXPECT_EQ(st[0].pts[1], 9);
  EXPECT_EQ(st[0].pts[2], 101);
  EXPECT_EQ(st[1].media, "video");
  EXPECT_EQ(st[1].addr, "192.0.2.20");  // its own
  EXPECT_EQ(st[1].port, 51372);
  EXPECT_EQ(st[1].rtcp_port, 51373);
  ASSERT_EQ(st[1].map_count, 1);
  EXPECT_EQ(st[1].maps[0].name, "H264");
  EXPECT_EQ(st[1].maps[0].rate, 90000u);
}

TEST(sdp, rtpmap_names_and_rates) {
  const std::string s = sdp({
      "v=0",
      "c=IN IP4 192.0.2.1",
      "m=audio 4000 RTP/AVP 8 9 101 111",
      "a=rtpmap:8 PCMA/8000",
      "a=rtpmap:9 G722/8000",
      "a=rtpmap:101 telephone-event/8000",
      "a=rtpmap:111 opus/48000/2",
  });
  sdp_stream st[k_max_sdp_streams];
  ASSERT_EQ(parse_sdp_streams(s, st, k_max_sdp_streams), 1u);
  ASSERT_EQ(st[0].map_count, 4);
  const struct {
    uint8_t pt;
    const char* name;
    uint32_t rate;
  } want[] = {{8, "PCMA", 8000}, {9, "G722", 8000}, {101, "telephone-event", 8000},
              {111, "opus", 48000}};
  for (size_t i = 0; i < 4; i++) {
    EXPECT_EQ(st[0].maps[i].pt, want[i].pt) << i;
    EXPECT_EQ(st[0].maps[i].name, want[i].name) << i;
    EXPECT_EQ(st[0].maps[i].rate, want[i].rate) << i;
  }
}

TEST(sdp, two_audio_streams_and_a_rejected_one) {
  const std::string s = sdp({
      "v=0",
      "c=IN IP4 198.51.100.1",
      "m=audio 10000 RTP/AVP 0",
      "m=audio 0 RTP/AVP 8",  // rejected (RFC 3264 §6)
      "m=audio 10002/2 RTP/AVP 8",
  });
  sdp_stream st[k_max_sdp_streams];
  ASSERT_EQ(parse_sdp_streams(s, st, k_max_sdp_streams), 3u);
  EXPECT_EQ(st[0].port, 10000);
  EXPECT_EQ(st[1].port, 0);
  EXPECT_EQ(st[1].rtcp_port, 0) << "no RTCP for a rejected stream";
  EXPECT_EQ(st[1].addr, "198.51.100.1");
  EXPECT_EQ(st[2].port, 10002) << "the port before /<count>";
  EXPECT_EQ(st[2].rtcp_port, 10003);
}

TEST(sdp, a_rtcp_overrides_port_plus_one) {
  const std::string s = sdp({
      "v=0",
      "c=IN IP4 192.0.2.1",
      "m=audio 49170 RTP/AVP 0",
      "a=rtcp:53020",
      "m=audio 49180 RTP/AVP 0",
      "a=rtcp:53021 IN IP4 126.16.64.4",
      "m=audio 49190 RTP/AVP 0",
      "a=rtcp:notaport",
      "m=audio 65535 RTP/AVP 0",
  });
  sdp_stream st[k_max_sdp_streams];
  ASSERT_EQ(parse_sdp_streams(s, st, k_max_sdp_streams), 4u);
  EXPECT_EQ(st[0].rtcp_port, 53020);
  EXPECT_EQ(st[1].rtcp_port, 53021);
  EXPECT_EQ(st[2].rtcp_port, 49191) << "an unreadable a=rtcp is ignored";
  EXPECT_EQ(st[3].rtcp_port, 0) << "no port 65536";
}

TEST(sdp, ipv6_connection_with_and_without_ttl_suffix) {
  const std::string s = sdp({
      "v=0",
      "c=IN IP6 2001:db8::1",
      "m=audio 5004 RTP/AVP 0",
      "m=audio 5006 RTP/AVP 0",
      "c=IN IP4 224.2.1.1/127",
  });
  sdp_stream st[k_max_sdp_streams];
  ASSERT_EQ(parse_sdp_streams(s, st, k_max_sdp_streams), 2u);
  EXPECT_EQ(st[0].addr, "2001:db8::1");
  EXPECT_EQ(st[0].family, 6);
  EXPECT_EQ(st[1].addr, "224.2.1.1");
  EXPECT_EQ(st[1].family, 4);
}

TEST(sdp, no_connection_line_leaves_the_family_zero) {
  const std::string s = sdp({"v=0", "m=audio 5004 RTP/AVP 0", "c=IN ATM foo"});
  sdp_stream st[k_max_sdp_streams];
  ASSERT_EQ(parse_sdp_streams(s, st, k_max_sdp_streams), 1u);
  EXPECT_EQ(st[0].family, 0);
  EXPECT_TRUE(st[0].addr.empty());
}

TEST(sdp, direction_at_session_and_media_level) {
  const std::string s = sdp({
      "v=0",
      "c=IN IP4 192.0.2.1",
      "a=recvonly",
      "m=audio 4000 RTP/AVP 0",
      "m=audio 4002 RTP/AVP 0",
      "a=inactive",
      "m=audio 4004 RTP/AVP 0",
      "a=sendonly",
      "m=audio 4006 RTP/AVP 0",
      "a=sendrecv",
  });
  sdp_stream st[k_max_sdp_streams];
  ASSERT_EQ(parse_sdp_streams(s, st, k_max_sdp_streams), 4u);
  EXPECT_EQ(st[0].direction, "recvonly");
  EXPECT_EQ(st[1].direction, "inactive");
  EXPECT_EQ(st[2].direction, "sendonly");
  EXPECT_EQ(st[3].direction, "sendrecv");
  const std::string none = sdp({"v=0", "m=audio 4000 RTP/AVP 0"});
  ASSERT_EQ(parse_sdp_streams(none, st, k_max_sdp_streams), 1u);
  EXPECT_TRUE(st[0].direction.empty());
}

TEST(sdp, crlf_and_lf_give_the_same_streams) {
  const std::initializer_list<const char*> lines = {
      "v=0", "c=IN IP4 192.0.2.1", "m=audio 4000 RTP/AVP 8", "a=rtpmap:8 PCMA/8000",
      "a=sendonly"};
  for (const char* eol : {"\r\n", "\n"}) {
    for (bool last_eol : {true, false}) {
      std::string s = sdp(lines, eol);
      if (!last_eol) s.resize(s.size() - std::strlen(eol));
      sdp_stream st[k_max_sdp_streams];
      ASSERT_EQ(parse_sdp_streams(s, st, k_max_sdp_streams), 1u);
      EXPECT_EQ(st[0].addr, "192.0.2.1");
      EXPECT_EQ(st[0].port, 4000);
      ASSERT_EQ(st[0].map_count, 1);
      EXPECT_EQ(st[0].maps[0].name, "PCMA");
      EXPECT_EQ(st[0].maps[0].rate, 8000u);
      EXPECT_EQ(st[0].direction, "sendonly") << "no CR left on the last value";
    }
  }
}

TEST(sdp, more_m_lines_than_room_are_bounded) {
  std::string s = "v=0\r\nc=IN IP4 192.0.2.1\r\n";
  for (int i = 0; i < 10; i++) s += "m=audio " + std::to_string(6000 + 2 * i) + " RTP/AVP 0\r\n";
  sdp_stream st[k_max_sdp_streams + 1];
  st[k_max_sdp_streams].port = 4242;  // a guard past the room parse_sdp_streams may use
  ASSERT_EQ(parse_sdp_streams(s, st, 100), k_max_sdp_streams) << "MAX capped";
  EXPECT_EQ(st[k_max_sdp_streams].port, 4242);
  for (size_t i = 0; i < k_max_sdp_streams; i++) EXPECT_EQ(st[i].port, 6000 + 2 * i);
  ASSERT_EQ(parse_sdp_streams(s, st, 2), 2u);
  EXPECT_EQ(st[1].port, 6002);
  EXPECT_EQ(st[1].addr, "192.0.2.1");
  EXPECT_EQ(parse_sdp_streams(s, st, 0), 0u);
}

TEST(sdp, payload_types_and_rtpmaps_are_bounded) {
  std::string s = "v=0\nc=IN IP4 192.0.2.1\nm=audio 4000 RTP/AVP";
  for (int pt = 0; pt < 40; pt++) s += " " + std::to_string(96 + pt % 32);
  s += "\n";
  for (int pt = 96; pt < 120; pt++) s += "a=rtpmap:" + std::to_string(pt) + " X/8000\n";
  sdp_stream st[k_max_sdp_streams];
  ASSERT_EQ(parse_sdp_streams(s, st, k_max_sdp_streams), 1u);
  EXPECT_EQ(st[0].pt_count, sizeof(st[0].pts));
  EXPECT_EQ(st[0].map_count, 8);
  EXPECT_EQ(st[0].maps[7].pt, 103);
}

TEST(sdp, garbage_lines_are_skipped) {
  const std::string s = std::string("garbage\r\n=\r\nx\r\n\r\n\x01\x02=\xff\r\nv=0\r\n") +
                        "c=IN IP4\r\n"                 // no address
                        "c=IN IP4 192.0.2.1\r\n"       //
                        "a=rtpmap:8 PCMA/8000\r\n"     // before any m=: ignored
                        "m=audio 99999 RTP/AVP 8\r\n"  // port out of range
                        "a=rtpmap:abc PCMA/8000\r\n"   // no payload type
                        "a=rtpmap:200 PCMA/8000\r\n"   // payload type out of range
                        "a=rtpmap:8\r\n"               // no name
                        "a=rtpmap:0 PCMU/\r\n"         // no rate
                        "m=audio 7000 RTP/AVP x 8 999 0 \r\n"
                        "a=sendrecv extra\r\n";
  sdp_stream st[k_max_sdp_streams];
  ASSERT_EQ(parse_sdp_streams(s, st, k_max_sdp_streams), 2u);
  EXPECT_EQ(st[0].port, 0);
  ASSERT_EQ(st[0].map_count, 2);
  EXPECT_EQ(st[0].maps[0].pt, 8);
  EXPECT_TRUE(st[0].maps[0].name.empty());
  EXPECT_EQ(st[0].maps[1].name, "PCMU");
  EXPECT_EQ(st[0].maps[1].rate, 0u);
  EXPECT_EQ(st[1].port, 7000);
  ASSERT_EQ(st[1].pt_count, 2);
  EXPECT_EQ(st[1].pts[0], 8);
  EXPECT_EQ(st[1].pts[1], 0);
  EXPECT_TRUE(st[1].direction.empty());
  EXPECT_EQ(parse_sdp_streams("", st, k_max_sdp_streams), 0u);
  EXPECT_EQ(parse_sdp_streams("m=", st, k_max_sdp_streams), 1u);
  EXPECT_EQ(st[0].port, 0);
}

TEST(sdp_addr, ipv4) {
  uint8_t a[16];
  std::memset(a, 0xee, sizeof(a));
  ASSERT_TRUE(parse_sdp_addr("192.0.2.33", 4, a));
  const uint8_t want[16] = {192, 0, 2, 33};
  EXPECT_EQ(std::memcmp(a, want, 16), 0) << "the rest zeroed";
}

TEST(sdp_addr, ipv6) {
  uint8_t a[16];
  ASSERT_TRUE(parse_sdp_addr("2001:db8::1:2", 6, a));
  const uint8_t want[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2};
  EXPECT_EQ(std::memcmp(a, want, 16), 0);
  ASSERT_TRUE(parse_sdp_addr("::ffff:192.0.2.1", 6, a));
  EXPECT_EQ(a[15], 1);
}

TEST(sdp_addr, bad_input) {
  uint8_t a[16];
  EXPECT_FALSE(parse_sdp_addr("", 4, a));
  EXPECT_FALSE(parse_sdp_addr("192.0.2", 4, a));
  EXPECT_FALSE(parse_sdp_addr("192.0.2.256", 4, a));
  EXPECT_FALSE(parse_sdp_addr("host.example.com", 4, a));  // FQDNs are not resolved
  EXPECT_FALSE(parse_sdp_addr("2001:db8::1", 4, a));       // wrong family
  EXPECT_FALSE(parse_sdp_addr("192.0.2.1", 6, a));
  EXPECT_FALSE(parse_sdp_addr("2001:db8:::1", 6, a));
  EXPECT_FALSE(parse_sdp_addr("192.0.2.1", 0, a));
  EXPECT_FALSE(parse_sdp_addr(std::string(100, '1'), 4, a));
  // A view is not NUL-terminated: only its bytes count.
  const std::string_view cut = std::string_view("192.0.2.1234").substr(0, 9);
  ASSERT_TRUE(parse_sdp_addr(cut, 4, a));
  EXPECT_EQ(a[3], 1);
}

}  // namespace
}  // namespace ringbridge::media
