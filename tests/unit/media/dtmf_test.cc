// SPDX-License-Identifier: BSD-3-Clause
// DTMF: RFC 4733 events reported once each; in-band tones at 8 and 16 kHz, and none from
// silence or a plain tone.
#include "ringbridge/media/dtmf.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <string>
#include <vector>

using namespace ringbridge::media;

namespace {

std::vector<uint8_t> event(uint8_t ev, bool end, uint16_t duration) {
  return {ev, static_cast<uint8_t>((end ? 0x80 : 0) | 10), static_cast<uint8_t>(duration >> 8),
          static_cast<uint8_t>(duration)};
}

}  // namespace

TEST(Rfc4733, OneDigitPerEventDespiteRetransmittedEnds) {
  rfc4733_detector d;
  dtmf_digit got;
  int reports = 0;
  double t = 1.0;
  for (uint16_t dur : {160, 320, 480, 640}) {
    auto p = event(5, false, dur);
    reports += d.on_packet(p.data(), p.size(), 8000, t, &got);
    t += 0.02;
  }
  EXPECT_EQ(reports, 0);
  for (int i = 0; i < 3; i++) {
    auto p = event(5, true, 800);
    if (d.on_packet(p.data(), p.size(), 8000, t, &got)) {
      reports++;
      EXPECT_EQ(got.digit, '5');
      EXPECT_EQ(got.duration_ms, 100u);
      EXPECT_NEAR(got.at_s, 1.0 - 0.02, 1e-9);  // began 160 units before the first packet
      EXPECT_EQ(got.source, dtmf_digit::rfc4733);
    }
  }
  EXPECT_EQ(reports, 1);
}

TEST(Rfc4733, MissingEndReportedWhenTheNextEventStarts) {
  rfc4733_detector d;
  dtmf_digit got;
  auto a = event(1, false, 400);
  EXPECT_FALSE(d.on_packet(a.data(), a.size(), 16000, 2.0, &got));
  a = event(1, false, 800);
  EXPECT_FALSE(d.on_packet(a.data(), a.size(), 16000, 2.05, &got));
  auto b = event(11, false, 160);
  ASSERT_TRUE(d.on_packet(b.data(), b.size(), 17600, 3.0, &got));
  EXPECT_EQ(got.digit, '1');
  EXPECT_EQ(got.duration_ms, 100u);
  b = event(11, true, 480);
  ASSERT_TRUE(d.on_packet(b.data(), b.size(), 17600, 3.04, &got));
  EXPECT_EQ(got.digit, '#');
  EXPECT_EQ(got.duration_ms, 60u);
  // A late retransmission of the event before: ignored, not a new '1'.
  a = event(1, true, 800);
  EXPECT_FALSE(d.on_packet(a.data(), a.size(), 16000, 3.1, &got));
  b = event(11, true, 480);
  EXPECT_FALSE(d.on_packet(b.data(), b.size(), 17600, 3.1, &got));
}

TEST(Rfc4733, EventNamesAndJunk) {
  const std::string names = "0123456789*#ABCD";
  rfc4733_detector d;
  dtmf_digit got;
  for (uint8_t ev = 0; ev < 16; ev++) {
    auto p = event(ev, true, 800);
    ASSERT_TRUE(d.on_packet(p.data(), p.size(), 1000u * ev, ev, &got));
    EXPECT_EQ(got.digit, names[ev]);
  }
  auto flash = event(16, true, 800);  // hook flash: not a digit
  EXPECT_FALSE(d.on_packet(flash.data(), flash.size(), 99999, 20, &got));
  auto p = event(3, true, 800);
  EXPECT_FALSE(d.on_packet(p.data(), 3, 123456, 21, &got));
  EXPECT_FALSE(d.on_packet(nullptr, 0, 123457, 21, &got));
}

namespace {

// DTMF digits as the sum of their two sines (Q.23), ON ms on and OFF ms off each.
std::vector<int16_t> tones(const std::string& digits, unsigned rate, int on_ms, int off_ms) {
  static const char keys[] = "123A456B789C*0#D";
  static const double low[] = {697, 770, 852, 941}, high[] = {1209, 1336, 1477, 1633};
  std::vector<int16_t> out;
  for (char c : digits) {
    const int k = static_cast<int>(std::string(keys).find(c));
    const size_t on = rate * on_ms / 1000, off = rate * off_ms / 1000;
    for (size_t i = 0; i < on; i++) {
      const double t = static_cast<double>(i) / rate;
      out.push_back(static_cast<int16_t>(
          std::lround(6000 * std::sin(2 * std::numbers::pi * low[k / 4] * t) +
                      6000 * std::sin(2 * std::numbers::pi * high[k % 4] * t))));
    }
    out.insert(out.end(), off, 0);
  }
  return out;
}

std::vector<dtmf_digit> detect(const std::vector<int16_t>& s, unsigned rate, size_t chunk) {
  inband_detector d(rate);
  std::vector<dtmf_digit> out;
  for (size_t off = 0; off < s.size(); off += chunk) {
    const size_t n = std::min(chunk, s.size() - off);
    d.feed(s.data() + off, n, static_cast<double>(off) / rate, &out);
  }
  return out;
}

}  // namespace

TEST(Inband, DigitsAtBothRates) {
  // 160 and 321 samples a feed: packet-sized, and odd (the decimator's carry at 16 kHz).
  for (unsigned rate : {8000u, 16000u}) {
    for (size_t chunk : {size_t{rate} / 50, size_t{321}}) {
      const auto got = detect(tones("159#", rate, 100, 100), rate, chunk);
      std::string digits;
      for (const auto& g : got) digits += g.digit;
      ASSERT_EQ(digits, "159#") << rate << " Hz, feeds of " << chunk;
      for (size_t i = 0; i < got.size(); i++) {
        EXPECT_NEAR(got[i].at_s, 0.2 * i, 0.03) << rate << " " << i;
        EXPECT_NEAR(got[i].duration_ms, 100.0, 30.0) << rate << " " << i;
        EXPECT_EQ(got[i].source, dtmf_digit::inband);
      }
    }
  }
}

TEST(Inband, NothingFromSilenceOrAPlainTone) {
  for (unsigned rate : {8000u, 16000u}) {
    EXPECT_TRUE(detect(std::vector<int16_t>(rate * 2, 0), rate, 160).empty());
    std::vector<int16_t> tone(rate * 2);
    for (size_t i = 0; i < tone.size(); i++) {
      tone[i] = static_cast<int16_t>(
          std::lround(12000 * std::sin(2 * std::numbers::pi * 1000 * i / rate)));
    }
    EXPECT_TRUE(detect(tone, rate, 160).empty()) << rate;
  }
}
