// SPDX-License-Identifier: BSD-3-Clause
// The sip feature's tables: the call log and the phonebook (SQL, schema steps, retention).
//
// Owns: the `calls`, `phonebook` and `row_counts` tables, their indexes and triggers, and
// every statement on them. May touch only those tables, through a core connection
// (ctl/store.h: its statement cache, transactions and error accounting).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ringbridge/ctl/store.h"
#include "ringbridge/sip/calls.h"

namespace ringbridge::ctl {

/// Retention: how much the call log and the automatic phonebook may hold ([storage]).
struct storage_limits {
  uint64_t max_calls = 100000;          ///< rows kept in the call log (newest); 0 = no cap
  uint32_t max_call_age_days = 365;     ///< calls older than this are deleted; 0 = keep
  uint64_t phonebook_auto_max = 10000;  ///< automatic phonebook rows; 0 = no cap
};

struct phonebook_entry {
  std::string number;
  std::string name;
  std::string source;  ///< "user" (set over the API: wins) or "auto" (from caller-ID)
  double updated_at = 0;
};

/// The call log and the phonebook over one connection. A view: it holds the store, not
/// the connection, and is as cheap to make as a reference, so it has the store's thread
/// rule (the thread that owns the connection). Text read back is valid UTF-8.
class call_store {
 public:
  explicit call_store(store& db) : _db(db) {}

  /// The tables' schema steps (versions 1-3), for ctl::database_spec.
  static const schema_part& schema();

  store& db() { return _db; }

  /// Inserts a new call with the next free row id; returns the id (0 on failure).
  int64_t insert_call(const call_record& c);
  /// Writes call C as row C.id: inserts it, or updates every field of the existing row.
  bool write_call(const call_record& c);
  /// The largest call row id ever given (deleted rows included); 0 for a new log.
  int64_t last_call_id();
  /// Closes calls with row id <= UP_TO that are still ringing or answered: state
  /// interrupted, with REASON. Returns how many (-1 on failure).
  int64_t close_interrupted(int64_t up_to, const std::string& reason);

  /// Newest first. NUMBER (optional) matches the caller or the callee, normalised.
  std::vector<call_record> calls(int limit, const std::string& number);
  std::optional<call_record> call(int64_t id);
  /// Rows in the call log (kept by triggers: O(1)).
  uint64_t call_count();

  /// Retention, each O(LIMIT) (an index walked from its oldest end, never a scan):
  /// deletes up to LIMIT of the oldest calls beyond KEEP; those of the oldest LIMIT calls
  /// that started before CUTOFF; up to
  /// LIMIT of the least recently updated automatic phonebook rows beyond KEEP. Return how
  /// many rows went (-1 on failure).
  int64_t prune_calls_over(uint64_t keep, int limit);
  int64_t prune_calls_before(double cutoff, int limit);
  int64_t prune_phonebook_auto(uint64_t keep, int limit);
  /// When the oldest call (lowest row id) started; 0 when the log is empty.
  double oldest_call_start();
  /// Automatic phonebook rows (kept by triggers: O(1)).
  uint64_t phonebook_auto_count();

  std::optional<phonebook_entry> phonebook_get(const std::string& number);
  std::vector<phonebook_entry> phonebook_list();
  /// source "user" always writes; "auto" never overwrites a "user" entry. WHEN (Unix
  /// seconds) defaults to now.
  bool phonebook_set(const std::string& number, const std::string& name, const std::string& source,
                     double when = 0);
  bool phonebook_delete(const std::string& number);

 private:
  int64_t delete_rows(const char* sql, storage_op op,
                      const std::function<void(sqlite3_stmt*)>& bind);

  store& _db;
};

}  // namespace ringbridge::ctl
