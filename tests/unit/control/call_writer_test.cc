// SPDX-License-Identifier: BSD-3-Clause
// The control thread's call log writer on a real SQLite file: it never waits for a lock,
// keeps what it could not write (bounded), merges a call's later changes into what is
// pending so no update is orphaned, and keeps the retention caps under a flood.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "ringbridge/sip/call_writer.h"
#include "test_database.h"

namespace ringbridge::ctl {
namespace {

class call_writer_test : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/rb_writer_XXXXXX";
    dir = mkdtemp(tmpl);
    path = dir + "/ringbridge.db";
    std::string err;
    db = store::open(test_database(path), &err);
    ASSERT_TRUE(db) << err;
    log = std::make_unique<call_store>(*db);
    db->set_stats(&stats);
    db->set_busy_timeout(0);  // as the control thread's connection
  }
  void TearDown() override {
    log.reset();
    db.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) unlink((path + suffix).c_str());
    rmdir(dir.c_str());
  }
  // Another connection holding the write lock (a bulk import, the sqlite3 CLI).
  void lock() {
    sqlite3_open(path.c_str(), &other);
    ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  }
  void unlock() {
    sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr);
    sqlite3_close(other);
    other = nullptr;
  }
  std::string dir, path;
  storage_stats stats;
  std::unique_ptr<store> db;
  std::unique_ptr<call_store> log;  // the rows the writer wrote, over db
  sqlite3* other = nullptr;
};

call_record call(int64_t id, double started = 1000) {
  call_record c;
  c.id = id;
  c.call_id = "call-" + std::to_string(id);
  c.from_number = "+1555" + std::to_string(id);
  c.from_name = c.caller_name = "Caller";
  c.to_number = "100";
  c.started_at = started;
  return c;
}

TEST_F(call_writer_test, a_locked_database_keeps_changes_pending_and_merges_later_updates) {
  call_writer w(*db, {}, stats);
  lock();
  call_record c = call(7);
  w.put_call(c);
  w.put_phonebook(c.from_number, "Caller", 1000);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(w.flush(1.0), 0u);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(50)) << "waited";
  EXPECT_TRUE(w.degraded());
  EXPECT_TRUE(stats.degraded.load());
  EXPECT_EQ(stats.pending.load(), 2u);
  // The call goes on while its insert is pending: answered, then ended.
  c.state = call_state::answered;
  c.answered_at = 1005;
  w.put_call(c);
  c.state = call_state::ended;
  c.ended_at = 1065;
  w.put_call(c);
  EXPECT_EQ(w.pending(), 2u) << "merged into the pending row";
  EXPECT_EQ(w.flush(1.01), 0u) << "before the retry time: not even tried";
  EXPECT_EQ(w.flush(1.05), 0u) << "still locked";
  unlock();
  EXPECT_EQ(w.flush(1.1), 2u);
  EXPECT_FALSE(w.degraded());
  EXPECT_EQ(stats.pending.load(), 0u);
  auto row = log->call(7);
  ASSERT_TRUE(row);
  EXPECT_EQ(row->state, call_state::ended);
  EXPECT_DOUBLE_EQ(row->duration_s(), 60);
  EXPECT_EQ(log->phonebook_get("+15557")->name, "Caller");
  EXPECT_GE(stats.errors[static_cast<int>(storage_op::begin)][static_cast<int>(storage_error::busy)]
                .load(),
            2u);
}

TEST_F(call_writer_test, updates_after_a_written_insert_update_the_row) {
  call_writer w(*db, {}, stats);
  call_record c = call(1);
  w.put_call(c);
  EXPECT_EQ(w.flush(1), 1u);
  c.state = call_state::failed;
  c.status_code = 486;
  c.ended_at = 1002;
  w.put_call(c);
  EXPECT_EQ(w.flush(2), 1u);
  EXPECT_EQ(log->call(1)->status_code, 486);
  EXPECT_EQ(log->call_count(), 1u);
}

TEST_F(call_writer_test, a_full_queue_drops_the_oldest_and_counts_it) {
  call_writer::options o;
  o.max_pending = 10;
  call_writer w(*db, {}, stats, o);
  lock();
  for (int i = 1; i <= 15; i++) w.put_call(call(i));
  EXPECT_EQ(w.pending(), 10u);
  EXPECT_EQ(stats.pending_dropped.load(), 5u);
  unlock();
  EXPECT_EQ(w.flush(10), 10u);
  EXPECT_FALSE(log->call(5));
  EXPECT_TRUE(log->call(6));
  EXPECT_TRUE(log->call(15));
}

TEST_F(call_writer_test, a_flood_stays_within_the_caps_and_user_names_are_never_deleted) {
  storage_limits lim;
  lim.max_calls = 100;
  lim.phonebook_auto_max = 100;
  lim.max_call_age_days = 0;
  ASSERT_TRUE(log->phonebook_set("+1mom", "Mom", "user"));
  call_writer w(*db, lim, stats);
  for (int round = 0; round < 10; round++) {
    for (int i = 0; i < 500; i++) {
      const int id = round * 500 + i + 1;
      w.put_call(call(id));
      w.put_phonebook("+1spoof" + std::to_string(id), "Spoofed", 1000 + id);
    }
    w.flush(round);
    EXPECT_LE(log->call_count(), 100u);
    EXPECT_LE(log->phonebook_auto_count(), 100u);
  }
  EXPECT_EQ(log->call_count(), 100u);
  EXPECT_TRUE(log->call(5000));
  EXPECT_FALSE(log->call(4900));
  EXPECT_EQ(log->phonebook_get("+1mom")->name, "Mom");
  EXPECT_TRUE(log->phonebook_get("+1spoof5000"));
  EXPECT_EQ(stats.pruned_calls.load(), 4900u);
  EXPECT_EQ(stats.pruned_phonebook.load(), 4900u);
}

TEST_F(call_writer_test, calls_older_than_the_age_limit_go_in_housekeeping) {
  storage_limits lim;
  lim.max_call_age_days = 365;
  call_writer w(*db, lim, stats);
  const double now = 2'000'000'000;
  for (int i = 1; i <= 5; i++) w.put_call(call(i, now - 400 * 86400.0));
  for (int i = 6; i <= 8; i++) w.put_call(call(i, now - 10 * 86400.0));
  w.flush(1);
  EXPECT_EQ(log->call_count(), 8u);
  w.prune(now, 2);
  EXPECT_EQ(log->call_count(), 3u);
  EXPECT_EQ(stats.pruned_calls.load(), 5u);
  w.prune(now, 3);
  EXPECT_EQ(log->call_count(), 3u);
}

}  // namespace
}  // namespace ringbridge::ctl
