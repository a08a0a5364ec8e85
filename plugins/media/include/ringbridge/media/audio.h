// SPDX-License-Identifier: BSD-3-Clause
// Decoding a call's RTP audio into a stereo timeline: codec decoders (spandsp), the clock
// that places each packet's samples on the call's timeline by RTP timestamp, and the
// bounded stereo window that reorders within the jitter window and hands out final
// 16-bit frames (caller left, callee right) with silence where nothing arrived.
//
// Owned by the media feature's control half. No DPDK, no threads, no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "ringbridge/media/rtp.h"

namespace ringbridge::media {

/// One stream's decoder (state kept across packets, as G.722 needs). spandsp underneath.
class decoder {
 public:
  explicit decoder(codec c);
  ~decoder();
  decoder(const decoder&) = delete;
  decoder& operator=(const decoder&) = delete;

  codec kind() const { return _codec; }
  /// Decodes N payload bytes into OUT (room for at least samples_for(N)); returns samples
  /// written (codec_sample_rate() per second). 0 for an unknown codec.
  size_t decode(const uint8_t* in, size_t n, int16_t* out);
  /// Samples N payload bytes decode to (G.711: N, G.722: 2N).
  size_t samples_for(size_t n) const;

 private:
  codec _codec;
  void* _state = nullptr;  ///< spandsp's g722_decode_state_t (G.722 only)
};

/// Where one direction's packets go on the call's timeline (in samples at RATE since the
/// call's origin, the INVITE). The first packet of a source is placed by its arrival time;
/// later ones by RTP timestamp difference from it (reordering and loss keep their places).
/// A new SSRC, or a timestamp jump of more than 10 s, places the stream afresh by arrival.
class channel_clock {
 public:
  /// RATE: output samples per second; CLOCK: the RTP clock (8000 for G.711 and G.722).
  channel_clock(unsigned rate, uint32_t clock) : _rate(rate), _clock(clock) {}
  /// The timeline position of a packet's first sample: SSRC, TS as sent, ARRIVAL_S seconds
  /// since the call's origin. Never negative: a packet stamped before the stream's first
  /// (reordered across it) is placed at 0 at the earliest.
  uint64_t place(uint32_t ssrc, uint32_t ts, double arrival_s);

 private:
  unsigned _rate;
  uint32_t _clock;
  bool _started = false;
  uint32_t _ssrc = 0;
  uint32_t _base_ts = 0;
  int64_t _base_pos = 0;
  uint32_t _last_ts = 0;  ///< of the packet placed last: a jump is measured from it
};

/// A bounded window of the stereo timeline not yet written out. Samples land at their
/// positions (in any order, within WINDOW samples of the newest); what falls behind the
/// window is final and is handed out by take(), silence where nothing landed.
class stereo_window {
 public:
  /// WINDOW_SAMPLES: how far behind the newest sample a late one may still land (the
  /// jitter window, in samples at the call's rate).
  explicit stereo_window(size_t window_samples);

  /// Puts N mono samples of CHANNEL (0 left = caller, 1 right = callee) at POS; returns
  /// how many landed (samples before done() are late and dropped). A position beyond the
  /// window's room (2 × window + 4096 frames) makes what falls out of it final: frames put
  /// before are kept for the next take() (at most one ring's worth; more counts in
  /// skipped()), and the silence between them and the new position is skipped, not kept:
  /// memory never grows with a jump, and the output is shorter than the timeline by
  /// skipped() frames.
  size_t put(int channel, uint64_t pos, const int16_t* s, size_t n);

  /// Time passes with nothing put: the timeline reaches POS (silence where nothing lands),
  /// so that take() hands out what is older than POS - window even when no packet comes
  /// (silence suppression, hold, the end of a stream). At most one ring's worth ahead of
  /// done() per call: the media thread calls it every 20 ms.
  void advance(uint64_t pos);

  /// Final frames: everything before newest() - window, or everything when FLUSH_ALL
  /// (the call ended). Appends interleaved L,R pairs to OUT; returns frames appended.
  size_t take(std::vector<int16_t>* out, bool flush_all = false);

  /// The position before which every frame is final: handed out, kept for take(), or
  /// skipped. done() = frames take() returned + frames waiting + skipped().
  uint64_t done() const { return _done; }
  uint64_t newest() const { return _newest; }    ///< one past the highest position put
  uint64_t skipped() const { return _skipped; }  ///< frames never handed out (see put())
  /// Frames the ring holds: a put() more than this beyond done() skips (see put()); the
  /// caller take()s before such a put to keep every frame.
  uint64_t capacity() const { return _limit; }

 private:
  void make_room(uint64_t end);
  void hand_out(uint64_t end, std::vector<int16_t>* out);

  size_t _window;
  uint64_t _done = 0;
  uint64_t _skipped = 0;
  uint64_t _newest = 0;
  std::vector<int16_t> _buf;    ///< ring of interleaved frames, capacity ≥ 2 × window
  uint64_t _limit = 0;          ///< capacity in frames
  std::vector<int16_t> _ready;  ///< frames made final by put() before take() came
};

}  // namespace ringbridge::media
