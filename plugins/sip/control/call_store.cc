// SPDX-License-Identifier: BSD-3-Clause
// The call log and phonebook tables: their schema steps and every statement on them,
// prepared once per connection (the core's cache) with every value bound.
#include "ringbridge/sip/call_store.h"

#include <sqlite3.h>

#include <algorithm>

namespace ringbridge::ctl {

namespace {

// Version 1: the call log and the phonebook.
constexpr const char* k_schema_1 = R"SQL(
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
// The caller name a call shows: a name the user set wins, for older calls too.
#define RB_CALL_SELECT                                                                       \
  "SELECT c.id, c.call_id, c.direction, c.from_number, c.from_name, "                        \
  "COALESCE(p.name, c.caller_name), c.to_number, c.state, c.status_code, c.started_at, "     \
  "c.answered_at, c.ended_at, c.rule_id, c.block_mode, c.end_reason FROM calls c LEFT JOIN " \
  "phonebook p ON p.number = c.from_number AND p.source = 'user' AND c.from_number != '' "

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
call_state state_from(const std::string& s) {
#define RB_CALL_STATE_FROM(name, help) \
  if (s == #name) return call_state::name;
  RB_CALL_FOREACH_STATE(RB_CALL_STATE_FROM)
#undef RB_CALL_STATE_FROM
  return call_state::timeout;
}

}  // namespace

const schema_part& call_store::schema() {
  static const schema_part part{"calls", {{1, k_schema_1}, {2, k_migrate_2}, {3, k_migrate_3}}};
  return part;
}

namespace {
void bind_call(sqlite3_stmt* st, const call_record& c) {
  if (c.id != 0) sqlite3_bind_int64(st, 1, c.id);
  sql_bind(st, 2, c.call_id);
  sql_bind(st, 3, direction_name(c.direction));
  sql_bind(st, 4, c.from_number);
  sql_bind(st, 5, c.from_name);
  sql_bind(st, 6, c.caller_name);
  sql_bind(st, 7, c.to_number);
  sql_bind(st, 8, call_state_name(c.state));
  sqlite3_bind_int(st, 9, c.status_code);
  sqlite3_bind_double(st, 10, c.started_at);
  sqlite3_bind_double(st, 11, c.answered_at);
  sqlite3_bind_double(st, 12, c.ended_at);
  sqlite3_bind_int64(st, 13, c.rule_id);
  sql_bind(st, 14, c.block_mode);
  sql_bind(st, 15, c.end_reason);
}
}  // namespace

int64_t call_store::insert_call(const call_record& c) {
  sqlite3_stmt* st = _db.prepare(k_insert_call);
  sql_reset g{st};
  if (st == nullptr) return 0;
  bind_call(st, c);
  if (!_db.step_done(st, storage_op::write, "call log insert")) return 0;
  return _db.last_insert_rowid();
}

bool call_store::write_call(const call_record& c) {
  if (c.id <= 0) return false;
  sqlite3_stmt* st = _db.prepare(k_write_call);
  sql_reset g{st};
  if (st == nullptr) return false;
  bind_call(st, c);
  return _db.step_done(st, storage_op::write, "call log write");
}

int64_t call_store::last_call_id() {
  sqlite3_stmt* st = _db.prepare(k_last_call_id);
  sql_reset g{st};
  if (st == nullptr) return -1;
  const int rc = sqlite3_step(st);
  if (rc != SQLITE_ROW) return _db.failed(storage_op::read, rc, "last call id"), -1;
  return sqlite3_column_int64(st, 0);
}

int64_t call_store::close_interrupted(int64_t up_to, const std::string& reason) {
  sqlite3_stmt* st = _db.prepare(k_close_interrupted);
  sql_reset g{st};
  if (st == nullptr) return -1;
  sqlite3_bind_int64(st, 1, up_to);
  sql_bind(st, 2, reason);
  if (!_db.step_done(st, storage_op::write, "closing interrupted calls")) return -1;
  return _db.changes();
}

namespace {
call_record read_call(sqlite3_stmt* st) {
  call_record c;
  c.id = sqlite3_column_int64(st, 0);
  c.call_id = sql_text(st, 1);
  c.direction = sql_text(st, 2) == "outbound" ? call_direction::outbound : call_direction::inbound;
  c.from_number = sql_text(st, 3);
  c.from_name = sql_text(st, 4);
  c.caller_name = sql_text(st, 5);
  c.to_number = sql_text(st, 6);
  c.state = state_from(sql_text(st, 7));
  c.status_code = sqlite3_column_int(st, 8);
  c.started_at = sqlite3_column_double(st, 9);
  c.answered_at = sqlite3_column_double(st, 10);
  c.ended_at = sqlite3_column_double(st, 11);
  c.rule_id = sqlite3_column_int64(st, 12);
  c.block_mode = sql_text(st, 13);
  c.end_reason = sql_text(st, 14);
  return c;
}
}  // namespace

std::vector<call_record> call_store::calls(int limit, const std::string& number) {
  std::vector<call_record> out;
  sqlite3_stmt* st = _db.prepare(number.empty() ? k_calls_all : k_calls_number);
  sql_reset g{st};
  if (st == nullptr) return out;
  sqlite3_bind_int(st, 1, limit);
  if (!number.empty()) sql_bind(st, 2, number);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) out.push_back(read_call(st));
  if (rc != SQLITE_DONE) _db.failed(storage_op::read, rc, "call log read");
  return out;
}

std::optional<call_record> call_store::call(int64_t id) {
  sqlite3_stmt* st = _db.prepare(k_call_one);
  sql_reset g{st};
  if (st == nullptr) return std::nullopt;
  sqlite3_bind_int64(st, 1, id);
  const int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) return read_call(st);
  if (rc != SQLITE_DONE) _db.failed(storage_op::read, rc, "call log read");
  return std::nullopt;
}

