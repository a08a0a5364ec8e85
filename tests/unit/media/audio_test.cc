// SPDX-License-Identifier: BSD-3-Clause
// Decoders against G.711's tables and spandsp's encoders, the timeline clock, and the
// stereo window's reordering, late samples, silence and jumps.
#include "ringbridge/media/audio.h"

#include <gtest/gtest.h>
#include <spandsp.h>

#include <cmath>
#include <numbers>
#include <vector>

using namespace ringbridge::media;

namespace {

std::vector<int16_t> sine(double hz, unsigned rate, size_t n, double amp) {
  std::vector<int16_t> s(n);
  for (size_t i = 0; i < n; i++) {
    s[i] = static_cast<int16_t>(std::lround(amp * std::sin(2 * std::numbers::pi * hz * i / rate)));
  }
  return s;
}

// Normalised correlation of A[from..] with B[from + lag ..] over N samples.
double correlation(const std::vector<int16_t>& a, const std::vector<int16_t>& b, size_t from,
                   size_t lag, size_t n) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = from; i < from + n; i++) {
    const double x = a[i], y = b[i + lag];
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  return ab / std::sqrt(aa * bb);
}

int16_t decode_one(codec c, uint8_t byte) {
  decoder d(c);
  int16_t out = 0x7777;
  EXPECT_EQ(d.decode(&byte, 1, &out), 1u);
  return out;
}

}  // namespace

TEST(Decoder, G711TableValues) {
  // G.711 table 1/2: A-law 0xD5 / 0x55 are the smallest positive / negative steps (+-1 at
  // 12-bit resolution, +-8 on a 16-bit scale); 0xAA / 0x2A the largest (+-4032 → +-32256).
  EXPECT_EQ(decode_one(codec::pcma, 0xD5), 8);
  EXPECT_EQ(decode_one(codec::pcma, 0x55), -8);
  EXPECT_EQ(decode_one(codec::pcma, 0xAA), 32256);
  EXPECT_EQ(decode_one(codec::pcma, 0x2A), -32256);
  // Table 2a: mu-law 0xFF / 0x7F are zero; 0x80 / 0x00 the largest (+-8031 → +-32124).
  EXPECT_EQ(decode_one(codec::pcmu, 0xFF), 0);
  EXPECT_EQ(decode_one(codec::pcmu, 0x7F), 0);
  EXPECT_EQ(decode_one(codec::pcmu, 0x80), 32124);
  EXPECT_EQ(decode_one(codec::pcmu, 0x00), -32124);
}

TEST(Decoder, G711SineRoundTrip) {
  const auto in = sine(440, 8000, 8000, 12000);
  for (codec c : {codec::pcmu, codec::pcma}) {
    std::vector<uint8_t> enc(in.size());
    for (size_t i = 0; i < in.size(); i++) {
      enc[i] = c == codec::pcmu ? linear_to_ulaw(in[i]) : linear_to_alaw(in[i]);
    }
    decoder d(c);
    ASSERT_EQ(d.samples_for(160), 160u);
    std::vector<int16_t> out(in.size());
    for (size_t off = 0; off < enc.size(); off += 160) {
      ASSERT_EQ(d.decode(enc.data() + off, 160, out.data() + off), 160u);
    }
    EXPECT_GT(correlation(in, out, 0, 0, in.size()), 0.999) << codec_name(c);
  }
}

TEST(Decoder, G722SineRoundTrip) {
  const auto in = sine(1000, 16000, 16000 + 64, 10000);
  g722_encode_state_t* enc = g722_encode_init(nullptr, 64000, 0);
  ASSERT_NE(enc, nullptr);
  std::vector<uint8_t> bytes(in.size() / 2);
  ASSERT_EQ(g722_encode(enc, bytes.data(), in.data(), static_cast<int>(in.size())),
            static_cast<int>(bytes.size()));
  g722_encode_free(enc);

  decoder d(codec::g722);
  EXPECT_EQ(d.kind(), codec::g722);
  ASSERT_EQ(d.samples_for(160), 320u);
  std::vector<int16_t> out(bytes.size() * 2);
  size_t got = 0;
  // 20 ms packets: the decoder's state carries across them.
  for (size_t off = 0; off + 160 <= bytes.size(); off += 160) {
    got += d.decode(bytes.data() + off, 160, out.data() + got);
  }
  ASSERT_EQ(got, 16000u);
  // The QMF filters delay the signal by some samples: align on the best lag.
  double best = -1;
  for (size_t lag = 0; lag < 64; lag++)
    best = std::max(best, correlation(in, out, 200, lag, 15000));
  EXPECT_GT(best, 0.99);
}

