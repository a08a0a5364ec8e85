// SPDX-License-Identifier: BSD-3-Clause
// The SQLite database: the core's migration of the features' schema parts, and the
// features' tables on it — the call log and phonebook (persistence across reopen, queries,
// name precedence, retention) and the filter rules — and that hostile strings are data,
// not SQL.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>

#include <cstdlib>
#include <string>

#include "ringbridge/ctl/store.h"
#include "test_database.h"

namespace ringbridge::ctl {
namespace {

class store_test : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/rb_store_XXXXXX";
    dir = mkdtemp(tmpl);
    path = dir + "/ringbridge.db";
  }
  void TearDown() override {
    for (const char* suffix : {"", "-wal", "-shm"}) unlink((path + suffix).c_str());
    rmdir(dir.c_str());
  }
  std::string dir, path;
};

call_record make_call(const std::string& id, const std::string& from, double t) {
  call_record c;
  c.call_id = id;
  c.from_number = from;
  c.from_name = "Sent Name";
  c.caller_name = "Sent Name";
  c.to_number = "+15551230000";
  c.started_at = t;
  return c;
}

TEST_F(store_test, calls_survive_a_reopen_newest_first) {
  std::string err;
  {
    auto s = store::open(test_database(path), &err);
    ASSERT_TRUE(s) << err;
    call_store log(*s);
    for (int i = 0; i < 5; i++) {
      call_record c = make_call("call-" + std::to_string(i), "+1555000000" + std::to_string(i), i);
      c.id = log.insert_call(c);
      ASSERT_GT(c.id, 0);
      c.state = call_state::ended;
      c.answered_at = i + 1;
      c.ended_at = i + 61;
      c.status_code = 200;
      ASSERT_TRUE(log.write_call(c));
    }
  }
  auto s = store::open(test_database(path), &err);
  ASSERT_TRUE(s) << err;
  call_store log(*s);
  auto calls = log.calls(3, "");
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0].call_id, "call-4");
  EXPECT_EQ(calls[0].state, call_state::ended);
  EXPECT_DOUBLE_EQ(calls[0].duration_s(), 60);
  EXPECT_EQ(log.calls(10, "+15550000002").size(), 1u);
  EXPECT_EQ(log.calls(10, "+15551230000").size(), 5u) << "matches the callee too";
  EXPECT_EQ(log.call_count(), 5u);
  auto one = log.call(calls[2].id);
  ASSERT_TRUE(one);
  EXPECT_EQ(one->call_id, "call-2");
  EXPECT_FALSE(log.call(9999));
}

TEST_F(store_test, a_user_name_wins_over_auto_and_over_the_logged_name) {
  std::string err;
  auto s = store::open(test_database(path), &err);
  ASSERT_TRUE(s) << err;
  call_store log(*s);
  log.phonebook_set("+15557654321", "ALICE SMITH", "auto");
  EXPECT_EQ(log.phonebook_get("+15557654321")->name, "ALICE SMITH");
  call_record c = make_call("old", "+15557654321", 1);
  log.insert_call(c);
  log.phonebook_set("+15557654321", "Mom", "user");
  log.phonebook_set("+15557654321", "ALICE S (new)", "auto");  // must not overwrite
  auto e = log.phonebook_get("+15557654321");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->name, "Mom");
  EXPECT_EQ(e->source, "user");
  EXPECT_EQ(log.calls(1, "")[0].caller_name, "Mom") << "older calls show the user's name";
  EXPECT_TRUE(log.phonebook_delete("+15557654321"));
  EXPECT_FALSE(log.phonebook_delete("+15557654321"));
  EXPECT_EQ(log.calls(1, "")[0].caller_name, "Sent Name");
}

TEST_F(store_test, hostile_strings_are_stored_verbatim) {
  std::string err;
  auto s = store::open(test_database(path), &err);
  ASSERT_TRUE(s) << err;
  call_store log(*s);
  const std::string evil = "x'); DROP TABLE calls; --";
  call_record c = make_call(evil, evil, 1);
  c.from_name = std::string("nul\0byte", 8);
  ASSERT_GT(log.insert_call(c), 0);
  log.phonebook_set(evil, evil, "user");
  auto calls = log.calls(10, evil);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].call_id, evil);
  EXPECT_EQ(log.phonebook_get(evil)->name, evil);
  EXPECT_EQ(log.call_count(), 1u);
}

