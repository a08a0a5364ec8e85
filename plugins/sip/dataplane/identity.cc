// SPDX-License-Identifier: BSD-3-Clause
// The caller's identity, computed once per initial INVITE in the worker: which header it
// comes from (PAI / RPID / From), the display name cleaned, the number normalised.
#include "ringbridge/sip/identity.h"

#include <algorithm>
#include <cstring>

#include "byte_class.h"
#include "ringbridge/common/utf8.h"
#include "ringbridge/sip/ascii.h"

namespace ringbridge::dp {

namespace {
int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool starts_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.compare(0, p.size(), p) == 0;
}

// Does the ';'/','-separated LIST hold TOKEN (case-insensitive)?
bool has_token(std::string_view list, std::string_view token) {
  size_t i = 0;
  while (i < list.size()) {
    size_t j = list.find_first_of(";,", i);
    if (j == std::string_view::npos) j = list.size();
    std::string_view t = list.substr(i, j - i);
    while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
    while (!t.empty() &&
           (t.back() == ' ' || t.back() == '\t' || t.back() == '\r' || t.back() == '\n'))
      t.remove_suffix(1);
    if (iequal(t, token)) return true;
    i = j + 1;
  }
  return false;
}

// The value of parameter NAME in ";a=b;c=d" (case-insensitive name), or "".
std::string_view param(std::string_view params, std::string_view name) {
  size_t i = 0;
  while ((i = params.find(';', i)) != std::string_view::npos) {
    i++;
    while (i < params.size() && params[i] == ' ') i++;
    if (params.size() - i > name.size() && iequal(params.substr(i, name.size()), name) &&
        params[i + name.size()] == '=') {
      const size_t b = i + name.size() + 1;
      const size_t e = params.find_first_of(";, \r\n", b);
      return params.substr(b, (e == std::string_view::npos ? params.size() : e) - b);
    }
  }
  return {};
}

// Bytes a number drops: visual separators and control characters. SPECIAL: those and '%'
// (an escape), the bytes a number must be rewritten for.
struct separator_table {
  bool drop[256] = {};
  bool special[256] = {};
  constexpr separator_table() {
    for (int c = 0; c < 0x20; c++) drop[c] = true;
    for (unsigned char c : {' ', '-', '.', '(', ')', '/'}) drop[c] = true;
    for (int c = 0; c < 256; c++) special[c] = drop[c];
    special[static_cast<unsigned char>('%')] = true;
  }
};
constexpr separator_table k_separators;

// A display name's bytes that clean_name() copies as they are (the others: those up to '"'
// — controls, space, '!', '"' — and '\\').
constexpr bool plain_name_byte(unsigned char c) {
  return c > '"' && c != '\\';
}
}  // namespace

#if defined(RB_BYTE_CLASS)
namespace {
// The same bytes as byte classes, for 16 at a time.
constexpr byte_class k_name_special{[](unsigned char c) { return !plain_name_byte(c); }};
constexpr byte_class k_number_special{[](unsigned char c) { return k_separators.special[c]; }};

// The 16 bytes at P (N of them in use: 1..16), which may be read up to READABLE (nullptr:
// only up to P + N), as a vector when they can be; false when not.
inline bool load16(const char* p, size_t n, const char* readable, __m128i* v) {
  if (n == 0 || n > 16 || readable == nullptr || readable - p < 16) return false;
  *v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return true;
}
}  // namespace
#endif

size_t clean_name(std::string_view raw, char* out, size_t cap, const char* readable) {
#if defined(RB_BYTE_CLASS)
  // Most names: up to 16 bytes, words of plain bytes with single spaces between them. They
  // are kept as they are.
  if (__m128i v; !raw.empty() && raw.size() < cap && load16(raw.data(), raw.size(), readable, &v)) {
    const unsigned in = (1u << raw.size()) - 1;
    const unsigned special = match(v, k_name_special) & in;
    const unsigned spaces =
        static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(' ')))) & in;
    const unsigned ends = 1u | 1u << (raw.size() - 1);
    if (special == spaces && (spaces & ends) == 0 && (spaces & spaces >> 1) == 0) {
      std::memcpy(out, raw.data(), raw.size());
      return raw.size();
    }
  }
#else
  (void)readable;
#endif
  // The plain bytes a name starts with, and single spaces between them (most of most names),
  // are copied as they are, in a loop of their own; the rest goes byte by byte below.
  const char* const src = raw.data();
  const size_t lead = raw.size() < cap ? raw.size() : cap;
  size_t n = 0;
  auto plain = [](char c) { return plain_name_byte(static_cast<unsigned char>(c)); };
  while (n < lead) {
    if (plain(src[n])) {
      out[n] = src[n];
      n++;
    } else if (src[n] == ' ' && n != 0 && n + 1 < lead && plain(src[n + 1])) {
      out[n] = ' ';
      out[n + 1] = src[n + 1];
      n += 2;
    } else {
      break;
    }
  }
  bool space = false;
  for (size_t i = n; i < raw.size() && n < cap; i++) {
    char c = raw[i];
    if (plain(c)) {  // most bytes: kept as they are
      if (space) {
        out[n++] = ' ';
        space = false;
        if (n == cap) break;
      }
      out[n++] = c;
      continue;
    }
    const bool escaped = c == '\\' && i + 1 < raw.size();
    if (escaped) c = raw[++i];
    if (c == '"' && !escaped) continue;
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      space = n != 0;
      continue;
    }
    if (static_cast<unsigned char>(c) < 0x20) continue;
    if (space && n < cap) out[n++] = ' ';
    space = false;
    if (n < cap) out[n++] = c;
  }
  // Cut to CAP: never inside a UTF-8 character, and without a space left dangling. (A name
  // that fits keeps its bytes: one that is not UTF-8 shows as U+FFFD where it leaves.)
  if (n == cap) n = utf8_whole(std::string_view(out, n));
  while (n != 0 && out[n - 1] == ' ') n--;
  return n;
}

