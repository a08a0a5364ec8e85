// SPDX-License-Identifier: BSD-3-Clause
// SQLite persistence of calls and phonebook. Statements are prepared once per connection
// and reused; every value is bound, never spliced into SQL.
#include "ringbridge/ctl/store.h"

#include <sqlite3.h>

#include <ctime>

#include "ringbridge/common/log.h"

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

// The caller name a call shows: a name the user set wins, for older calls too.
#define RB_CALL_SELECT                                                                     \
  "SELECT c.id, c.call_id, c.direction, c.from_number, c.from_name, "                      \
  "COALESCE(p.name, c.caller_name), c.to_number, c.state, c.status_code, c.started_at, "   \
  "c.answered_at, c.ended_at, c.rule_id, c.block_mode FROM calls c LEFT JOIN phonebook p " \
  "ON p.number = c.from_number AND p.source = 'user' AND c.from_number != '' "

constexpr const char* k_insert_call =
    "INSERT INTO calls (call_id, direction, from_number, from_name, caller_name, to_number, "
    "state, status_code, started_at, answered_at, ended_at, rule_id, block_mode) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";
constexpr const char* k_update_call =
    "UPDATE calls SET state = ?2, status_code = ?3, answered_at = ?4, ended_at = ?5, "
    "caller_name = ?6 WHERE id = ?1";
constexpr const char* k_calls_all = RB_CALL_SELECT "ORDER BY c.id DESC LIMIT ?1";
constexpr const char* k_calls_number =
    RB_CALL_SELECT "WHERE c.from_number = ?2 OR c.to_number = ?2 ORDER BY c.id DESC LIMIT ?1";
constexpr const char* k_call_one = RB_CALL_SELECT "WHERE c.id = ?1";
constexpr const char* k_call_count = "SELECT COUNT(*) FROM calls";
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
constexpr const char* k_filter_insert =
    "INSERT INTO filters (position, match, syntax, pattern, action, block_mode, source, "
    "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
constexpr const char* k_filter_update =
    "UPDATE filters SET position = ?2, match = ?3, syntax = ?4, pattern = ?5, action = ?6, "
    "block_mode = ?7 WHERE id = ?1";
constexpr const char* k_filter_delete = "DELETE FROM filters WHERE id = ?1";
constexpr const char* k_filter_delete_source = "DELETE FROM filters WHERE source = ?1";
constexpr const char* k_filter_max_position = "SELECT COALESCE(MAX(position), 0) FROM filters";

std::string text(sqlite3_stmt* st, int col) {
  const unsigned char* t = sqlite3_column_text(st, col);
  return t ? reinterpret_cast<const char*>(t) : "";
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

}  // namespace

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
  sqlite3_busy_timeout(s->_db, 5000);
  if (!s->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", error) ||
      !s->exec(k_schema, error) || !s->migrate(error)) {
    *error = "database '" + path + "': " + *error;
    return nullptr;
  }
  return s;
}

store::~store() {
  for (sqlite3_stmt* st : _stmts) sqlite3_finalize(st);
  if (_db) sqlite3_close(_db);
}

