// SPDX-License-Identifier: BSD-3-Clause
// Call filters: rules compiled into an immutable filter_set (a Hyperscan database for
// prefix / glob / regex / name rules plus a hash of exact numbers), published to the
// workers through filter_slot (an atomic pointer; old sets freed after an RCU grace
// period, rte_rcu_qsbr). The worker decides on the INVITE itself: first match wins.
//
// Compiling and publishing happen on control-side threads; evaluate() runs in the worker
// and allocates nothing.
//
// Owned by the filters feature. Uses the sip feature's caller identity (rules match it)
// and verdict vocabulary, and the dataplane core's RCU; nothing in sip or the cores uses it.
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

#include "ringbridge/dp/rcu.h"
#include "ringbridge/sip/call_verdict.h"
#include "ringbridge/sip/identity.h"

struct hs_database;
struct hs_scratch;

namespace ringbridge::dp {

enum class filter_match : uint8_t { number, name, anonymous, any };
enum class filter_syntax : uint8_t { exact, prefix, glob, regex, substring };
// filter_action and block_mode: the vocabulary of a call event's verdict, owned by the sip
// feature (ringbridge/sip/call_verdict.h), so that the call log reads it without filters.

const char* filter_match_name(filter_match m);
const char* filter_syntax_name(filter_syntax s);
bool parse_filter_match(std::string_view s, filter_match* out);
bool parse_filter_syntax(std::string_view s, filter_syntax* out);

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
    number_format numbers;  ///< how rule patterns are normalised: as the sip identity's numbers
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
/// freed once every worker has passed a quiescent state of the bridge's qsbr_domain —
/// workers never wait, and forwarding never pauses.
class filter_slot {
 public:
  explicit filter_slot(const qsbr_domain& rcu);
  ~filter_slot();
  filter_slot(const filter_slot&) = delete;
  filter_slot& operator=(const filter_slot&) = delete;

  /// Worker side: the set to use now (may be nullptr: no rules).
  const filter_set* current() const { return _cur.load(std::memory_order_acquire); }

  /// Control side (any thread): makes SET current; the previous one is retired.
  void publish(std::unique_ptr<filter_set> set);
  /// Control side: frees retired sets whose grace period has passed. Returns how many
  /// are still waiting.
  size_t reclaim();
  uint64_t generation() const { return _generation.load(std::memory_order_relaxed); }

 private:
  std::atomic<const filter_set*> _cur{nullptr};
  const qsbr_domain& _rcu;
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
