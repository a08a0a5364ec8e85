// SPDX-License-Identifier: BSD-3-Clause
// Fuzz target for the bridge's own SIP responses (build_sip_response: 486 / 603 / 200 for a
// blocked INVITE or its CANCEL) on arbitrary requests: the output fits the buffer, starts
// with the status line, ends with the empty line, holds only header lines taken from the
// request (To with our tag), and never reads outside the request.
//
// Input: [code/tag byte][cap byte][request bytes].
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "ringbridge/filters/filter_dataplane.h"
#include "ringbridge/filters/sip_reply.h"
#include "ringbridge/sip/sip_parser.h"
#include "ringbridge/sip/sip_setup.h"

namespace {

namespace dp = ringbridge::dp;
namespace sip = ringbridge::dp::sip;

[[noreturn]] void fail(const char* what, std::string_view out) {
  std::fprintf(stderr, "reply_fuzz: %s\n--- response (%zu bytes) ---\n%.*s\n", what, out.size(),
               static_cast<int>(out.size()), out.data());
  __builtin_trap();
}

bool starts_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(0, p.size()) == p;
}
bool ends_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

// One call as the worker makes it, plus the checks on what came out.
void check_response(std::string_view req, int code, std::string_view reason,
                    std::string_view to_tag, size_t cap, bool req_parsed,
                    const sip::message& req_msg) {
  std::vector<char> out(cap);  // exactly CAP bytes: a write past them is caught
  const size_t len = dp::build_sip_response(req, code, reason, to_tag, out.data(), cap);
  if (len > cap) fail("longer than the buffer", {});
  if (len == 0) return;
  const std::string_view o(out.data(), len);
  const std::string status = "SIP/2.0 " + std::to_string(code) + " " + std::string(reason) + "\r\n";
  if (!starts_with(o, status)) fail("does not start with the status line", o);
  static const std::string_view k_trailer = "Server: ringbridge\r\nContent-Length: 0\r\n\r\n";
  if (!ends_with(o, k_trailer)) fail("does not end with Content-Length: 0 and the empty line", o);
  // Everything between: header lines of the request, the To line with our tag added.
  std::string_view mid = o.substr(status.size(), o.size() - status.size() - k_trailer.size());
  const std::string tag_param = ";tag=" + std::string(to_tag);
  while (!mid.empty()) {
    const size_t crlf = mid.find("\r\n");
    if (crlf == std::string_view::npos) fail("a header line without CRLF", o);
    std::string_view line = mid.substr(0, crlf);
    mid.remove_prefix(crlf + 2);
    if (line.empty()) fail("an empty line before the end", o);
    if (req.find(line) != std::string_view::npos) continue;
    if (!to_tag.empty() && ends_with(line, tag_param) &&
        req.find(line.substr(0, line.size() - tag_param.size())) != std::string_view::npos)
      continue;
    fail("a line that is not in the request", o);
  }
  // A request our parser took gives a response it takes too: same Call-ID and CSeq.
  if (req_parsed) {
    sip::message r;
    if (sip::parse(o.data(), o.size(), true, &r) != sip::parse_status::ok)
      fail("the response to a parsed request does not parse", o);
    if (r.is_request || r.status != code || r.call_id != req_msg.call_id || r.cseq != req_msg.cseq)
      fail("status, Call-ID or CSeq differ from the request", o);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  static const struct {
    int code;
    const char* reason;
  } k_codes[] = {{486, "Busy Here"}, {603, "Decline"}, {200, "OK"}};
  const auto& c = k_codes[(data[0] & 3) % 3];
  static const char k_tag[] = "0123456789abcdef";
  const std::string_view tag(k_tag, (data[0] >> 2) % 17);  // 0..16 bytes, the worker uses 12
  // The worker's buffer (k_reply_buf) or a smaller one, to reach "does not fit".
  const size_t cap = data[1] >= 128 ? dp::k_reply_buf : data[1] * 8u;
  std::vector<char> req(data + 2, data + size);  // exact size: reads past it are caught
  const std::string_view whole(req.data(), req.size());

  // As the worker calls it: on a request it parsed, cut to the message's length.
  sip::message m;
  const bool parsed = sip::parse(req.data(), req.size(), true, &m) == sip::parse_status::ok;
  if (parsed && m.is_request)
    check_response(whole.substr(0, m.length), c.code, c.reason, tag, cap, true, m);
  // And on anything at all.
  check_response(whole, c.code, c.reason, tag, cap, false, m);
  return 0;
}
