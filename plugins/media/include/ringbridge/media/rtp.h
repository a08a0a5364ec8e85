// SPDX-License-Identifier: BSD-3-Clause
// RTP (RFC 3550) and RTCP as the media thread reads them: a bounded header parser, the
// per-source reception statistics of RFC 3550 appendix A (extended sequence numbers, loss,
// duplicates, reordering, interarrival jitter) and a MOS estimate from a simplified ITU-T
// G.107 E-model.
//
// Owned by the media feature's control half. Pure functions and plain classes: no DPDK, no
// threads, no I/O. Every length comes from the wire and is checked.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ringbridge::media {

/// One RTP packet's fixed header and where its payload is. Views into the packet.
struct rtp_header {
  uint8_t marker = 0;
  uint8_t pt = 0;  ///< payload type, 0..127
  uint16_t seq = 0;
  uint32_t ts = 0;
  uint32_t ssrc = 0;
  const uint8_t* payload = nullptr;  ///< after CSRCs and the header extension
  size_t payload_len = 0;            ///< padding (P bit) removed
};

/// Parses the UDP payload P[0..LEN) as RTP version 2: CSRC list, header extension and
/// padding are honoured and bounds-checked. False for anything else (too short, version
/// != 2, lengths past the end, an RTCP packet type 200..204 in the PT position).
bool parse_rtp(const uint8_t* p, size_t len, rtp_header* out);

/// Whether P[0..LEN) starts like an RTCP compound packet (version 2, packet type 200..204,
/// a length that fits).
bool looks_like_rtcp(const uint8_t* p, size_t len);

/// Reception statistics of one RTP source (one SSRC), RFC 3550 A.1 / A.3 / A.8.
class rtp_source_stats {
 public:
  /// CLOCK_RATE: the payload's RTP clock (8000 for G.711 and G.722).
  explicit rtp_source_stats(uint32_t clock_rate = 8000) : _clock(clock_rate) {}

  /// One packet with sequence number SEQ and RTP timestamp TS, arrived at ARRIVAL_S
  /// (seconds, any monotonic origin).
  /// A lone packet far from the sequence (a jump A.1 does not yet believe) counts nowhere;
  /// two in a row restart the sequence (the sender restarted: both count, and the runs'
  /// expected counts add up).
  void on_packet(uint16_t seq, uint32_t ts, double arrival_s);

  uint64_t received() const { return _received; }  ///< packets, duplicates included
  uint64_t expected() const;                       ///< extended highest - base + 1
  uint64_t lost() const;                           ///< expected - (received - duplicates), ≥ 0
  uint64_t duplicates() const { return _duplicates; }
  uint64_t out_of_order() const { return _out_of_order; }  ///< arrived after a later seq
  double jitter_ms() const;                                ///< RFC 3550 A.8, in ms

 private:
  void restart(uint16_t seq);
  void advance(uint64_t ext);

  uint32_t _clock;
  bool _started = false;
  uint16_t _max_seq = 0;
  uint32_t _cycles = 0;  ///< count of sequence number wraps, << 16
  uint32_t _base_seq = 0;
  uint32_t _bad_seq = (1u << 16) + 1;  ///< A.1: the sequence number that confirms a jump
  uint64_t _expected_prior = 0;        ///< expected() of the runs before a resync
  uint64_t _received = 0, _duplicates = 0, _out_of_order = 0;
  double _jitter = 0;  ///< in timestamp units
  double _last_arrival = 0;
  uint32_t _last_ts = 0;
  bool _have_transit = false;
  // A bounded window of recently seen extended sequence numbers, for duplicates.
  uint64_t _seen_bits[8] = {};  ///< 512 sequence numbers behind the highest
};

/// The codecs ringbridge decodes (RTP/AVP static payload types; dynamic ones are mapped by
/// name from the SDP's a=rtpmap by the caller).
enum class codec : uint8_t { unknown, pcmu, pcma, g722 };
/// The static RTP/AVP payload type's codec (0 PCMU, 8 PCMA, 9 G722), else unknown.
codec codec_for_pt(uint8_t pt);
const char* codec_name(codec c);
/// Samples per second of the decoded audio: 8000 for G.711, 16000 for G.722; 8000 for an
/// unknown codec (nothing is decoded; the narrowband timeline is the default).
unsigned codec_sample_rate(codec c);

/// MOS estimate (1.0 .. 4.5) from a simplified ITU-T G.107 E-model: R = 93.2 - Id - Ie_eff,
/// Ie_eff = Ie + (95 - Ie) * Ppl / (Ppl + Bpl), with the codec's Ie / Bpl (G.107 appendix
/// I / G.113: G.711 with PLC Ie 0, Bpl 25.1; G.722 Ie 0 (narrowband scale), Bpl 25.1) and
/// Id from the one-way delay estimated as DELAY_MS (a jitter buffer of about twice the
/// jitter plus packetisation, when the caller knows no better). LOSS_FRACTION 0..1.
/// Documented in docs/design/media.md. An estimate, labelled so wherever it is shown.
double mos_estimate(codec c, double loss_fraction, double delay_ms);

}  // namespace ringbridge::media
