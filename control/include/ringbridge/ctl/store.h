// SPDX-License-Identifier: BSD-3-Clause
// The database in the state directory (SQLite, WAL): one connection per thread (the control
// thread has one, each HTTP thread its own, the filter manager one).
//
// Owns: opening, journal mode, busy handling, the schema version and the migration
// mechanism, transactions, the statement cache and storage error accounting. Knows no
// feature: each feature keeps its tables' SQL in its own store (plugins/sip call_store.h,
// plugins/filters filter_store.h) and hands its schema steps to open() as a schema_part.
// May touch SQLite only; prepared statements only, every value bound.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ringbridge/common/log.h"

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

/// One step of a feature's schema: SQL run once when a database older than VERSION is
/// migrated. Version 1 steps create the feature's first tables and must be idempotent
/// (CREATE ... IF NOT EXISTS): they run on every migration, so a table a database lacks is
/// created whatever its version.
struct schema_step {
  int version;
  const char* sql;
};

/// A feature's part of the schema, its steps in version order.
struct schema_part {
  const char* owner;  ///< the feature ("calls", "filters"), for messages
  std::vector<schema_step> steps;
};

/// The database a connection opens: where, and the schema parts of the features using it.
/// The database's version (PRAGMA user_version) is the highest step version of all parts:
/// every connection of a process must open with the same parts.
struct database_spec {
  std::string path;
  std::vector<schema_part> schema;
  /// The version the parts bring a database to.
  int version() const;
};

/// One connection. Not thread-safe: one store per thread (the control thread has one,
/// each HTTP thread its own). Failed SQLite calls are counted in the storage_stats given
/// to set_stats() and logged, rate-limited. Features reach their tables through prepare()
/// and the sql_* helpers below, and report failures through failed()/step_done(), so
/// every storage error is counted and logged the same way.
class store {
 public:
  /// Opens (creating if needed) the database DB.path, WAL mode, migrated to DB.version()
  /// with the steps of DB.schema in one transaction (a database at that version or newer
  /// is opened without writing). nullptr with *error naming the file and the SQLite error.
  static std::unique_ptr<store> open(const database_spec& db, std::string* error);
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

  /// The cached statement for SQL (a string constant: the cache is keyed by its address),
  /// prepared on first use; nullptr after counting the failure (as a read). Wrap its use
  /// in an sql_reset so that it is reset and unbound afterwards.
  sqlite3_stmt* prepare(const char* sql);
  /// Counts and logs (rate-limited) a failed SQLite call; returns false for chaining.
  bool failed(storage_op op, int rc, const char* what);
  /// Steps ST to completion (no rows expected): false after counting the failure.
  bool step_done(sqlite3_stmt* st, storage_op op, const char* what);
  /// Rows the last statement changed; the row id the last insert gave.
  int64_t changes() const;
  int64_t last_insert_rowid() const;

  const std::string& path() const { return _path; }
  /// The kind of this connection's most recent failure.
  storage_error last_failure() const { return _last_failure; }

 private:
  store() = default;
  bool exec(const char* sql, std::string* error);
  bool migrate(const database_spec& db, std::string* error);

  sqlite3* _db = nullptr;
  std::string _path;
  std::string _journal_mode;
  storage_stats* _stats = nullptr;
  storage_error _last_failure = storage_error::other;
  log_limiter _log_limit{5};
  std::vector<const char*> _sql;  // cached statements, by SQL text
  std::vector<sqlite3_stmt*> _stmts;
};

/// Resets and unbinds a cached statement when it goes out of scope.
struct sql_reset {
  sqlite3_stmt* st;
  ~sql_reset();
};

/// Text column COL of the current row. Valid UTF-8: rows older versions wrote may hold
/// other bytes, sanitized on the way out.
std::string sql_text(sqlite3_stmt* st, int col);
/// Binds S to parameter I (copied).
void sql_bind(sqlite3_stmt* st, int i, const std::string& s);
/// Wall-clock time in Unix seconds, as rows are stamped.
double sql_now();

}  // namespace ringbridge::ctl