TEST(Decoder, UnknownDecodesNothing) {
  decoder d(codec::unknown);
  uint8_t b[4] = {};
  int16_t out[8];
  EXPECT_EQ(d.samples_for(4), 0u);
  EXPECT_EQ(d.decode(b, 4, out), 0u);
}

TEST(ChannelClock, PlacesByTimestamp) {
  channel_clock c(8000, 8000);
  EXPECT_EQ(c.place(1, 1000, 1.0), 8000u);   // first: by arrival
  EXPECT_EQ(c.place(1, 1160, 1.5), 8160u);   // late arrival keeps its place
  EXPECT_EQ(c.place(1, 1480, 1.04), 8480u);  // a lost packet leaves its gap
  EXPECT_EQ(c.place(1, 1320, 1.06), 8320u);  // reordered
}

TEST(ChannelClock, WideRateAndWrap) {
  channel_clock c(16000, 8000);
  EXPECT_EQ(c.place(7, 0xFFFFFF60u, 0.5), 8000u);
  EXPECT_EQ(c.place(7, 0x00000000u, 0.52), 8320u);  // ts wrapped: +160 units, 320 samples
  EXPECT_EQ(c.place(7, 0x000000A0u, 0.54), 8640u);
}

TEST(ChannelClock, RebasesOnNewSsrcAndJump) {
  channel_clock c(8000, 8000);
  EXPECT_EQ(c.place(1, 5000, 2.0), 16000u);
  EXPECT_EQ(c.place(2, 999999, 3.0), 24000u);  // new SSRC: by arrival
  EXPECT_EQ(c.place(2, 999999 + 160, 3.02), 24160u);
  EXPECT_EQ(c.place(2, 999999 + 160 + 80001, 3.04), 24320u);  // > 10 s jump: by arrival
  EXPECT_EQ(c.place(2, 999999 + 160 + 80001 + 160, 3.06), 24480u);
  // Exactly 10 s ahead is still the same clock.
  EXPECT_EQ(c.place(2, 999999 + 160 + 80001 + 160 + 80000, 3.08), 24480u + 80000u);
}

TEST(ChannelClock, NeverNegative) {
  channel_clock c(8000, 8000);
  EXPECT_EQ(c.place(1, 10000, 0.001), 8u);
  EXPECT_EQ(c.place(1, 10000 - 1600, 0.02), 0u);  // before the first packet: clamped
  EXPECT_EQ(c.place(1, 10160, 0.03), 168u);
  channel_clock d(8000, 8000);
  EXPECT_EQ(d.place(1, 0, -3.0), 0u);
}

namespace {
std::vector<int16_t> fill(size_t n, int16_t v) {
  return std::vector<int16_t>(n, v);
}
}  // namespace

TEST(StereoWindow, InterleavesAndHoldsTheWindow) {
  stereo_window w(100);
  auto l = fill(160, 1), r = fill(160, 2);
  EXPECT_EQ(w.put(0, 0, l.data(), l.size()), 160u);
  EXPECT_EQ(w.put(1, 80, r.data(), r.size()), 160u);
  EXPECT_EQ(w.newest(), 240u);
  std::vector<int16_t> out;
  ASSERT_EQ(w.take(&out), 140u);  // final: before 240 - 100
  ASSERT_EQ(out.size(), 280u);
  EXPECT_EQ(out[0], 1);
  EXPECT_EQ(out[1], 0);  // nothing on the right yet: silence
  EXPECT_EQ(out[2 * 80], 1);
  EXPECT_EQ(out[2 * 80 + 1], 2);
  EXPECT_EQ(w.done(), 140u);
  out.clear();
  ASSERT_EQ(w.take(&out, true), 100u);  // the rest at the end of the call
  EXPECT_EQ(out[2 * 19], 1);            // frame 159
  EXPECT_EQ(out[2 * 20], 0);            // frame 160: left ended
  EXPECT_EQ(out[2 * 99 + 1], 2);
  EXPECT_EQ(w.done(), 240u);
  EXPECT_EQ(w.skipped(), 0u);
}

