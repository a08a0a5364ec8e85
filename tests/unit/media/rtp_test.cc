// SPDX-License-Identifier: BSD-3-Clause
// RTP/RTCP header checks, RFC 3550 appendix A statistics on scripted sequences, the MOS.
#include "ringbridge/media/rtp.h"

#include <gtest/gtest.h>

#include <limits>
#include <vector>

using namespace ringbridge::media;

namespace {

std::vector<uint8_t> rtp(uint8_t b0, uint8_t b1, uint16_t seq, uint32_t ts, uint32_t ssrc) {
  return {b0,
          b1,
          static_cast<uint8_t>(seq >> 8),
          static_cast<uint8_t>(seq),
          static_cast<uint8_t>(ts >> 24),
          static_cast<uint8_t>(ts >> 16),
          static_cast<uint8_t>(ts >> 8),
          static_cast<uint8_t>(ts),
          static_cast<uint8_t>(ssrc >> 24),
          static_cast<uint8_t>(ssrc >> 16),
          static_cast<uint8_t>(ssrc >> 8),
          static_cast<uint8_t>(ssrc)};
}

}  // namespace

TEST(Rtp, ParsesFixedHeader) {
  auto p = rtp(0x80, 0x80 | 8, 0xBEEF, 0x01020304, 0xCAFEF00D);
  p.insert(p.end(), 160, 0xD5);
  rtp_header h;
  ASSERT_TRUE(parse_rtp(p.data(), p.size(), &h));
  EXPECT_EQ(h.marker, 1);
  EXPECT_EQ(h.pt, 8);
  EXPECT_EQ(h.seq, 0xBEEF);
  EXPECT_EQ(h.ts, 0x01020304u);
  EXPECT_EQ(h.ssrc, 0xCAFEF00Du);
  EXPECT_EQ(h.payload, p.data() + 12);
  EXPECT_EQ(h.payload_len, 160u);
}

TEST(Rtp, HonoursCsrcExtensionAndPadding) {
  // V=2 P X CC=2; two CSRCs, a one-word extension, 4 payload bytes, 3 bytes of padding.
  auto p = rtp(0x80 | 0x20 | 0x10 | 2, 0, 1, 2, 3);
  p.insert(p.end(), 8, 0x11);                   // CSRCs
  p.insert(p.end(), {0xBE, 0xDE, 0x00, 0x01});  // extension header, length 1 word
  p.insert(p.end(), 4, 0x22);                   // extension data
  p.insert(p.end(), {0xA0, 0xA1, 0xA2, 0xA3});  // payload
  p.insert(p.end(), {0x00, 0x00, 0x03});        // padding, its count last
  rtp_header h;
  ASSERT_TRUE(parse_rtp(p.data(), p.size(), &h));
  EXPECT_EQ(h.payload, p.data() + 12 + 8 + 8);
  ASSERT_EQ(h.payload_len, 4u);
  EXPECT_EQ(h.payload[0], 0xA0);
  EXPECT_EQ(h.payload[3], 0xA3);
}

TEST(Rtp, RefusesMalformed) {
  rtp_header h;
  auto ok = rtp(0x80, 0, 1, 2, 3);
  EXPECT_FALSE(parse_rtp(ok.data(), 11, &h));  // short
  auto v1 = rtp(0x40, 0, 1, 2, 3);
  EXPECT_FALSE(parse_rtp(v1.data(), v1.size(), &h));
  auto csrc = rtp(0x81, 0, 1, 2, 3);  // one CSRC announced, none there
  EXPECT_FALSE(parse_rtp(csrc.data(), csrc.size(), &h));
  auto ext = rtp(0x90, 0, 1, 2, 3);
  ext.insert(ext.end(), {0xBE, 0xDE, 0x00, 0x02, 0, 0, 0, 0});  // 2 words announced, 1 there
  EXPECT_FALSE(parse_rtp(ext.data(), ext.size(), &h));
  auto pad0 = rtp(0xA0, 0, 1, 2, 3);
  pad0.push_back(0);  // padding count 0
  EXPECT_FALSE(parse_rtp(pad0.data(), pad0.size(), &h));
  auto padlong = rtp(0xA0, 0, 1, 2, 3);
  padlong.push_back(2);  // padding past the header
  EXPECT_FALSE(parse_rtp(padlong.data(), padlong.size(), &h));
  for (uint8_t t = 200; t <= 204; t++) {
    auto rtcp = rtp(0x80, t, 0, 0, 0);
    EXPECT_FALSE(parse_rtp(rtcp.data(), rtcp.size(), &h)) << int{t};
  }
  EXPECT_TRUE(parse_rtp(ok.data(), ok.size(), &h));  // an empty payload is fine
  EXPECT_EQ(h.payload_len, 0u);
}

