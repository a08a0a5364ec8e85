// SPDX-License-Identifier: BSD-3-Clause
// Fuzz target for the caller-ID datagram on UDP 7651 (plugins/notify/udp/callerid_wire): the
// decoder ringbridge-notify runs on whatever arrives, and encode → decode round trips.
//
// - decode() on arbitrary bytes: no crash; what it accepts re-encodes to a datagram that
//   decodes to the same message; the JSON line ringbridge-notify --json prints for it is
//   valid UTF-8.
// - encode() of a message whose strings are taken from the input: decodes to the same
//   fields, each cut to 255 bytes on a UTF-8 boundary (valid UTF-8 stays valid).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "callerid_wire.h"
#include "ringbridge/common/utf8.h"

namespace {

namespace wire = ringbridge::plugin::callerid;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "notify_wire_fuzz: %s\n", what);
  __builtin_trap();
}

bool same(const wire::message& a, const wire::message& b) {
  return a.event == b.event && a.inbound == b.inbound && a.flags == b.flags &&
         a.time_us == b.time_us && a.status == b.status && a.name == b.name &&
         a.number == b.number && a.name_sent == b.name_sent && a.to_number == b.to_number &&
         a.call_id == b.call_id;
}

// The object ringbridge-notify --json prints (plugins/notify/udp/notify_main.cc), dumped the way
// it dumps it.
std::string json_line(const wire::message& m) {
  const nlohmann::json j{{"event", m.event},
                         {"direction", m.inbound ? "inbound" : "outbound"},
                         {"time_us", m.time_us},
                         {"status_code", m.status},
                         {"withheld", (m.flags & 1) != 0},
                         {"from_phonebook", (m.flags & 2) != 0},
                         {"name", m.name},
                         {"number", m.number},
                         {"name_sent", m.name_sent},
                         {"to_number", m.to_number},
                         {"call_id", m.call_id}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The string put_string() sends for S: at most 255 bytes, never cut inside a sequence.
// What encode() sends of S: repaired to valid UTF-8, then cut to 255 bytes on a character
// boundary.
std::string expected_cut(const std::string& raw) {
  const std::string s = ringbridge::utf8_sanitize(raw);
  size_t n = s.size() < 255 ? s.size() : 255;
  while (n < s.size() && n > 0 && (static_cast<uint8_t>(s[n]) & 0xC0) == 0x80) n--;
  return s.substr(0, n);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // 1. The listener's side: a datagram from anyone on the LAN.
  {
    const std::string d(reinterpret_cast<const char*>(data), size);
    wire::message m;
    std::string err;
    if (wire::decode(reinterpret_cast<const uint8_t*>(d.data()), d.size(), &m, &err)) {
      const std::string again = wire::encode(m);
      wire::message m2;
      if (!wire::decode(reinterpret_cast<const uint8_t*>(again.data()), again.size(), &m2, &err))
        fail("a decoded message re-encodes to a datagram that does not decode");
      // Strings from the wire need not be UTF-8; re-encoding repairs them, nothing else.
      wire::message want = m;
      for (std::string* s : {&want.name, &want.number, &want.name_sent, &want.to_number,
                             &want.call_id})
        *s = expected_cut(*s);
      if (!same(want, m2)) fail("a decoded message does not survive encode → decode");
      if (!ringbridge::utf8_valid(json_line(m))) fail("the --json line is not valid UTF-8");
    } else if (err.empty()) {
      fail("decode() refused a datagram without saying why");
    }
  }

  // 2. The sender's side: strings from the input (split at 0xFF bytes) through encode().
  if (size < 13) return 0;
  wire::message m;
  m.event = data[0];
  m.inbound = data[1] & 1;
  m.flags = data[2];
  m.status = static_cast<uint16_t>(data[3] << 8 | data[4]);
  for (int i = 0; i < 8; i++) m.time_us = m.time_us << 8 | data[5 + i];
  std::string* fields[] = {&m.name, &m.number, &m.name_sent, &m.to_number, &m.call_id};
  size_t f = 0;
  for (size_t i = 13; i < size; i++) {
    if (data[i] == 0xFF && f < 4) {
      f++;
      continue;
    }
    fields[f]->push_back(static_cast<char>(data[i]));
  }
  const std::string d = wire::encode(m);
  wire::message back;
  std::string err;
  if (!wire::decode(reinterpret_cast<const uint8_t*>(d.data()), d.size(), &back, &err))
    fail("an encoded message does not decode");
  const std::string* got[] = {&back.name, &back.number, &back.name_sent, &back.to_number,
                              &back.call_id};
  for (int i = 0; i < 5; i++) {
    if (*got[i] != expected_cut(*fields[i])) fail("a string changed on the way");
    if (!ringbridge::utf8_valid(*got[i])) fail("a string arrived that is not valid UTF-8");
  }
  if (back.event != m.event || back.inbound != m.inbound || back.flags != m.flags ||
      back.status != m.status || back.time_us != m.time_us)
    fail("a header field changed on the way");
  return 0;
}
