// SPDX-License-Identifier: BSD-3-Clause
// Call filter rules on the control side: stored in SQLite, edited over REST (and from the
// config file and the call log), compiled into a dp::filter_set and published to the
// workers. One mutex serialises every change; workers never wait for it.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ringbridge/ctl/store.h"
#include "ringbridge/filters/filter.h"

namespace ringbridge::ctl {

struct filters_settings {
  dp::filter_set::options options;
  dp::block_mode default_mode = dp::block_mode::drop;
  std::vector<dp::filter_rule> config_rules;  ///< [filters] rules, replaced at each start
};

/// Parses a rule as the REST API and the config file give it (defaults filled in); false
/// with *error naming the field and the allowed values.
bool parse_rule_json(const nlohmann::json& j, dp::block_mode default_mode, dp::filter_rule* r,
                     std::string* error);

/// A REST answer: HTTP status and JSON body.
struct api_result {
  int status = 200;
  nlohmann::json body;
};

class filter_manager {
 public:
  filter_manager(std::string db_path, dp::filter_slot* slot, unsigned workers,
                 filters_settings settings);

  /// Stores the config file's rules (replacing the previous start's) and publishes all.
  bool start(std::string* error);

  api_result list();
  api_result get(int64_t id);
  api_result create(const nlohmann::json& body, const std::string& source = "api");
  api_result update(int64_t id, const nlohmann::json& body);
  api_result remove(int64_t id);
  /// Bulk: CSV ("number[,name]" per line, a header line allowed) or one number per line.
  /// Every number becomes an exact number rule with ACTION (block) and MODE. Idempotent:
  /// numbers already imported with ACTION are counted as unchanged, not added again.
  /// Written in chunks of a few thousand rows per transaction, so the write lock is never
  /// held for long (the control thread's call log writes get in between).
  api_result import(const std::string& text, const std::string& action, const std::string& mode);
  /// "Block this caller": an exact number rule for CALL's number.
  api_result block_call(const call_record& call);

  static nlohmann::json rule_json(const stored_filter& f);

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

  std::string _db_path;
  dp::filter_slot* _slot;
  unsigned _workers;
  filters_settings _s;
  mutable std::mutex _mu;
  std::unique_ptr<store> _db;
  std::atomic<uint64_t> _rules{0}, _reloads{0}, _failures{0};
  std::atomic<double> _last_ms{0};
};

}  // namespace ringbridge::ctl
