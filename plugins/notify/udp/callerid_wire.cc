// SPDX-License-Identifier: BSD-3-Clause
// Encoding and decoding of the 7651 caller-ID datagram.
#include "callerid_wire.h"

#include <cstring>

#include "ringbridge/common/utf8.h"

namespace ringbridge::plugin::callerid {

namespace {
constexpr size_t k_header = 20;
constexpr uint8_t k_strings = 5;

void put_string(std::string* out, const std::string& s) {
  // Valid UTF-8, never cut inside a character (receivers may decode strictly).
  const std::string v = utf8_sanitize(s);
  const size_t n = utf8_cut(v, 255);
  out->push_back(static_cast<char>(n));
  out->append(v.data(), n);
}
}  // namespace

std::string encode(const message& m) {
  std::string out;
  out.reserve(k_header + 5 * 64);
  out.append(reinterpret_cast<const char*>(k_magic), 4);
  out.push_back(static_cast<char>(k_version));
  out.push_back(static_cast<char>(m.event));
  out.push_back(static_cast<char>(m.inbound ? 0 : 1));
  out.push_back(static_cast<char>(m.flags));
  for (int i = 7; i >= 0; i--) out.push_back(static_cast<char>((m.time_us >> (i * 8)) & 0xFF));
  out.push_back(static_cast<char>(m.status >> 8));
  out.push_back(static_cast<char>(m.status & 0xFF));
  out.push_back(static_cast<char>(k_strings));
  out.push_back(0);
  for (const std::string* s : {&m.name, &m.number, &m.name_sent, &m.to_number, &m.call_id})
    put_string(&out, *s);
  return out;
}

bool decode(const uint8_t* d, size_t len, message* out, std::string* error) {
  if (len < k_header || std::memcmp(d, k_magic, 4) != 0) {
    *error = "not a ringbridge caller-ID datagram (no RBCI magic)";
    return false;
  }
  if (d[4] != k_version) {
    *error = "unsupported version " + std::to_string(d[4]);
    return false;
  }
  message m;
  m.event = d[5];
  m.inbound = d[6] == 0;
  m.flags = d[7];
  for (int i = 0; i < 8; i++) m.time_us = (m.time_us << 8) | d[8 + i];
  m.status = static_cast<uint16_t>((d[16] << 8) | d[17]);
  const uint8_t count = d[18];
  if (count < 2) {
    *error = "too few strings";
    return false;
  }
  std::string* fields[] = {&m.name, &m.number, &m.name_sent, &m.to_number, &m.call_id};
  size_t off = k_header;
  for (uint8_t i = 0; i < count; i++) {
    if (off >= len) {
      *error = "truncated: string " + std::to_string(i) + " is missing";
      return false;
    }
    const size_t n = d[off++];
    if (off + n > len) {
      *error = "truncated: string " + std::to_string(i) + " runs past the end";
      return false;
    }
    if (i < 5) fields[i]->assign(reinterpret_cast<const char*>(d + off), n);
    off += n;
  }
  *out = std::move(m);
  return true;
}

}  // namespace ringbridge::plugin::callerid