namespace {
constexpr const char* k_count_calls = "calls";
constexpr const char* k_count_phonebook_auto = "phonebook_auto";
}  // namespace

uint64_t call_store::call_count() {
  sqlite3_stmt* st = _db.prepare(k_row_count);
  sql_reset g{st};
  if (st == nullptr) return 0;
  sqlite3_bind_text(st, 1, k_count_calls, -1, SQLITE_STATIC);
  const int rc = sqlite3_step(st);
  if (rc != SQLITE_ROW) return _db.failed(storage_op::read, rc, "row count"), 0;
  return static_cast<uint64_t>(std::max<int64_t>(0, sqlite3_column_int64(st, 0)));
}

uint64_t call_store::phonebook_auto_count() {
  sqlite3_stmt* st = _db.prepare(k_row_count);
  sql_reset g{st};
  if (st == nullptr) return 0;
  sqlite3_bind_text(st, 1, k_count_phonebook_auto, -1, SQLITE_STATIC);
  const int rc = sqlite3_step(st);
  if (rc != SQLITE_ROW) return _db.failed(storage_op::read, rc, "row count"), 0;
  return static_cast<uint64_t>(std::max<int64_t>(0, sqlite3_column_int64(st, 0)));
}

int64_t call_store::delete_rows(const char* sql, storage_op op,
                                const std::function<void(sqlite3_stmt*)>& bind_args) {
  sqlite3_stmt* st = _db.prepare(sql);
  sql_reset g{st};
  if (st == nullptr) return -1;
  bind_args(st);
  if (!_db.step_done(st, op, "retention delete")) return -1;
  return _db.changes();
}

int64_t call_store::prune_calls_over(uint64_t keep, int limit) {
  const uint64_t n = call_count();
  if (n <= keep || limit <= 0) return 0;
  const int64_t excess =
      static_cast<int64_t>(std::min<uint64_t>(n - keep, static_cast<uint64_t>(limit)));
  return delete_rows(k_prune_calls_oldest, storage_op::prune,
                     [&](sqlite3_stmt* st) { sqlite3_bind_int64(st, 1, excess); });
}

double call_store::oldest_call_start() {
  sqlite3_stmt* st = _db.prepare(k_oldest_call);
  sql_reset g{st};
  if (st == nullptr) return 0;
  const int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) return sqlite3_column_double(st, 0);
  if (rc != SQLITE_DONE) _db.failed(storage_op::read, rc, "call log read");
  return 0;
}

int64_t call_store::prune_calls_before(double cutoff, int limit) {
  return delete_rows(k_prune_calls_before, storage_op::prune, [&](sqlite3_stmt* st) {
    sqlite3_bind_double(st, 1, cutoff);
    sqlite3_bind_int(st, 2, limit);
  });
}

int64_t call_store::prune_phonebook_auto(uint64_t keep, int limit) {
  const uint64_t n = phonebook_auto_count();
  if (n <= keep || limit <= 0) return 0;
  const int64_t excess =
      static_cast<int64_t>(std::min<uint64_t>(n - keep, static_cast<uint64_t>(limit)));
  return delete_rows(k_prune_phonebook_auto, storage_op::prune,
                     [&](sqlite3_stmt* st) { sqlite3_bind_int64(st, 1, excess); });
}

std::optional<phonebook_entry> call_store::phonebook_get(const std::string& number) {
  sqlite3_stmt* st = _db.prepare(k_pb_get);
  sql_reset g{st};
  if (st == nullptr) return std::nullopt;
  sql_bind(st, 1, number);
  const int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    return phonebook_entry{sql_text(st, 0), sql_text(st, 1), sql_text(st, 2),
                           sqlite3_column_double(st, 3)};
  if (rc != SQLITE_DONE) _db.failed(storage_op::read, rc, "phonebook read");
  return std::nullopt;
}

std::vector<phonebook_entry> call_store::phonebook_list() {
  std::vector<phonebook_entry> out;
  sqlite3_stmt* st = _db.prepare(k_pb_list);
  sql_reset g{st};
  if (st == nullptr) return out;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW)
    out.push_back(
        {sql_text(st, 0), sql_text(st, 1), sql_text(st, 2), sqlite3_column_double(st, 3)});
  if (rc != SQLITE_DONE) _db.failed(storage_op::read, rc, "phonebook read");
  return out;
}

bool call_store::phonebook_set(const std::string& number, const std::string& name,
                               const std::string& source, double when) {
  sqlite3_stmt* st = _db.prepare(source == "user" ? k_pb_set_user : k_pb_set_auto);
  sql_reset g{st};
  if (st == nullptr) return false;
  sql_bind(st, 1, number);
  sql_bind(st, 2, name);
  sqlite3_bind_double(st, 3, when > 0 ? when : sql_now());
  return _db.step_done(st, storage_op::write, "phonebook write");
}

bool call_store::phonebook_delete(const std::string& number) {
  sqlite3_stmt* st = _db.prepare(k_pb_delete);
  sql_reset g{st};
  if (st == nullptr) return false;
  sql_bind(st, 1, number);
  return _db.step_done(st, storage_op::write, "phonebook delete") && _db.changes() > 0;
}

}  // namespace ringbridge::ctl
