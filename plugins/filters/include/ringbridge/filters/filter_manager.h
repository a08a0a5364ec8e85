// SPDX-License-Identifier: BSD-3-Clause
// Call filter rules on the control side: stored in SQLite, edited through the REST edge
// (filters_http.h), the config file and the call log, compiled into a dp::filter_set and
// published to the workers. One mutex serialises every change; workers never wait for it.
//
// Owns: the rules' storage, validation, compilation and publication. Answers in domain
// terms (filter_result); touches no HTTP or JSON.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ringbridge/ctl/store.h"
#include "ringbridge/filters/filter.h"
#include "ringbridge/filters/filter_store.h"
#include "ringbridge/sip/calls.h"

namespace ringbridge::ctl {

struct filters_settings {
  dp::filter_set::options options;
  dp::block_mode default_mode = dp::block_mode::drop;
  std::vector<dp::filter_rule> config_rules;  ///< [filters] rules, replaced at each start
};

/// What a filter_manager operation came to. The HTTP edge (filters_http.cc) maps it to a
/// status code; the manager itself knows nothing of HTTP or JSON.
enum class filter_outcome : uint8_t {
  ok,           ///< done; the value holds the result
  created,      ///< a new rule was stored and published
  deleted,      ///< the rule is gone
  not_found,    ///< no rule with that id
  invalid,      ///< the input or the resulting rule set was refused; message says why
  unavailable,  ///< the database failed part-way (import); retrying may finish the work
  failed,       ///< the database refused a write it should have taken
};

/// An outcome, a message for the failing ones (names the field or the cause), and the
/// typed result for the successful ones.
template <typename T>
struct filter_result {
  filter_outcome outcome = filter_outcome::ok;
  std::string message;
  T value{};
};

/// What a bulk import did. On `unavailable`, rules and reload_ms are not meaningful.
struct import_summary {
  size_t imported = 0, unchanged = 0, skipped = 0;
  uint64_t rules = 0;  ///< rules in the published set afterwards
  double reload_ms = 0;
};

class filter_manager {
 public:
  /// DATABASE: what its own connection opens (start()).
  filter_manager(database_spec database, dp::filter_slot* slot, unsigned workers,
                 filters_settings settings);

  /// Stores the config file's rules (replacing the previous start's) and publishes all.
  bool start(std::string* error);

  /// Any thread (one mutex serialises these). Every rule, in order.
  std::vector<stored_filter> list();
  filter_result<stored_filter> get(int64_t id);
  /// Stores R and publishes the new set. R.position is used when HAS_POSITION, else the
  /// rule goes after the last one. created, invalid (validation or compilation) or failed.
  filter_result<stored_filter> create(dp::filter_rule r, bool has_position,
                                      const std::string& source = "api");
  /// Replaces rule ID with R (keeping its position unless HAS_POSITION).
  filter_result<stored_filter> update(int64_t id, dp::filter_rule r, bool has_position);
  /// deleted or not_found.
  filter_outcome remove(int64_t id);
  /// Bulk: CSV ("number[,name]" per line, a header line allowed) or one number per line.
  /// Every number becomes an exact number rule with ACTION (block) and MODE. Idempotent:
  /// numbers already imported with ACTION are counted as unchanged, not added again.
  /// Written in chunks of a few thousand rows per transaction, so the write lock is never
  /// held for long (the control thread's call log writes get in between).
  /// ACTION and MODE empty mean block and the default mode. invalid (bad action or mode,
  /// no numbers) or unavailable (the database failed part-way: value says how far it got).
  filter_result<import_summary> import(const std::string& text, const std::string& action,
                                       const std::string& mode);
  /// "Block this caller": an exact number rule for CALL's number, placed first.
  filter_result<stored_filter> block_call(const call_record& call);

  /// The block mode of a rule that names none ([filters] default_block_mode).
  dp::block_mode default_mode() const { return _s.default_mode; }

  /// Counts this manager's SQLite failures in STATS (after start()).
  void set_storage_stats(storage_stats* stats);

  struct stats {
    uint64_t rules = 0, reloads = 0, reload_failures = 0;
    double last_reload_ms = 0;
  };
  stats get_stats() const;

 private:
  bool reload_locked(std::string* error, uint32_t* bad_rule);
  std::string validate(const dp::filter_rule& r) const;

  database_spec _database;
  dp::filter_slot* _slot;
  unsigned _workers;
  filters_settings _s;
  mutable std::mutex _mu;
  std::unique_ptr<store> _db;            // its own connection
  std::unique_ptr<filter_store> _table;  // the rules, over _db
  std::atomic<uint64_t> _rules{0}, _reloads{0}, _failures{0};
  std::atomic<double> _last_ms{0};
};

}  // namespace ringbridge::ctl