TEST(Rtp, RecognisesRtcp) {
  const uint8_t rr[] = {0x80, 201, 0x00, 0x01, 1, 2, 3, 4};  // empty RR: 2 words
  EXPECT_TRUE(looks_like_rtcp(rr, sizeof rr));
  EXPECT_FALSE(looks_like_rtcp(rr, 7));
  const uint8_t longer[] = {0x80, 200, 0x00, 0x06, 1, 2, 3, 4};  // says 28 bytes
  EXPECT_FALSE(looks_like_rtcp(longer, sizeof longer));
  auto p = rtp(0x80, 0, 1, 2, 3);
  EXPECT_FALSE(looks_like_rtcp(p.data(), p.size()));
}

TEST(RtpStats, LossDuplicateReorderAcrossTheWrap) {
  rtp_source_stats s;
  // 65533 lost, 2 duplicated, 5 after 6.
  const uint16_t seqs[] = {65530, 65531, 65532, 65534, 65535, 0, 1, 2, 2, 3, 4, 6, 5, 7, 8, 9, 10};
  double t = 0;
  for (uint16_t q : seqs) {
    s.on_packet(q, static_cast<uint32_t>(q) * 160, t);
    t += 0.02;
  }
  EXPECT_EQ(s.received(), 17u);
  EXPECT_EQ(s.expected(), 17u);  // 65530 .. 65536 + 10
  EXPECT_EQ(s.duplicates(), 1u);
  EXPECT_EQ(s.lost(), 1u);
  EXPECT_EQ(s.out_of_order(), 1u);
}

TEST(RtpStats, DuplicateOfAReorderedPacketAndLateDuplicates) {
  rtp_source_stats s;
  for (uint16_t q : {10, 11, 13, 12, 12, 13, 11, 14}) s.on_packet(q, 0, 0);
  EXPECT_EQ(s.duplicates(), 3u);
  EXPECT_EQ(s.out_of_order(), 1u);
  EXPECT_EQ(s.expected(), 5u);
  EXPECT_EQ(s.lost(), 0u);
}

TEST(RtpStats, StrayJumpIgnoredTwoInARowResync) {
  rtp_source_stats s;
  for (uint16_t q = 100; q <= 109; q++) s.on_packet(q, 0, 0);
  s.on_packet(40000, 0, 0);  // a stray: not believed, not counted
  EXPECT_EQ(s.expected(), 10u);
  EXPECT_EQ(s.received(), 10u);
  s.on_packet(110, 0, 0);
  EXPECT_EQ(s.expected(), 11u);
  EXPECT_EQ(s.lost(), 0u);
  // The sender restarted: 50000, 50001 in a row resync; the runs' expected add up.
  s.on_packet(50000, 0, 0);
  EXPECT_EQ(s.received(), 11u);
  s.on_packet(50001, 0, 0);
  EXPECT_EQ(s.received(), 13u);
  s.on_packet(50003, 0, 0);
  EXPECT_EQ(s.expected(), 11u + 4u);
  EXPECT_EQ(s.received(), 14u);
  EXPECT_EQ(s.lost(), 1u);  // 50002
}

TEST(RtpStats, LossNeverNegative) {
  rtp_source_stats s;
  s.on_packet(5, 0, 0);
  s.on_packet(3, 0, 0);  // from before the first packet seen
  EXPECT_EQ(s.expected(), 1u);
  EXPECT_EQ(s.lost(), 0u);
  EXPECT_EQ(s.out_of_order(), 1u);
}

