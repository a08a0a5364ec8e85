// SPDX-License-Identifier: BSD-3-Clause
// Filter rules: compilation into Hyperscan and an exact-number hash, evaluation in the
// worker, and RCU-protected publication. (Who the caller is: plugins/sip identity.)
#include "ringbridge/filters/filter.h"

#include "ringbridge/common/enum_names.h"

#include <hs/hs.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>

namespace ringbridge::dp {

// ---- names --------------------------------------------------------------------------------

namespace {
const char* const k_match[] = {"number", "name", "anonymous", "any"};
const char* const k_syntax[] = {"exact", "prefix", "glob", "regex", "substring"};
}  // namespace

const char* filter_match_name(filter_match m) {
  return k_match[static_cast<int>(m)];
}
const char* filter_syntax_name(filter_syntax s) {
  return k_syntax[static_cast<int>(s)];
}
bool parse_filter_match(std::string_view s, filter_match* o) {
  return parse_enum_name(s, k_match, o);
}
bool parse_filter_syntax(std::string_view s, filter_syntax* o) {
  return parse_enum_name(s, k_syntax, o);
}

std::string check_rule_shape(const filter_rule& r) {
  switch (r.match) {
    case filter_match::number:
      if (r.syntax == filter_syntax::substring)
        return "a number rule takes syntax exact, prefix, glob or regex";
      if (r.pattern.empty()) return "a number rule needs a pattern";
      return "";
    case filter_match::name:
      if (r.syntax != filter_syntax::substring && r.syntax != filter_syntax::regex)
        return "a name rule takes syntax substring or regex";
      if (r.pattern.empty()) return "a name rule needs a pattern";
      return "";
    case filter_match::anonymous:
    case filter_match::any: return "";
  }
  return "unknown match";
}

// ---- compilation --------------------------------------------------------------------------

namespace {
std::string regex_escape(std::string_view s) {
  std::string o;
  for (char c : s) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '@' || c == ' ')
      o += c;
    else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", static_cast<unsigned char>(c));
      o += buf;
    }
  }
  return o;
}

std::string glob_to_regex(std::string_view g) {
  std::string o = "^";
  for (char c : g) {
    if (c == '*')
      o += ".*";
    else if (c == '?')
      o += ".";
    else
      o += regex_escape(std::string_view(&c, 1));
  }
  return o + "$";
}

struct pattern_set {
  std::vector<std::string> exprs;
  std::vector<unsigned> flags;
  std::vector<unsigned> ids;
};

bool compile_db(const pattern_set& ps, const std::vector<uint32_t>& rule_ids, hs_database** db,
                std::string* error, uint32_t* bad_rule) {
  if (ps.exprs.empty()) return true;
  std::vector<const char*> ptrs;
  for (const auto& e : ps.exprs) ptrs.push_back(e.c_str());
  hs_compile_error_t* err = nullptr;
  if (hs_compile_multi(ptrs.data(), ps.flags.data(), ps.ids.data(),
                       static_cast<unsigned>(ps.exprs.size()), HS_MODE_BLOCK, nullptr, db,
                       &err) != HS_SUCCESS) {
    const int at = err ? err->expression : -1;
    const std::string msg = err ? err->message : "unknown error";
    hs_free_compile_error(err);
    if (at >= 0 && static_cast<size_t>(at) < ps.ids.size()) {
      const uint32_t id = rule_ids[ps.ids[static_cast<size_t>(at)]];
      if (bad_rule) *bad_rule = id;
      *error = "rule " + std::to_string(id) + ": pattern does not compile: " + msg;
    } else {
      *error = "the filter rules do not compile: " + msg;
    }
    return false;
  }
  return true;
}

struct min_ctx {
  unsigned best;
};
int on_match(unsigned id, unsigned long long, unsigned long long, unsigned, void* ctx) {
  auto* c = static_cast<min_ctx*>(ctx);
  if (id < c->best) c->best = id;
  return 0;
}
}  // namespace

