// SPDX-License-Identifier: BSD-3-Clause
// Call filters: rules compiled into an immutable filter_set (a Hyperscan database for
// prefix / glob / regex / name rules plus a hash of exact numbers), published to the
// workers through filter_slot (an atomic pointer; old sets freed after an RCU grace
// period, rte_rcu_qsbr). The worker decides on the INVITE itself: first match wins.
//
// Compiling and publishing happen on control-side threads; evaluate() runs in the worker
// and allocates nothing.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ringbridge/sip/sip_parser.h"

struct hs_database;
struct hs_scratch;
struct rte_rcu_qsbr;

namespace ringbridge::dp {

enum class filter_match : uint8_t { number, name, anonymous, any };
enum class filter_syntax : uint8_t { exact, prefix, glob, regex, substring };
enum class filter_action : uint8_t { none = 0, allow, block, record, norecord };
enum class block_mode : uint8_t { drop, busy, decline };

const char* filter_match_name(filter_match m);
const char* filter_syntax_name(filter_syntax s);
const char* filter_action_name(filter_action a);
const char* block_mode_name(block_mode m);
bool parse_filter_match(std::string_view s, filter_match* out);
bool parse_filter_syntax(std::string_view s, filter_syntax* out);
bool parse_filter_action(std::string_view s, filter_action* out);
bool parse_block_mode(std::string_view s, block_mode* out);

/// Where the caller's identity comes from, in order of preference.
enum class identity_source : uint8_t { pai, rpid, from };

/// How numbers are brought to one form before matching (rules' patterns too):
/// %XX escapes decoded, visual separators removed, an international prefix ("00", "011")
/// turned into "+", and, with a country code, national numbers made international
/// ("0301234567" → "+49301234567" with country_code "49", trunk_prefix "0").
struct number_format {
  std::vector<std::string> intl_prefixes = {"00"};
  std::string country_code;         ///< empty: national numbers stay as they are
  std::string trunk_prefix;         ///< stripped from national numbers before the country code
  uint8_t min_national_digits = 7;  ///< shorter numbers (extensions) are left alone
};

/// Writes the normalised form of RAW into OUT (at most CAP bytes); returns its length.
size_t normalize_number(std::string_view raw, const number_format& f, char* out, size_t cap);

/// The caller of an INVITE as the filters see it.
struct caller_id {
  char number[64];
  uint8_t number_len = 0;
  char name[96];  ///< display name, unescaped, whitespace (folding) folded
  uint8_t name_len = 0;
  bool anonymous = false;  ///< no usable number, an anonymous user, or Privacy: id
  std::string_view number_view() const { return {number, number_len}; }
  std::string_view name_view() const { return {name, name_len}; }
};

/// Picks the identity from M by ORDER and normalises it.
caller_id identify_caller(const sip::message& m, const identity_source* order, size_t n,
                          const number_format& f);

/// One rule as given (REST, config, SQLite). position orders them: lower first.
struct filter_rule {
  uint32_t id = 0;
  uint32_t position = 0;
  filter_match match = filter_match::number;
  filter_syntax syntax = filter_syntax::exact;
  std::string pattern;
  filter_action action = filter_action::block;
  block_mode mode = block_mode::drop;
};

/// Which syntaxes a match kind takes; "" when fine, else what is wrong and the fix.
std::string check_rule_shape(const filter_rule& r);

struct filter_verdict {
  filter_action action = filter_action::none;  ///< none: no rule matched
  block_mode mode = block_mode::drop;
  uint32_t rule_id = 0;
};

/// The compiled rules. Immutable once built.
class filter_set {
 public:
  struct options {
    std::vector<identity_source> identity = {identity_source::pai, identity_source::rpid,
                                             identity_source::from};
    number_format numbers;
  };

  /// Compiles RULES (any order; sorted by position here) for WORKERS workers. nullptr
  /// with *error naming the rule (and *bad_rule its id) when a pattern does not compile.
  static std::unique_ptr<filter_set> compile(std::vector<filter_rule> rules, const options& opt,
                                             unsigned workers, std::string* error,
                                             uint32_t* bad_rule = nullptr);
  ~filter_set();
  filter_set(const filter_set&) = delete;
  filter_set& operator=(const filter_set&) = delete;