TEST_F(store_test, an_unwritable_directory_is_reported_with_the_path) {
  std::string err;
  EXPECT_FALSE(store::open(test_database("/nonexistent/dir/ringbridge.db"), &err));
  EXPECT_NE(err.find("/nonexistent/dir/ringbridge.db"), std::string::npos) << err;
  EXPECT_NE(err.find("state_dir"), std::string::npos) << err;
}

}  // namespace
}  // namespace ringbridge::ctl

namespace ringbridge::ctl {
namespace {

// A second connection, as another process (sqlite3 CLI) or an HTTP thread would hold one.
struct raw_db {
  sqlite3* db = nullptr;
  explicit raw_db(const std::string& path) { sqlite3_open(path.c_str(), &db); }
  ~raw_db() { sqlite3_close(db); }
  int exec(const char* sql) { return sqlite3_exec(db, sql, nullptr, nullptr, nullptr); }
};

TEST_F(store_test, a_version_2_log_is_migrated_with_its_rows_counted) {
  {
    raw_db r(path);
    ASSERT_EQ(r.exec(R"SQL(
CREATE TABLE calls (id INTEGER PRIMARY KEY AUTOINCREMENT, call_id TEXT NOT NULL,
  direction TEXT NOT NULL, from_number TEXT NOT NULL, from_name TEXT NOT NULL,
  caller_name TEXT NOT NULL, to_number TEXT NOT NULL, state TEXT NOT NULL,
  status_code INTEGER NOT NULL DEFAULT 0, started_at REAL NOT NULL,
  answered_at REAL NOT NULL DEFAULT 0, ended_at REAL NOT NULL DEFAULT 0,
  rule_id INTEGER NOT NULL DEFAULT 0, block_mode TEXT NOT NULL DEFAULT '');
CREATE TABLE phonebook (number TEXT PRIMARY KEY, name TEXT NOT NULL,
  source TEXT NOT NULL CHECK (source IN ('user', 'auto')), updated_at REAL NOT NULL);
INSERT INTO calls (call_id, direction, from_number, from_name, caller_name, to_number, state,
  started_at) VALUES ('a', 'inbound', '1', 'N', 'N', '2', 'ringing', 1),
  ('b', 'inbound', '1', X'FF', 'N', '2', 'answered', 2),
  ('c', 'inbound', '1', 'N', 'N', '2', 'ended', 3);
INSERT INTO phonebook VALUES ('1', 'A', 'auto', 1), ('2', 'B', 'auto', 2), ('3', 'C', 'user', 3);
PRAGMA user_version = 2;
)SQL"),
              SQLITE_OK);
  }
  std::string err;
  auto s = store::open(test_database(path), &err);
  ASSERT_TRUE(s) << err;
  call_store log(*s);
  EXPECT_EQ(s->journal_mode(), "wal");
  EXPECT_EQ(log.call_count(), 3u);
  EXPECT_EQ(log.phonebook_auto_count(), 2u);
  EXPECT_EQ(log.last_call_id(), 3);
  // Text older versions stored as it came is valid UTF-8 on the way out.
  auto b = log.call(2);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->from_name, "\xEF\xBF\xBD");
  // The calls that were open are closed with the reason, only up to the given row.
  EXPECT_EQ(log.close_interrupted(1, "stopped"), 1);
  EXPECT_EQ(log.call(1)->state, call_state::interrupted);
  EXPECT_EQ(log.call(1)->end_reason, "stopped");
  EXPECT_EQ(log.call(2)->state, call_state::answered);
  EXPECT_EQ(log.close_interrupted(3, "stopped"), 1);
  EXPECT_EQ(log.call(3)->state, call_state::ended) << "finished calls are left alone";
  EXPECT_EQ(log.close_interrupted(3, "stopped"), 0);
  // The filters part's version 1 table, which this log never had, is there now.
  filter_store rules(*s);
  dp::filter_rule r;
  r.pattern = "+15550001111";
  EXPECT_GT(rules.filter_insert(r, "api"), 0);
  EXPECT_EQ(rules.filters().size(), 1u);
  // A second open finds the current version: nothing to migrate, nothing written (it
  // opens while another connection holds the write lock).
  raw_db other(path);
  ASSERT_EQ(other.exec("BEGIN IMMEDIATE"), SQLITE_OK);
  const auto t0 = std::chrono::steady_clock::now();
  auto again = store::open(test_database(path), &err);
  ASSERT_TRUE(again) << err;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
  ASSERT_EQ(other.exec("COMMIT"), SQLITE_OK);
}

// The user_version a database holds, read by a connection of its own.
int user_version(const std::string& path) {
  raw_db r(path);
  sqlite3_stmt* st = nullptr;
  int v = -1;
  if (sqlite3_prepare_v2(r.db, "PRAGMA user_version", -1, &st, nullptr) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    v = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  return v;
}

TEST_F(store_test, schema_parts_migrate_version_by_version_across_features) {
  // Two features, the second listed first: its version 3 step needs the first's version 2
  // column, so it only works when steps run version by version, not part by part.
  const schema_part first{
      "first",
      {{1, "CREATE TABLE IF NOT EXISTS a (x INTEGER); INSERT INTO a (x) VALUES (1);"},
       {2, "ALTER TABLE a ADD COLUMN y INTEGER DEFAULT 7;"}}};
  const schema_part second{
      "second",
      {{1, "CREATE TABLE IF NOT EXISTS b (x INTEGER);"},
       {3, "INSERT INTO b SELECT y FROM a; ALTER TABLE b ADD COLUMN z TEXT;"}}};
  std::string err;
  {
    auto s = store::open({path, {second, first}}, &err);
    ASSERT_TRUE(s) << err;
  }
  EXPECT_EQ(user_version(path), 3) << "the highest step of all parts";
  raw_db r(path);
  EXPECT_EQ(r.exec("SELECT z FROM b"), SQLITE_OK);
  int copied = 0;
  sqlite3_exec(
      r.db, "SELECT x FROM b",
      [](void* out, int, char** v, char**) {
        *static_cast<int*>(out) = std::atoi(v[0]);
        return 0;
      },
      &copied, nullptr);
  EXPECT_EQ(copied, 7);
}

TEST_F(store_test, a_failing_step_leaves_the_database_as_it_was) {
  std::string err;
  {
    raw_db r(path);
    ASSERT_EQ(r.exec("CREATE TABLE a (x INTEGER); PRAGMA user_version = 1;"), SQLITE_OK);
  }
  const schema_part broken{"broken",
                           {{1, "CREATE TABLE IF NOT EXISTS a (x INTEGER);"},
                            {2, "CREATE TABLE b (x INTEGER);"},
                            {3, "ALTER TABLE missing ADD COLUMN y INTEGER;"}}};
  EXPECT_FALSE(store::open({path, {broken}}, &err));
  EXPECT_NE(err.find(path), std::string::npos) << err;
  EXPECT_NE(err.find("missing"), std::string::npos) << err;
  EXPECT_EQ(user_version(path), 1);
  raw_db r(path);
  EXPECT_NE(r.exec("SELECT x FROM b"), SQLITE_OK) << "version 2's step was rolled back";
}

TEST_F(store_test, filter_rules_round_trip_in_order_and_by_source) {
  std::string err;
  auto s = store::open(test_database(path), &err);
  ASSERT_TRUE(s) << err;
  filter_store rules(*s);
  EXPECT_EQ(rules.filter_max_position(), 0u);
  dp::filter_rule r;
  r.match = dp::filter_match::number;
  r.syntax = dp::filter_syntax::exact;
  r.action = dp::filter_action::block;
  r.mode = dp::block_mode::busy;
  r.pattern = "x'); DROP TABLE filters; --";
  r.position = 20;
  const int64_t evil = rules.filter_insert(r, "api");
  ASSERT_GT(evil, 0);
  r.pattern = "+15550001111";
  r.position = 10;
  const int64_t first = rules.filter_insert(r, "import");
  r.pattern = "+15550002222";
  r.action = dp::filter_action::allow;
  rules.filter_insert(r, "import");
  r.pattern = "+15550003333";
  rules.filter_insert(r, "config");

  auto all = rules.filters();
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0].rule.id, first) << "by position, then id";
  EXPECT_EQ(all[3].rule.pattern, "x'); DROP TABLE filters; --");
  EXPECT_EQ(all[3].rule.mode, dp::block_mode::busy);
  EXPECT_EQ(all[3].source, "api");
  EXPECT_GT(all[3].created_at, 0);
  EXPECT_EQ(rules.filter_max_position(), 20u);
  EXPECT_EQ(rules.filter_exact_numbers("import", dp::filter_action::block),
            std::vector<std::string>{"+15550001111"});

