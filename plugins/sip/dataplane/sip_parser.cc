// SPDX-License-Identifier: BSD-3-Clause
// SIP and SDP parsing over views. Hot path: no allocation, every index bounds-checked.
//
// Written for instruction count (perf/rbcallgrind): one pass per line where the old code made
// several, and the searches for a few special bytes (line ends, ':', the quotes and brackets
// of a name-addr, the separators of a URI) 16 bytes at a time with SSE2 (byte_class.h for
// sets of more than three bytes). Behaviour is the one the fuzz target checks against the
// previous parser (tests/fuzz/sip_parser_ref.cc): same status, same views, for every input.
#include "ringbridge/sip/sip_parser.h"

#include <cstring>

#include "byte_class.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace ringbridge::dp::sip {

namespace {

using sv = std::string_view;

#if defined(__SSE2__)
// The bytes of V that are one of C..., as a bit mask: compares for up to three bytes, the
// byte class's two table lookups (SSSE3) for more, whatever their number.
template <char... C>
inline unsigned match_mask(__m128i v) {
#if defined(RB_BYTE_CLASS)
  if constexpr (sizeof...(C) > 3) {
    static_assert(((static_cast<unsigned char>(C) < 0x80) && ...));
    return match(v, k_bytes<C...>);
  }
#endif
  return static_cast<unsigned>(_mm_movemask_epi8((_mm_cmpeq_epi8(v, _mm_set1_epi8(C)) | ...)));
}
#endif

// The first byte in [P, STOP) that is one of C..., or STOP. Reads no byte at or beyond
// LIMIT (>= STOP): 16 bytes at a time while 16 remain before LIMIT — text that goes on past
// STOP (a header value inside its message) is searched in blocks to its end — then byte by
// byte.
template <char... C>
inline const char* find_any(const char* p, const char* stop, const char* limit) {
#if defined(__SSE2__)
  while (p < stop && limit - p >= 16) {
    const unsigned mask =
        match_mask<C...>(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    if (mask != 0) {
      const char* q = p + __builtin_ctz(mask);
      return q < stop ? q : stop;
    }
    if (stop - p <= 16) return stop;
    p += 16;
  }
#else
  (void)limit;
#endif
  while (p < stop && !((*p == C) || ...)) p++;
  return p;
}

// The bytes of [B, E) that are one of C..., in order (next()), from a bit mask per 16
// bytes: a text with a few special bytes costs a few instructions per 16 bytes and per
// special byte. Reads no byte at or beyond LIMIT (>= E).
template <char... C>
class positions {
 public:
  positions(const char* b, const char* e, const char* limit) : _p(b), _e(e), _limit(limit) {
    load();
  }

  /// The next position, or E when there is none left.
  const char* next() {
    while (_mask == 0) {
      if (_e - _p <= 16) return _e;  // (an empty view may have no data at all)
      _p += 16;
      load();
    }
    const char* q = _p + __builtin_ctz(_mask);
    _mask &= _mask - 1;
    return q < _e ? q : _e;
  }

  /// Goes on from Q (>= the last position returned): positions before Q are skipped.
  void skip_to(const char* q) {
    while (q >= _p + 16) {
      _p += 16;
      _mask = 0;
      if (_p >= _e) return;
      load();
    }
    _mask &= ~0u << (q - _p);
  }

 private:
  void load() {
    if (_p >= _e) {
      _mask = 0;
      return;
    }
#if defined(__SSE2__)
    if (_limit - _p >= 16) {
      _mask = match_mask<C...>(_mm_loadu_si128(reinterpret_cast<const __m128i*>(_p)));
      return;
    }
#endif
    _mask = 0;
    const size_t n = _e - _p < 16 ? static_cast<size_t>(_e - _p) : 16;
    for (size_t i = 0; i < n; i++)
      if (((_p[i] == C) || ...)) _mask |= 1u << i;
  }

  const char* _p;  // the 16-byte block _mask describes
  const char* _e;
  const char* _limit;
  unsigned _mask = 0;
};

// The line ends ('\n') of BUF[0..LEN), in order: a bit mask per 64-byte chunk, made when the
// search reaches it, so a message's lines cost a few instructions each.
class line_ends {
 public:
  line_ends(const char* buf, size_t len) : _buf(buf), _len(len) {}

  /// Position of the first '\n' at or after POS, or the length when there is none.
  size_t next(size_t pos) {
    while (pos < _len) {
      const size_t chunk = pos & ~size_t{63};
      if (chunk != _chunk) load(chunk);
      const uint64_t m = _mask & (~uint64_t{0} << (pos & 63));
      if (m != 0) return chunk + static_cast<size_t>(__builtin_ctzll(m));
      pos = chunk + 64;
    }
    return _len;
  }

  /// The first '\n' after the last one next() or following() returned (after POS - 1, for
  /// the first call after seek(POS)), or the length: the lines in order, a few instructions
  /// each.
  size_t following() {
    while (_mask == 0) {
      const size_t chunk = _chunk + 64;
      if (_chunk == ~size_t{0} || chunk >= _len) return _len;
      load(chunk);
    }
    const size_t at = _chunk + static_cast<size_t>(__builtin_ctzll(_mask));
    _mask &= _mask - 1;
    return at;
  }

  /// following() goes on from POS (< the length).
  void seek(size_t pos) {
    const size_t chunk = pos & ~size_t{63};
    if (chunk != _chunk) load(chunk);
    _mask &= ~uint64_t{0} << (pos & 63);
  }

 private:
  void load(size_t chunk) {
    _chunk = chunk;
    const char* p = _buf + chunk;
    const size_t n = _len - chunk < 64 ? _len - chunk : 64;
#if defined(__SSE2__)
    const __m128i nl = _mm_set1_epi8('\n');
    auto bits = [&](const char* q) {
      return uint64_t{static_cast<uint32_t>(_mm_movemask_epi8(
          _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q)), nl)))};
    };
    if (n == 64) {
      _mask = bits(p) | bits(p + 16) << 16 | bits(p + 32) << 32 | bits(p + 48) << 48;
      return;
    }
    _mask = 0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) _mask |= bits(p + i) << i;
    if (i < n && _len >= 16) {
      // The last bytes: the 16 that end the buffer, shifted into place.
      const size_t back = 16 - (n - i);
      _mask |= (bits(p + i - back) >> back) << i;
      return;
    }
