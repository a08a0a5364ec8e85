// SPDX-License-Identifier: BSD-3-Clause
// Every media stream of an SDP body (ringbridge/media/sdp.h).
#include "ringbridge/media/sdp.h"

#include <arpa/inet.h>

#include <cstring>

namespace ringbridge::media {

namespace {

using sv = std::string_view;

sv trim(sv s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// The next space-separated token of *S (removed from it).
sv token(sv* s) {
  *s = trim(*s);
  const size_t sp = s->find(' ');
  sv t = s->substr(0, sp);
  s->remove_prefix(sp == sv::npos ? s->size() : sp + 1);
  return t;
}

bool number(sv s, uint32_t max, uint32_t* out) {
  if (s.empty() || s.size() > 10) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > max) return false;
  *out = static_cast<uint32_t>(v);
  return true;
}

bool is_direction(sv v) {
  return v == "sendrecv" || v == "sendonly" || v == "recvonly" || v == "inactive";
}

// c=IN IP4 192.0.2.1[/ttl]
bool connection(sv v, sv* addr, uint8_t* family) {
  if (v.substr(0, 7) == "IN IP4 ")
    *family = 4;
  else if (v.substr(0, 7) == "IN IP6 ")
    *family = 6;
  else
    return false;
  sv a = trim(v.substr(7));
  *addr = a.substr(0, a.find('/'));
  return !addr->empty();
}

}  // namespace

size_t parse_sdp_streams(sv sdp, sdp_stream* out, size_t max) {
  if (max > k_max_sdp_streams) max = k_max_sdp_streams;
  sv session_addr, session_dir;
  uint8_t session_family = 0;
  size_t n = 0;
  sdp_stream* cur = nullptr;
  bool own_rtcp = false;
  auto finish = [&]() {
    if (cur == nullptr) return;
    if (cur->addr.empty()) {
      cur->addr = session_addr;
      cur->family = session_family;
    }
    if (cur->direction.empty()) cur->direction = session_dir;
    if (!own_rtcp) cur->rtcp_port = cur->port == 0 || cur->port == 65535 ? 0 : cur->port + 1;
    n++;
    cur = nullptr;
  };
  size_t pos = 0;
  while (pos < sdp.size()) {
    size_t nl = sdp.find('\n', pos);
    if (nl == sv::npos) nl = sdp.size();
    sv line = trim(sdp.substr(pos, nl - pos));
    pos = nl + 1;
    if (line.size() < 2 || line[1] != '=') continue;
    const char type = line[0];
    sv v = line.substr(2);
    if (type == 'm') {
      finish();
      if (n == max) break;
      cur = &out[n];
      *cur = sdp_stream{};
      own_rtcp = false;
      cur->media = token(&v);
      uint32_t port = 0;
      sv p = token(&v);
      if (number(p.substr(0, p.find('/')), 65535, &port)) cur->port = static_cast<uint16_t>(port);
      token(&v);  // proto
      while (!v.empty() && cur->pt_count < sizeof(cur->pts)) {
        uint32_t pt;
        if (number(token(&v), 127, &pt)) cur->pts[cur->pt_count++] = static_cast<uint8_t>(pt);
      }
    } else if (type == 'c') {
      sv a;
      uint8_t fam = 0;
      if (!connection(v, &a, &fam)) continue;
      if (cur != nullptr) {
        cur->addr = a;
        cur->family = fam;
      } else if (n == 0) {
        session_addr = a;
        session_family = fam;
      }
    } else if (type == 'a') {
      if (cur == nullptr) {
        if (n == 0 && is_direction(v)) session_dir = v;
        continue;
      }
      if (is_direction(v)) {
        cur->direction = v;
      } else if (v.substr(0, 5) == "rtcp:") {
        sv r = v.substr(5);
        uint32_t port;
        if (number(token(&r), 65535, &port)) {
          cur->rtcp_port = static_cast<uint16_t>(port);
          own_rtcp = true;
        }
      } else if (v.substr(0, 7) == "rtpmap:" && cur->map_count < 8) {
        sv r = v.substr(7);
        uint32_t pt;
        if (!number(token(&r), 127, &pt)) continue;
        sdp_rtpmap& m = cur->maps[cur->map_count];
        sv enc = token(&r);
        const size_t slash = enc.find('/');
        m.pt = static_cast<uint8_t>(pt);
        m.name = enc.substr(0, slash);
        uint32_t rate = 0;
        if (slash != sv::npos) {
          sv rs = enc.substr(slash + 1);
          number(rs.substr(0, rs.find('/')), 10000000, &rate);
        }
        m.rate = rate;
        cur->map_count++;
      }
    }
  }
  finish();
  return n;
}

bool parse_sdp_addr(sv a, uint8_t family, uint8_t* out16) {
  char buf[64];
  if (a.empty() || a.size() >= sizeof(buf)) return false;
  std::memcpy(buf, a.data(), a.size());
  buf[a.size()] = '\0';
  std::memset(out16, 0, 16);
  if (family == 4) return inet_pton(AF_INET, buf, out16) == 1;
  if (family == 6) return inet_pton(AF_INET6, buf, out16) == 1;
  return false;
}

}  // namespace ringbridge::media
