// SPDX-License-Identifier: BSD-3-Clause
// DTMF digits of a call: RFC 4733 telephone-events (the payload type the SDP announced;
// one digit per event, however many packets and retransmitted end packets carry it) and
// in-band tones in the decoded audio (spandsp's Goertzel-based DTMF receiver).
//
// Owned by the media feature's control half. No DPDK, no threads, no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ringbridge::media {

/// One detected digit. AT_S: seconds since the call's origin (the INVITE) when it began.
struct dtmf_digit {
  char digit = 0;  ///< '0'..'9', '*', '#', 'A'..'D'
  double at_s = 0;
  uint32_t duration_ms = 0;  ///< RFC 4733: from the event's duration field; in-band: measured
  enum source_kind : uint8_t { rfc4733, inband } source = rfc4733;
};

/// RFC 4733 telephone-event payloads of one direction.
class rfc4733_detector {
 public:
  /// One packet's payload (P[0..LEN), the RTP payload) with RTP timestamp TS, arrived at
  /// AT_S since the call's origin. Returns true and fills *OUT once per event (the first
  /// packet with the end bit, or a new event's first packet when the previous one's end
  /// never came); retransmissions (same timestamp) are ignored. Events 0..15 only.
  bool on_packet(const uint8_t* p, size_t len, uint32_t ts, double at_s, dtmf_digit* out);

 private:
  bool _have = false;      ///< an event at _ts is known
  bool _reported = false;  ///< ... and was reported
  uint32_t _ts = 0;
  uint8_t _event = 0;
  uint16_t _duration = 0;  ///< the longest duration field seen for the event at _ts
  double _at = 0;
  bool _have_prev = false;  ///< the event before (its late retransmissions are ignored)
  uint32_t _prev_ts = 0;
};

/// In-band DTMF in one channel of decoded audio.
class inband_detector {
 public:
  /// RATE: samples per second of what feed() gets (8000 or 16000; 16000 is decimated).
  explicit inband_detector(unsigned rate);
  ~inband_detector();
  inband_detector(const inband_detector&) = delete;
  inband_detector& operator=(const inband_detector&) = delete;

  /// N samples starting at AT_S since the call's origin; appends digits found to *OUT. A
  /// digit is appended when its tone ends (its duration is then known), with AT_S its
  /// estimated start (to about one 12.75 ms block).
  void feed(const int16_t* s, size_t n, double at_s, std::vector<dtmf_digit>* out);

 private:
  unsigned _rate;
  void* _rx = nullptr;        ///< spandsp's dtmf_rx_state_t
  std::vector<int16_t> _tmp;  ///< 16 kHz input decimated
  int16_t _carry = 0;         ///< odd 16 kHz sample left for the next feed()
  bool _have_carry = false;
  std::vector<dtmf_digit>* _sink = nullptr;  ///< feed()'s OUT while spandsp runs
  double _at = 0;                            ///< end of the block spandsp is processing
  char _digit = 0;                           ///< the tone being heard, 0 if none
  double _start = 0;                         ///< its estimated start
  /// spandsp's realtime report: CODE the digit's ASCII at a tone's start, 0 at its end.
  static void on_tone(void* user, int code, int level, int delay);
};

}  // namespace ringbridge::media