TEST(RtpStats, JitterOfConstantDelayIsZero) {
  rtp_source_stats s(8000);
  uint32_t ts = 0xFFFFF000;  // the timestamp wraps during the stream
  for (int i = 0; i < 500; i++) {
    s.on_packet(static_cast<uint16_t>(i), ts, 1000.0 + i * 0.02 + 0.035);
    ts += 160;
  }
  EXPECT_NEAR(s.jitter_ms(), 0.0, 1e-6);
}

TEST(RtpStats, JitterOfAlternatingDelay) {
  // Delays 0, 10, 0, 10 ms: every |D| is 10 ms, so J converges to 10 ms (J += (|D|-J)/16).
  rtp_source_stats s(8000);
  for (int i = 0; i < 400; i++) {
    s.on_packet(static_cast<uint16_t>(i), static_cast<uint32_t>(i) * 160,
                i * 0.02 + (i % 2 != 0 ? 0.010 : 0.0));
  }
  EXPECT_NEAR(s.jitter_ms(), 10.0, 0.01);
  // After the second packet exactly: J = |D| / 16.
  rtp_source_stats two(8000);
  two.on_packet(0, 0, 0);
  two.on_packet(1, 160, 0.030);
  EXPECT_NEAR(two.jitter_ms(), 10.0 / 16, 1e-9);
}

TEST(Codec, StaticPayloadTypes) {
  EXPECT_EQ(codec_for_pt(0), codec::pcmu);
  EXPECT_EQ(codec_for_pt(8), codec::pcma);
  EXPECT_EQ(codec_for_pt(9), codec::g722);
  EXPECT_EQ(codec_for_pt(18), codec::unknown);
  EXPECT_STREQ(codec_name(codec::pcma), "PCMA");
  EXPECT_STREQ(codec_name(codec::unknown), "unknown");
  EXPECT_EQ(codec_sample_rate(codec::pcmu), 8000u);
  EXPECT_EQ(codec_sample_rate(codec::g722), 16000u);
}

TEST(Mos, EModelValues) {
  // R = 93.2 → 1 + 0.035 R + 7e-6 R (R - 60)(100 - R) = 4.409.
  EXPECT_NEAR(mos_estimate(codec::pcmu, 0, 0), 4.409, 0.001);
  // 1 % loss: Ie_eff = 95 · 1 / (1 + 25.1) = 3.640, R = 89.56 → 4.328.
  EXPECT_NEAR(mos_estimate(codec::pcma, 0.01, 0), 4.328, 0.001);
  // 200 ms: Id = 4.8 + 0.11 · 22.7 = 7.297, R = 85.903 → 4.226.
  EXPECT_NEAR(mos_estimate(codec::g722, 0, 200), 4.226, 0.001);
  // Everything lost: R = 93.2 - 95 · 100 / 125.1 = 17.26 → 1.177.
  EXPECT_NEAR(mos_estimate(codec::pcmu, 1.0, 0), 1.177, 0.001);
  EXPECT_EQ(mos_estimate(codec::pcmu, 0, 1000), 1.0);  // R < 0
  // An unknown codec suffers more from the same loss.
  EXPECT_LT(mos_estimate(codec::unknown, 0.02, 50), mos_estimate(codec::pcmu, 0.02, 50));
  // Out-of-range inputs are clamped, not propagated.
  EXPECT_EQ(mos_estimate(codec::pcmu, -1, -5), mos_estimate(codec::pcmu, 0, 0));
  EXPECT_EQ(mos_estimate(codec::pcmu, 7, 0), mos_estimate(codec::pcmu, 1, 0));
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(mos_estimate(codec::pcmu, nan, nan), mos_estimate(codec::pcmu, 0, 0));
  double prev = 5;
  for (double loss = 0; loss <= 0.3; loss += 0.01) {
    const double m = mos_estimate(codec::pcmu, loss, 40);
    EXPECT_LE(m, prev);
    EXPECT_GE(m, 1.0);
    prev = m;
  }
}
