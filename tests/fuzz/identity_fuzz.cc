// SPDX-License-Identifier: BSD-3-Clause
// Fuzz target for the caller's identity as the filters see it: number normalisation
// (dp::normalize_number) under assorted [filters] number settings, identify_caller() on
// parsed messages (display names cleaned, numbers normalised) and a compiled rule set's
// verdict on the result. No crash, every length within its bound, the cleaned forms hold
// what the filter code promises.
//
// Input: [number format byte][identity order / cap byte][text: a number and a SIP message].
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "ringbridge/common/utf8.h"
#include "ringbridge/filters/filter.h"
#include "ringbridge/sip/sip_parser.h"

namespace {

namespace dp = ringbridge::dp;
namespace sip = ringbridge::dp::sip;

[[noreturn]] void fail(const char* what, std::string_view v) {
  std::fprintf(stderr, "identity_fuzz: %s: '%.*s'\n", what, static_cast<int>(v.size()), v.data());
  __builtin_trap();
}

dp::number_format format_from(uint8_t b) {
  static const std::vector<std::string> k_intl[] = {{"00"}, {"00", "011"}, {}, {"0", "+", ""}};
  static const char* const k_country[] = {"", "49", "1", "358"};
  static const char* const k_trunk[] = {"", "0", "1", "00"};
  static const uint8_t k_min[] = {7, 0, 3, 20};
  dp::number_format f;
  f.intl_prefixes = k_intl[b & 3];
  f.country_code = k_country[(b >> 2) & 3];
  f.trunk_prefix = k_trunk[(b >> 4) & 3];
  f.min_national_digits = k_min[(b >> 6) & 3];
  return f;
}

// What normalize_number() leaves out: control characters and visual separators. The
// configured country code and prefixes are the only text it adds.
void check_number(std::string_view n) {
  for (char c : n)
    if (static_cast<unsigned char>(c) < 0x20 || c == ' ' || c == '-' || c == '.' || c == '(' ||
        c == ')' || c == '/')
      fail("a separator or control character left in a normalised number", n);
}

// clean_name() as its contract reads, written as plainly as possible (the oracle it must
// agree with): a backslash takes the next byte as it is, quotes go, whitespace runs (escaped
// or not) become one space between words, control characters go; then the first CAP
// bytes, cut back to whole UTF-8 characters when CAP was reached, without trailing spaces.
size_t ref_clean_name(std::string_view raw, char* out, size_t cap) {
  std::string full;
  bool space = false;
  for (size_t i = 0; i < raw.size(); i++) {
    char c = raw[i];
    if (c == '\\' && i + 1 < raw.size())
      c = raw[++i];
    else if (c == '"')
      continue;
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      space = !full.empty();
      continue;
    }
    if (static_cast<unsigned char>(c) < 0x20) continue;
    if (space) full += ' ';
    space = false;
    full += c;
  }
  size_t n = full.size() < cap ? full.size() : cap;
  if (n == cap) n = ringbridge::utf8_whole(std::string_view(full.data(), n));
  while (n != 0 && full[n - 1] == ' ') n--;
  if (n != 0) std::memcpy(out, full.data(), n);
  return n;
}

// A cleaned display name: no control characters, whitespace runs folded to one space,
// none in front; none at the end either, unless the name was cut to its field there.
void check_name(std::string_view n) {
  for (size_t i = 0; i < n.size(); i++) {
    const auto c = static_cast<unsigned char>(n[i]);
    if (c < 0x20) fail("a control character in a cleaned name", n);
    if (c == ' ' && (i == 0 || (i + 1 < n.size() && n[i + 1] == ' ') ||
                     (i + 1 == n.size() && n.size() < sizeof(dp::caller_id::name))))
      fail("a space in front, doubled or at the end of a cleaned name", n);
  }
}