#else
    _mask = 0;
    size_t i = 0;
#endif
    for (; i < n; i++)
      if (p[i] == '\n') _mask |= uint64_t{1} << i;
  }

  const char* _buf;
  size_t _len;
  size_t _chunk = ~size_t{0};
  uint64_t _mask = 0;
};

// Position of the first of C... in S at or after FROM, or npos; S lies in memory readable
// up to LIMIT.
template <char... C>
inline size_t find_in(sv s, size_t from, const char* limit) {
  if (from >= s.size()) return sv::npos;
  const char* stop = s.data() + s.size();
  const char* q = find_any<C...>(s.data() + from, stop, limit);
  return q == stop ? sv::npos : static_cast<size_t>(q - s.data());
}

// A stream waits this long for the end of a start line; a datagram is bounded by itself.
constexpr size_t k_max_start_line = 65535;
constexpr size_t k_max_headers = 256;  // more is a flood, not a call

inline char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}
inline bool is_wsp(char c) {
  return c == ' ' || c == '\t';
}
inline bool is_lws(char c) {  // SP, HT, CR, LF
  const auto u = static_cast<unsigned char>(c);
  return u <= ' ' && ((0x100002600ull >> u) & 1) != 0;
}
inline bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// RFC 3261 token characters, one table lookup a byte.
struct token_table {
  bool ok[256] = {};
  constexpr token_table() {
    for (int c = 'A'; c <= 'Z'; c++) ok[c] = ok[c + 32] = true;
    for (int c = '0'; c <= '9'; c++) ok[c] = true;
    for (unsigned char c : {'-', '.', '!', '%', '*', '_', '+', '`', '\'', '~'}) ok[c] = true;
  }
};
constexpr token_table k_token;

inline bool is_token_char(char c) {
  return k_token.ok[static_cast<unsigned char>(c)];
}

// "SIP/2.0", case-insensitively (RFC 3261 §7.1: the version is case-insensitive), at P.
inline bool is_sip_version(const char* p) {
  return lower(p[0]) == 's' && lower(p[1]) == 'i' && lower(p[2]) == 'p' && p[3] == '/' &&
         p[4] == '2' && p[5] == '.' && p[6] == '0';
}
inline bool is_sip_version(sv t) {
  return t.size() == 7 && is_sip_version(t.data());
}

// First position of either A or B in S (a loop: std::find_first_of calls memchr per byte).
inline size_t find2(sv s, char a, char b) {
  for (size_t i = 0; i < s.size(); i++)
    if (s[i] == a || s[i] == b) return i;
  return sv::npos;
}

inline sv trim(sv s) {
  // Most values have nothing to trim but the space after the colon.
  if (!s.empty() && static_cast<unsigned char>(s.back()) > ' ') {
    if (static_cast<unsigned char>(s.front()) > ' ') return s;
    if (s.size() >= 2 && s[0] == ' ' && static_cast<unsigned char>(s[1]) > ' ') return s.substr(1);
  }
  const char* b = s.data();
  const char* e = b + s.size();
  while (b != e && is_lws(*b)) b++;
  while (e != b && is_lws(e[-1])) e--;
  return sv(b, static_cast<size_t>(e - b));
}

// The W bytes at S + OFF are those of the lower-case literal L, ignoring the case of ASCII
// letters: one compare of the bytes with the letters' 0x20 bit set (L is a literal: the
// mask and the value fold into constants).
template <typename W>
inline bool chunk_is(const char* s, const char* l, size_t off) {
  char m[sizeof(W)];
  for (size_t i = 0; i < sizeof(W); i++) m[i] = l[off + i] >= 'a' && l[off + i] <= 'z' ? 0x20 : 0;
  W v, want, mask;
  std::memcpy(&v, s + off, sizeof(W));
  std::memcpy(&want, l + off, sizeof(W));
  std::memcpy(&mask, m, sizeof(W));
  return static_cast<W>(v | mask) == want;
}

// NAME (of the literal's length) is the lower-case literal L, ignoring the case of ASCII
// letters (iequals()), compared in overlapping words.
template <size_t N>
inline bool is_name(sv name, const char (&l)[N]) {
  constexpr size_t n = N - 1;
  static_assert(n <= 24);
  const char* s = name.data();
  if constexpr (n >= 8) {
    if (!chunk_is<uint64_t>(s, l, 0)) return false;
    if constexpr (n > 16)
      if (!chunk_is<uint64_t>(s, l, 8)) return false;
    return chunk_is<uint64_t>(s, l, n - 8);
  } else if constexpr (n >= 4) {
    return chunk_is<uint32_t>(s, l, 0) && chunk_is<uint32_t>(s, l, n - 4);
  } else if constexpr (n >= 2) {
    return chunk_is<uint16_t>(s, l, 0) && chunk_is<uint16_t>(s, l, n - 2);
  } else {
    return lower(s[0]) == l[0];
  }
}

