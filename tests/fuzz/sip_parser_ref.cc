// SPDX-License-Identifier: BSD-3-Clause
// The SIP/SDP parser as it was before it was rewritten for speed (perf/RESULTS.md, callgrind),
// kept unchanged as the oracle the fuzz target and the unit tests compare the parser with:
// for every input, the same status and the same views. Not used by ringbridge itself.
#include "sip_parser_ref.h"

namespace ringbridge::dp::sip_ref {

using namespace ringbridge::dp::sip;  // the types (message, name_addr, ...) are shared

namespace {

using sv = std::string_view;

// A stream waits this long for the end of a start line; a datagram is bounded by itself.
constexpr size_t k_max_start_line = 65535;
constexpr size_t k_max_headers = 256;  // more is a flood, not a call

inline char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}
inline bool is_wsp(char c) {
  return c == ' ' || c == '\t';
}
inline bool is_lws(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}
inline bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// First position of either A or B in S (a loop: std::find_first_of calls memchr per byte).
inline size_t find2(sv s, char a, char b) {
  for (size_t i = 0; i < s.size(); i++)
    if (s[i] == a || s[i] == b) return i;
  return sv::npos;
}

sv trim(sv s) {
  while (!s.empty() && is_lws(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_lws(s.back())) s.remove_suffix(1);
  return s;
}

bool istarts_with(sv s, sv prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

// Parses an unsigned decimal of at most MAX_DIGITS digits; false on anything else.
bool parse_uint(sv s, uint64_t* out, size_t max_digits = 10) {
  if (s.empty() || s.size() > max_digits) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (!is_digit(c)) return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = v;
  return true;
}

// Position of the first C in S outside a quoted string and outside <...>; npos if none.
size_t find_unquoted(sv s, char c) {
  bool quoted = false;
  int angle = 0;
  for (size_t i = 0; i < s.size(); i++) {
    char ch = s[i];
    if (quoted) {
      if (ch == '\\')
        i++;
      else if (ch == '"')
        quoted = false;
      continue;
    }
    if (ch == '"')
      quoted = true;
    else if (ch == c && angle == 0)
      return i;
    else if (ch == '<')
      angle++;
    else if (ch == '>' && angle > 0)
      angle--;
  }
  return sv::npos;
}

// The value of parameter NAME in a ";a=b;c=d" list (case-insensitive name).
sv param_value(sv params, sv name) {
  size_t i = 0;
  while (i < params.size()) {
    size_t semi = params.find(';', i);
    if (semi == sv::npos) break;
    size_t end = params.find(';', semi + 1);
    sv p = params.substr(semi + 1, end == sv::npos ? sv::npos : end - semi - 1);
    size_t eq = p.find('=');
    sv key = trim(p.substr(0, eq));
    if (iequals(key, name)) return eq == sv::npos ? sv{} : trim(p.substr(eq + 1));
    if (end == sv::npos) break;
    i = end;
  }
  return {};
}

void parse_uri(sv uri, name_addr* na) {
  na->uri = uri;
  size_t colon = uri.find(':');
  if (colon == sv::npos) return;
  na->scheme = uri.substr(0, colon);
  sv rest = uri.substr(colon + 1);
  if (iequals(na->scheme, "tel")) {
    size_t semi = rest.find(';');
    na->user = rest.substr(0, semi);
    return;
  }
  // sip/sips: [user[:password]@]host[:port][;params][?headers]
  size_t at = rest.find('@');
  size_t stop = find2(rest, ';', '?');
  if (at != sv::npos && (stop == sv::npos || at < stop)) {
    sv userinfo = rest.substr(0, at);
    na->user = userinfo.substr(0, userinfo.find(':'));
    rest = rest.substr(at + 1);
    stop = find2(rest, ';', '?');
  }
  sv hostport = rest.substr(0, stop);
  if (!hostport.empty() && hostport.front() == '[') {  // IPv6 reference
    size_t close = hostport.find(']');
    na->host = close == sv::npos ? hostport : hostport.substr(0, close + 1);
  } else {
    na->host = hostport.substr(0, hostport.find(':'));
  }
}

sv sdp_value(sv line) {
  return line.size() >= 2 ? line.substr(2) : sv{};
}

}  // namespace

bool iequals(sv a, sv b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

const char* method_name(method m) {
  switch (m) {
#define RB_SIP_METHOD_CASE(id, text) \
  case method::id: return text;
    RB_SIP_FOREACH_METHOD(RB_SIP_METHOD_CASE)
#undef RB_SIP_METHOD_CASE
    case method::none: return "none";
    case method::other: return "other";
  }
  return "?";
}

method method_from_token(sv token) {
#define RB_SIP_METHOD_MATCH(id, text) \
  if (token == text) return method::id;
  RB_SIP_FOREACH_METHOD(RB_SIP_METHOD_MATCH)
#undef RB_SIP_METHOD_MATCH
  return method::other;
}

const char* parse_status_name(parse_status s) {
  switch (s) {
    case parse_status::ok: return "ok";
    case parse_status::incomplete: return "incomplete";
#define RB_SIP_PARSE_CASE(name, help) \
  case parse_status::name: return #name;
      RB_SIP_FOREACH_PARSE_ERROR(RB_SIP_PARSE_CASE)
#undef RB_SIP_PARSE_CASE
  }
  return "?";
}

bool could_be_sip(const char* buf, size_t len) {
  if (len < 8) return false;
  if (lower(buf[0]) == 's' && lower(buf[1]) == 'i' && lower(buf[2]) == 'p' && buf[3] == '/')
    return true;
  // A method: 2..10 upper-case letters, then a space or tab.
  size_t i = 0;
  while (i < len && i < 11 && buf[i] >= 'A' && buf[i] <= 'Z') i++;
  return i >= 2 && i <= 10 && i < len && is_wsp(buf[i]);
}

bool could_be_sip_prefix(const char* buf, size_t len) {
  // could_be_sip() decides on 11 bytes; shorter prefixes (even of 8 or more, like
  // "REGISTER" or "SUBSCRIBE" without the space yet) may still become one it accepts.
  if (len >= 11) return could_be_sip(buf, len);
  static const char k_version[] = "sip/";
  size_t v = 0;
  while (v < len && v < 4 && lower(buf[v]) == k_version[v]) v++;
  if (v == len || v == 4) return true;
  size_t i = 0;
  while (i < len && buf[i] >= 'A' && buf[i] <= 'Z') i++;
  if (i == len) return i <= 10;
  return i >= 2 && i <= 10 && is_wsp(buf[i]);
}

bool parse_name_addr(sv value, name_addr* out) {
  name_addr na;
  sv s = trim(value);
  // Only the first of comma-separated values (P-Asserted-Identity may carry two).
  size_t comma = find_unquoted(s, ',');
  if (comma != sv::npos) s = trim(s.substr(0, comma));
  if (s.empty()) return false;
  size_t after_uri;
  if (s.front() == '"') {
    size_t i = 1;
    while (i < s.size() && s[i] != '"') i += (s[i] == '\\') ? 2 : 1;
    if (i >= s.size()) return false;
    na.display = s.substr(1, i - 1);
    size_t lt = s.find('<', i + 1);
    if (lt == sv::npos) return false;
    size_t gt = s.find('>', lt + 1);
    if (gt == sv::npos) return false;
    parse_uri(trim(s.substr(lt + 1, gt - lt - 1)), &na);
    after_uri = gt + 1;
  } else if (size_t lt = find_unquoted(s, '<'); lt != sv::npos && s.find('<') == lt) {
    na.display = trim(s.substr(0, lt));
    size_t gt = s.find('>', lt + 1);
    if (gt == sv::npos) return false;
    parse_uri(trim(s.substr(lt + 1, gt - lt - 1)), &na);
    after_uri = gt + 1;
  } else {
    // addr-spec: the URI ends at the first ';' (what follows are header parameters) or LWS.
    size_t end = 0;
    while (end < s.size() && s[end] != ';' && !is_lws(s[end])) end++;
    parse_uri(s.substr(0, end), &na);
    after_uri = end;
  }
  na.params = after_uri < s.size() ? s.substr(after_uri) : sv{};
  // Header parameters start with ';' after optional LWS.
  size_t p = 0;
  while (p < na.params.size() && is_lws(na.params[p])) p++;
  na.params = na.params.substr(p);
  if (!na.params.empty() && na.params.front() != ';') na.params = {};
  na.tag = param_value(na.params, "tag");
  na.present = true;
  *out = na;
  return true;
}

void parse_sdp(sv body, sdp_info* out) {
  sdp_info sdp;
  sv session_c;
  bool in_audio = false, audio_done = false;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t nl = body.find('\n', pos);
    sv line = body.substr(pos, nl == sv::npos ? sv::npos : nl - pos);
    pos = nl == sv::npos ? body.size() : nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() < 2 || line[1] != '=') continue;
    const char type = line[0];
    sv v = sdp_value(line);
    if (type == 'm') {
      if (in_audio) audio_done = true;
      in_audio = false;
      if (audio_done || !v.starts_with("audio ")) continue;
      in_audio = true;
      sdp.present = true;
      sv rest = v.substr(6);
      size_t sp = rest.find(' ');
      uint64_t port;
      if (parse_uint(rest.substr(0, find2(rest, ' ', '/')), &port, 5) && port <= 65535)
        sdp.audio_port = static_cast<uint16_t>(port);
      if (sp == sv::npos) continue;
      rest = rest.substr(sp + 1);  // proto fmt...
      size_t sp2 = rest.find(' ');
      while (sp2 != sv::npos && sdp.pt_count < 16) {
        rest = rest.substr(sp2 + 1);
        sp2 = rest.find(' ');
        uint64_t pt;
        if (parse_uint(rest.substr(0, sp2), &pt, 3) && pt <= 127)
          sdp.pts[sdp.pt_count++] = static_cast<uint8_t>(pt);
      }
    } else if (type == 'c') {
      // c=IN IP4 192.0.2.1 (a multicast /ttl suffix is cut off)
      sv addr;
      uint8_t fam = 0;
      if (v.starts_with("IN IP4 ")) {
        addr = v.substr(7);
        fam = 4;
      } else if (v.starts_with("IN IP6 ")) {
        addr = v.substr(7);
        fam = 6;
      }
      addr = trim(addr.substr(0, addr.find('/')));
      if (fam == 0) continue;
      if (in_audio) {
        sdp.conn_addr = addr;
        sdp.conn_family = fam;
      } else if (!audio_done && sdp.audio_port == 0 && !sdp.present) {
        session_c = addr;
        sdp.conn_family = fam;
      }
    } else if (type == 'a' && in_audio) {
      if (v.starts_with("rtcp:")) {
        uint64_t port;
        if (parse_uint(v.substr(5, v.find(' ') == sv::npos ? sv::npos : v.find(' ') - 5), &port,
                       5) &&
            port <= 65535)
          sdp.rtcp_port = static_cast<uint16_t>(port);
      } else if (v.starts_with("rtpmap:")) {
        sv r = v.substr(7);
        size_t sp = r.find(' ');
        uint64_t pt;
        if (sp != sv::npos && parse_uint(r.substr(0, sp), &pt, 3) && pt <= 127 &&
            istarts_with(r.substr(sp + 1), "telephone-event/"))
          sdp.telephone_event_pt = static_cast<int16_t>(pt);
      } else if (v == "sendrecv" || v == "sendonly" || v == "recvonly" || v == "inactive") {
        sdp.direction = v;
      }
    }
  }
  if (sdp.conn_addr.empty() && !session_c.empty()) sdp.conn_addr = session_c;
  *out = sdp;
}

namespace {

// The SDP part of a multipart body (RFC 2046), or the body itself.
sv sdp_part(sv content_type, sv body) {
  if (istarts_with(content_type, "application/sdp")) return body;
  if (!istarts_with(content_type, "multipart/")) return {};
  sv boundary =
      param_value(content_type.substr(content_type.find(';') == sv::npos ? content_type.size()
                                                                         : content_type.find(';')),
                  "boundary");
  if (boundary.size() >= 2 && boundary.front() == '"' && boundary.back() == '"')
    boundary = boundary.substr(1, boundary.size() - 2);
  if (boundary.empty() || boundary.size() > 70) return {};
  size_t pos = 0;
  while (pos < body.size()) {
    size_t b = body.find(boundary, pos);
    if (b == sv::npos || b < 2 || body.substr(b - 2, 2) != "--") return {};
    size_t part = body.find('\n', b + boundary.size());
    if (part == sv::npos) return {};
    part++;
    size_t next = body.find(boundary, part);
    sv chunk = body.substr(part, next == sv::npos ? sv::npos : next - part);
    // Part headers end with an empty line.
    size_t hdr_end = chunk.find("\n\r\n");
    size_t skip = 3;
    if (hdr_end == sv::npos) {
      hdr_end = chunk.find("\n\n");
      skip = 2;
    }
    if (hdr_end != sv::npos) {
      sv headers = chunk.substr(0, hdr_end);
      size_t ct = 0;
      bool is_sdp = false;
      while (ct < headers.size()) {
        size_t nl = headers.find('\n', ct);
        sv h = trim(headers.substr(ct, nl == sv::npos ? sv::npos : nl - ct));
        if (istarts_with(h, "content-type:") && istarts_with(trim(h.substr(13)), "application/sdp"))
          is_sdp = true;
        if (nl == sv::npos) break;
        ct = nl + 1;
      }
      if (is_sdp) return chunk.substr(hdr_end + skip);
    }
    if (next == sv::npos) return {};
    pos = next;
  }
  return {};
}

enum class hdr : uint8_t {
  other,
  call_id,
  from,
  to,
  contact,
  cseq,
  content_length,
  content_type,
  pai,
  rpid,
  privacy
};

hdr classify_header(sv name) {
  if (name.size() == 1) {
    switch (lower(name[0])) {
      case 'i': return hdr::call_id;
      case 'f': return hdr::from;
      case 't': return hdr::to;
      case 'm': return hdr::contact;
      case 'l': return hdr::content_length;
      case 'c': return hdr::content_type;
      default: return hdr::other;
    }
  }
  // By length first: most headers (Via, Max-Forwards, ...) are rejected without a compare.
  switch (name.size()) {
    case 2: return iequals(name, "To") ? hdr::to : hdr::other;
    case 4:
      if (iequals(name, "From")) return hdr::from;
      return iequals(name, "CSeq") ? hdr::cseq : hdr::other;
    case 7:
      if (iequals(name, "Call-ID")) return hdr::call_id;
      if (iequals(name, "Contact")) return hdr::contact;
      return iequals(name, "Privacy") ? hdr::privacy : hdr::other;
    case 12: return iequals(name, "Content-Type") ? hdr::content_type : hdr::other;
    case 14: return iequals(name, "Content-Length") ? hdr::content_length : hdr::other;
    case 15: return iequals(name, "Remote-Party-ID") ? hdr::rpid : hdr::other;
    case 19: return iequals(name, "P-Asserted-Identity") ? hdr::pai : hdr::other;
    default: return hdr::other;
  }
}

// Applies one header; false when a header ringbridge relies on is malformed.
bool apply_header(sv name, sv value, message* m, parse_status* err) {
  value = trim(value);
  switch (classify_header(name)) {
    case hdr::call_id:
      if (m->call_id.empty()) m->call_id = value;  // the first one counts
      return true;
    case hdr::from:
      if (!m->from.present) sip_ref::parse_name_addr(value, &m->from);
      return true;
    case hdr::to:
      if (!m->to.present) sip_ref::parse_name_addr(value, &m->to);
      return true;
    case hdr::contact:
      if (m->contact.empty()) m->contact = value;
      return true;
    case hdr::pai:
      if (!m->pai.present) sip_ref::parse_name_addr(value, &m->pai);
      return true;
    case hdr::rpid:
      if (!m->rpid.present) sip_ref::parse_name_addr(value, &m->rpid);
      return true;
    case hdr::privacy:
      if (m->privacy.empty()) m->privacy = value;
      return true;
    case hdr::content_type:
      if (m->content_type.empty()) m->content_type = value;
      return true;
    case hdr::content_length: {
      uint64_t n;
      if (!parse_uint(value, &n, 7) ||  // at most 9,999,999: no SIP body is bigger
          (m->content_length >= 0 && static_cast<uint64_t>(m->content_length) != n)) {
        *err = parse_status::bad_content_length;
        return false;
      }
      m->content_length = static_cast<int64_t>(n);
      return true;
    }
    case hdr::cseq: {
      // CSeq: 1*DIGIT LWS Method
      size_t i = 0;
      while (i < value.size() && is_digit(value[i])) i++;
      uint64_t n;
      if (i == 0 || !parse_uint(value.substr(0, i), &n, 10) || n > 0xFFFFFFFFull) {
        *err = parse_status::bad_cseq;
        return false;
      }
      sv meth = trim(value.substr(i));
      if (meth.empty() || i == value.size() || !is_lws(value[i])) {
        *err = parse_status::bad_cseq;
        return false;
      }
      m->cseq = static_cast<uint32_t>(n);
      m->cseq_method = method_from_token(meth);
      return true;
    }
    case hdr::other: return true;
  }
  return true;
}

bool is_token_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) || c == '-' || c == '.' ||
         c == '!' || c == '%' || c == '*' || c == '_' || c == '+' || c == '`' || c == '\'' ||
         c == '~';
}

