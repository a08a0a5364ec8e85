// SPDX-License-Identifier: BSD-3-Clause
// The database core: opening, journal mode, schema migration from the features' parts,
// transactions, the statement cache and storage error accounting. Statements are prepared
// once per connection and reused; every value is bound, never spliced into SQL.
#include "ringbridge/ctl/store.h"

#include <sqlite3.h>
#include <sys/statfs.h>

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "ringbridge/common/log.h"
#include "ringbridge/common/utf8.h"

namespace ringbridge::ctl {

namespace {

constexpr const char* k_begin = "BEGIN IMMEDIATE";
constexpr const char* k_commit = "COMMIT";

// The file system holding PATH, named for a message.
std::string file_system_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  struct statfs fs {};
  if (statfs(dir.c_str(), &fs) != 0) return "an unknown file system";
  switch (static_cast<unsigned long>(fs.f_type)) {
    case 0xEF53: return "ext2/3/4";
    case 0x58465342: return "xfs";
    case 0x9123683E: return "btrfs";
    case 0x01021994: return "tmpfs";
    case 0x6969: return "NFS";
    case 0xFF534D42: return "CIFS";
    case 0xFE534D42: return "SMB2";
    case 0x65735546: return "FUSE";
    case 0x794C7630: return "overlayfs";
    case 0x01021997: return "9p";
    case 0x4D44: return "FAT";
    default: {
      char buf[48];
      std::snprintf(buf, sizeof(buf), "file system type 0x%lx",
                    static_cast<unsigned long>(fs.f_type));
      return buf;
    }
  }
}

}  // namespace

const char* storage_op_name(storage_op op) {
  switch (op) {
#define RB_STORAGE_OP_CASE(name, help) \
  case storage_op::name: return #name;
    RB_STORAGE_FOREACH_OP(RB_STORAGE_OP_CASE)
#undef RB_STORAGE_OP_CASE
  }
  return "?";
}

const char* storage_error_name(storage_error e) {
  switch (e) {
#define RB_STORAGE_KIND_CASE(name, help) \
  case storage_error::name: return #name;
    RB_STORAGE_FOREACH_KIND(RB_STORAGE_KIND_CASE)
#undef RB_STORAGE_KIND_CASE
  }
  return "?";
}

storage_error classify_sqlite(int rc) {
  switch (rc & 0xFF) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return storage_error::busy;
    case SQLITE_FULL: return storage_error::full;
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_READONLY:
    case SQLITE_PROTOCOL: return storage_error::io;
    default: return storage_error::other;
  }
}

uint64_t storage_stats::errors_total() const {
  uint64_t n = 0;
  for (const auto& op : errors)
    for (const auto& k : op) n += k.load(std::memory_order_relaxed);
  return n;
}

void storage_stats::set_last_error(std::string text) {
  std::lock_guard<std::mutex> g(_mu);
  _last_error = std::move(text);
}

std::string storage_stats::last_error() const {
  std::lock_guard<std::mutex> g(_mu);
  return _last_error;
}

sql_reset::~sql_reset() {
  if (st) {
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
  }
}

std::string sql_text(sqlite3_stmt* st, int col) {
  // Text as stored: rows written by older versions may hold bytes that are not UTF-8.
  const unsigned char* t = sqlite3_column_text(st, col);
  if (t == nullptr) return "";
  std::string s(reinterpret_cast<const char*>(t),
                static_cast<size_t>(sqlite3_column_bytes(st, col)));
  utf8_sanitize_inplace(&s);
  return s;
}

