// SPDX-License-Identifier: BSD-3-Clause
// The caller-ID datagram sent on UDP port 7651 (docs/notify-udp.md). Big-endian:
//
//   offset size  field
//   0      4     magic "RBCI" (0x52 0x42 0x43 0x49)
//   4      1     version (1)
//   5      1     event: 1 ringing, 2 answered, 3 ended, 4 blocked, 5 voicemail
//   6      1     direction: 0 inbound, 1 outbound
//   7      1     flags: bit 0 number withheld, bit 1 name from the phonebook
//   8      8     time of the INVITE (or the event's message), Unix microseconds
//   16     2     SIP status code (0 when none)
//   18     1     string count (5 in version 1)
//   19     1     reserved (0)
//   20     ...   strings, each one length byte then up to 255 bytes of UTF-8:
//                name to show, number, name as sent, called number, Call-ID
//
// Receivers ignore strings beyond the ones they know, so later versions can add more.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace ringbridge::plugin::callerid {

inline constexpr uint8_t k_magic[4] = {'R', 'B', 'C', 'I'};
inline constexpr uint8_t k_version = 1;
inline constexpr uint16_t k_default_port = 7651;
inline constexpr uint8_t k_flag_withheld = 1;
inline constexpr uint8_t k_flag_phonebook = 2;

struct message {
  uint8_t event = 1;
  bool inbound = true;
  uint8_t flags = 0;
  uint64_t time_us = 0;
  uint16_t status = 0;
  std::string name, number, name_sent, to_number, call_id;
};

/// The datagram for M (strings longer than 255 bytes are cut at a UTF-8 boundary).
std::string encode(const message& m);
/// Parses a datagram; false with *error when it is not one (wrong magic, version, length).
bool decode(const uint8_t* data, size_t len, message* out, std::string* error);

}  // namespace ringbridge::plugin::callerid