  auto one = rules.filter(first);
  ASSERT_TRUE(one);
  one->rule.position = 30;
  one->rule.pattern = "+15559999999";
  EXPECT_TRUE(rules.filter_update(one->rule));
  EXPECT_EQ(rules.filter(first)->rule.pattern, "+15559999999");
  EXPECT_EQ(rules.filter_max_position(), 30u);
  one->rule.id = 9999;
  EXPECT_FALSE(rules.filter_update(one->rule)) << "no such rule";

  rules.filters_delete_source("config");
  EXPECT_EQ(rules.filters().size(), 3u);
  EXPECT_TRUE(rules.filter_delete(evil));
  EXPECT_FALSE(rules.filter_delete(evil));
  EXPECT_FALSE(rules.filter(evil));
  EXPECT_EQ(rules.filters().size(), 2u);
}

TEST_F(store_test, retention_deletes_the_oldest_in_bounded_batches) {
  std::string err;
  auto s = store::open(test_database(path), &err);
  ASSERT_TRUE(s) << err;
  call_store log(*s);
  for (int i = 1; i <= 50; i++) {
    call_record c = make_call("c" + std::to_string(i), "+1555", 1000 + i);
    c.id = i;
    ASSERT_TRUE(log.write_call(c));
  }
  EXPECT_EQ(log.call_count(), 50u);
  EXPECT_EQ(log.prune_calls_over(40, 3), 3) << "never more than the batch";
  EXPECT_EQ(log.prune_calls_over(40, 1000), 7);
  EXPECT_EQ(log.call_count(), 40u);
  EXPECT_FALSE(log.call(10));
  EXPECT_TRUE(log.call(11));
  EXPECT_EQ(log.prune_calls_over(40, 1000), 0);
  EXPECT_DOUBLE_EQ(log.oldest_call_start(), 1011);
  EXPECT_EQ(log.prune_calls_before(1021, 1000), 10);  // started 1011..1020
  EXPECT_EQ(log.call_count(), 30u);
  EXPECT_EQ(log.last_call_id(), 50);
  EXPECT_EQ(log.prune_calls_over(0, 1000), 30);
  EXPECT_EQ(log.last_call_id(), 50) << "ids are never reused, even with the log empty";

  for (int i = 0; i < 10; i++)
    ASSERT_TRUE(log.phonebook_set("+1" + std::to_string(i), "auto", "auto", 100 + i));
  ASSERT_TRUE(log.phonebook_set("+1user", "Mom", "user"));
  ASSERT_TRUE(log.phonebook_set("+19", "Dad", "user"));  // an automatic row becomes the user's
  EXPECT_EQ(log.phonebook_auto_count(), 9u);
  EXPECT_EQ(log.prune_phonebook_auto(4, 1000), 5);
  EXPECT_EQ(log.phonebook_auto_count(), 4u);
  EXPECT_FALSE(log.phonebook_get("+10"));
  EXPECT_TRUE(log.phonebook_get("+15"));  // the 4 most recently updated stay
  EXPECT_EQ(log.phonebook_get("+1user")->name, "Mom");
  EXPECT_EQ(log.phonebook_get("+19")->name, "Dad");
  EXPECT_TRUE(log.phonebook_delete("+18"));
  EXPECT_EQ(log.phonebook_auto_count(), 3u);
}

TEST_F(store_test, a_locked_database_fails_at_once_and_is_counted_as_busy) {
  std::string err;
  auto s = store::open(test_database(path), &err);
  ASSERT_TRUE(s) << err;
  call_store log(*s);
  storage_stats stats;
  s->set_stats(&stats);
  s->set_busy_timeout(0);
  raw_db other(path);
  ASSERT_EQ(other.exec("BEGIN IMMEDIATE"), SQLITE_OK);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(s->begin());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(100));
  EXPECT_EQ(s->last_failure(), storage_error::busy);
  EXPECT_EQ(stats.errors[static_cast<int>(storage_op::begin)][static_cast<int>(storage_error::busy)]
                .load(),
            1u);
  EXPECT_FALSE(s->in_transaction());
  // Reads still work while another connection writes (WAL).
  EXPECT_EQ(log.call_count(), 0u);
  ASSERT_EQ(other.exec("COMMIT"), SQLITE_OK);
  EXPECT_TRUE(s->begin());
  EXPECT_TRUE(s->commit());
  EXPECT_EQ(stats.errors_total(), 1u);
  EXPECT_NE(stats.last_error().find("busy"), std::string::npos) << stats.last_error();
}

}  // namespace
}  // namespace ringbridge::ctl