// S starts with the lower-case literal L, ignoring the case of ASCII letters.
template <size_t N>
inline bool istarts_with(sv s, const char (&l)[N]) {
  return s.size() >= N - 1 && is_name(s, l);
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

// The 3 bytes at P are "tel", any case: a tel URI's scheme.
inline bool is_tel(const char* p) {
  return lower(p[0]) == 't' && lower(p[1]) == 'e' && lower(p[2]) == 'l';
}

// URI = whole; "scheme:" and, for sip/sips, [user[:password]@]host[:port][;params][?headers].
// LIMIT: how far the memory around URI may be read. One walk over the separators.
void parse_uri(sv uri, name_addr* na, const char* limit) {
  na->uri = uri;
  const char* const b = uri.data();
  const char* const e = b + uri.size();
  positions<':', '@', ';', '?', ']'> sep(b, e, limit);
  const char* q = sep.next();
  while (q != e && *q != ':') q = sep.next();
  if (q == e) return;
  na->scheme = sv(b, static_cast<size_t>(q - b));
  const char* const rest = q + 1;
  if (na->scheme.size() == 3 && is_tel(b)) {
    do q = sep.next();
    while (q != e && *q != ';');
    na->user = sv(rest, static_cast<size_t>(q - rest));
    return;
  }
  // The first ':' and ']' of a part, up to the separator that ends it.
  const char* colon = e;
  const char* close = e;
  auto walk = [&](bool userinfo) {
    colon = close = e;
    for (q = sep.next(); q != e; q = sep.next()) {
      if (*q == ':') {
        if (colon == e) colon = q;
      } else if (*q == ']') {
        if (close == e) close = q;
      } else if (*q != '@' || userinfo) {
        return;  // ';' or '?' (or, in the userinfo, '@')
      }
    }
  };
  walk(true);
  const char* hostport = rest;
  if (q != e && *q == '@') {  // a '@' before any ';' or '?' ends the userinfo
    na->user = sv(rest, static_cast<size_t>((colon < q ? colon : q) - rest));
    hostport = q + 1;
    walk(false);
  }
  // Host: up to the first ':' of [hostport, q), or an IPv6 reference up to its ']'.
  const char* end = q;
  if (hostport < end && *hostport == '[')
    end = close < q ? close + 1 : q;
  else if (colon < q)
    end = colon;
  na->host = sv(hostport, static_cast<size_t>(end - hostport));
}

// The value of the "tag" parameter in PARAMS (";a=b;tag=c", any case): param_value(PARAMS,
// "tag") in one walk over ';' and '='. PARAMS lies in memory readable up to LIMIT.
inline sv tag_param(sv params, const char* limit) {
  const char* const e = params.data() + params.size();
  // Most lists are the tag alone, or start with it: ";tag=" and the value up to the next ';'.
  if (params.size() >= 5 && params[0] == ';' && lower(params[1]) == 't' &&
      lower(params[2]) == 'a' && lower(params[3]) == 'g' && params[4] == '=') {
    const char* const v = params.data() + 5;
    return trim(sv(v, static_cast<size_t>(find_any<';'>(v, e, limit) - v)));
  }
  positions<';', '='> sep(params.data(), e, limit);
  const char* q = sep.next();
  while (q != e && *q != ';') q = sep.next();
  while (q != e) {  // at a ';'
    const char* const pb = q + 1;
    const char* eq = nullptr;
    for (q = sep.next(); q != e && *q != ';'; q = sep.next())
      if (eq == nullptr) eq = q;
    const sv key = trim(sv(pb, static_cast<size_t>((eq ? eq : q) - pb)));
    if (key.size() == 3 && lower(key[0]) == 't' && lower(key[1]) == 'a' && lower(key[2]) == 'g')
      return eq ? trim(sv(eq + 1, static_cast<size_t>(q - eq - 1))) : sv{};
  }
  return {};
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

unsigned start_line_id(const char* p, size_t n) {
  start_line sl;
  return start_line_read(p, n, &sl);
}

unsigned start_line_read(const char* p, size_t n, start_line* out) {
  // The patterns (sip_setup.cc), one line: request = method [ \t]+ URI (no whitespace,
  // CR or LF) [ \t]+ SIP/2.0 (any case) [ \t]* \r? \n; status = SIP/2.0 [ \t]+ [1-6]DD,
  // then nothing or [ \t] and anything without CR, \r? \n.
  if (n == 0 || p[n - 1] != '\n') return 0;
  size_t e = n - 1;
  if (e != 0 && p[e - 1] == '\r') e--;
  const sv line(p, e);  // no LF in it; a CR may be
  if (e >= 7 && is_sip_version(p)) {
    size_t i = 7;
    while (i < e && is_wsp(p[i])) i++;
    if (i == 7 || e - i < 3 || p[i] < '1' || p[i] > '6' || !is_digit(p[i + 1]) ||
        !is_digit(p[i + 2]))
      return 0;
    const size_t code = i;
    i += 3;
    if (i != e) {
      if (!is_wsp(p[i]) || find_in<'\r'>(line, i, p + n) != sv::npos) return 0;
    }
    // What parse_start_line() makes of it: the reason without the whitespace around it.
    size_t r = i, re = e;
    while (r < re && is_wsp(p[r])) r++;
    while (re > r && is_wsp(p[re - 1])) re--;
    out->id = k_start_line_status;
    out->length = n;
    out->is_request = false;
    out->status = static_cast<uint16_t>((p[code] - '0') * 100 + (p[code + 1] - '0') * 10 +
                                        (p[code + 2] - '0'));
    out->reason = sv(p + r, re - r);
    return k_start_line_status;
  }
  size_t t = 0;
  method m = method::invite;
  if (e > 6 && std::memcmp(p, "INVITE", 6) == 0 && is_wsp(p[6])) {
    t = 6;  // the method screened most: no token walk, no method lookup
  } else {
    while (t < e && is_token_char(p[t])) t++;
    if (t == 0 || t > 32 || t == e || !is_wsp(p[t])) return 0;
    m = method_from_token(line.substr(0, t));
  }
  size_t u = t + 1;
  while (u < e && is_wsp(p[u])) u++;
  // The URI ends at a space or tab; a CR before that (or no end) is no start line.
  const size_t ue = find_in<' ', '\t', '\r'>(line, u, p + n);
  if (ue == sv::npos || ue == u || p[ue] == '\r') return 0;  // no URI, or nothing after it
  size_t v = ue;
  while (v < e && is_wsp(p[v])) v++;
  if (e - v < 7 || !is_sip_version(p + v)) return 0;
  for (v += 7; v < e; v++)
    if (!is_wsp(p[v])) return 0;
  out->id = m == method::other ? k_start_line_extension : static_cast<unsigned>(m);
  out->length = n;
  out->is_request = true;
  out->req_method = m;
  out->method_token = line.substr(0, t);
  out->request_uri = line.substr(u, ue - u);
  return out->id;
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

namespace {

// Header parameters after a name-addr's URI (S from AFTER_URI on): they start with ';' after
// optional LWS, else there are none; the tag is among them. S lies in memory readable up to
// LIMIT.
inline void set_params(sv s, size_t after_uri, const char* limit, name_addr* na) {
  na->params = after_uri < s.size() ? s.substr(after_uri) : sv{};
  size_t p = 0;
  while (p < na->params.size() && is_lws(na->params[p])) p++;
  na->params = na->params.substr(p);
  if (!na->params.empty() && na->params.front() != ';') na->params = {};
  if (!na->params.empty()) na->tag = tag_param(na->params, limit);
}

// The bytes that structure a name-addr (or send it to the general path): what
// name_addr_fast() walks over and name_addr_common() lists.
#define RB_NAME_ADDR_SPECIAL '"', '<', '>', ':', '@', ';', '\\', ',', '?', '[', ']'

// name_addr_of() in one walk over the bytes that structure a name-addr, for the shapes nearly
// every From / To / P-Asserted-Identity has: [ "display" | token display ] <uri> [;params]
// with no escapes, commas, IPv6 references or URI headers. What it takes it parses exactly as
// the general path below does (the fuzz target checks both against the reference parser);
// anything else it leaves (false), having written nothing. S: trimmed, non-empty.
bool name_addr_fast(sv s, const char* limit, name_addr* out) {
  const char* const b = s.data();
  const char* const e = b + s.size();
  positions<RB_NAME_ADDR_SPECIAL> sp(b, e, limit);
  enum { display, quoted, quote_closed, scheme, userinfo, host, uri_params } st = display;
  const char* open = nullptr;       // '<'
  const char* close_quote = nullptr;
  const char* sc = nullptr;         // the scheme's ':'
  const char* colon = nullptr;      // the first ':' of the userinfo or the host part
  const char* hostport = nullptr;   // after the '@' (nullptr: no '@')
  const char* user_end = nullptr;   // where the user part ends (nullptr: none)
  const char* host_end = nullptr;   // where the host ends (nullptr: at the URI's end)
  bool tel = false;
  const char* q = sp.next();
  for (; q != e; q = sp.next()) {
    switch (*q) {
      case '"':
        if (st == display && q == b) {
          st = quoted;
        } else if (st == quoted) {
          close_quote = q;
          st = quote_closed;
        } else {
          return false;
        }
        continue;
      case '<':
        if (st == display || st == quote_closed) {
          open = q;
          st = scheme;
        } else if (st != quoted) {
          return false;
        }
        continue;
      case '>':
        if (st >= scheme) break;
        continue;  // text in a display name
      case ':':
        if (st == scheme) {
          sc = q;
          const char* ub = open + 1;  // the scheme starts after the LWS inside the '<'
          while (is_lws(*ub)) ub++;
          tel = q - ub == 3 && is_tel(ub);
          st = userinfo;
        } else if ((st == userinfo || st == host) && colon == nullptr) {
          colon = q;
        }
        continue;
      case '@':
        if (st == scheme) return false;
        if (st == userinfo && !tel) {
          user_end = colon != nullptr ? colon : q;
          hostport = q + 1;
          colon = nullptr;
          st = host;
        }
        continue;
      case ';':
        if (st == scheme) return false;
        if (st == userinfo) {
          if (tel)
            user_end = q;
          else
            host_end = colon != nullptr ? colon : q;
          st = uri_params;
        } else if (st == host) {
          host_end = colon != nullptr ? colon : q;
          st = uri_params;
        }
        continue;
      case '\\': return false;
      default:  // ',', '?', '[', ']': text only inside the quoted display name
        if (st != quoted) return false;
        continue;
    }
    break;  // the '>' that ends the URI
  }
  if (q == e || st < scheme) return false;
  const char* const gt = q;
  // Nothing after the '>' that the general path reads differently: a comma, quote or bracket
  // there (it looks for the first comma outside quotes and brackets) sends it there.
  for (q = sp.next(); q != e; q = sp.next())
    if (*q != ':' && *q != '@' && *q != ';') return false;
  // The URI without the LWS inside its brackets.
  const sv uri = trim(sv(open + 1, static_cast<size_t>(gt - open - 1)));
  const char* const ub = uri.data();
  const char* const ue = ub + uri.size();
  name_addr& na = *out;
  na.display = close_quote != nullptr ? sv(b + 1, static_cast<size_t>(close_quote - b - 1))
                                      : trim(sv(b, static_cast<size_t>(open - b)));
  na.uri = uri;
  if (sc != nullptr) {
    na.scheme = sv(ub, static_cast<size_t>(sc - ub));
    const char* const rest = sc + 1;
    if (tel) {
      na.user = sv(rest, static_cast<size_t>((user_end != nullptr ? user_end : ue) - rest));
    } else {
      if (hostport != nullptr) {
        na.user = sv(rest, static_cast<size_t>(user_end - rest));
      }
      const char* const h = hostport != nullptr ? hostport : rest;
      const char* he = host_end;
      if (he == nullptr) he = colon != nullptr ? colon : ue;
      na.host = sv(h, static_cast<size_t>((he > h ? he : h) - h));
    }
  }
  set_params(s, static_cast<size_t>(gt + 1 - b), limit, &na);
  na.present = true;
  return true;
}

// name_addr_fast() for the commonest shapes, from the order of the special bytes alone:
// ["display"] <scheme:[user@]host[:port][;uri-params]> [;params] of at most 64 bytes, with
// nothing special in the display name, no whitespace just inside the brackets, not tel: —
// the special bytes are read into a list (a few instructions each) and the list is matched,
// rather than each byte driving a state machine. What it takes it parses exactly as
// name_addr_fast() does (the fuzz target checks both against the reference parser); anything
// else it leaves (false), having written nothing. S: trimmed, non-empty.
bool name_addr_common(sv s, const char* limit, name_addr* out) {
#if defined(RB_BYTE_CLASS)
  const char* const b = s.data();
  const size_t n = s.size();
  if (n > 64 || limit - b < 64) return false;
  constexpr const byte_class& k_special = k_bytes<RB_NAME_ADDR_SPECIAL>;
  uint64_t mask = 0;
  for (size_t i = 0; i < n; i += 16)
    mask |= uint64_t{match(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i)), k_special)}
            << i;
  if (n < 64) mask &= (uint64_t{1} << n) - 1;
  constexpr int k_most = 12;
  const char* at[k_most];
  int k = 0;
  for (; mask != 0 && k < k_most; mask &= mask - 1) at[k++] = b + __builtin_ctzll(mask);
  if (mask != 0) return false;
  auto is = [&](int i, char c) { return i < k && *at[i] == c; };
  int i = 0;
  const char* close_quote = nullptr;
  if (is(0, '"')) {
    if (at[0] != b || !is(1, '"')) return false;
    close_quote = at[1];
    i = 2;
  }
  if (!is(i, '<')) return false;
  const char* const open = at[i++];
  if (!is(i, ':')) return false;
  const char* const sc = at[i++];
  const char* const ub = open + 1;
  if (is_lws(*ub) || (sc - ub == 3 && is_tel(ub))) return false;
  const char* user_end = nullptr;
  const char* h = sc + 1;  // the host
  if (is(i, '@')) {
    user_end = at[i++];
    h = user_end + 1;
  }
  const char* host_end = nullptr;
  if (is(i, ':')) host_end = at[i++];  // a port
  if (is(i, ';')) {                    // URI parameters: ':', '@' and ';' among them
    if (host_end == nullptr) host_end = at[i];
    for (i++; is(i, ':') || is(i, '@') || is(i, ';');) i++;
  }
  if (!is(i, '>')) return false;
  const char* const gt = at[i++];
  if (is_lws(gt[-1])) return false;
  for (; i < k; i++)  // after the URI: header parameters
    if (!is(i, ':') && !is(i, '@') && !is(i, ';')) return false;
  name_addr& na = *out;
  na.display = close_quote != nullptr ? sv(b + 1, static_cast<size_t>(close_quote - b - 1))
                                      : trim(sv(b, static_cast<size_t>(open - b)));
  na.uri = sv(ub, static_cast<size_t>(gt - ub));
  na.scheme = sv(ub, static_cast<size_t>(sc - ub));
  if (user_end != nullptr) na.user = sv(sc + 1, static_cast<size_t>(user_end - sc - 1));
  const char* const he = host_end != nullptr ? host_end : gt;
  na.host = sv(h, static_cast<size_t>((he > h ? he : h) - h));
  set_params(s, static_cast<size_t>(gt + 1 - b), limit, &na);
  na.present = true;
  return true;
#else
  (void)s;
  (void)limit;
  (void)out;
  return false;
#endif
}

#undef RB_NAME_ADDR_SPECIAL

// parse_name_addr() on VALUE, which lies in memory readable up to LIMIT.
// OUT is a name_addr{} it fills in place (left as it was on failure).
bool name_addr_of(sv value, const char* limit, name_addr* out) {
  sv s = trim(value);
  if (!s.empty() && (name_addr_common(s, limit, out) || name_addr_fast(s, limit, out)))
    return true;
  // One walk over the quotes and angle brackets finds the first ',' outside both (only the
  // first of comma-separated values counts: P-Asserted-Identity may carry two), the first
  // '<' outside both, and where a leading quoted string ends.
  size_t comma = sv::npos, open = sv::npos, close_quote = sv::npos;
  {
    const char* const b = s.data();
    const char* const e = b + s.size();
    positions<'"', '\\', '<', '>', ','> special(b, e, limit);
    bool quoted = false;
    int angle = 0;
    for (const char* q = special.next(); q != e; q = special.next()) {
      const char ch = *q;
      if (quoted) {
        if (ch == '\\') {
          if (e - q <= 2) break;
          special.skip_to(q + 2);  // the escaped byte, whatever it is
        } else if (ch == '"') {
          quoted = false;
          if (close_quote == sv::npos) close_quote = static_cast<size_t>(q - b);
        }
      } else if (ch == '"') {
        quoted = true;
      } else if (ch == ',' && angle == 0) {
        comma = static_cast<size_t>(q - b);
        break;
      } else if (ch == '<') {
        if (angle == 0 && open == sv::npos) open = static_cast<size_t>(q - b);
        angle++;
      } else if (ch == '>' && angle > 0) {
        angle--;
      }
    }
  }
  if (comma != sv::npos) s = trim(s.substr(0, comma));
  if (s.empty()) return false;
  name_addr& na = *out;  // nothing is written before the last way to fail
  size_t after_uri;
  if (s.front() == '"') {
    // The display name ends at the first unescaped quote (before any comma: the walk above
    // was inside it).
    const size_t i = close_quote;
    if (i == sv::npos || i >= s.size()) return false;
    const size_t lt = find_in<'<'>(s, i + 1, limit);
    if (lt == sv::npos) return false;
    const size_t gt = find_in<'>'>(s, lt + 1, limit);
    if (gt == sv::npos) return false;
    na.display = s.substr(1, i - 1);
    parse_uri(trim(s.substr(lt + 1, gt - lt - 1)), &na, limit);
    after_uri = gt + 1;
  } else if (open != sv::npos && open < s.size() && find_in<'<'>(s, 0, limit) == open) {
    const size_t gt = find_in<'>'>(s, open + 1, limit);
    if (gt == sv::npos) return false;
    na.display = trim(s.substr(0, open));
    parse_uri(trim(s.substr(open + 1, gt - open - 1)), &na, limit);
    after_uri = gt + 1;
  } else {
    // addr-spec: the URI ends at the first ';' (what follows are header parameters) or LWS.
    size_t end = 0;
    while (end < s.size() && s[end] != ';' && !is_lws(s[end])) end++;
    parse_uri(s.substr(0, end), &na, limit);
    after_uri = end;
  }
  set_params(s, after_uri, limit, &na);
  na.present = true;
  return true;
}

}  // namespace

bool parse_name_addr(sv value, name_addr* out) {
  name_addr na;
  na.value = trim(value);
  if (!name_addr_of(value, value.data() + value.size(), &na)) return false;
  *out = na;
  return true;
}

namespace {

// S starts with the literal L (case-sensitive); one compare per word (L folds to constants).
template <size_t N>
inline bool has_prefix(sv s, const char (&l)[N]) {
  constexpr size_t n = N - 1;
  static_assert(n <= 8);
  if (s.size() < n) return false;
  if constexpr (n >= 4) {
    uint32_t a, b, c, d;
    std::memcpy(&a, s.data(), 4);
    std::memcpy(&b, l, 4);
    std::memcpy(&c, s.data() + n - 4, 4);
    std::memcpy(&d, l + n - 4, 4);
    return a == b && c == d;
  } else {
    return std::memcmp(s.data(), l, n) == 0;
  }
}

}  // namespace

void parse_sdp(sv body, sdp_info* out) {
  sdp_info sdp;
  sv session_c;
  bool in_audio = false, audio_done = false;
  line_ends lines(body.data(), body.size());
  size_t pos = 0;
  if (!body.empty()) lines.seek(0);
  while (pos < body.size()) {
    const size_t nl = lines.following();
    sv line = body.substr(pos, nl - pos);
    pos = nl == body.size() ? nl : nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() < 2 || line[1] != '=') continue;
    const char type = line[0];
    sv v = sdp_value(line);
    if (type == 'm') {
      if (in_audio) audio_done = true;
      in_audio = false;
      if (audio_done || !has_prefix(v, "audio ")) continue;
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
      uint8_t fam = 0;
      if (has_prefix(v, "IN IP4 "))
        fam = 4;
      else if (has_prefix(v, "IN IP6 "))
        fam = 6;
      if (fam == 0) continue;
      sv addr = v.substr(7);
      addr = trim(addr.substr(0, addr.find('/')));
      if (in_audio) {
        sdp.conn_addr = addr;
        sdp.conn_family = fam;
      } else if (!audio_done && sdp.audio_port == 0 && !sdp.present) {
        session_c = addr;
        sdp.conn_family = fam;
      }
    } else if (type == 'a' && in_audio) {
      if (has_prefix(v, "rtcp:")) {
        uint64_t port;
        if (parse_uint(v.substr(5, v.find(' ') == sv::npos ? sv::npos : v.find(' ') - 5), &port,
                       5) &&
            port <= 65535)
          sdp.rtcp_port = static_cast<uint16_t>(port);
      } else if (has_prefix(v, "rtpmap:")) {
        sv r = v.substr(7);
        size_t sp = r.find(' ');
        uint64_t pt;
        if (sp != sv::npos && parse_uint(r.substr(0, sp), &pt, 3) && pt <= 127 &&
            istarts_with(r.substr(sp + 1), "telephone-event/"))
          sdp.telephone_event_pt = static_cast<int16_t>(pt);
      } else if (v.size() == 8 &&
                 (v == "sendrecv" || v == "sendonly" || v == "recvonly" || v == "inactive")) {
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

// The header line LP[0..LL) — "name: value", not starting with whitespace — in memory
// readable up to LIMIT: where its colon is and how long the name is without whitespace before
// the colon. False when there is no colon, nothing before it, or whitespace inside the name.
inline bool header_name(const char* lp, size_t ll, const char* limit, size_t* colon,
                        size_t* name_len) {
  size_t c, ws;
#if defined(__SSE2__)
  if (limit - lp >= 16) {  // most names end within 16 bytes: one load decides
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(lp));
    unsigned cm = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(':'))));
    if (ll < 16) cm &= (1u << ll) - 1;
    if (cm != 0) {
      c = static_cast<size_t>(__builtin_ctz(cm));
      const unsigned before = (1u << c) - 1;
      const unsigned wm =
          static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(' ')) |
                                                  _mm_cmpeq_epi8(v, _mm_set1_epi8('\t')))) &
          before;
      ws = wm == 0 ? c : static_cast<size_t>(__builtin_ctz(wm));
      // Whitespace only at the end of the name, all of it up to the colon.
      if (wm != (before & ~((1u << ws) - 1)) || ws == 0) return false;
      *colon = c;
      *name_len = ws;
      return true;
    }
    if (ll <= 16) return false;
  }
