// SPDX-License-Identifier: BSD-3-Clause
// SQLite persistence of calls and phonebook. Statements are prepared once per connection
// and reused; every value is bound, never spliced into SQL.
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

constexpr const char* k_schema = R"SQL(
CREATE TABLE IF NOT EXISTS calls (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  call_id     TEXT    NOT NULL,
  direction   TEXT    NOT NULL,
  from_number TEXT    NOT NULL,
  from_name   TEXT    NOT NULL,
  caller_name TEXT    NOT NULL,
  to_number   TEXT    NOT NULL,
  state       TEXT    NOT NULL,
  status_code INTEGER NOT NULL DEFAULT 0,
  started_at  REAL    NOT NULL,
  answered_at REAL    NOT NULL DEFAULT 0,
  ended_at    REAL    NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS filters (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  position   INTEGER NOT NULL,
  match      TEXT    NOT NULL,
  syntax     TEXT    NOT NULL,
  pattern    TEXT    NOT NULL,
  action     TEXT    NOT NULL,
  block_mode TEXT    NOT NULL,
  source     TEXT    NOT NULL,
  created_at REAL    NOT NULL
);
CREATE INDEX IF NOT EXISTS calls_from ON calls(from_number);
CREATE INDEX IF NOT EXISTS calls_to ON calls(to_number);
CREATE INDEX IF NOT EXISTS calls_call_id ON calls(call_id);
CREATE TABLE IF NOT EXISTS phonebook (
  number     TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  source     TEXT NOT NULL CHECK (source IN ('user', 'auto')),
  updated_at REAL NOT NULL
);
)SQL";

// Version 2: blocked calls name the rule that matched.
constexpr const char* k_migrate_2 =
    "ALTER TABLE calls ADD COLUMN rule_id INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE calls ADD COLUMN block_mode TEXT NOT NULL DEFAULT '';";

// Version 3: why ringbridge closed a call itself; row counts kept by triggers so that
// retention never counts a table; partial indexes for the calls left open and for the
// automatic phonebook rows by age, so both are found without a scan.
constexpr const char* k_migrate_3 = R"SQL(
ALTER TABLE calls ADD COLUMN end_reason TEXT NOT NULL DEFAULT '';
CREATE INDEX IF NOT EXISTS calls_open ON calls(state) WHERE state IN ('ringing', 'answered');
CREATE INDEX IF NOT EXISTS phonebook_auto_age ON phonebook(updated_at) WHERE source = 'auto';
CREATE TABLE IF NOT EXISTS row_counts (name TEXT PRIMARY KEY, n INTEGER NOT NULL);
INSERT OR REPLACE INTO row_counts (name, n) VALUES
  ('calls', (SELECT COUNT(*) FROM calls)),
  ('phonebook_auto', (SELECT COUNT(*) FROM phonebook WHERE source = 'auto'));
CREATE TRIGGER IF NOT EXISTS calls_count_ins AFTER INSERT ON calls BEGIN
  UPDATE row_counts SET n = n + 1 WHERE name = 'calls';
END;
CREATE TRIGGER IF NOT EXISTS calls_count_del AFTER DELETE ON calls BEGIN
  UPDATE row_counts SET n = n - 1 WHERE name = 'calls';
END;
CREATE TRIGGER IF NOT EXISTS phonebook_auto_ins AFTER INSERT ON phonebook
WHEN new.source = 'auto' BEGIN
  UPDATE row_counts SET n = n + 1 WHERE name = 'phonebook_auto';
END;
CREATE TRIGGER IF NOT EXISTS phonebook_auto_del AFTER DELETE ON phonebook
WHEN old.source = 'auto' BEGIN
  UPDATE row_counts SET n = n - 1 WHERE name = 'phonebook_auto';
END;
CREATE TRIGGER IF NOT EXISTS phonebook_auto_upd AFTER UPDATE OF source ON phonebook
WHEN old.source != new.source BEGIN
  UPDATE row_counts SET n = n + (new.source = 'auto') - (old.source = 'auto')
  WHERE name = 'phonebook_auto';
END;
)SQL";
constexpr int k_schema_version = 3;