TEST(StereoWindow, ReordersLateAndSilence) {
  stereo_window w(400);
  auto a = fill(160, 10), b = fill(160, 20), c = fill(160, 30);
  // Packets 2, 0 (1 is lost) in that order.
  EXPECT_EQ(w.put(0, 320, c.data(), 160), 160u);
  EXPECT_EQ(w.put(0, 0, a.data(), 160), 160u);
  std::vector<int16_t> out;
  EXPECT_EQ(w.take(&out), 80u);  // 480 - 400
  // A late packet straddling done(): only what is still open lands.
  EXPECT_EQ(w.put(0, 0, b.data(), 160), 80u);
  EXPECT_EQ(w.put(0, 10, b.data(), 40), 0u);
  EXPECT_EQ(w.take(&out, true), 400u);
  ASSERT_EQ(out.size(), 2u * 480);
  for (size_t i = 0; i < 480; i++) {
    const int16_t want = i < 80 ? 10 : i < 160 ? 20 : i < 320 ? 0 : 30;
    ASSERT_EQ(out[2 * i], want) << i;
    ASSERT_EQ(out[2 * i + 1], 0) << i;
  }
  // Slots handed out were zeroed: the ring's next lap starts silent.
  out.clear();
  auto d = fill(1, 5);
  w.put(1, w.done() + 2, d.data(), 1);
  EXPECT_EQ(w.take(&out, true), 3u);
  EXPECT_EQ(out, (std::vector<int16_t>{0, 0, 0, 0, 0, 5}));
  EXPECT_EQ(w.put(2, 0, d.data(), 1), 0u);  // no such channel
}

TEST(StereoWindow, JumpStaysBounded) {
  const size_t window = 800;
  stereo_window w(window);
  auto a = fill(160, 7);
  w.put(0, 0, a.data(), 160);
  w.put(0, 160, a.data(), 160);
  // An hour ahead: what was put becomes final, the silence between is skipped.
  const uint64_t far = 3600ull * 16000;
  EXPECT_EQ(w.put(1, far, a.data(), 160), 160u);
  EXPECT_EQ(w.newest(), far + 160);
  std::vector<int16_t> out;
  const size_t got = w.take(&out);
  const uint64_t capacity = 2 * window + 4096;
  EXPECT_LE(got, capacity);
  ASSERT_GE(got, 320u);
  EXPECT_EQ(out[0], 7);
  EXPECT_EQ(out[2 * 319], 7);
  EXPECT_EQ(w.done(), far + 160 - window);
  // Every position is accounted for: handed out or skipped.
  EXPECT_EQ(got + w.skipped(), w.done());
  out.clear();
  EXPECT_EQ(w.take(&out, true), window);
  EXPECT_EQ(out[2 * (window - 160) + 1], 7);
  // Samples from before the jump are late now.
  EXPECT_EQ(w.put(0, 320, a.data(), 160), 0u);
}

TEST(StereoWindow, NoTakeStillBounded) {
  // A caller that never takes: memory stays within a ring plus one ring of ready frames.
  stereo_window w(160);
  auto a = fill(160, 3);
  for (uint64_t pos = 0; pos < 2000 * 160; pos += 160) w.put(0, pos, a.data(), 160);
  std::vector<int16_t> out;
  const size_t got = w.take(&out);
  EXPECT_LE(got, 2 * (2 * 160 + 4096));
  EXPECT_GT(w.skipped(), 0u);
  EXPECT_EQ(got + w.skipped(), w.done());
  // A put longer than the ring lands in ring-sized pieces; with no take() between them,
  // what overflows the ready frames counts as skipped.
  stereo_window v(0);
  auto big = fill(10000, 4);
  EXPECT_EQ(v.put(0, 0, big.data(), big.size()), 10000u);
  out.clear();
  const size_t n = v.take(&out, true);
  EXPECT_EQ(n + v.skipped(), 10000u);
  EXPECT_EQ(out.back() == 0 && out[out.size() - 2] == 4, true);
}