#endif
  const char* const q = find_any<':'>(lp, lp + ll, limit);
  if (q == lp + ll || q == lp) return false;
  c = static_cast<size_t>(q - lp);
  ws = static_cast<size_t>(find_any<' ', '\t'>(lp, q, limit) - lp);
  for (size_t t = ws; t < c; t++)
    if (!is_wsp(lp[t])) return false;
  if (ws == 0) return false;
  *colon = c;
  *name_len = ws;
  return true;
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

// The header names ringbridge reads, of two bytes or more, by a hash of their length and
// first two bytes ((len + (b0 | 0x20) + (b1 | 0x20)) & 31: no two collide): one lookup and
// one compare tell a name's kind. For read_name()'s 16-byte compare, each entry's letters
// with their case bit (0x20) set, and the same bit in CASE_BIT where the name has a letter
// (so only letters ignore case).
struct name_entry {
  alignas(16) char name[32] = {};
  alignas(16) char case_bit[32] = {};
  uint8_t len = 0;
  hdr kind = hdr::other;
};
struct name_table {
  name_entry e[32];
  static constexpr unsigned name_hash(size_t len, char b0, char b1) {
    return (static_cast<unsigned>(len) + (static_cast<unsigned char>(b0) | 0x20u) +
            (static_cast<unsigned char>(b1) | 0x20u)) & 31u;
  }
  constexpr void add(const char* n, hdr kind) {
    size_t len = 0;
    while (n[len] != 0) len++;
    name_entry& t = e[name_hash(len, n[0], n[1])];
    if (t.len != 0) throw "two header names share a slot: change name_hash()";
    for (size_t k = 0; k < len; k++) {
      t.name[k] = n[k];
      t.case_bit[k] = n[k] >= 'a' && n[k] <= 'z' ? 0x20 : 0;
    }
    t.len = static_cast<uint8_t>(len);
    t.kind = kind;
  }
  constexpr name_table() {
    add("to", hdr::to);
    add("from", hdr::from);
    add("cseq", hdr::cseq);
    add("call-id", hdr::call_id);
    add("contact", hdr::contact);
    add("privacy", hdr::privacy);
    add("content-type", hdr::content_type);
    add("content-length", hdr::content_length);
    add("remote-party-id", hdr::rpid);
    add("p-asserted-identity", hdr::pai);
  }
  /// The entry NAME (two bytes or more) would be, if it is one of them.
  const name_entry& slot(size_t len, const char* name) const {
    return e[name_hash(len, name[0], name[1])];
  }
  /// NAME is T's name (letters in any case): in 8-byte words, the last one overlapping.
  static bool is(sv name, const name_entry& t) {
    const size_t n = name.size();
    if (n != t.len) return false;
    if (n < 8) return iequals(name, sv(t.name, n));
    auto word = [&](size_t off) {
      uint64_t v, c, w;
      std::memcpy(&v, name.data() + off, 8);
      std::memcpy(&c, t.case_bit + off, 8);
      std::memcpy(&w, t.name + off, 8);
      return (v | c) == w;
    };
    for (size_t off = 0; off + 8 < n; off += 8)
      if (!word(off)) return false;
    return word(n - 8);
  }
};
constexpr name_table k_names;

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
  if (name.size() < 2) return hdr::other;
  const name_entry& t = k_names.slot(name.size(), name.data());
  return name_table::is(name, t) ? t.kind : hdr::other;
}

