// SPDX-License-Identifier: BSD-3-Clause
// The filters feature's table: the stored call filter rules (SQL and schema steps).
//
// Owns: the `filters` table and every statement on it. May touch only that table,
// through a core connection (ctl/store.h: its statement cache, transactions and error
// accounting). filter_manager is its one user; the rules reach the workers only through it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ringbridge/ctl/store.h"
#include "ringbridge/filters/filter.h"

namespace ringbridge::ctl {

/// A filter rule as stored: where it came from ("api", "import", "config", "call").
struct stored_filter {
  dp::filter_rule rule;
  std::string source;
  double created_at = 0;
};

/// The filter rules over one connection. A view: it holds the store, not the connection,
/// so it has the store's thread rule. Text read back is valid UTF-8.
class filter_store {
 public:
  explicit filter_store(store& db) : _db(db) {}

  /// The table's schema steps (version 1), for ctl::database_spec.
  static const schema_part& schema();

  store& db() { return _db; }

  /// Filter rules, by position then id.
  std::vector<stored_filter> filters();
  std::optional<stored_filter> filter(int64_t id);
  /// Patterns of the exact number rules with this SOURCE and ACTION.
  std::vector<std::string> filter_exact_numbers(const std::string& source, dp::filter_action a);
  /// Returns the new rule's id (0 on failure, logged).
  int64_t filter_insert(const dp::filter_rule& r, const std::string& source);
  /// Updates rule r.id; false when there is no such rule.
  bool filter_update(const dp::filter_rule& r);
  bool filter_delete(int64_t id);
  void filters_delete_source(const std::string& source);
  uint32_t filter_max_position();

 private:
  store& _db;
};

}  // namespace ringbridge::ctl