// "SIP/2.0", case-insensitively (RFC 3261 §7.1: the version is case-insensitive).
bool is_sip_version(sv t) {
  return t.size() == 7 && iequals(t, "SIP/2.0");
}

// Request-Line or Status-Line. Lenient where user agents are lenient, because whatever a
// phone would accept as an INVITE must be screened: the version in any case, runs of
// spaces or tabs between the parts, trailing whitespace.
bool parse_start_line(sv line, message* m) {
  while (!line.empty() && is_wsp(line.back())) line.remove_suffix(1);
  auto skip_wsp = [&](size_t i) {
    while (i < line.size() && is_wsp(line[i])) i++;
    return i;
  };
  auto word_end = [&](size_t i) {
    while (i < line.size() && !is_wsp(line[i])) i++;
    return i;
  };
  const size_t e1 = word_end(0);
  if (e1 == 0) return false;
  if (is_sip_version(line.substr(0, e1))) {
    const size_t c = skip_wsp(e1);
    if (c == e1) return false;
    const size_t e2 = word_end(c);
    uint64_t code;
    if (e2 - c != 3 || !parse_uint(line.substr(c, 3), &code, 3) || code < 100 || code > 699)
      return false;
    m->is_request = false;
    m->status = static_cast<uint16_t>(code);
    m->reason = line.substr(skip_wsp(e2));
    return true;
  }
  for (size_t i = 0; i < e1; i++)
    if (!is_token_char(line[i])) return false;
  const size_t u = skip_wsp(e1);
  if (u == e1) return false;
  const size_t ue = word_end(u);
  const size_t v = skip_wsp(ue);
  if (v == ue || ue == u) return false;
  const size_t ve = word_end(v);
  if (ve != line.size() || !is_sip_version(line.substr(v))) return false;
  m->is_request = true;
  m->method_token = line.substr(0, e1);
  m->req_method = method_from_token(m->method_token);
  m->request_uri = line.substr(u, ue - u);
  return true;
}

}  // namespace

