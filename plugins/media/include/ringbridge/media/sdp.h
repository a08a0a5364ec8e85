// SPDX-License-Identifier: BSD-3-Clause
// Every media stream of an SDP body (RFC 4566 / RFC 3264): where its RTP and RTCP go, its
// payload types and their rtpmap names. SIP's own reading of SDP keeps the first audio
// stream for the call event; the media plane needs them all (audio and video, several
// m= lines, c= at session or media level, a=rtcp).
//
// Owned by the media feature; a pure function over bytes, called on the worker (flows)
// and on the media thread (codecs). Views into the body; bounded output.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ringbridge::media {

struct sdp_rtpmap {
  uint8_t pt = 0;
  std::string_view name;  ///< "PCMA", "G722", "telephone-event", ... as written
  uint32_t rate = 0;      ///< the clock rate after the '/'
};

struct sdp_stream {
  std::string_view media;  ///< "audio", "video", ...
  std::string_view addr;   ///< the c= address that applies (media level, else session)
  uint8_t family = 0;      ///< 4 or 6 (0: no usable c=)
  uint16_t port = 0;       ///< 0: the stream is rejected / disabled
  uint16_t rtcp_port = 0;  ///< a=rtcp, else port + 1
  uint8_t pt_count = 0;
  uint8_t pts[16] = {};
  uint8_t map_count = 0;
  sdp_rtpmap maps[8];
  std::string_view direction;  ///< sendrecv / sendonly / recvonly / inactive (media, else session)
};

inline constexpr size_t k_max_sdp_streams = 4;

/// Fills OUT[0..return) with the first MAX (≤ k_max_sdp_streams) m= streams of SDP.
size_t parse_sdp_streams(std::string_view sdp, sdp_stream* out, size_t max);

/// The address text A (IPv4 dotted quad or IPv6) into 16 bytes (IPv4 in the first 4).
bool parse_sdp_addr(std::string_view a, uint8_t family, uint8_t* out16);

}  // namespace ringbridge::media
