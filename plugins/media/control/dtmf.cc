// SPDX-License-Identifier: BSD-3-Clause
// DTMF from RFC 4733 telephone-events and from in-band tones (spandsp's receiver).
#include "ringbridge/media/dtmf.h"

#include <spandsp.h>

#include <cmath>
#include <cstring>

namespace ringbridge::media {

namespace {

// RFC 4733 section 3.2: events 0-9, *, #, A-D are the DTMF digits.
constexpr char k_event_digit[] = "0123456789*#ABCD";
// telephone-event's RTP clock (RFC 4733 section 2.1: the audio's, 8 kHz for DTMF).
constexpr double k_event_clock = 8000.0;

dtmf_digit make_digit(uint8_t event, double at_s, uint32_t duration) {
  dtmf_digit d;
  d.digit = k_event_digit[event];
  d.at_s = at_s;
  d.duration_ms = static_cast<uint32_t>(duration / (k_event_clock / 1000.0));
  d.source = dtmf_digit::rfc4733;
  return d;
}

}  // namespace

bool rfc4733_detector::on_packet(const uint8_t* p, size_t len, uint32_t ts, double at_s,
                                 dtmf_digit* out) {
  if (p == nullptr || len < 4 || p[0] > 15) return false;
  const uint8_t event = p[0];
  const bool end = (p[1] & 0x80) != 0;
  const uint16_t duration = static_cast<uint16_t>(p[2] << 8 | p[3]);

  if (_have && ts == _ts) {
    // The same event: an update, its end, or a retransmitted end.
    if (duration > _duration) _duration = duration;
    if (!end || _reported) return false;
    _reported = true;
    *out = make_digit(_event, _at, _duration);
    return true;
  }
  // A late retransmission of the event before the current one: already dealt with.
  if (_have_prev && ts == _prev_ts) return false;

  // A new event. The previous one, if its end never came, is reported now.
  const bool report_prev = _have && !_reported;
  if (report_prev) *out = make_digit(_event, _at, _duration);
  _have_prev = _have;
  _prev_ts = _ts;
  _have = true;
  _ts = ts;
  _event = event;
  _duration = duration;
  // The duration so far says how long ago it began (first packets may have been lost).
  _at = std::fmax(0.0, at_s - duration / k_event_clock);
  _reported = false;
  if (report_prev) return true;
  if (!end) return false;
  _reported = true;
  *out = make_digit(_event, _at, _duration);
  return true;
}

namespace {
// spandsp's receiver works in blocks of 102 samples at 8 kHz (DTMF_SAMPLES_PER_BLOCK) and
// reports a tone's start and its end two blocks after they happen.
constexpr int k_block = 102;
constexpr double k_rate = 8000.0;
constexpr double k_report_delay_s = 2 * k_block / k_rate;
}  // namespace

inband_detector::inband_detector(unsigned rate) : _rate(rate == 16000 ? 16000 : 8000) {
  auto* rx = dtmf_rx_init(nullptr, nullptr, nullptr);
  // The realtime callback reports each tone's start and end (then the digit buffer stays
  // unused): the end gives the digit its measured duration.
  if (rx != nullptr) dtmf_rx_set_realtime_callback(rx, &inband_detector::on_tone, this);
  _rx = rx;
}

inband_detector::~inband_detector() {
  if (_rx != nullptr) dtmf_rx_free(static_cast<dtmf_rx_state_t*>(_rx));
}

void inband_detector::feed(const int16_t* s, size_t n, double at_s, std::vector<dtmf_digit>* out) {
  if (_rx == nullptr || n == 0) return;
  double first = at_s;  // time of _tmp[0]
  const int16_t* in = s;
  size_t count = n;
  if (_rate == 16000) {
    // Down to 8 kHz by averaging pairs: enough of a low-pass for tones under 1.7 kHz.
    _tmp.clear();
    size_t i = 0;
    if (_have_carry) {
      _tmp.push_back(static_cast<int16_t>((_carry + s[0]) / 2));
      first -= 1.0 / 16000;
      i = 1;
    }
    for (; i + 1 < n; i += 2) _tmp.push_back(static_cast<int16_t>((s[i] + s[i + 1]) / 2));
    _have_carry = i < n;
    if (_have_carry) _carry = s[i];
    in = _tmp.data();
    count = _tmp.size();
  }
  _sink = out;
  auto* rx = static_cast<dtmf_rx_state_t*>(_rx);
  for (size_t off = 0; off < count; off += k_block) {
    const int k = static_cast<int>(count - off < k_block ? count - off : k_block);
    // What the callback reports during this block happened by its end.
    _at = first + static_cast<double>(off + static_cast<size_t>(k)) / k_rate;
    dtmf_rx(rx, in + off, k);
  }
  _sink = nullptr;
}

void inband_detector::on_tone(void* user, int code, int /*level*/, int /*delay*/) {
  auto* self = static_cast<inband_detector*>(user);
  const double when = std::fmax(0.0, self->_at - k_report_delay_s);
  if (code != 0) {
    const char* known = std::strchr(k_event_digit, code);
    self->_digit = known != nullptr && code != '\0' ? static_cast<char>(code) : 0;
    self->_start = when;
    return;
  }
  if (self->_digit == 0 || self->_sink == nullptr) return;
  dtmf_digit d;
  d.digit = self->_digit;
  d.at_s = self->_start;
  d.duration_ms = static_cast<uint32_t>(std::lround(std::fmax(0.0, when - self->_start) * 1000));
  d.source = dtmf_digit::inband;
  self->_sink->push_back(d);
  self->_digit = 0;
}

}  // namespace ringbridge::media