parse_status parse(const char* buf, size_t len, bool datagram, message* out) {
  *out = message{};
  message& m = *out;
  const sv msg(buf, len);
  // Start line.
  size_t nl = msg.find('\n');
  if (nl == sv::npos) {
    if (!datagram && len < k_max_start_line) return parse_status::incomplete;
    return could_be_sip(buf, len) ? parse_status::bad_start_line : parse_status::not_sip;
  }
  sv line = msg.substr(0, nl);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (!parse_start_line(line, &m)) {  // SIP, or something else?
    for (size_t i = 0; i + 4 <= line.size(); i++)
      if (iequals(line.substr(i, 4), "SIP/")) return parse_status::bad_start_line;
    return parse_status::not_sip;
  }

  // Headers, with folding: a line starting with SP/HT continues the previous header.
  size_t pos = nl + 1;
  sv name, value;
  bool have_header = false;
  bool ended = false;
  parse_status err = parse_status::ok;
  size_t value_begin = 0;
  while (pos < len) {
    size_t e = msg.find('\n', pos);
    if (e == sv::npos) break;
    sv l = msg.substr(pos, e - pos);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    if (l.empty()) {  // end of headers
      if (have_header && !apply_header(name, value, &m, &err)) return err;
      pos = e + 1;
      ended = true;
      break;
    }
    if (is_wsp(l.front())) {
      if (!have_header) return parse_status::bad_header;
      value = msg.substr(value_begin, pos + l.size() - value_begin);  // extend over the fold
    } else {
      if (have_header && !apply_header(name, value, &m, &err)) return err;
      size_t colon = l.find(':');
      if (colon == sv::npos || colon == 0) return parse_status::bad_header;
      name = l.substr(0, colon);
      while (!name.empty() && is_wsp(name.back())) name.remove_suffix(1);
      if (name.empty() || find2(name, ' ', '\t') != sv::npos) return parse_status::bad_header;
      value_begin = pos + colon + 1;
      value = msg.substr(value_begin, l.size() - colon - 1);
      have_header = true;
      if (++m.header_count > k_max_headers) return parse_status::bad_header;
    }
    pos = e + 1;
  }
  if (!ended) return datagram ? parse_status::no_header_end : parse_status::incomplete;

  // Body: Content-Length bytes; on a datagram without the header, the rest of it.
  size_t body_len;
  if (m.content_length >= 0) {
    body_len = static_cast<size_t>(m.content_length);
    if (body_len > len - pos) {
      if (!datagram) {
        m.length = pos + body_len;  // what the stream must hold before it can be parsed
        // Headers that are wrong stay wrong whatever body follows: say so now, so that a
        // stream's messages do not depend on where its segments end (tcp_stream.h).
        if (m.call_id.empty()) return parse_status::missing_call_id;
        if (m.cseq_method == method::none) return parse_status::bad_cseq;
        return parse_status::incomplete;
      }
      return parse_status::truncated_body;
    }
  } else {
    if (!datagram) return parse_status::bad_content_length;
    body_len = len - pos;
  }
  m.body = msg.substr(pos, body_len);
  m.length = pos + body_len;

  if (m.call_id.empty()) return parse_status::missing_call_id;
  if (m.cseq_method == method::none) return parse_status::bad_cseq;
  if (!m.body.empty()) {
    sv sdp = sdp_part(m.content_type, m.body);
    if (!sdp.empty()) sip_ref::parse_sdp(sdp, &m.sdp);
  }
  return parse_status::ok;
}

}  // namespace ringbridge::dp::sip_ref
