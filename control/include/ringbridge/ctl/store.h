// SPDX-License-Identifier: BSD-3-Clause
// The call log and phonebook in SQLite (WAL) in the state directory. Prepared statements
// only. One store per thread: the control thread has one, each HTTP thread its own.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ringbridge/ctl/calls.h"
#include "ringbridge/dp/filter.h"

struct sqlite3;
struct sqlite3_stmt;

namespace ringbridge::ctl {

struct phonebook_entry {
  std::string number;
  std::string name;
  std::string source;  ///< "user" (set over the API: wins) or "auto" (from caller-ID)
  double updated_at = 0;
};

/// A filter rule as stored: where it came from ("api", "import", "config", "call").
struct stored_filter {
  dp::filter_rule rule;
  std::string source;
  double created_at = 0;
};

class store {
 public:
  /// Opens (creating if needed) the database at PATH, WAL mode, schema migrated.
  /// nullptr with *error naming the file and the SQLite error.
  static std::unique_ptr<store> open(const std::string& path, std::string* error);
  ~store();
  store(const store&) = delete;
  store& operator=(const store&) = delete;

  /// Batches writes: everything between begin() and commit() is one transaction.
  void begin();
  void commit();

  /// Inserts a new call; returns its row id (0 on failure, logged).
  int64_t insert_call(const call_record& c);
  /// Updates state, status and times of the call with row id c.id.
  void update_call(const call_record& c);

  /// Newest first. NUMBER (optional) matches the caller or the callee, normalised.
  std::vector<call_record> calls(int limit, const std::string& number);
  std::optional<call_record> call(int64_t id);
  uint64_t call_count();

  std::optional<phonebook_entry> phonebook_get(const std::string& number);
  std::vector<phonebook_entry> phonebook_list();
  /// source "user" always writes; "auto" never overwrites a "user" entry.
  void phonebook_set(const std::string& number, const std::string& name, const std::string& source);
  bool phonebook_delete(const std::string& number);

  /// Filter rules, by position then id.
  std::vector<stored_filter> filters();
  std::optional<stored_filter> filter(int64_t id);
  /// Returns the new rule's id (0 on failure, logged).
  int64_t filter_insert(const dp::filter_rule& r, const std::string& source);
  /// Updates rule r.id; false when there is no such rule.
  bool filter_update(const dp::filter_rule& r);
  bool filter_delete(int64_t id);
  void filters_delete_source(const std::string& source);
  uint32_t filter_max_position();

  const std::string& path() const { return _path; }

 private:
  store() = default;
  sqlite3_stmt* prepare(const char* sql);
  bool exec(const char* sql, std::string* error);
  bool migrate(std::string* error);
  call_record read_call(sqlite3_stmt* st);

  sqlite3* _db = nullptr;
  std::string _path;
  std::vector<const char*> _sql;  // cached statements, by SQL text
  std::vector<sqlite3_stmt*> _stmts;
};

}  // namespace ringbridge::ctl
