// SPDX-License-Identifier: BSD-3-Clause
// Fuzz target for what the media thread reads off the wire (plugins/media/control/rtp.cc,
// dtmf.cc, audio.cc): RTP and RTCP headers, a source's statistics and RFC 4733 events.
//
// - parse_rtp() on arbitrary bytes: the payload lies inside the input, after the fixed
//   header and its CSRCs; an accepted packet is never RTCP by looks_like_rtcp().
// - the payload through rfc4733_detector (a digit is one of 0-9 * # A-D) and the decoder
//   of its payload type (never more samples than samples_for() promised).
// - rtp_source_stats fed (seq, ts, arrival) triples taken from the input: duplicates never
//   exceed packets received, lost never exceeds expected, jitter finite and ≥ 0.
// - the same packets placed by channel_clock into a stereo_window: every position before
//   done() is handed out or skipped, and one take() never returns more than the ring
//   holds plus its ready frames, however far the positions jump.
// - the workers' RTP heuristics (plugins/media/dataplane): looks_like_rtp() accepts only what
//   holds its header and CSRCs and reads SSRC and sequence number from where they are;
//   heuristic_call_id() of any two endpoints is printable ASCII and the same both ways.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "ringbridge/media/audio.h"
#include "ringbridge/media/media_dataplane.h"
#include "ringbridge/media/dtmf.h"
#include "ringbridge/media/rtp.h"

namespace {

namespace m = ringbridge::media;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "rtp_fuzz: %s\n", what);
  __builtin_trap();
}

void check_stats(const m::rtp_source_stats& s) {
  if (s.duplicates() > s.received()) fail("more duplicates than packets");
  if (s.lost() > s.expected()) fail("lost more than expected");
  const double j = s.jitter_ms();
  if (!std::isfinite(j) || j < 0) fail("jitter not a finite non-negative number");
}

void check_heuristics(const uint8_t* data, size_t size) {
  namespace dp = ringbridge::dp;
  uint32_t ssrc = 0;
  uint16_t seq = 0;
  const auto len = static_cast<uint32_t>(size > 0xffffffffu ? 0xffffffffu : size);
  if (dp::looks_like_rtp(data, len, &ssrc, &seq)) {
    if (size < 12 + 4 * size_t{data[0] & 0x0fu}) fail("RTP shape accepted past the input");
    if (seq != (data[2] << 8 | data[3]) ||
        ssrc != (uint32_t{data[8]} << 24 | uint32_t{data[9]} << 16 | uint32_t{data[10]} << 8 |
                 data[11]))
      fail("SSRC or sequence number not where RTP has them");
  }
  if (size < 37) return;
  const uint8_t family = (data[0] & 1) != 0 ? 6 : 4;
  const auto p1 = static_cast<uint16_t>(data[33] << 8 | data[34]);
  const auto p2 = static_cast<uint16_t>(data[35] << 8 | data[36]);
  char a[128], b[128];
  const size_t na = dp::heuristic_call_id(family, data + 1, p1, data + 17, p2, a);
  const size_t nb = dp::heuristic_call_id(family, data + 17, p2, data + 1, p1, b);
  if (na == 0 || na >= 128 || na != nb || std::memcmp(a, b, na) != 0)
    fail("a heuristic Call-ID that depends on the direction");
  for (size_t i = 0; i < na; i++)
    if (a[i] < 0x21 || a[i] > 0x7e) fail("a heuristic Call-ID that is not printable ASCII");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  check_heuristics(data, size);
  m::rtp_header h;
  if (m::parse_rtp(data, size, &h)) {
    if (h.payload < data + 12 + 4 * size_t{data[0] & 0x0fu} ||
        h.payload + h.payload_len > data + size) {
      fail("payload outside the packet");
    }
    if (h.pt > 127) fail("payload type over 127");
    if (m::looks_like_rtcp(data, size)) fail("both RTP and RTCP");

    m::rfc4733_detector dtmf;
    m::dtmf_digit d;
    if (dtmf.on_packet(h.payload, h.payload_len, h.ts, 0, &d) &&
        (d.digit == 0 || std::strchr("0123456789*#ABCD", d.digit) == nullptr)) {
      fail("not a DTMF digit");
    }
    m::decoder dec(m::codec_for_pt(h.pt));
    std::vector<int16_t> pcm(dec.samples_for(h.payload_len) + 1, 0x5555);
    const size_t n = dec.decode(h.payload, h.payload_len, pcm.data());
    if (n > dec.samples_for(h.payload_len) || pcm.back() != 0x5555) fail("decoder overran");
  }

  // The input as a stream of 8-byte records: seq(2) ts(4) arrival step in ms(2), and the
  // same records' payloads through one RFC 4733 detector (a stream, not one packet).
  m::rtp_source_stats stats(8000);
  m::rfc4733_detector dtmf;
  m::channel_clock clock(16000, 8000);
  constexpr size_t k_window = 1600;
  constexpr uint64_t k_ring = 2 * k_window + 4096;
  m::stereo_window window(k_window);
  const std::vector<int16_t> packet(320, 1);
  std::vector<int16_t> out;
  uint64_t taken = 0;
  double t = 0;
  for (size_t off = 0; off + 8 <= size; off += 8) {
    const uint8_t* r = data + off;
    const uint16_t seq = static_cast<uint16_t>(r[0] << 8 | r[1]);
    const uint32_t ts = uint32_t{r[2]} << 24 | uint32_t{r[3]} << 16 | uint32_t{r[4]} << 8 | r[5];
    t += (r[6] << 8 | r[7]) / 1000.0;
    stats.on_packet(seq, ts, t);
    check_stats(stats);
    m::dtmf_digit d;
    if (dtmf.on_packet(r + 4, 4, ts, t, &d) &&
        std::strchr("0123456789*#ABCD", d.digit) == nullptr) {
      fail("not a DTMF digit in the stream");
    }
    // A jump copies up to a ring of frames: the first records are enough to cover it.
    if (off >= 64 * 8) continue;
    const uint64_t pos = clock.place(r[6] & 1, ts, t);
    window.put(r[7] & 1, pos, packet.data(), packet.size());
    if ((seq & 3) == 0) {
      out.clear();
      const size_t got = window.take(&out, (seq & 0x30) == 0);
      if (got > 2 * k_ring || out.size() != 2 * got) fail("take() beyond its bound");
      taken += got;
      if (taken + window.skipped() != window.done()) fail("frames unaccounted for");
    }
  }
  return 0;
}