bool store::migrate(std::string* error) {
  sqlite3_stmt* st = nullptr;
  int version = 0;
  if (sqlite3_prepare_v2(_db, "PRAGMA user_version", -1, &st, nullptr) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    version = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  if (version < 2) {
    // k_schema creates version 1's calls table; version 2 adds its columns.
    if (!exec(k_migrate_2, error)) return false;
  }
  return exec("PRAGMA user_version = 2", error);
}

bool store::exec(const char* sql, std::string* error) {
  char* msg = nullptr;
  if (sqlite3_exec(_db, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
    *error = msg ? msg : "unknown SQLite error";
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
  if (sqlite3_prepare_v2(_db, sql, -1, &st, nullptr) != SQLITE_OK) {
    RB_LOG_ERR("SQLite prepare failed (%s): %s", sqlite3_errmsg(_db), sql);
    return nullptr;
  }
  _sql.push_back(sql);
  _stmts.push_back(st);
  return st;
}

void store::begin() {
  std::string err;
  if (!exec("BEGIN", &err)) RB_LOG_WARN("SQLite BEGIN: %s", err.c_str());
}

void store::commit() {
  std::string err;
  if (!exec("COMMIT", &err)) RB_LOG_WARN("SQLite COMMIT: %s", err.c_str());
}

int64_t store::insert_call(const call_record& c) {
  sqlite3_stmt* st = prepare(k_insert_call);
  reset_guard g{st};
  if (st == nullptr) return 0;
  bind(st, 1, c.call_id);
  bind(st, 2, direction_name(c.direction));
  bind(st, 3, c.from_number);
  bind(st, 4, c.from_name);
  bind(st, 5, c.caller_name);
  bind(st, 6, c.to_number);
  bind(st, 7, call_state_name(c.state));
  sqlite3_bind_int(st, 8, c.status_code);
  sqlite3_bind_double(st, 9, c.started_at);
  sqlite3_bind_double(st, 10, c.answered_at);
  sqlite3_bind_double(st, 11, c.ended_at);
  sqlite3_bind_int64(st, 12, c.rule_id);
  bind(st, 13, c.block_mode);
  if (sqlite3_step(st) != SQLITE_DONE) {
    RB_LOG_WARN("call log insert failed: %s", sqlite3_errmsg(_db));
    return 0;
  }
  return sqlite3_last_insert_rowid(_db);
}

void store::update_call(const call_record& c) {
  if (c.id == 0) return;
  sqlite3_stmt* st = prepare(k_update_call);
  reset_guard g{st};
  if (st == nullptr) return;
  sqlite3_bind_int64(st, 1, c.id);
  bind(st, 2, call_state_name(c.state));
  sqlite3_bind_int(st, 3, c.status_code);
  sqlite3_bind_double(st, 4, c.answered_at);
  sqlite3_bind_double(st, 5, c.ended_at);
  bind(st, 6, c.caller_name);
  if (sqlite3_step(st) != SQLITE_DONE)
    RB_LOG_WARN("call log update failed: %s", sqlite3_errmsg(_db));
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
  return c;
}

std::vector<call_record> store::calls(int limit, const std::string& number) {
  std::vector<call_record> out;
  sqlite3_stmt* st = prepare(number.empty() ? k_calls_all : k_calls_number);
  reset_guard g{st};
  if (st == nullptr) return out;
  sqlite3_bind_int(st, 1, limit);
  if (!number.empty()) bind(st, 2, number);
  while (sqlite3_step(st) == SQLITE_ROW) out.push_back(read_call(st));
  return out;
}

std::optional<call_record> store::call(int64_t id) {
  sqlite3_stmt* st = prepare(k_call_one);
  reset_guard g{st};
  if (st == nullptr) return std::nullopt;
  sqlite3_bind_int64(st, 1, id);
  if (sqlite3_step(st) != SQLITE_ROW) return std::nullopt;
  return read_call(st);
}

uint64_t store::call_count() {
  sqlite3_stmt* st = prepare(k_call_count);
  reset_guard g{st};
  if (st == nullptr || sqlite3_step(st) != SQLITE_ROW) return 0;
  return static_cast<uint64_t>(sqlite3_column_int64(st, 0));
}

std::optional<phonebook_entry> store::phonebook_get(const std::string& number) {
  sqlite3_stmt* st = prepare(k_pb_get);
  reset_guard g{st};
  if (st == nullptr) return std::nullopt;
  bind(st, 1, number);
  if (sqlite3_step(st) != SQLITE_ROW) return std::nullopt;
  return phonebook_entry{text(st, 0), text(st, 1), text(st, 2), sqlite3_column_double(st, 3)};
}

std::vector<phonebook_entry> store::phonebook_list() {
  std::vector<phonebook_entry> out;
  sqlite3_stmt* st = prepare(k_pb_list);
  reset_guard g{st};
  if (st == nullptr) return out;
  while (sqlite3_step(st) == SQLITE_ROW)
    out.push_back({text(st, 0), text(st, 1), text(st, 2), sqlite3_column_double(st, 3)});
  return out;
}

void store::phonebook_set(const std::string& number, const std::string& name,
                          const std::string& source) {
  sqlite3_stmt* st = prepare(source == "user" ? k_pb_set_user : k_pb_set_auto);
  reset_guard g{st};
  if (st == nullptr) return;
  bind(st, 1, number);
  bind(st, 2, name);
  sqlite3_bind_double(st, 3, now_s());
  if (sqlite3_step(st) != SQLITE_DONE)
    RB_LOG_WARN("phonebook write failed: %s", sqlite3_errmsg(_db));
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
  while (sqlite3_step(st) == SQLITE_ROW) out.push_back(read_filter(st));
  return out;
}

std::optional<stored_filter> store::filter(int64_t id) {
  sqlite3_stmt* st = prepare(k_filter_one);
  reset_guard g{st};
  if (st == nullptr) return std::nullopt;
  sqlite3_bind_int64(st, 1, id);
  if (sqlite3_step(st) != SQLITE_ROW) return std::nullopt;
  return read_filter(st);
}

int64_t store::filter_insert(const dp::filter_rule& r, const std::string& source) {
  sqlite3_stmt* st = prepare(k_filter_insert);
  reset_guard g{st};
  if (st == nullptr) return 0;
  bind_rule(st, 1, r);
  bind(st, 7, source);
  sqlite3_bind_double(st, 8, now_s());
  if (sqlite3_step(st) != SQLITE_DONE) {
    RB_LOG_WARN("filter insert failed: %s", sqlite3_errmsg(_db));
    return 0;
  }
  return sqlite3_last_insert_rowid(_db);
}

bool store::filter_update(const dp::filter_rule& r) {
  sqlite3_stmt* st = prepare(k_filter_update);
  reset_guard g{st};
  if (st == nullptr) return false;
  sqlite3_bind_int64(st, 1, r.id);
  bind_rule(st, 2, r);
  return sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(_db) > 0;
}

bool store::filter_delete(int64_t id) {
  sqlite3_stmt* st = prepare(k_filter_delete);
  reset_guard g{st};
  if (st == nullptr) return false;
  sqlite3_bind_int64(st, 1, id);
  return sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(_db) > 0;
}

void store::filters_delete_source(const std::string& source) {
  sqlite3_stmt* st = prepare(k_filter_delete_source);
  reset_guard g{st};
  if (st == nullptr) return;
  bind(st, 1, source);
  sqlite3_step(st);
}

uint32_t store::filter_max_position() {
  sqlite3_stmt* st = prepare(k_filter_max_position);
  reset_guard g{st};
  if (st == nullptr || sqlite3_step(st) != SQLITE_ROW) return 0;
  return static_cast<uint32_t>(sqlite3_column_int64(st, 0));
}

bool store::phonebook_delete(const std::string& number) {
  sqlite3_stmt* st = prepare(k_pb_delete);
  reset_guard g{st};
  if (st == nullptr) return false;
  bind(st, 1, number);
  return sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(_db) > 0;
}

}  // namespace ringbridge::ctl
