// SPDX-License-Identifier: BSD-3-Clause
// Fuzz target for the SIP/SDP parser and the frame header parser: every view a parse
// returns lies inside the input. libFuzzer with -Dfuzz=true (tests/fuzz/run.sh); otherwise
// replay_main.cc replays the checked-in corpus as a normal test.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "ringbridge/dp/packet.h"
#include "ringbridge/dp/sip_event.h"
#include "ringbridge/dp/sip_parser.h"

namespace {

namespace dp = ringbridge::dp;
namespace sip = ringbridge::dp::sip;

struct bounds {
  const char* begin;
  const char* end;
  // An empty view may point anywhere (a default-constructed one points nowhere).
  void check(std::string_view v) const {
    if (!v.empty() && (v.data() < begin || v.data() + v.size() > end)) __builtin_trap();
  }
  void check(const sip::name_addr& a) const {
    for (std::string_view v : {a.display, a.uri, a.scheme, a.user, a.host, a.tag, a.params})
      check(v);
  }
  void check(const sip::message& m) const {
    for (std::string_view v : {m.method_token, m.request_uri, m.reason, m.call_id, m.contact,
                               m.privacy, m.content_type, m.body, m.sdp.conn_addr, m.sdp.direction})
      check(v);
    for (const sip::name_addr* a : {&m.from, &m.to, &m.pai, &m.rpid}) check(*a);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Exact-size copies so sanitizers see any read past the end.
  std::vector<char> buf(data, data + size);
  const bounds in{buf.data(), buf.data() + buf.size()};
  for (bool datagram : {true, false}) {
    sip::message m;
    const sip::parse_status r = sip::parse(buf.data(), buf.size(), datagram, &m);
    if (r == sip::parse_status::ok) {
      if (m.length > size) __builtin_trap();
      in.check(m);
      dp::sip_event ev;
      dp::fill_event(m, &ev);
      if (!m.contact.empty()) {
        sip::name_addr c;
        if (sip::parse_name_addr(m.contact, &c)) in.check(c);
      }
    } else if (r == sip::parse_status::incomplete && datagram) {
      __builtin_trap();  // a datagram is complete or wrong, never "incomplete"
    }
  }
  // The SDP parser and the name-addr parser on their own, on the whole input.
  sip::sdp_info sdp;
  sip::parse_sdp({buf.data(), buf.size()}, &sdp);
  in.check(sdp.conn_addr);
  in.check(sdp.direction);
  if (sdp.pt_count > 16) __builtin_trap();
  sip::name_addr na;
  if (sip::parse_name_addr({buf.data(), buf.size()}, &na)) in.check(na);
  // could_be_sip_prefix() never says no where could_be_sip() of the whole says yes.
  if (sip::could_be_sip(buf.data(), buf.size()))
    for (size_t n = 0; n <= size && n < 12; n++)
      if (!sip::could_be_sip_prefix(buf.data(), n)) __builtin_trap();
  dp::l4_info li;
  const dp::l4_result lr =
      dp::parse_l4(reinterpret_cast<const uint8_t*>(buf.data()), static_cast<uint32_t>(size), &li);
  if ((lr == dp::l4_result::ok || lr == dp::l4_result::fragment) &&
      uint64_t(li.payload_offset) + li.payload_len > size)
    __builtin_trap();
  return 0;
}
