// SPDX-License-Identifier: BSD-3-Clause
// The filter rule table: its schema step and every statement on it, prepared once per
// connection (the core's cache) with every value bound.
#include "ringbridge/filters/filter_store.h"

#include <sqlite3.h>

namespace ringbridge::ctl {

namespace {

// Version 1: the rules.
constexpr const char* k_schema_1 = R"SQL(
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
)SQL";

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

}  // namespace

const schema_part& filter_store::schema() {
  static const schema_part part{"filters", {{1, k_schema_1}}};
  return part;
}

namespace {
void bind_rule(sqlite3_stmt* st, int first, const dp::filter_rule& r) {
  sqlite3_bind_int64(st, first, r.position);
  sql_bind(st, first + 1, dp::filter_match_name(r.match));
  sql_bind(st, first + 2, dp::filter_syntax_name(r.syntax));
  sql_bind(st, first + 3, r.pattern);
  sql_bind(st, first + 4, dp::filter_action_name(r.action));
  sql_bind(st, first + 5, dp::block_mode_name(r.mode));
}

stored_filter read_filter(sqlite3_stmt* st) {
  stored_filter f;
  f.rule.id = static_cast<uint32_t>(sqlite3_column_int64(st, 0));
  f.rule.position = static_cast<uint32_t>(sqlite3_column_int64(st, 1));
  dp::parse_filter_match(sql_text(st, 2), &f.rule.match);
  dp::parse_filter_syntax(sql_text(st, 3), &f.rule.syntax);
  f.rule.pattern = sql_text(st, 4);
  dp::parse_filter_action(sql_text(st, 5), &f.rule.action);
  dp::parse_block_mode(sql_text(st, 6), &f.rule.mode);
  f.source = sql_text(st, 7);
  f.created_at = sqlite3_column_double(st, 8);
  return f;
}
}  // namespace

std::vector<stored_filter> filter_store::filters() {
  std::vector<stored_filter> out;
  sqlite3_stmt* st = _db.prepare(k_filters_all);
  sql_reset g{st};
  if (st == nullptr) return out;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) out.push_back(read_filter(st));
  if (rc != SQLITE_DONE) _db.failed(storage_op::read, rc, "filter read");
  return out;
}

std::optional<stored_filter> filter_store::filter(int64_t id) {
  sqlite3_stmt* st = _db.prepare(k_filter_one);
  sql_reset g{st};
  if (st == nullptr) return std::nullopt;
  sqlite3_bind_int64(st, 1, id);
  const int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) return read_filter(st);
  if (rc != SQLITE_DONE) _db.failed(storage_op::read, rc, "filter read");
  return std::nullopt;
}

std::vector<std::string> filter_store::filter_exact_numbers(const std::string& source,
                                                            dp::filter_action a) {
  std::vector<std::string> out;
  sqlite3_stmt* st = _db.prepare(k_filter_exact_numbers);
  sql_reset g{st};
  if (st == nullptr) return out;
  sql_bind(st, 1, source);
  sql_bind(st, 2, dp::filter_action_name(a));
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) out.push_back(sql_text(st, 0));
  if (rc != SQLITE_DONE) _db.failed(storage_op::read, rc, "filter read");
  return out;
}

int64_t filter_store::filter_insert(const dp::filter_rule& r, const std::string& source) {
  sqlite3_stmt* st = _db.prepare(k_filter_insert);
  sql_reset g{st};
  if (st == nullptr) return 0;
  bind_rule(st, 1, r);
  sql_bind(st, 7, source);
  sqlite3_bind_double(st, 8, sql_now());
  if (!_db.step_done(st, storage_op::write, "filter insert")) return 0;
  return _db.last_insert_rowid();
}

bool filter_store::filter_update(const dp::filter_rule& r) {
  sqlite3_stmt* st = _db.prepare(k_filter_update);
  sql_reset g{st};
  if (st == nullptr) return false;
  sqlite3_bind_int64(st, 1, r.id);
  bind_rule(st, 2, r);
  return _db.step_done(st, storage_op::write, "filter update") && _db.changes() > 0;
}

bool filter_store::filter_delete(int64_t id) {
  sqlite3_stmt* st = _db.prepare(k_filter_delete);
  sql_reset g{st};
  if (st == nullptr) return false;
  sqlite3_bind_int64(st, 1, id);
  return _db.step_done(st, storage_op::write, "filter delete") && _db.changes() > 0;
}

void filter_store::filters_delete_source(const std::string& source) {
  sqlite3_stmt* st = _db.prepare(k_filter_delete_source);
  sql_reset g{st};
  if (st == nullptr) return;
  sql_bind(st, 1, source);
  _db.step_done(st, storage_op::write, "filter delete");
}

uint32_t filter_store::filter_max_position() {
  sqlite3_stmt* st = _db.prepare(k_filter_max_position);
  sql_reset g{st};
  if (st == nullptr) return 0;
  const int rc = sqlite3_step(st);
  if (rc != SQLITE_ROW) return _db.failed(storage_op::read, rc, "filter read"), 0;
  return static_cast<uint32_t>(sqlite3_column_int64(st, 0));
}

}  // namespace ringbridge::ctl