// The caller name a call shows: a name the user set wins, for older calls too.
#define RB_CALL_SELECT                                                                       \
  "SELECT c.id, c.call_id, c.direction, c.from_number, c.from_name, "                        \
  "COALESCE(p.name, c.caller_name), c.to_number, c.state, c.status_code, c.started_at, "     \
  "c.answered_at, c.ended_at, c.rule_id, c.block_mode, c.end_reason FROM calls c LEFT JOIN " \
  "phonebook p ON p.number = c.from_number AND p.source = 'user' AND c.from_number != '' "

constexpr const char* k_begin = "BEGIN IMMEDIATE";
constexpr const char* k_commit = "COMMIT";
constexpr const char* k_insert_call =
    "INSERT INTO calls (call_id, direction, from_number, from_name, caller_name, to_number, "
    "state, status_code, started_at, answered_at, ended_at, rule_id, block_mode, end_reason) "
    "VALUES (?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)";
// A call's identity never changes after the INVITE: an existing row gets the rest.
constexpr const char* k_write_call =
    "INSERT INTO calls (id, call_id, direction, from_number, from_name, caller_name, "
    "to_number, state, status_code, started_at, answered_at, ended_at, rule_id, block_mode, "
    "end_reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) "
    "ON CONFLICT(id) DO UPDATE SET state = excluded.state, status_code = excluded.status_code, "
    "answered_at = excluded.answered_at, ended_at = excluded.ended_at, "
    "caller_name = excluded.caller_name, end_reason = excluded.end_reason";
constexpr const char* k_last_call_id =
    "SELECT MAX(COALESCE((SELECT MAX(id) FROM calls), 0), "
    "COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'calls'), 0))";
constexpr const char* k_close_interrupted =
    "UPDATE calls SET state = 'interrupted', end_reason = ?2 "
    "WHERE state IN ('ringing', 'answered') AND id <= ?1";
constexpr const char* k_calls_all = RB_CALL_SELECT "ORDER BY c.id DESC LIMIT ?1";
constexpr const char* k_calls_number =
    RB_CALL_SELECT "WHERE c.from_number = ?2 OR c.to_number = ?2 ORDER BY c.id DESC LIMIT ?1";
constexpr const char* k_call_one = RB_CALL_SELECT "WHERE c.id = ?1";
constexpr const char* k_row_count = "SELECT n FROM row_counts WHERE name = ?1";
// Retention deletes walk an index from its oldest end: O(LIMIT), never a table scan.
constexpr const char* k_prune_calls_oldest =
    "DELETE FROM calls WHERE id IN (SELECT id FROM calls ORDER BY id LIMIT ?1)";
constexpr const char* k_oldest_call = "SELECT started_at FROM calls ORDER BY id LIMIT 1";
constexpr const char* k_prune_calls_before =
    "DELETE FROM calls WHERE id IN (SELECT id FROM (SELECT id, started_at FROM calls "
    "ORDER BY id LIMIT ?2) WHERE started_at < ?1)";
constexpr const char* k_prune_phonebook_auto =
    "DELETE FROM phonebook WHERE rowid IN (SELECT rowid FROM phonebook WHERE source = 'auto' "
    "ORDER BY updated_at LIMIT ?1)";
constexpr const char* k_pb_get =
    "SELECT number, name, source, updated_at FROM phonebook WHERE number = ?1";
constexpr const char* k_pb_list =
    "SELECT number, name, source, updated_at FROM phonebook ORDER BY name, number";
constexpr const char* k_pb_set_user =
    "INSERT INTO phonebook (number, name, source, updated_at) VALUES (?1, ?2, 'user', ?3) "
    "ON CONFLICT(number) DO UPDATE SET name = excluded.name, source = 'user', "
    "updated_at = excluded.updated_at";
constexpr const char* k_pb_set_auto =
    "INSERT INTO phonebook (number, name, source, updated_at) VALUES (?1, ?2, 'auto', ?3) "
    "ON CONFLICT(number) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at "
    "WHERE phonebook.source = 'auto'";
constexpr const char* k_pb_delete = "DELETE FROM phonebook WHERE number = ?1";
#define RB_FILTER_SELECT                                                                      \
  "SELECT id, position, match, syntax, pattern, action, block_mode, source, created_at FROM " \
  "filters "