// A rule set as a user would write one (dp::filter_set under default identity options).
const dp::filter_set& rules() {
  static std::unique_ptr<dp::filter_set> fs = [] {
    auto rule = [](uint32_t id, dp::filter_match m, dp::filter_syntax s, const char* p,
                   dp::filter_action a) {
      dp::filter_rule r;
      r.id = id;
      r.position = id * 10;
      r.match = m;
      r.syntax = s;
      r.pattern = p;
      r.action = a;
      return r;
    };
    using fm = dp::filter_match;
    using fs_ = dp::filter_syntax;
    using fa = dp::filter_action;
    std::vector<dp::filter_rule> v = {
        rule(1, fm::number, fs_::exact, "+49 30 1234567", fa::block),
        rule(2, fm::number, fs_::prefix, "0900", fa::block),
        rule(3, fm::number, fs_::glob, "+4477*", fa::allow),
        rule(4, fm::number, fs_::regex, "^\\+33[0-9]{9}$", fa::record),
        rule(5, fm::name, fs_::substring, "spam", fa::block),
        rule(6, fm::name, fs_::regex, "^(?:unknown|private)", fa::norecord),
        rule(7, fm::anonymous, fs_::exact, "", fa::block),
    };
    dp::filter_set::options opt;
    opt.numbers = format_from(0x05);  // "00", country 49, trunk 0, 7 digits
    std::string err;
    auto set = dp::filter_set::compile(v, opt, 1, &err);
    if (!set) {
      std::fprintf(stderr, "identity_fuzz: rules do not compile: %s\n", err.c_str());
      std::abort();
    }
    return set;
  }();
  return *fs;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const dp::number_format f = format_from(data[0]);
  static const dp::identity_source k_orders[][3] = {
      {dp::identity_source::pai, dp::identity_source::rpid, dp::identity_source::from},
      {dp::identity_source::from, dp::identity_source::pai, dp::identity_source::rpid},
      {dp::identity_source::rpid, dp::identity_source::from, dp::identity_source::pai},
      {dp::identity_source::from, dp::identity_source::from, dp::identity_source::from},
  };
  const dp::identity_source* order = k_orders[data[1] & 3];
  const size_t order_len = 1 + (data[1] >> 2) % 3;
  const size_t cap = (data[1] >> 4) * 5;          // 0..75 bytes of output room
  std::vector<char> text(data + 2, data + size);  // exact size: reads past it are caught
  const std::string_view t(text.data(), text.size());

  // The whole text as a number (a rule pattern, a user part, a REST path segment).
  std::vector<char> out(cap);
  const size_t n = dp::normalize_number(t, f, out.data(), cap);
  if (n > cap) fail("normalize_number wrote past its buffer", t);
  check_number({out.data(), n});
  // The same text inside a longer buffer (the worker's: the message goes on after a value),
  // read 16 bytes at a time: the same number, whatever follows. The bytes after it are the
  // ones the fast paths must not take for the text's own (separators, quotes, spaces).
  std::vector<char> padded(text);
  for (size_t i = 0; i < 16; i++) padded.push_back("% \"-\\ ."[i % 7]);
  const std::string_view pt(padded.data(), text.size());
  const char* const readable = padded.data() + padded.size();
  {
    std::vector<char> o2(cap);
    const size_t n2 = dp::normalize_number(pt, f, o2.data(), cap, readable);
    if (n2 != n || (n != 0 && std::memcmp(out.data(), o2.data(), n) != 0))
      fail("normalize_number reads a value inside a message differently", t);
  }

  // The whole text as a display name: the same as the reference, into every size of field.
  for (size_t c : {cap, size_t{96}, size_t{1}}) {
    std::vector<char> a(c), b(c);
    const size_t na = dp::clean_name(t, a.data(), c), nb = ref_clean_name(t, b.data(), c);
    if (na != nb || (na != 0 && std::memcmp(a.data(), b.data(), na) != 0))
      fail("clean_name differs from the reference", t);
    const size_t nc = dp::clean_name(pt, a.data(), c, readable);
    if (nc != nb || (nc != 0 && std::memcmp(a.data(), b.data(), nc) != 0))
      fail("clean_name reads a name inside a message differently", t);
  }

  // The text as a SIP message: who is calling?
  sip::message m;
  if (sip::parse(text.data(), text.size(), true, &m) != sip::parse_status::ok) return 0;
  const dp::caller_id who = dp::identify_caller(m, order, order_len, f);
  // The worker's lazy parse reads only what the identity needs: the same identity.
  {
    sip::message l;
    if (sip::parse_fresh(text.data(), text.size(), true, &l, {}, nullptr, true) !=
        sip::parse_status::ok)
      fail("the lazy parse refuses what the eager one took", t);
    const dp::caller_id lw = dp::identify_caller(l, order, order_len, f);
    if (lw.number_view() != who.number_view() || lw.name_view() != who.name_view() ||
        lw.anonymous != who.anonymous)
      fail("the identity from a lazily parsed message differs", t);
  }
  if (who.number_len > sizeof(who.number) || who.name_len > sizeof(who.name))
    fail("identity longer than its fields", t);
  check_name(who.name_view());
  if (who.number_len == 0 && !who.anonymous) fail("no number, yet not anonymous", t);

  // And the rules' verdict on it, as the worker asks for it.
  const dp::filter_set& fs = rules();
  static const dp::identity_source k_default[] = {
      dp::identity_source::pai, dp::identity_source::rpid, dp::identity_source::from};
  const dp::caller_id w = dp::identify_caller(m, k_default, 3, fs.opts().numbers);
  check_name(w.name_view());
  const dp::filter_verdict v = fs.evaluate(w, 0);
  if ((v.action == dp::filter_action::none) != (v.rule_id == 0) || v.rule_id > 7)
    fail("a verdict from no rule, or from a rule that does not exist", t);
  if (w.anonymous && (v.rule_id == 0 || v.rule_id > 7))
    fail("an anonymous caller the anonymous rule did not match", t);
  return 0;
}