  /// The first rule (by position) that matches WHO. Worker W's scratch; no allocation.
  filter_verdict evaluate(const caller_id& who, unsigned worker) const;
  /// Caller identity of an INVITE under this set's options.
  caller_id identify(const sip::message& m) const;

  size_t size() const { return _rules.size(); }
  const options& opts() const { return _opt; }

 private:
  filter_set() = default;
  struct compiled_rule {
    uint32_t id;
    filter_action action;
    block_mode mode;
  };
  /// Numbers are short: 8 bytes at a time, multiply and fold (a fifth of std::hash's
  /// instructions per probe). Keys come from the rules, never from the wire.
  struct sv_hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const {
      constexpr uint64_t k = 0x9e3779b97f4a7c15ull;
      uint64_t h = (s.size() + 1) * k;
      size_t i = 0;
      for (; i + 8 <= s.size(); i += 8) {
        uint64_t w;
        std::memcpy(&w, s.data() + i, 8);
        h = (h ^ w) * k;
        h ^= h >> 29;
      }
      if (i < s.size()) {
        uint64_t w = 0;
        std::memcpy(&w, s.data() + i, s.size() - i);
        h = (h ^ w) * k;
        h ^= h >> 29;
      }
      return static_cast<size_t>(h);
    }
  };
  options _opt;
  std::vector<compiled_rule> _rules;  ///< index = priority (0 first)
  std::unordered_map<std::string, uint32_t, sv_hash, std::equal_to<>> _exact;  ///< number → index
  std::unordered_map<std::string, uint32_t, sv_hash, std::equal_to<>> _prefix;  ///< prefix → index
  std::vector<uint8_t> _prefix_lengths;  ///< the prefixes' distinct lengths, shortest first
  hs_database* _number_db = nullptr;     ///< glob / regex on the number; ids = index
  uint32_t _first_scan = UINT32_MAX;     ///< lowest index of a rule in a Hyperscan database
  hs_database* _name_db = nullptr;       ///< substring / regex on the name
  std::vector<hs_scratch*> _scratch;     ///< one per worker
  uint32_t _anonymous = UINT32_MAX;      ///< first anonymous rule's index
  uint32_t _any = UINT32_MAX;            ///< first "any" rule's index
};

/// The current filter set as the workers see it. Publishing swaps a pointer; the old set is
/// freed once every worker has passed a quiescent state (rte_rcu_qsbr) — workers never
/// wait, and forwarding never pauses.
class filter_slot {
 public:
  /// WORKERS threads report quiescent states (thread id = worker index).
  explicit filter_slot(unsigned workers);
  ~filter_slot();
  filter_slot(const filter_slot&) = delete;
  filter_slot& operator=(const filter_slot&) = delete;

  /// Worker side: the set to use now (may be nullptr: no rules).
  const filter_set* current() const { return _cur.load(std::memory_order_acquire); }
  /// Worker side, once per loop iteration: "I hold no reference to an older set".
  void quiescent(unsigned worker) const;
  /// Worker side: online/offline around the worker loop.
  void online(unsigned worker) const;
  void offline(unsigned worker) const;

  /// Control side (any thread): makes SET current; the previous one is retired.
  void publish(std::unique_ptr<filter_set> set);
  /// Control side: frees retired sets whose grace period has passed. Returns how many
  /// are still waiting.
  size_t reclaim();
  uint64_t generation() const { return _generation.load(std::memory_order_relaxed); }

 private:
  std::atomic<const filter_set*> _cur{nullptr};
  rte_rcu_qsbr* _qsbr = nullptr;
  std::mutex _mu;
  struct retired {
    std::unique_ptr<filter_set> set;
    uint64_t token;
  };
  std::vector<retired> _retired;
  std::unique_ptr<filter_set> _owned;  ///< what _cur points at
  std::atomic<uint64_t> _generation{0};
};

}  // namespace ringbridge::dp