// A From / To / P-Asserted-Identity / Remote-Party-ID header's VALUE, M's NA: the first of
// them that parses counts. LAZY: the value waits in NA (pending) until settle(), or until the
// next header of the same name, which first settles the waiting one — so the same counts.
inline void take_party(sv value, const char* limit, bool lazy, const message& m, name_addr* na) {
  if (na->present) return;
  if (lazy) {
    if (na->pending && settle(m, na)) return;
    na->value = value;
    na->pending = true;
    return;
  }
  na->value = value;
  name_addr_of(value, limit, na);
}

// The header line LP[0..LL) (LL > 0, LP[0] not SP / HT) in memory readable up to LIMIT:
// header_name() and classify_header() at once, from one 16-byte load when the name and its
// colon lie in the line's first 16 bytes (nearly every line). False as header_name().
[[gnu::always_inline]] inline bool read_name(const char* lp, size_t ll, const char* limit,
                                             size_t* colon, size_t* name_len, hdr* kind) {
#if defined(__SSE2__)
  if (limit - lp >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(lp));
    unsigned cm = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(':'))));
    if (ll < 16) cm &= (1u << ll) - 1;
    if (cm != 0) {
      const unsigned c = static_cast<unsigned>(__builtin_ctz(cm));
      const unsigned wm =
          static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(' ')) |
                                                  _mm_cmpeq_epi8(v, _mm_set1_epi8('\t')))) &
          ((1u << c) - 1);
      unsigned n = c;
      if (wm != 0) {
        // Whitespace only at the end of the name, all of it up to the colon.
        n = static_cast<unsigned>(__builtin_ctz(wm));
        if (wm + (wm & (0u - wm)) != (1u << c)) return false;
      }
      if (n == 0) return false;
      *colon = c;
      *name_len = n;
      if (n == 1) {
        *kind = classify_header(sv(lp, 1));
        return true;
      }
      // (n < 16 here: the table's first 16 bytes of a name are all of it.)
      const name_entry& t = k_names.slot(n, lp);
      const __m128i folded =
          _mm_or_si128(v, _mm_load_si128(reinterpret_cast<const __m128i*>(t.case_bit)));
      const unsigned eq = static_cast<unsigned>(_mm_movemask_epi8(
          _mm_cmpeq_epi8(folded, _mm_load_si128(reinterpret_cast<const __m128i*>(t.name)))));
      *kind = t.len == n && (~eq & ((1u << n) - 1)) == 0 ? t.kind : hdr::other;
      return true;
    }
    if (ll <= 16) return false;
  }
