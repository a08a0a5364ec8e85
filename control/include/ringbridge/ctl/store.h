// SPDX-License-Identifier: BSD-3-Clause
// The call log and phonebook in SQLite (WAL) in the state directory. Prepared statements
// only. One store per thread: the control thread has one, each HTTP thread its own.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ringbridge/common/log.h"
#include "ringbridge/sip/calls.h"
#include "ringbridge/filters/filter.h"

struct sqlite3;
struct sqlite3_stmt;

namespace ringbridge::ctl {

/// What a failed SQLite call was doing (metrics label `op`).
#define RB_STORAGE_FOREACH_OP(_)                                \
  _(open, "opening the database or migrating its schema")       \
  _(begin, "starting a write transaction (BEGIN IMMEDIATE)")    \
  _(write, "inserting or updating a row")                       \
  _(commit, "committing a transaction")                         \
  _(prune, "deleting rows beyond the [storage] retention caps") \
  _(read, "reading rows")

/// How it failed (metrics label `kind`).
#define RB_STORAGE_FOREACH_KIND(_)                                                      \
  _(busy, "another connection held the lock (SQLITE_BUSY, SQLITE_LOCKED)")              \
  _(full, "the file system is full (SQLITE_FULL)")                                      \
  _(io,                                                                                 \
    "an I/O error or an unusable file (SQLITE_IOERR, SQLITE_CANTOPEN, SQLITE_CORRUPT, " \
    "SQLITE_READONLY)")                                                                 \
  _(other, "anything else")

enum class storage_op : uint8_t {
#define RB_STORAGE_OP_ENUM(name, help) name,
  RB_STORAGE_FOREACH_OP(RB_STORAGE_OP_ENUM)
#undef RB_STORAGE_OP_ENUM
};
enum class storage_error : uint8_t {
#define RB_STORAGE_KIND_ENUM(name, help) name,
  RB_STORAGE_FOREACH_KIND(RB_STORAGE_KIND_ENUM)
#undef RB_STORAGE_KIND_ENUM
};
#define RB_STORAGE_COUNT(name, help) +1
inline constexpr size_t k_storage_ops = 0 RB_STORAGE_FOREACH_OP(RB_STORAGE_COUNT);
inline constexpr size_t k_storage_errors = 0 RB_STORAGE_FOREACH_KIND(RB_STORAGE_COUNT);
#undef RB_STORAGE_COUNT
const char* storage_op_name(storage_op op);
const char* storage_error_name(storage_error e);
/// The kind of a SQLite result code (primary or extended).
storage_error classify_sqlite(int rc);

/// Storage health, shared by every connection and read by /metrics and /api/v1/status.
/// Atomics: any thread.
struct storage_stats {
  std::atomic<uint64_t> errors[k_storage_ops][k_storage_errors] = {};
  std::atomic<uint64_t> pending{0};          ///< call log / phonebook writes waiting
  std::atomic<uint64_t> pending_dropped{0};  ///< pending writes dropped (queue full)
  std::atomic<uint64_t> pruned_calls{0}, pruned_phonebook{0};
  std::atomic<uint64_t> interrupted{0};  ///< calls a previous run left open, closed at start
  std::atomic<bool> degraded{false};     ///< the control thread's last write attempt failed

  uint64_t errors_total() const;
  void set_last_error(std::string text);
  std::string last_error() const;

 private:
  mutable std::mutex _mu;
  std::string _last_error;  // guarded by _mu
};

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

/// A filter rule as stored: where it came from ("api", "import", "config", "call").
struct stored_filter {
  dp::filter_rule rule;
  std::string source;
  double created_at = 0;
};

/// One connection. Not thread-safe: one store per thread (the control thread has one,
/// each HTTP thread its own). Text read back is valid UTF-8 (rows older versions wrote
/// are sanitized on the way out). Failed SQLite calls are counted in the storage_stats
/// given to set_stats() and logged, rate-limited.
class store {
 public:
  /// Opens (creating if needed) the database at PATH, WAL mode, schema migrated.
  /// nullptr with *error naming the file and the SQLite error.
  static std::unique_ptr<store> open(const std::string& path, std::string* error);
  ~store();
  store(const store&) = delete;
  store& operator=(const store&) = delete;

  /// Where failures are counted (nullptr: only logged).
  void set_stats(storage_stats* stats) { _stats = stats; }
  /// How long a statement waits for another connection's lock (0: fail at once with
  /// SQLITE_BUSY; the control thread's connection never waits).
  void set_busy_timeout(int ms);
  /// The journal mode in force ("wal" unless the file system cannot do WAL).
  const std::string& journal_mode() const { return _journal_mode; }

  /// A write transaction that takes the write lock at once (BEGIN IMMEDIATE). False when
  /// it could not (busy, I/O): nothing to roll back then.
  bool begin();
  /// False (and the transaction rolled back) when the commit failed.
  bool commit();
  /// Abandons the open transaction, if any.
  void rollback();
  bool in_transaction() const;

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

  const std::string& path() const { return _path; }
  /// The kind of this connection's most recent failure.
  storage_error last_failure() const { return _last_failure; }

 private:
  store() = default;
  sqlite3_stmt* prepare(const char* sql);
  bool exec(const char* sql, std::string* error);
  bool migrate(std::string* error);
  call_record read_call(sqlite3_stmt* st);
  /// Counts and logs (rate-limited) a failed SQLite call; returns false for chaining.
  bool failed(storage_op op, int rc, const char* what);
  /// Steps ST to completion (no rows expected): false after counting the failure.
  bool step_done(sqlite3_stmt* st, storage_op op, const char* what);
  int64_t delete_rows(const char* sql, storage_op op,
                      const std::function<void(sqlite3_stmt*)>& bind);

  sqlite3* _db = nullptr;
  std::string _path;
  std::string _journal_mode;
  storage_stats* _stats = nullptr;
  storage_error _last_failure = storage_error::other;
  log_limiter _log_limit{5};
  std::vector<const char*> _sql;  // cached statements, by SQL text
  std::vector<sqlite3_stmt*> _stmts;
};

}  // namespace ringbridge::ctl