constexpr const char* k_filters_all = RB_FILTER_SELECT "ORDER BY position, id";
constexpr const char* k_filter_one = RB_FILTER_SELECT "WHERE id = ?1";
constexpr const char* k_filter_exact_numbers =
    "SELECT pattern FROM filters WHERE source = ?1 AND match = 'number' AND syntax = 'exact' "
    "AND action = ?2";
constexpr const char* k_filter_insert =
    "INSERT INTO filters (position, match, syntax, pattern, action, block_mode, source, "
    "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
constexpr const char* k_filter_update =
    "UPDATE filters SET position = ?2, match = ?3, syntax = ?4, pattern = ?5, action = ?6, "
    "block_mode = ?7 WHERE id = ?1";
constexpr const char* k_filter_delete = "DELETE FROM filters WHERE id = ?1";
constexpr const char* k_filter_delete_source = "DELETE FROM filters WHERE source = ?1";
constexpr const char* k_filter_max_position = "SELECT COALESCE(MAX(position), 0) FROM filters";

// Text as stored: rows written by older versions may hold bytes that are not UTF-8.
std::string text(sqlite3_stmt* st, int col) {
  const unsigned char* t = sqlite3_column_text(st, col);
  if (t == nullptr) return "";
  std::string s(reinterpret_cast<const char*>(t),
                static_cast<size_t>(sqlite3_column_bytes(st, col)));
  utf8_sanitize_inplace(&s);
  return s;
}