#endif
  if (!header_name(lp, ll, limit, colon, name_len)) return false;
  *kind = classify_header(sv(lp, *name_len));
  return true;
}

// Applies one header of kind KIND; false when a header ringbridge relies on is malformed.
// VALUE lies in memory readable up to LIMIT.
// Inlined into the header loop (5 calls an INVITE; its arguments stay in registers).
[[gnu::always_inline]] inline bool apply_header(hdr kind, sv value, const char* limit, bool lazy,
                                                message* m, parse_status* err) {
  if (kind == hdr::other) return true;
  value = trim(value);
  switch (kind) {
    case hdr::call_id:
      if (m->call_id.empty()) m->call_id = value;  // the first one counts
      return true;
    case hdr::from:
      take_party(value, limit, lazy, *m, &m->from);
      return true;
    case hdr::to:
      take_party(value, limit, lazy, *m, &m->to);
      return true;
    case hdr::contact:
      if (m->contact.empty()) m->contact = value;
      return true;
    case hdr::pai:
      take_party(value, limit, lazy, *m, &m->pai);
      return true;
    case hdr::rpid:
      take_party(value, limit, lazy, *m, &m->rpid);
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

// Request-Line or Status-Line. Lenient where user agents are lenient, because whatever a
// phone would accept as an INVITE must be screened: the version in any case, runs of
// spaces or tabs between the parts, trailing whitespace. LINE lies in memory readable up
// to LIMIT.
bool parse_start_line(sv line, const char* limit, message* m) {
  while (!line.empty() && is_wsp(line.back())) line.remove_suffix(1);
  auto skip_wsp = [&](size_t i) {
    while (i < line.size() && is_wsp(line[i])) i++;
    return i;
  };
  auto word_end = [&](size_t i) {
    const size_t e = find_in<' ', '\t'>(line, i, limit);
    return e == sv::npos ? line.size() : e;
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
  // The version must be the last word: exactly 7 bytes up to the (trimmed) end.
  if (line.size() - v != 7 || !is_sip_version(line.data() + v)) return false;
  m->is_request = true;
  m->method_token = line.substr(0, e1);
  m->req_method = method_from_token(m->method_token);
  m->request_uri = line.substr(u, ue - u);
  return true;
}

}  // namespace

parse_status parse(const char* buf, size_t len, bool datagram, message* out, sv watch) {
  *out = message{};
  return parse_fresh(buf, len, datagram, out, watch);
}

parse_status parse_fresh(const char* buf, size_t len, bool datagram, message* out, sv watch,
                         const start_line* known, bool lazy) {
  message& m = *out;
  m.limit = buf + len;
  const sv msg(buf, len);
  const char* const end = buf + len;
  // Start line.
  line_ends lines(buf, len);
  size_t nl;
  if (known != nullptr && known->id != 0 && known->length != 0 && known->length <= len) {
    nl = known->length - 1;  // the worker's start-line check has read it already
    m.is_request = known->is_request;
    m.req_method = known->req_method;
    m.method_token = known->method_token;
    m.request_uri = known->request_uri;
    m.status = known->status;
    m.reason = known->reason;
  } else {
    nl = lines.next(0);
    if (nl == len) {
      if (!datagram && len < k_max_start_line) return parse_status::incomplete;
      return could_be_sip(buf, len) ? parse_status::bad_start_line : parse_status::not_sip;
    }
    sv line = msg.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!parse_start_line(line, end, &m)) {  // SIP, or something else?
      for (size_t i = 0; i + 4 <= line.size(); i++)
        if (iequals(line.substr(i, 4), "SIP/")) return parse_status::bad_start_line;
      return parse_status::not_sip;
    }
  }

  // Headers, with folding: a line starting with SP/HT continues the previous header, so a
  // header is applied when the next one starts. Few live values (pointers, the header kind
  // and count): the loop keeps them in registers.
  const char* p = buf + nl + 1;  // the line being read
  hdr kind = hdr::other;         // of the header not applied yet (other: nothing to apply)
  const char* vb = p;            // its value, [vb, ve) and the '\r' of its line if any
  const char* ve = p;
  auto value = [&] {
    return sv(vb, static_cast<size_t>(ve - vb) - (ve != vb && ve[-1] == '\r'));
  };
  size_t headers = 0;
  bool ended = false;
  parse_status err = parse_status::ok;
  if (p < end) lines.seek(nl + 1);
  while (p < end) {
    const size_t eol = lines.following();
    if (eol == len) break;
    // The line is [p, e): its '\r' stays on, the values applied are trimmed (a '\r' is
    // LWS) and the name's colon is never one.
    const char* const e = buf + eol;
    if (e == p || (e - p == 1 && *p == '\r')) {  // end of headers
      if (kind != hdr::other && !apply_header(kind, value(), end, lazy, &m, &err)) return err;
      p = e + 1;
      ended = true;
      break;
    }
    if (is_wsp(*p)) {
      if (headers == 0) return parse_status::bad_header;
      ve = e;  // the value goes on over the fold
    } else {
      if (kind != hdr::other && !apply_header(kind, value(), end, lazy, &m, &err)) return err;
      size_t colon, name_len;
      if (!read_name(p, static_cast<size_t>(e - p), end, &colon, &name_len, &kind))
        return parse_status::bad_header;
      // The caller's extra header: a length compare per header, most are out on it.
      if (name_len == watch.size() && name_len != 0 && iequals(sv(p, name_len), watch))
        m.watched = true;
      vb = p + colon + 1;  // (colon < the line's length: in the line)
      ve = e;
      if (++headers > k_max_headers) return parse_status::bad_header;
    }
    p = e + 1;
  }
  const size_t pos = static_cast<size_t>(p - buf);
  m.header_count = static_cast<uint16_t>(headers);
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
  if (!lazy) settle_sdp(&m);
  return parse_status::ok;
}

bool settle(const message& m, name_addr* na) {
  if (na->pending) {
    na->pending = false;
    name_addr_of(na->value, m.limit, na);
  }
  return na->present;
}

void settle_to_tag(message* m) {
  name_addr& to = m->to;
  if (!to.pending) return;
  // A tag is a header parameter: after a ';'. Without one the tag is empty however the
  // value would read, and To waits (the event carries its value as it is).
  if (!to.value.empty() && std::memchr(to.value.data(), ';', to.value.size()) != nullptr)
    settle(*m, &to);
}

void settle_sdp(message* m) {
  if (m->sdp.present || m->body.empty()) return;
  const sv sdp = sdp_part(m->content_type, m->body);
  if (!sdp.empty()) parse_sdp(sdp, &m->sdp);
}

sv sdp_body(const message& m) {
  return m.body.empty() ? sv{} : sdp_part(m.content_type, m.body);
}

}  // namespace ringbridge::dp::sip
