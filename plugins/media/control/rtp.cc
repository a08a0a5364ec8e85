// SPDX-License-Identifier: BSD-3-Clause
// RTP/RTCP header checks, RFC 3550 appendix A reception statistics and the E-model MOS.
#include "ringbridge/media/rtp.h"

#include <algorithm>
#include <cmath>
#include <iterator>

namespace ringbridge::media {

namespace {

uint16_t be16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] << 8 | p[1]);
}
uint32_t be32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}

// RFC 3550 A.1's limits: a forward step up to MAX_DROPOUT is loss, a backward step up to
// MAX_MISORDER is reordering; anything else is a jump (a restarted sender).
constexpr uint32_t k_max_dropout = 3000;
constexpr uint32_t k_max_misorder = 100;
constexpr uint32_t k_seq_mod = 1u << 16;
constexpr uint64_t k_window = 512;  // sequence numbers the duplicate bitmap remembers

// RTCP packet types SR, RR, SDES, BYE, APP (RFC 3550 section 12.1): the byte RTP would
// call marker + PT. RFC 5761 section 4 relies on it to tell them apart on one port.
bool rtcp_type(uint8_t b) {
  return b >= 200 && b <= 204;
}

}  // namespace

bool parse_rtp(const uint8_t* p, size_t len, rtp_header* out) {
  if (p == nullptr || len < 12 || (p[0] >> 6) != 2 || rtcp_type(p[1])) return false;
  size_t off = 12 + 4 * size_t{p[0] & 0x0fu};
  if (off > len) return false;
  if ((p[0] & 0x10) != 0) {
    // Header extension: a 16-bit profile word, then its length in 32-bit words.
    if (len - off < 4) return false;
    const size_t words = be16(p + off + 2);
    if ((len - off - 4) / 4 < words) return false;
    off += 4 + 4 * words;
  }
  size_t pad = 0;
  if ((p[0] & 0x20) != 0) {
    // The last octet counts the padding, itself included: zero is malformed.
    pad = p[len - 1];
    if (pad == 0 || pad > len - off) return false;
  }
  out->marker = p[1] >> 7;
  out->pt = p[1] & 0x7f;
  out->seq = be16(p + 2);
  out->ts = be32(p + 4);
  out->ssrc = be32(p + 8);
  out->payload = p + off;
  out->payload_len = len - off - pad;
  return true;
}

bool looks_like_rtcp(const uint8_t* p, size_t len) {
  // The smallest RTCP packet is an empty RR: 4 bytes of header and the sender's SSRC.
  if (p == nullptr || len < 8 || (p[0] >> 6) != 2 || !rtcp_type(p[1])) return false;
  const size_t bytes = (size_t{be16(p + 2)} + 1) * 4;
  return bytes <= len;
}

void rtp_source_stats::on_packet(uint16_t seq, uint32_t ts, double arrival_s) {
  _received++;
  if (!_started) {
    restart(seq);
    _started = true;
  } else {
    const uint16_t udelta = static_cast<uint16_t>(seq - _max_seq);
    const uint64_t ext_max = uint64_t{_cycles} + _max_seq;
    if (udelta == 0) {
      _duplicates++;
      return;
    }
    if (udelta < k_max_dropout) {
      // In order, with a gap allowed for loss.
      if (seq < _max_seq) _cycles += k_seq_mod;
      advance(ext_max + udelta);
      _max_seq = seq;
      _bad_seq = k_seq_mod + 1;
    } else if (udelta <= k_seq_mod - k_max_misorder) {
      // A jump. A.1 resyncs when the next packet follows this one (the sender restarted);
      // a lone stray packet is ignored for sequencing and jitter.
      if (seq != _bad_seq) {
        _bad_seq = (uint32_t{seq} + 1) & (k_seq_mod - 1);
        _received--;  // not counted unless the next packet confirms it
        return;
      }
      _received++;  // the packet before, now believed
      _expected_prior += expected();
      // The stray packet before this one started the new run: count it in.
      restart(static_cast<uint16_t>(seq - 1));
      advance(uint64_t{_max_seq} + 1);
      if (seq == 0) _cycles += k_seq_mod;
      _max_seq = seq;
    } else {
      // Behind the highest by at most MAX_MISORDER: reordered or a duplicate.
      const uint64_t behind = k_seq_mod - udelta;
      if (behind > ext_max - _base_seq) {
        // From before the first packet we saw: late, but outside what expected() covers.
        _out_of_order++;
        return;
      }
      const uint64_t ext = ext_max - behind;
      uint64_t& word = _seen_bits[(ext % k_window) / 64];
      const uint64_t bit = uint64_t{1} << (ext % 64);
      if ((word & bit) != 0) {
        _duplicates++;
        return;
      }
      word |= bit;
      _out_of_order++;
    }
  }
  // RFC 3550 A.8 with the difference of transits taken as differences, so neither the
  // 32-bit timestamp wrap nor a large arrival origin costs precision.
  if (_have_transit) {
    const double d = (arrival_s - _last_arrival) * _clock - static_cast<int32_t>(ts - _last_ts);
    _jitter += (std::fabs(d) - _jitter) / 16.0;
  }
  _have_transit = true;
  _last_arrival = arrival_s;
  _last_ts = ts;
}

