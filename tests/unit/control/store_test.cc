// SPDX-License-Identifier: BSD-3-Clause
// The SQLite call log and phonebook: persistence across reopen, queries, name precedence,
// and that hostile strings are data, not SQL.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "ringbridge/ctl/store.h"

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
    auto s = store::open(path, &err);
    ASSERT_TRUE(s) << err;
    for (int i = 0; i < 5; i++) {
      call_record c = make_call("call-" + std::to_string(i), "+1555000000" + std::to_string(i), i);
      c.id = s->insert_call(c);
      ASSERT_GT(c.id, 0);
      c.state = call_state::ended;
      c.answered_at = i + 1;
      c.ended_at = i + 61;
      c.status_code = 200;
      ASSERT_TRUE(s->write_call(c));
    }
  }
  auto s = store::open(path, &err);
  ASSERT_TRUE(s) << err;
  auto calls = s->calls(3, "");
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0].call_id, "call-4");
  EXPECT_EQ(calls[0].state, call_state::ended);
  EXPECT_DOUBLE_EQ(calls[0].duration_s(), 60);
  EXPECT_EQ(s->calls(10, "+15550000002").size(), 1u);
  EXPECT_EQ(s->calls(10, "+15551230000").size(), 5u) << "matches the callee too";
  EXPECT_EQ(s->call_count(), 5u);
  auto one = s->call(calls[2].id);
  ASSERT_TRUE(one);
  EXPECT_EQ(one->call_id, "call-2");
  EXPECT_FALSE(s->call(9999));
}

TEST_F(store_test, a_user_name_wins_over_auto_and_over_the_logged_name) {
  std::string err;
  auto s = store::open(path, &err);
  ASSERT_TRUE(s) << err;
  s->phonebook_set("+15557654321", "ALICE SMITH", "auto");
  EXPECT_EQ(s->phonebook_get("+15557654321")->name, "ALICE SMITH");
  call_record c = make_call("old", "+15557654321", 1);
  s->insert_call(c);
  s->phonebook_set("+15557654321", "Mom", "user");
  s->phonebook_set("+15557654321", "ALICE S (new)", "auto");  // must not overwrite
  auto e = s->phonebook_get("+15557654321");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->name, "Mom");
  EXPECT_EQ(e->source, "user");
  EXPECT_EQ(s->calls(1, "")[0].caller_name, "Mom") << "older calls show the user's name";
  EXPECT_TRUE(s->phonebook_delete("+15557654321"));
  EXPECT_FALSE(s->phonebook_delete("+15557654321"));
  EXPECT_EQ(s->calls(1, "")[0].caller_name, "Sent Name");
}

TEST_F(store_test, hostile_strings_are_stored_verbatim) {
  std::string err;
  auto s = store::open(path, &err);
  ASSERT_TRUE(s) << err;
  const std::string evil = "x'); DROP TABLE calls; --";
  call_record c = make_call(evil, evil, 1);
  c.from_name = std::string("nul\0byte", 8);
  ASSERT_GT(s->insert_call(c), 0);
  s->phonebook_set(evil, evil, "user");
  auto calls = s->calls(10, evil);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].call_id, evil);
  EXPECT_EQ(s->phonebook_get(evil)->name, evil);
  EXPECT_EQ(s->call_count(), 1u);
}

TEST_F(store_test, an_unwritable_directory_is_reported_with_the_path) {
  std::string err;
  EXPECT_FALSE(store::open("/nonexistent/dir/ringbridge.db", &err));
  EXPECT_NE(err.find("/nonexistent/dir/ringbridge.db"), std::string::npos) << err;
  EXPECT_NE(err.find("state_dir"), std::string::npos) << err;
}

}  // namespace
}  // namespace ringbridge::ctl