void bind(sqlite3_stmt* st, int i, const std::string& s) {
  sqlite3_bind_text(st, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
}

double now_s() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

call_state state_from(const std::string& s) {
#define RB_CALL_STATE_FROM(name, help) \
  if (s == #name) return call_state::name;
  RB_CALL_FOREACH_STATE(RB_CALL_STATE_FROM)
#undef RB_CALL_STATE_FROM
  return call_state::timeout;
}

// Resets a cached statement when it goes out of scope.
struct reset_guard {
  sqlite3_stmt* st;
  ~reset_guard() {
    if (st) {
      sqlite3_reset(st);
      sqlite3_clear_bindings(st);
    }
  }
};

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

std::unique_ptr<store> store::open(const std::string& path, std::string* error) {
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
  if (!s->exec("PRAGMA synchronous=NORMAL;", error) || !s->migrate(error)) {
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

bool store::migrate(std::string* error) {
  auto version = [&] {
    sqlite3_stmt* st = nullptr;
    int v = -1;
    if (sqlite3_prepare_v2(_db, "PRAGMA user_version", -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
      v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
  };
  int v = version();
  if (v < 0) {
    *error = std::string("cannot read the schema version: ") + sqlite3_errmsg(_db);
    return false;
  }
  if (v >= k_schema_version) return true;  // nothing to write: opening stays read-only
  // One connection migrates; the others wait for it here and then find nothing to do.
  if (!exec("BEGIN IMMEDIATE", error)) return false;
  v = version();
  bool ok = true;
  ok = exec(k_schema, error);  // version 1's tables, where missing
  if (ok && v < 2) ok = exec(k_migrate_2, error);
  if (ok && v < 3) ok = exec(k_migrate_3, error);
  if (ok) ok = exec("PRAGMA user_version = 3", error) && exec("COMMIT", error);
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
  reset_guard g{st};
  return st != nullptr && step_done(st, storage_op::begin, "BEGIN IMMEDIATE");
}

bool store::commit() {
  sqlite3_stmt* st = prepare(k_commit);
  reset_guard g{st};
  if (st != nullptr && step_done(st, storage_op::commit, "COMMIT")) return true;
  rollback();
  return false;
}

void store::rollback() {
  // After some errors (SQLITE_FULL, SQLITE_IOERR) SQLite has rolled back already.
  if (in_transaction()) exec("ROLLBACK", nullptr);
}

namespace {
void bind_call(sqlite3_stmt* st, const call_record& c) {
  if (c.id != 0) sqlite3_bind_int64(st, 1, c.id);
  bind(st, 2, c.call_id);
  bind(st, 3, direction_name(c.direction));
  bind(st, 4, c.from_number);
  bind(st, 5, c.from_name);
  bind(st, 6, c.caller_name);
  bind(st, 7, c.to_number);
  bind(st, 8, call_state_name(c.state));
  sqlite3_bind_int(st, 9, c.status_code);
  sqlite3_bind_double(st, 10, c.started_at);
  sqlite3_bind_double(st, 11, c.answered_at);
  sqlite3_bind_double(st, 12, c.ended_at);
  sqlite3_bind_int64(st, 13, c.rule_id);
  bind(st, 14, c.block_mode);
  bind(st, 15, c.end_reason);
}
}  // namespace

int64_t store::insert_call(const call_record& c) {
  sqlite3_stmt* st = prepare(k_insert_call);
  reset_guard g{st};
  if (st == nullptr) return 0;
  bind_call(st, c);
  if (!step_done(st, storage_op::write, "call log insert")) return 0;
  return sqlite3_last_insert_rowid(_db);
}

bool store::write_call(const call_record& c) {
  if (c.id <= 0) return false;
  sqlite3_stmt* st = prepare(k_write_call);
  reset_guard g{st};
  if (st == nullptr) return false;
  bind_call(st, c);
  return step_done(st, storage_op::write, "call log write");
}

int64_t store::last_call_id() {
  sqlite3_stmt* st = prepare(k_last_call_id);
  reset_guard g{st};
  if (st == nullptr) return -1;
  const int rc = sqlite3_step(st);
  if (rc != SQLITE_ROW) return failed(storage_op::read, rc, "last call id"), -1;
  return sqlite3_column_int64(st, 0);
}

int64_t store::close_interrupted(int64_t up_to, const std::string& reason) {
  sqlite3_stmt* st = prepare(k_close_interrupted);
  reset_guard g{st};
  if (st == nullptr) return -1;
  sqlite3_bind_int64(st, 1, up_to);
  bind(st, 2, reason);
  if (!step_done(st, storage_op::write, "closing interrupted calls")) return -1;
  return sqlite3_changes(_db);
}

call_record store::read_call(sqlite3_stmt* st) {
  call_record c;
  c.id = sqlite3_column_int64(st, 0);
  c.call_id = text(st, 1);
  c.direction = text(st, 2) == "outbound" ? call_direction::outbound : call_direction::inbound;
  c.from_number = text(st, 3);
  c.from_name = text(st, 4);
  c.caller_name = text(st, 5);
  c.to_number = text(st, 6);
  c.state = state_from(text(st, 7));
  c.status_code = sqlite3_column_int(st, 8);
  c.started_at = sqlite3_column_double(st, 9);
  c.answered_at = sqlite3_column_double(st, 10);
  c.ended_at = sqlite3_column_double(st, 11);
  c.rule_id = sqlite3_column_int64(st, 12);
  c.block_mode = text(st, 13);
  c.end_reason = text(st, 14);
  return c;
}

std::vector<call_record> store::calls(int limit, const std::string& number) {
  std::vector<call_record> out;
  sqlite3_stmt* st = prepare(number.empty() ? k_calls_all : k_calls_number);
  reset_guard g{st};
  if (st == nullptr) return out;
  sqlite3_bind_int(st, 1, limit);
  if (!number.empty()) bind(st, 2, number);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) out.push_back(read_call(st));
  if (rc != SQLITE_DONE) failed(storage_op::read, rc, "call log read");
  return out;
}

std::optional<call_record> store::call(int64_t id) {
  sqlite3_stmt* st = prepare(k_call_one);
  reset_guard g{st};
  if (st == nullptr) return std::nullopt;
  sqlite3_bind_int64(st, 1, id);
  const int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) return read_call(st);
  if (rc != SQLITE_DONE) failed(storage_op::read, rc, "call log read");
  return std::nullopt;
}

namespace {
constexpr const char* k_count_calls = "calls";
constexpr const char* k_count_phonebook_auto = "phonebook_auto";
}  // namespace

uint64_t store::call_count() {
  sqlite3_stmt* st = prepare(k_row_count);
  reset_guard g{st};
  if (st == nullptr) return 0;
  sqlite3_bind_text(st, 1, k_count_calls, -1, SQLITE_STATIC);
  const int rc = sqlite3_step(st);
  if (rc != SQLITE_ROW) return failed(storage_op::read, rc, "row count"), 0;
  return static_cast<uint64_t>(std::max<int64_t>(0, sqlite3_column_int64(st, 0)));
}

uint64_t store::phonebook_auto_count() {
  sqlite3_stmt* st = prepare(k_row_count);
  reset_guard g{st};
  if (st == nullptr) return 0;
  sqlite3_bind_text(st, 1, k_count_phonebook_auto, -1, SQLITE_STATIC);
  const int rc = sqlite3_step(st);
  if (rc != SQLITE_ROW) return failed(storage_op::read, rc, "row count"), 0;
  return static_cast<uint64_t>(std::max<int64_t>(0, sqlite3_column_int64(st, 0)));
}

int64_t store::delete_rows(const char* sql, storage_op op,
                           const std::function<void(sqlite3_stmt*)>& bind_args) {
  sqlite3_stmt* st = prepare(sql);
  reset_guard g{st};
  if (st == nullptr) return -1;
  bind_args(st);
  if (!step_done(st, op, "retention delete")) return -1;
  return sqlite3_changes(_db);
}

int64_t store::prune_calls_over(uint64_t keep, int limit) {
  const uint64_t n = call_count();
  if (n <= keep || limit <= 0) return 0;
  const int64_t excess =
      static_cast<int64_t>(std::min<uint64_t>(n - keep, static_cast<uint64_t>(limit)));
  return delete_rows(k_prune_calls_oldest, storage_op::prune,
                     [&](sqlite3_stmt* st) { sqlite3_bind_int64(st, 1, excess); });
}

double store::oldest_call_start() {
  sqlite3_stmt* st = prepare(k_oldest_call);
  reset_guard g{st};
  if (st == nullptr) return 0;
  const int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) return sqlite3_column_double(st, 0);
  if (rc != SQLITE_DONE) failed(storage_op::read, rc, "call log read");
  return 0;
}

int64_t store::prune_calls_before(double cutoff, int limit) {
  return delete_rows(k_prune_calls_before, storage_op::prune, [&](sqlite3_stmt* st) {
    sqlite3_bind_double(st, 1, cutoff);
    sqlite3_bind_int(st, 2, limit);
  });
}

int64_t store::prune_phonebook_auto(uint64_t keep, int limit) {
  const uint64_t n = phonebook_auto_count();
  if (n <= keep || limit <= 0) return 0;
  const int64_t excess =
      static_cast<int64_t>(std::min<uint64_t>(n - keep, static_cast<uint64_t>(limit)));
  return delete_rows(k_prune_phonebook_auto, storage_op::prune,
                     [&](sqlite3_stmt* st) { sqlite3_bind_int64(st, 1, excess); });
}

std::optional<phonebook_entry> store::phonebook_get(const std::string& number) {
  sqlite3_stmt* st = prepare(k_pb_get);
  reset_guard g{st};
  if (st == nullptr) return std::nullopt;
  bind(st, 1, number);
  const int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    return phonebook_entry{text(st, 0), text(st, 1), text(st, 2), sqlite3_column_double(st, 3)};
  if (rc != SQLITE_DONE) failed(storage_op::read, rc, "phonebook read");
  return std::nullopt;
}

std::vector<phonebook_entry> store::phonebook_list() {
  std::vector<phonebook_entry> out;
  sqlite3_stmt* st = prepare(k_pb_list);
  reset_guard g{st};
  if (st == nullptr) return out;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW)
    out.push_back({text(st, 0), text(st, 1), text(st, 2), sqlite3_column_double(st, 3)});
  if (rc != SQLITE_DONE) failed(storage_op::read, rc, "phonebook read");
  return out;
}

bool store::phonebook_set(const std::string& number, const std::string& name,
                          const std::string& source, double when) {
  sqlite3_stmt* st = prepare(source == "user" ? k_pb_set_user : k_pb_set_auto);
  reset_guard g{st};
  if (st == nullptr) return false;
  bind(st, 1, number);
  bind(st, 2, name);
  sqlite3_bind_double(st, 3, when > 0 ? when : now_s());
  return step_done(st, storage_op::write, "phonebook write");
}

bool store::phonebook_delete(const std::string& number) {
  sqlite3_stmt* st = prepare(k_pb_delete);
  reset_guard g{st};
  if (st == nullptr) return false;
  bind(st, 1, number);
  return step_done(st, storage_op::write, "phonebook delete") && sqlite3_changes(_db) > 0;
}

namespace {
void bind_rule(sqlite3_stmt* st, int first, const dp::filter_rule& r) {
  sqlite3_bind_int64(st, first, r.position);
  bind(st, first + 1, dp::filter_match_name(r.match));
  bind(st, first + 2, dp::filter_syntax_name(r.syntax));
  bind(st, first + 3, r.pattern);
  bind(st, first + 4, dp::filter_action_name(r.action));
  bind(st, first + 5, dp::block_mode_name(r.mode));
}

stored_filter read_filter(sqlite3_stmt* st) {
  stored_filter f;
  f.rule.id = static_cast<uint32_t>(sqlite3_column_int64(st, 0));
  f.rule.position = static_cast<uint32_t>(sqlite3_column_int64(st, 1));
  dp::parse_filter_match(text(st, 2), &f.rule.match);
  dp::parse_filter_syntax(text(st, 3), &f.rule.syntax);
  f.rule.pattern = text(st, 4);
  dp::parse_filter_action(text(st, 5), &f.rule.action);
  dp::parse_block_mode(text(st, 6), &f.rule.mode);
  f.source = text(st, 7);
  f.created_at = sqlite3_column_double(st, 8);
  return f;
}
}  // namespace

std::vector<stored_filter> store::filters() {
  std::vector<stored_filter> out;
  sqlite3_stmt* st = prepare(k_filters_all);
  reset_guard g{st};
  if (st == nullptr) return out;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) out.push_back(read_filter(st));
  if (rc != SQLITE_DONE) failed(storage_op::read, rc, "filter read");
  return out;
}

std::optional<stored_filter> store::filter(int64_t id) {
  sqlite3_stmt* st = prepare(k_filter_one);
  reset_guard g{st};
  if (st == nullptr) return std::nullopt;
  sqlite3_bind_int64(st, 1, id);
  const int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) return read_filter(st);
  if (rc != SQLITE_DONE) failed(storage_op::read, rc, "filter read");
  return std::nullopt;
}