void sql_bind(sqlite3_stmt* st, int i, const std::string& s) {
  sqlite3_bind_text(st, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
}

double sql_now() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

int database_spec::version() const {
  int v = 0;
  for (const auto& part : schema)
    for (const auto& step : part.steps) v = std::max(v, step.version);
  return v;
}

std::unique_ptr<store> store::open(const database_spec& db, std::string* error) {
  const std::string& path = db.path;
  std::unique_ptr<store> s(new store());
  s->_path = path;
  if (sqlite3_open_v2(path.c_str(), &s->_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    *error = "cannot open database '" + path +
             "': " + (s->_db ? sqlite3_errmsg(s->_db) : "out of memory") +
             "; check that [storage] state_dir exists and is writable";
    return nullptr;
  }
  sqlite3_extended_result_codes(s->_db, 1);
  sqlite3_busy_timeout(s->_db, 5000);
  // journal_mode answers with the mode in force: a file system without shared memory
  // (some network file systems) keeps the rollback journal, where readers and the writer
  // block each other.
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(s->_db, "PRAGMA journal_mode=WAL", -1, &st, nullptr) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    s->_journal_mode = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  if (s->_journal_mode.empty()) {
    *error = "database '" + path + "': cannot set the journal mode: " + sqlite3_errmsg(s->_db);
    return nullptr;
  }
  if (s->_journal_mode != "wal") {
    static std::atomic<bool> warned{false};
    if (!warned.exchange(true))
      RB_LOG_WARN(
          "database '%s': journal mode is '%s', not 'wal' (%s cannot share memory between "
          "connections): API reads and call log writes will wait for each other; put "
          "[storage] state_dir on a local file system",
          path.c_str(), s->_journal_mode.c_str(), file_system_of(path).c_str());
  }
  if (!s->exec("PRAGMA synchronous=NORMAL;", error) || !s->migrate(db, error)) {
    *error = "database '" + path + "': " + *error;
    return nullptr;
  }
  return s;
}

store::~store() {
  for (sqlite3_stmt* st : _stmts) sqlite3_finalize(st);
  if (_db) sqlite3_close(_db);
}

void store::set_busy_timeout(int ms) {
  sqlite3_busy_timeout(_db, ms);
}

bool store::migrate(const database_spec& db, std::string* error) {
  auto version = [&] {
    sqlite3_stmt* st = nullptr;
    int v = -1;
    if (sqlite3_prepare_v2(_db, "PRAGMA user_version", -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
      v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
  };
  const int target = db.version();
  int v = version();
  if (v < 0) {
    *error = std::string("cannot read the schema version: ") + sqlite3_errmsg(_db);
    return false;
  }
  if (v >= target) return true;  // nothing to write: opening stays read-only
  // One connection migrates; the others wait for it here and then find nothing to do.
  if (!exec("BEGIN IMMEDIATE", error)) return false;
  v = version();
  bool ok = true;
  // Version by version, each part's steps of that version: version 1's tables where
  // missing (always), then every later step this database has not had.
  for (int step_version = 1; ok && step_version <= target; step_version++)
    for (const auto& part : db.schema)
      for (const auto& step : part.steps)
        if (ok && step.version == step_version && (step_version == 1 || step_version > v))
          ok = exec(step.sql, error);
  // The version is a number from the parts' code, never data.
  const std::string set_version = "PRAGMA user_version = " + std::to_string(target);
  if (ok) ok = exec(set_version.c_str(), error) && exec("COMMIT", error);
  if (!ok) exec("ROLLBACK", nullptr);
  return ok;
}

bool store::exec(const char* sql, std::string* error) {
  char* msg = nullptr;
  if (sqlite3_exec(_db, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
    if (error) *error = msg ? msg : "unknown SQLite error";
    sqlite3_free(msg);
    return false;
  }
  return true;
}

sqlite3_stmt* store::prepare(const char* sql) {
  // One cached statement per SQL text (the texts are the constants above).
  for (size_t i = 0; i < _sql.size(); i++)
    if (_sql[i] == sql) return _stmts[i];
  sqlite3_stmt* st = nullptr;
  if (const int rc = sqlite3_prepare_v2(_db, sql, -1, &st, nullptr); rc != SQLITE_OK) {
    failed(storage_op::read, rc, "prepare");
    return nullptr;
  }
  _sql.push_back(sql);
  _stmts.push_back(st);
  return st;
}

bool store::failed(storage_op op, int rc, const char* what) {
  const storage_error kind = classify_sqlite(rc);
  _last_failure = kind;
  const std::string text =
      std::string(what) + ": " + sqlite3_errmsg(_db) + " (" + storage_error_name(kind) + ")";
  if (_stats) {
    _stats->errors[static_cast<int>(op)][static_cast<int>(kind)].fetch_add(
        1, std::memory_order_relaxed);
    _stats->set_last_error(text);
  }
  uint64_t held = 0;
  if (_log_limit.allow(&held)) {
    if (held)
      RB_LOG_WARN("database '%s': %s; %llu more storage errors since the last message",
                  _path.c_str(), text.c_str(), static_cast<unsigned long long>(held));
    else
      RB_LOG_WARN("database '%s': %s", _path.c_str(), text.c_str());
  }
  return false;
}

bool store::step_done(sqlite3_stmt* st, storage_op op, const char* what) {
  const int rc = sqlite3_step(st);
  if (rc == SQLITE_DONE || rc == SQLITE_ROW) return true;
  return failed(op, rc, what);
}

bool store::in_transaction() const {
  return sqlite3_get_autocommit(_db) == 0;
}

bool store::begin() {
  sqlite3_stmt* st = prepare(k_begin);
  sql_reset g{st};
  return st != nullptr && step_done(st, storage_op::begin, "BEGIN IMMEDIATE");
}

bool store::commit() {
  sqlite3_stmt* st = prepare(k_commit);
  sql_reset g{st};
  if (st != nullptr && step_done(st, storage_op::commit, "COMMIT")) return true;
  rollback();
  return false;
}

void store::rollback() {
  // After some errors (SQLITE_FULL, SQLITE_IOERR) SQLite has rolled back already.
  if (in_transaction()) exec("ROLLBACK", nullptr);
}

int64_t store::changes() const {
  return sqlite3_changes64(_db);
}

int64_t store::last_insert_rowid() const {
  return sqlite3_last_insert_rowid(_db);
}

}  // namespace ringbridge::ctl
