// SPDX-License-Identifier: BSD-3-Clause
// The SIP/SDP parser before its rewrite for speed, frozen: the oracle the fuzz target and
// unit tests hold the parser to (same status, same views, for every input). Test-only.
#pragma once

#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

#include "ringbridge/sip/sip_parser.h"

namespace ringbridge::dp::sip_ref {

sip::parse_status parse(const char* buf, size_t len, bool datagram, sip::message* out);
bool could_be_sip(const char* buf, size_t len);
bool could_be_sip_prefix(const char* buf, size_t len);
bool parse_name_addr(std::string_view value, sip::name_addr* out);
void parse_sdp(std::string_view body, sip::sdp_info* out);

/// Views are the same when both are empty, or when they are the same bytes of the input.
inline bool same_view(std::string_view a, std::string_view b) {
  return a.size() == b.size() && (a.empty() || a.data() == b.data());
}

/// "" when A and B are the same parse, else the first field that differs.
inline std::string differs(const sip::name_addr& a, const sip::name_addr& b) {
  if (a.present != b.present) return "present";
  if (!same_view(a.display, b.display)) return "display";
  if (!same_view(a.uri, b.uri)) return "uri";
  if (!same_view(a.scheme, b.scheme)) return "scheme";
  if (!same_view(a.user, b.user)) return "user";
  if (!same_view(a.host, b.host)) return "host";
  if (!same_view(a.tag, b.tag)) return "tag";
  if (!same_view(a.params, b.params)) return "params";
  return "";
}

inline std::string differs(const sip::sdp_info& a, const sip::sdp_info& b) {
  if (a.present != b.present) return "sdp.present";
  if (!same_view(a.conn_addr, b.conn_addr)) return "sdp.conn_addr";
  if (a.conn_family != b.conn_family) return "sdp.conn_family";
  if (a.audio_port != b.audio_port) return "sdp.audio_port";
  if (a.rtcp_port != b.rtcp_port) return "sdp.rtcp_port";
  if (a.pt_count != b.pt_count || std::memcmp(a.pts, b.pts, sizeof(a.pts)) != 0) return "sdp.pts";
  if (a.telephone_event_pt != b.telephone_event_pt) return "sdp.telephone_event_pt";
  if (!same_view(a.direction, b.direction)) return "sdp.direction";
  return "";
}

inline std::string differs(const sip::message& a, const sip::message& b) {
  if (a.is_request != b.is_request) return "is_request";
  if (a.req_method != b.req_method) return "req_method";
  if (!same_view(a.method_token, b.method_token)) return "method_token";
  if (!same_view(a.request_uri, b.request_uri)) return "request_uri";
  if (a.status != b.status) return "status";
  if (!same_view(a.reason, b.reason)) return "reason";
  if (!same_view(a.call_id, b.call_id)) return "call_id";
  if (a.cseq != b.cseq) return "cseq";
  if (a.cseq_method != b.cseq_method) return "cseq_method";
  const std::pair<const char*, const sip::name_addr*> parties[] = {
      {"from.", &a.from}, {"to.", &a.to}, {"pai.", &a.pai}, {"rpid.", &a.rpid}};
  const sip::name_addr* other[] = {&b.from, &b.to, &b.pai, &b.rpid};
  for (int i = 0; i < 4; i++)
    if (std::string d = differs(*parties[i].second, *other[i]); !d.empty())
      return parties[i].first + d;
  if (!same_view(a.contact, b.contact)) return "contact";
  if (!same_view(a.privacy, b.privacy)) return "privacy";
  if (!same_view(a.content_type, b.content_type)) return "content_type";
  if (a.content_length != b.content_length) return "content_length";
  if (!same_view(a.body, b.body)) return "body";
  if (std::string d = differs(a.sdp, b.sdp); !d.empty()) return d;
  if (a.header_count != b.header_count) return "header_count";
  if (a.length != b.length) return "length";
  return "";
}

}  // namespace ringbridge::dp::sip_ref
