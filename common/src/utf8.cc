// SPDX-License-Identifier: BSD-3-Clause
// UTF-8 validation and repair (RFC 3629, Unicode §3.9 table 3-7).
#include "ringbridge/common/utf8.h"

namespace ringbridge {

namespace {

// Length of the well-formed sequence at S[I], or 0 when the bytes there are ill-formed.
// *SUBPART receives how many bytes form the maximal ill-formed subpart (>= 1) so the
// caller replaces exactly those with one U+FFFD.
size_t sequence_at(std::string_view s, size_t i, size_t* subpart) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  *subpart = 1;
  if (c < 0x80) return 1;
  size_t need;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    need = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    need = 3;
    if (c == 0xE0) lo = 0xA0;  // no overlongs
    if (c == 0xED) hi = 0x9F;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    need = 4;
    if (c == 0xF0) lo = 0x90;  // no overlongs
    if (c == 0xF4) hi = 0x8F;  // <= U+10FFFF
  } else {
    return 0;  // a continuation byte, C0/C1, F5..FF
  }
  for (size_t k = 1; k < need; k++) {
    if (i + k >= s.size()) return 0;
    const unsigned char x = b(i + k);
    const unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
    if (x < l || x > h) return 0;
    *subpart = k + 1;  // the bytes so far are a prefix of a valid sequence
  }
  return need;
}

}  // namespace

size_t utf8_cut(std::string_view s, size_t max) {
  if (max >= s.size()) return s.size();
  size_t n = max;
  // S[n] is the first byte left out: if it continues a sequence, back off to its lead.
  for (int k = 0; k < 3 && n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80; k++) n--;
  return n;
}

size_t utf8_whole(std::string_view s) {
  const size_t n = s.size();
  for (size_t back = 1; back <= 4 && back <= n; back++) {
    const auto c = static_cast<unsigned char>(s[n - back]);
    if ((c & 0xC0) == 0x80) continue;  // a continuation byte: keep looking for the lead
    const size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    return need > back ? n - back : n;
  }
  return n;
}

bool utf8_valid(std::string_view s) {
  size_t i = 0, sub;
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      i++;
      continue;
    }
    const size_t n = sequence_at(s, i, &sub);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string utf8_sanitize(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0, sub;
  while (i < s.size()) {
    const size_t n = sequence_at(s, i, &sub);
    if (n != 0) {
      out.append(s.data() + i, n);
      i += n;
    } else {
      out.append("\xEF\xBF\xBD");
      i += sub;
    }
  }
  return out;
}

bool utf8_sanitize_inplace(std::string* s) {
  if (utf8_valid(*s)) return false;
  *s = utf8_sanitize(*s);
  return true;
}

}  // namespace ringbridge