std::vector<std::string> store::filter_exact_numbers(const std::string& source,
                                                     dp::filter_action a) {
  std::vector<std::string> out;
  sqlite3_stmt* st = prepare(k_filter_exact_numbers);
  reset_guard g{st};
  if (st == nullptr) return out;
  bind(st, 1, source);
  bind(st, 2, dp::filter_action_name(a));
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) out.push_back(text(st, 0));
  if (rc != SQLITE_DONE) failed(storage_op::read, rc, "filter read");
  return out;
}

int64_t store::filter_insert(const dp::filter_rule& r, const std::string& source) {
  sqlite3_stmt* st = prepare(k_filter_insert);
  reset_guard g{st};
  if (st == nullptr) return 0;
  bind_rule(st, 1, r);
  bind(st, 7, source);
  sqlite3_bind_double(st, 8, now_s());
  if (!step_done(st, storage_op::write, "filter insert")) return 0;
  return sqlite3_last_insert_rowid(_db);
}

bool store::filter_update(const dp::filter_rule& r) {
  sqlite3_stmt* st = prepare(k_filter_update);
  reset_guard g{st};
  if (st == nullptr) return false;
  sqlite3_bind_int64(st, 1, r.id);
  bind_rule(st, 2, r);
  return step_done(st, storage_op::write, "filter update") && sqlite3_changes(_db) > 0;
}

bool store::filter_delete(int64_t id) {
  sqlite3_stmt* st = prepare(k_filter_delete);
  reset_guard g{st};
  if (st == nullptr) return false;
  sqlite3_bind_int64(st, 1, id);
  return step_done(st, storage_op::write, "filter delete") && sqlite3_changes(_db) > 0;
}

void store::filters_delete_source(const std::string& source) {
  sqlite3_stmt* st = prepare(k_filter_delete_source);
  reset_guard g{st};
  if (st == nullptr) return;
  bind(st, 1, source);
  step_done(st, storage_op::write, "filter delete");
}

uint32_t store::filter_max_position() {
  sqlite3_stmt* st = prepare(k_filter_max_position);
  reset_guard g{st};
  if (st == nullptr) return 0;
  const int rc = sqlite3_step(st);
  if (rc != SQLITE_ROW) return failed(storage_op::read, rc, "filter read"), 0;
  return static_cast<uint32_t>(sqlite3_column_int64(st, 0));
}

}  // namespace ringbridge::ctl