std::unique_ptr<filter_set> filter_set::compile(std::vector<filter_rule> rules, const options& opt,
                                                unsigned workers, std::string* error,
                                                uint32_t* bad_rule) {
  std::stable_sort(rules.begin(), rules.end(), [](const filter_rule& a, const filter_rule& b) {
    return a.position != b.position ? a.position < b.position : a.id < b.id;
  });
  std::unique_ptr<filter_set> fs(new filter_set());
  fs->_opt = opt;
  pattern_set numbers, names;
  std::vector<uint32_t> ids;
  char norm[64];
  for (uint32_t i = 0; i < rules.size(); i++) {
    const filter_rule& r = rules[i];
    ids.push_back(r.id);
    fs->_rules.push_back({r.id, r.action, r.mode});
    if (std::string why = check_rule_shape(r); !why.empty()) {
      if (bad_rule) *bad_rule = r.id;
      *error = "rule " + std::to_string(r.id) + ": " + why;
      return nullptr;
    }
    switch (r.match) {
      case filter_match::anonymous: fs->_anonymous = std::min(fs->_anonymous, i); break;
      case filter_match::any: fs->_any = std::min(fs->_any, i); break;
      case filter_match::number: {
        const size_t n = normalize_number(r.pattern, opt.numbers, norm, sizeof(norm));
        const std::string_view nv(norm, n);
        if (r.syntax == filter_syntax::exact) {
          fs->_exact.emplace(std::string(nv), i);  // the first (highest) rule keeps it
          break;
        }
        // Prefixes are hash probes too, one per distinct length. (One that normalises to
        // nothing matches every number, as "^" did in Hyperscan.)
        if (r.syntax == filter_syntax::prefix) {
          fs->_prefix.emplace(std::string(nv), i);
          if (std::find(fs->_prefix_lengths.begin(), fs->_prefix_lengths.end(), n) ==
              fs->_prefix_lengths.end())
            fs->_prefix_lengths.push_back(static_cast<uint8_t>(n));
          break;
        }
        fs->_first_scan = std::min(fs->_first_scan, i);
        numbers.ids.push_back(i);
        numbers.flags.push_back(HS_FLAG_SINGLEMATCH | HS_FLAG_DOTALL);
        if (r.syntax == filter_syntax::prefix)
          numbers.exprs.push_back("^" + regex_escape(nv));
        else if (r.syntax == filter_syntax::glob)
          numbers.exprs.push_back(glob_to_regex(nv));
        else
          numbers.exprs.push_back(r.pattern);
        if (r.syntax == filter_syntax::regex) numbers.flags.back() |= HS_FLAG_ALLOWEMPTY;
        break;
      }
      case filter_match::name:
        fs->_first_scan = std::min(fs->_first_scan, i);
        names.ids.push_back(i);
        names.flags.push_back(HS_FLAG_SINGLEMATCH | HS_FLAG_DOTALL | HS_FLAG_CASELESS |
                              (r.syntax == filter_syntax::regex ? HS_FLAG_ALLOWEMPTY : 0));
        names.exprs.push_back(r.syntax == filter_syntax::substring ? regex_escape(r.pattern)
                                                                   : r.pattern);
        break;
    }
  }
  std::sort(fs->_prefix_lengths.begin(), fs->_prefix_lengths.end());
  if (!compile_db(numbers, ids, &fs->_number_db, error, bad_rule) ||
      !compile_db(names, ids, &fs->_name_db, error, bad_rule))
    return nullptr;
  for (unsigned w = 0; w < workers; w++) {
    hs_scratch* s = nullptr;
    if ((fs->_number_db && hs_alloc_scratch(fs->_number_db, &s) != HS_SUCCESS) ||
        (fs->_name_db && hs_alloc_scratch(fs->_name_db, &s) != HS_SUCCESS)) {
      *error = "Hyperscan could not allocate scratch space for the filter rules";
      if (s) hs_free_scratch(s);
      return nullptr;
    }
    fs->_scratch.push_back(s);
  }
  return fs;
}

filter_set::~filter_set() {
  for (hs_scratch* s : _scratch)
    if (s) hs_free_scratch(s);
  hs_free_database(_number_db);
  hs_free_database(_name_db);
}

filter_verdict filter_set::evaluate(const caller_id& who, unsigned worker) const {
  // The lowest rule index that matches. Hash probes first; Hyperscan only when one of its
  // rules comes before everything found so far.
  min_ctx best{std::min(who.anonymous ? _anonymous : UINT32_MAX, _any)};
  const std::string_view num = who.number_view();
  if (!num.empty()) {
    if (!_exact.empty()) {
      auto it = _exact.find(num);
      if (it != _exact.end()) best.best = std::min(best.best, it->second);
    }
    for (const uint8_t len : _prefix_lengths) {
      if (len > num.size()) break;
      auto it = _prefix.find(num.substr(0, len));
      if (it != _prefix.end()) best.best = std::min(best.best, it->second);
    }
  }
  if (_first_scan < best.best) {
    if (_number_db != nullptr && !num.empty())
      hs_scan(_number_db, num.data(), static_cast<unsigned>(num.size()), 0, _scratch[worker],
              on_match, &best);
    if (_name_db != nullptr && who.name_len != 0)
      hs_scan(_name_db, who.name, who.name_len, 0, _scratch[worker], on_match, &best);
  }
  filter_verdict v;
  if (best.best == UINT32_MAX) return v;
  const compiled_rule& r = _rules[best.best];
  v.action = r.action;
  v.mode = r.mode;
  v.rule_id = r.id;
  return v;
}

// ---- publication --------------------------------------------------------------------------

filter_slot::filter_slot(const qsbr_domain& rcu) : _rcu(rcu) {}

filter_slot::~filter_slot() {
  _cur.store(nullptr);
  _retired.clear();
  _owned.reset();
}

void filter_slot::publish(std::unique_ptr<filter_set> set) {
  std::lock_guard<std::mutex> g(_mu);
  std::unique_ptr<filter_set> old = std::move(_owned);
  _owned = std::move(set);
  _cur.store(_owned.get(), std::memory_order_release);
  if (old) _retired.push_back({std::move(old), _rcu.start()});
  _generation.fetch_add(1, std::memory_order_relaxed);
}

size_t filter_slot::reclaim() {
  std::lock_guard<std::mutex> g(_mu);
  _retired.erase(std::remove_if(_retired.begin(), _retired.end(),
                                [this](const retired& r) { return _rcu.check(r.token); }),
                 _retired.end());
  return _retired.size();
}

}  // namespace ringbridge::dp
