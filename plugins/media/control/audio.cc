// SPDX-License-Identifier: BSD-3-Clause
// Codec decoders over spandsp, the RTP-timestamp clock of one direction and the bounded
// stereo window that turns packets in any order into final frames.
#include "ringbridge/media/audio.h"

#include <spandsp.h>

#include <algorithm>
#include <climits>
#include <cmath>

namespace ringbridge::media {

decoder::decoder(codec c) : _codec(c) {
  if (c == codec::g722) {
    // 64 kbit/s, one code word per byte (RFC 3551 section 4.5.2), 16 kHz out.
    _state = g722_decode_init(nullptr, 64000, 0);
    if (_state == nullptr) _codec = codec::unknown;  // out of memory: decode nothing
  }
}

decoder::~decoder() {
  if (_state != nullptr) g722_decode_free(static_cast<g722_decode_state_t*>(_state));
}

size_t decoder::samples_for(size_t n) const {
  switch (_codec) {
    case codec::pcmu:
    case codec::pcma: return n;
    case codec::g722: return 2 * n;
    case codec::unknown: break;
  }
  return 0;
}

size_t decoder::decode(const uint8_t* in, size_t n, int16_t* out) {
  switch (_codec) {
    case codec::pcmu:
      for (size_t i = 0; i < n; i++) out[i] = ulaw_to_linear(in[i]);
      return n;
    case codec::pcma:
      for (size_t i = 0; i < n; i++) out[i] = alaw_to_linear(in[i]);
      return n;
    case codec::g722: {
      auto* s = static_cast<g722_decode_state_t*>(_state);
      size_t done = 0;
      // spandsp counts in int; a payload never comes near, but the type allows it.
      while (n > 0) {
        const int chunk = static_cast<int>(std::min<size_t>(n, INT_MAX / 2));
        const int got = g722_decode(s, out + done, in, chunk);
        if (got <= 0) break;
        done += static_cast<size_t>(got);
        in += chunk;
        n -= static_cast<size_t>(chunk);
      }
      return done;
    }
    case codec::unknown: break;
  }
  return 0;
}

uint64_t channel_clock::place(uint32_t ssrc, uint32_t ts, double arrival_s) {
  // Arrival in samples; NaN and negative times are the origin.
  const double a = arrival_s > 0 ? std::min(arrival_s, 1e9) : 0.0;
  const int64_t by_arrival = std::llround(a * _rate);
  // 10 s in timestamp units: past it the sender's clock is not the one we were following.
  const int64_t max_jump = int64_t{10} * _clock;
  bool rebase = !_started || ssrc != _ssrc || _clock == 0;
  if (!rebase) {
    const int64_t step = static_cast<int32_t>(ts - _last_ts);
    rebase = step > max_jump || step < -max_jump;
  }
  int64_t pos;
  if (rebase) {
    _started = true;
    _ssrc = ssrc;
    _base_ts = ts;
    _base_pos = by_arrival;
    pos = by_arrival;
  } else {
    // Signed 32-bit difference: the timestamp's wrap is a step like any other.
    const int64_t dts = static_cast<int32_t>(ts - _base_ts);
    pos = _base_pos + dts * int64_t{_rate} / int64_t{_clock};
    // Keep the base within 2^30 units of what arrives so the difference never overflows
    // int32 on a long call; moved rarely, so rounding with odd rate ratios does not drift.
    if (dts > (int64_t{1} << 30) || dts < -(int64_t{1} << 30)) {
      _base_ts = ts;
      _base_pos = pos;
    }
  }
  _last_ts = ts;
  return pos < 0 ? 0 : static_cast<uint64_t>(pos);
}

namespace {
// Room beyond twice the window: a whole packet (up to 256 ms at 16 kHz) always fits.
constexpr uint64_t k_slack = 4096;
}  // namespace

stereo_window::stereo_window(size_t window_samples)
    : _window(window_samples), _limit(2 * uint64_t{window_samples} + k_slack) {
  _buf.assign(2 * _limit, 0);
}

void stereo_window::hand_out(uint64_t end, std::vector<int16_t>* out) {
  // Frames [_done, END) of the ring (END ≤ _done + _limit) to OUT, slots zeroed for reuse.
  while (_done < end) {
    const uint64_t slot = _done % _limit;
    const uint64_t n = std::min(end - _done, _limit - slot);
    int16_t* from = _buf.data() + 2 * slot;
    if (out != nullptr) out->insert(out->end(), from, from + 2 * n);
    std::fill(from, from + 2 * n, int16_t{0});
    _done += n;
  }
}

void stereo_window::make_room(uint64_t end) {
  if (end <= _done + _limit) return;
  const uint64_t new_done = end - _limit;
  // What was put falls out into _ready, itself capped at one ring's worth: a caller that
  // does not take() loses frames (counted) rather than growing memory.
  const uint64_t data_end = std::min(new_done, std::max(_newest, _done));
  const uint64_t room = _limit - std::min<uint64_t>(_limit, _ready.size() / 2);
  const uint64_t kept_end = std::min(data_end, _done + room);
  hand_out(kept_end, &_ready);
  hand_out(data_end, nullptr);
  _skipped += data_end - kept_end;
  // Beyond the newest sample nothing landed: that silence is skipped, not materialized,
  // so a jump of any length costs nothing.
  if (new_done > _done) {
    _skipped += new_done - _done;
    _done = new_done;
  }
  _newest = std::max(_newest, _done);
}

size_t stereo_window::put(int channel, uint64_t pos, const int16_t* s, size_t n) {
  if ((channel != 0 && channel != 1) || n == 0 || pos > UINT64_MAX - n - _limit) return 0;
  if (pos + n <= _done) return 0;
  if (pos < _done) {
    const uint64_t late = _done - pos;
    s += late;
    n -= late;
    pos = _done;
  }
  // A put longer than the ring is taken in ring-sized pieces.
  size_t landed = 0;
  while (n > 0) {
    const size_t piece = static_cast<size_t>(std::min<uint64_t>(n, _limit));
    make_room(pos + piece);
    for (size_t i = 0; i < piece; i++) {
      _buf[2 * ((pos + i) % _limit) + static_cast<size_t>(channel)] = s[i];
    }
    _newest = std::max(_newest, pos + piece);
    landed += piece;
    pos += piece;
    s += piece;
    n -= piece;
  }
  return landed;
}

void stereo_window::advance(uint64_t pos) {
  _newest = std::max(_newest, std::min(pos, _done + _limit));
}

size_t stereo_window::take(std::vector<int16_t>* out, bool flush_all) {
  const size_t before = out->size();
  out->insert(out->end(), _ready.begin(), _ready.end());
  _ready.clear();
  uint64_t end = flush_all ? _newest : (_newest > _window ? _newest - _window : 0);
  if (end > _done) hand_out(end, out);
  return (out->size() - before) / 2;
}

}  // namespace ringbridge::media