size_t normalize_number(std::string_view raw, const number_format& f, char* out, size_t cap,
                        const char* readable) {
  char t[64];
  // Most numbers have nothing to drop or decode ("+15551234567"): used as they are.
  size_t k = 0;
#if defined(RB_BYTE_CLASS)
  if (__m128i v; load16(raw.data(), raw.size(), readable, &v)) {
    const unsigned hit = match(v, k_number_special) & ((1u << raw.size()) - 1);
    k = hit == 0 ? raw.size() : static_cast<size_t>(__builtin_ctz(hit));
  } else
#else
  (void)readable;
#endif
  if (raw.size() <= sizeof(t))  // longer ones are cut to 64 bytes below
    while (k < raw.size() && !k_separators.special[static_cast<unsigned char>(raw[k])]) k++;
  std::string_view v = raw;
  if (k != raw.size()) {
    size_t n = 0;
    for (size_t i = 0; i < raw.size() && n < sizeof(t); i++) {
      char c = raw[i];
      if (c == '%' && i + 2 < raw.size() && hexval(raw[i + 1]) >= 0 && hexval(raw[i + 2]) >= 0) {
        c = static_cast<char>(hexval(raw[i + 1]) * 16 + hexval(raw[i + 2]));
        i += 2;
      }
      if (k_separators.drop[static_cast<unsigned char>(c)]) continue;
      t[n++] = c;
    }
    v = std::string_view(t, n);
  }
  size_t o = 0;
  auto put = [&](std::string_view s) {
    const size_t k = std::min(s.size(), cap - o);
    if (k != 0) std::memcpy(out + o, s.data(), k);
    o += k;
  };
  auto digits = [](std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (!v.empty() && v[0] == '+') {
    put(v);
    return o;
  }
  for (const auto& p : f.intl_prefixes) {
    if (!p.empty() && v.size() > p.size() && starts_with(v, p) && digits(v)) {
      put("+");
      put(v.substr(p.size()));
      return o;
    }
  }
  if (!f.country_code.empty() && digits(v) && v.size() >= f.min_national_digits) {
    if (!f.trunk_prefix.empty() && starts_with(v, f.trunk_prefix) &&
        v.size() - f.trunk_prefix.size() + 1 >= f.min_national_digits)
      v.remove_prefix(f.trunk_prefix.size());
    put("+");
    put(f.country_code);
    put(v);
    return o;
  }
  put(v);
  return o;
}

caller_id identify_caller(sip::message& m, const identity_source* order, size_t n,
                          const number_format& f) {
  caller_id who;
  const sip::name_addr* chosen = nullptr;
  std::string_view display;
  for (size_t i = 0; i < n && (chosen == nullptr || display.empty()); i++) {
    sip::name_addr* p = order[i] == identity_source::pai    ? &m.pai
                        : order[i] == identity_source::rpid ? &m.rpid
                                                            : &m.from;
    if (!sip::settle(m, p)) continue;
    if (display.empty() && !p->display.empty()) display = p->display;
    if (chosen == nullptr && !p->user.empty()) chosen = p;
  }
  if (display.empty() && sip::settle(m, &m.from)) display = m.from.display;
  who.name_len = static_cast<uint8_t>(clean_name(display, who.name, sizeof(who.name), m.limit));
  if (chosen != nullptr)
    who.number_len = static_cast<uint8_t>(
        normalize_number(chosen->user, f, who.number, sizeof(who.number), m.limit));
  const std::string_view num = who.number_view();
  static const char* const k_anon[] = {"anonymous", "unknown",  "restricted",       "unavailable",
                                       "private",   "withheld", "anonymous.invalid"};
  bool anon = num.empty() || (!m.privacy.empty() && has_token(m.privacy, "id"));
  // The words all start with a letter: a number (digits, '+') is none of them.
  const char c0 = num.empty() ? '\0' : ascii_lower(num[0]);
  if (c0 >= 'a' && c0 <= 'z')
    for (const char* a : k_anon) anon = anon || iequal(num, a);
  if (chosen != nullptr) {
    anon = anon || iequal(chosen->host, "anonymous.invalid");
    if (chosen == &m.rpid) {
      const std::string_view pv = param(m.rpid.params, "privacy");
      anon = anon || iequal(pv, "full") || iequal(pv, "uri");
    }
  }
  who.anonymous = anon;
  return who;
}

}  // namespace ringbridge::dp
