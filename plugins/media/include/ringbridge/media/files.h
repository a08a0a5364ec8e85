// SPDX-License-Identifier: BSD-3-Clause
// A recording's two files: the pcap (every SIP, RTP, RTCP and RFC 4733 frame as it crossed
// the bridge; the master record) and the stereo WAV (16-bit PCM, caller left, callee
// right). Both are written under a ".part" name and renamed when the call ends; what a
// crash leaves is repaired at the next start (WAV sizes fixed, pcap cut at the last whole
// record) or, when it cannot be, quarantined.
//
// Owned by the media feature's control half; used by the media thread only. Errors are
// returned with errno's text and the path, never thrown; a write that fails (disk full)
// leaves the file closed and reports it, the caller decides what stops.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

namespace ringbridge::media {

/// pcap (libpcap's classic format, microsecond timestamps, LINKTYPE_ETHERNET).
class pcap_writer {
 public:
  pcap_writer() = default;
  ~pcap_writer();
  pcap_writer(const pcap_writer&) = delete;
  pcap_writer& operator=(const pcap_writer&) = delete;

  /// Creates PATH (mode 0640, truncated) and writes the file header. SNAPLEN: the largest
  /// frame kept whole; 0 or more than libpcap's limit of 262144 means 262144.
  bool open(const std::string& path, uint32_t snaplen, std::string* error);
  /// One frame of ORIG_LEN bytes (LEN ≤ ORIG_LEN of them given) seen at UNIX_NS.
  bool write(uint64_t unix_ns, const uint8_t* frame, size_t len, size_t orig_len,
             std::string* error);
  /// Flushes and closes; false if a buffered write failed.
  bool close(std::string* error);
  bool is_open() const { return _f != nullptr; }
  uint64_t bytes() const { return _bytes; }  ///< file size so far
  uint64_t frames() const { return _frames; }

 private:
  std::FILE* _f = nullptr;
  std::string _path;  ///< for errors
  uint32_t _snaplen = 0;
  uint64_t _bytes = 0, _frames = 0;
};

/// A RIFF/WAVE file of 16-bit PCM. The header's sizes are written at open() as 0 and fixed
/// at close() (and by repair_wav() after a crash).
class wav_writer {
 public:
  wav_writer() = default;
  ~wav_writer();
  wav_writer(const wav_writer&) = delete;
  wav_writer& operator=(const wav_writer&) = delete;

  /// Creates PATH (mode 0640, truncated) with the header. CHANNELS 1..8, RATE > 0.
  bool open(const std::string& path, unsigned rate, unsigned channels, std::string* error);
  /// FRAMES frames of interleaved samples (channels() per frame). Refused (file left open)
  /// past the 4 GiB RIFF can describe.
  bool write(const int16_t* interleaved, size_t frames, std::string* error);
  /// Fixes the header's sizes, flushes and closes.
  bool close(std::string* error);
  bool is_open() const { return _f != nullptr; }
  uint64_t bytes() const { return _bytes; }  ///< file size so far (header included)
  uint64_t frames() const { return _frames; }
  unsigned rate() const { return _rate; }
  unsigned channels() const { return _channels; }

 private:
  std::FILE* _f = nullptr;
  std::string _path;  ///< for errors
  unsigned _rate = 0, _channels = 0;
  uint64_t _bytes = 0, _frames = 0;
};

/// What repair made of a leftover file.
enum class repair_result : uint8_t {
  intact,      ///< nothing to do
  repaired,    ///< sizes fixed / cut at the last whole record; readable now
  quarantine,  ///< not a file of that kind (bad header): the caller moves it aside
};

/// A WAV a crash left: RIFF and data sizes set from the file's length (cut to whole frames).
repair_result repair_wav(const std::string& path, std::string* error);
/// A pcap a crash left: cut after the last whole record (a record header whose length is
/// within the snaplen and the file). A bad file header → quarantine.
repair_result repair_pcap(const std::string& path, std::string* error);

}  // namespace ringbridge::media