void rtp_source_stats::restart(uint16_t seq) {
  _base_seq = seq;
  _max_seq = seq;
  _cycles = 0;
  _bad_seq = k_seq_mod + 1;
  _have_transit = false;
  std::fill(std::begin(_seen_bits), std::end(_seen_bits), 0);
  _seen_bits[(seq % k_window) / 64] |= uint64_t{1} << (seq % 64);
}

void rtp_source_stats::advance(uint64_t ext) {
  // Forget what the window no longer covers, then remember EXT.
  const uint64_t old = uint64_t{_cycles} + _max_seq;
  if (ext - old >= k_window) {
    std::fill(std::begin(_seen_bits), std::end(_seen_bits), 0);
  } else {
    for (uint64_t e = old + 1; e < ext; e++) {
      _seen_bits[(e % k_window) / 64] &= ~(uint64_t{1} << (e % 64));
    }
  }
  _seen_bits[(ext % k_window) / 64] |= uint64_t{1} << (ext % 64);
}

uint64_t rtp_source_stats::expected() const {
  if (!_started) return 0;
  return _expected_prior + uint64_t{_cycles} + _max_seq - _base_seq + 1;
}

uint64_t rtp_source_stats::lost() const {
  const uint64_t got = _received - _duplicates;
  const uint64_t exp = expected();
  return exp > got ? exp - got : 0;
}

double rtp_source_stats::jitter_ms() const {
  return _clock == 0 ? 0.0 : _jitter / _clock * 1000.0;
}

codec codec_for_pt(uint8_t pt) {
  switch (pt) {
    case 0: return codec::pcmu;
    case 8: return codec::pcma;
    case 9: return codec::g722;
    default: return codec::unknown;
  }
}

const char* codec_name(codec c) {
  // The encoding names of RFC 3551 as SDP's a=rtpmap spells them.
  switch (c) {
    case codec::pcmu: return "PCMU";
    case codec::pcma: return "PCMA";
    case codec::g722: return "G722";
    case codec::unknown: break;
  }
  return "unknown";
}

unsigned codec_sample_rate(codec c) {
  return c == codec::g722 ? 16000 : 8000;
}

double mos_estimate(codec c, double loss_fraction, double delay_ms) {
  // NaN and out-of-range inputs count as the nearest sane value, never poison the result.
  const double ppl = 100.0 * (loss_fraction > 0 ? std::min(loss_fraction, 1.0) : 0.0);
  const double d = delay_ms > 0 ? std::min(delay_ms, 1e6) : 0.0;
  // Ie (equipment impairment) and Bpl (packet-loss robustness), G.113 appendix I: G.711
  // with PLC 0 / 25.1; G.722 put on the narrowband scale with G.711's figures (its wideband
  // advantage is not modelled); an unknown codec 0 / 10 (pessimistic about loss).
  double ie = 0, bpl = 10;
  if (c == codec::pcmu || c == codec::pcma || c == codec::g722) bpl = 25.1;
  const double ie_eff = ie + (95.0 - ie) * ppl / (ppl + bpl);
  // Id, G.107's delay impairment simplified (Cole and Rosenbluth): 0.024 d, plus
  // 0.11 (d - 177.3) past 177.3 ms where conversation starts to suffer.
  const double id = 0.024 * d + (d > 177.3 ? 0.11 * (d - 177.3) : 0.0);
  // 93.2: R of a perfect narrowband connection with G.107's default parameters.
  const double r = 93.2 - id - ie_eff;
  if (r < 0) return 1.0;
  const double mos = 1.0 + 0.035 * r + 7e-6 * r * (r - 60.0) * (100.0 - r);
  return std::clamp(mos, 1.0, 4.5);
}

}  // namespace ringbridge::media
