// SPDX-License-Identifier: BSD-3-Clause
// The interface-settings record: originals written before each change, adopted after a
// crash (never replaced by the dead run's leftovers), restored, kept when a write fails.
#include "ringbridge/dp/iface_tuning.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace ringbridge::dp {
namespace {

namespace fs = std::filesystem;

class iface_tuning_test : public ::testing::Test {
 protected:
  void SetUp() override {
    _dir = fs::temp_directory_path() /
           ("rb-tuning-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(_dir);
    for (const char* iface : {"eth1", "eth2"}) {
      fs::create_directories(_dir / "net" / iface);
      put(iface, "napi_defer_hard_irqs", "0");
      put(iface, "gro_flush_timeout", "20000");
    }
  }
  void TearDown() override { fs::remove_all(_dir); }

  void put(const std::string& iface, const std::string& attr, const std::string& v) {
    std::ofstream(_dir / "net" / iface / attr) << v << "\n";
  }
  std::string get(const std::string& iface, const std::string& attr) {
    std::ifstream f(_dir / "net" / iface / attr);
    std::string v;
    f >> v;
    return v;
  }
  std::string record() const { return (_dir / "iface-record").string(); }
  std::string net() const { return (_dir / "net").string(); }
  std::string record_text() {
    std::ifstream f(record());
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }

  fs::path _dir;
};

TEST_F(iface_tuning_test, original_is_recorded_before_the_change_and_restored) {
  std::string why;
  {
    iface_tuning t(record(), net());
    ASSERT_TRUE(t.load(&why)) << why;
    ASSERT_TRUE(tune_af_xdp_napi(t, "eth1", 50, &why)) << why;
    EXPECT_EQ(get("eth1", "napi_defer_hard_irqs"), "2");
    EXPECT_EQ(get("eth1", "gro_flush_timeout"), "50000");
    const std::string rec = record_text();
    EXPECT_NE(rec.find("sysfs eth1 napi_defer_hard_irqs 0\n"), std::string::npos) << rec;
    EXPECT_NE(rec.find("sysfs eth1 gro_flush_timeout 20000\n"), std::string::npos) << rec;
    struct stat st {};
    ASSERT_EQ(stat(record().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    EXPECT_FALSE(fs::exists(record() + ".tmp"));
    EXPECT_TRUE(t.restore());
  }
  EXPECT_EQ(get("eth1", "napi_defer_hard_irqs"), "0");
  EXPECT_EQ(get("eth1", "gro_flush_timeout"), "20000");
  EXPECT_FALSE(fs::exists(record())) << "a clean restore removes the record";
}

TEST_F(iface_tuning_test, an_unchanged_value_is_not_recorded) {
  std::string why;
  iface_tuning t(record(), net());
  ASSERT_TRUE(t.set("eth1", "gro_flush_timeout", "20000", &why)) << why;
  EXPECT_TRUE(t.empty());
  EXPECT_FALSE(fs::exists(record()));
}

// The bug this exists for: a killed run left its tuning; the next run used to take those
// values for the originals and "restore" them at its clean stop.
TEST_F(iface_tuning_test, after_a_crash_the_recorded_originals_win_over_the_leftovers) {
  std::string why;
  {
    iface_tuning dead(record(), net());
    ASSERT_TRUE(tune_af_xdp_napi(dead, "eth1", 50, &why)) << why;
    dead.hand_over();  // as if killed: values and record stay
  }
  ASSERT_EQ(get("eth1", "napi_defer_hard_irqs"), "2");
  {
    iface_tuning next(record(), net());
    ASSERT_TRUE(next.load(&why)) << why;
    EXPECT_EQ(next.adopted(), 2u);
    ASSERT_TRUE(tune_af_xdp_napi(next, "eth1", 50, &why)) << why;
    EXPECT_EQ(next.restore_unclaimed(), 0u);
    EXPECT_EQ(get("eth1", "napi_defer_hard_irqs"), "2");
    EXPECT_TRUE(next.restore());
  }
  EXPECT_EQ(get("eth1", "napi_defer_hard_irqs"), "0");
  EXPECT_EQ(get("eth1", "gro_flush_timeout"), "20000");
  EXPECT_FALSE(fs::exists(record()));
}

TEST_F(iface_tuning_test, leftovers_the_new_configuration_does_not_want_are_restored_at_start) {
  std::string why;
  {
    iface_tuning dead(record(), net());
    ASSERT_TRUE(tune_af_xdp_napi(dead, "eth1", 50, &why)) << why;
    ASSERT_TRUE(tune_af_xdp_napi(dead, "eth2", 50, &why)) << why;
    dead.hand_over();
  }
  iface_tuning next(record(), net());
  ASSERT_TRUE(next.load(&why)) << why;
  ASSERT_TRUE(tune_af_xdp_napi(next, "eth2", 50, &why)) << why;  // eth1 is no longer tuned
  EXPECT_EQ(next.restore_unclaimed(), 2u);
  EXPECT_EQ(get("eth1", "napi_defer_hard_irqs"), "0");
  EXPECT_EQ(get("eth1", "gro_flush_timeout"), "20000");
  EXPECT_EQ(get("eth2", "napi_defer_hard_irqs"), "2");
  EXPECT_EQ(record_text().find("eth1"), std::string::npos) << record_text();
  EXPECT_NE(record_text().find("sysfs eth2 gro_flush_timeout 20000"), std::string::npos);
}

TEST_F(iface_tuning_test, a_value_that_cannot_be_written_back_stays_recorded) {
  std::string why;
  iface_tuning t(record(), net());
  ASSERT_TRUE(t.set("eth1", "napi_defer_hard_irqs", "2", &why)) << why;
  // Not writable any more (a directory in its place: EISDIR even for root).
  const fs::path attr = _dir / "net" / "eth1" / "napi_defer_hard_irqs";
  fs::remove(attr);
  fs::create_directory(attr);
  EXPECT_FALSE(t.restore());
  EXPECT_NE(record_text().find("sysfs eth1 napi_defer_hard_irqs 0"), std::string::npos);
  fs::remove(attr);
  put("eth1", "napi_defer_hard_irqs", "2");
  EXPECT_TRUE(t.restore());
  EXPECT_EQ(get("eth1", "napi_defer_hard_irqs"), "0");
  EXPECT_FALSE(fs::exists(record()));
}

TEST_F(iface_tuning_test, a_failed_change_leaves_nothing_recorded) {
  std::string why;
  iface_tuning t(record(), net());
  EXPECT_FALSE(t.set("eth9", "napi_defer_hard_irqs", "2", &why));
  EXPECT_NE(why.find("eth9/napi_defer_hard_irqs"), std::string::npos) << why;
  EXPECT_TRUE(t.empty());
  EXPECT_FALSE(fs::exists(record()));
}

TEST_F(iface_tuning_test, a_vanished_interface_has_nothing_to_restore) {
  std::string why;
  iface_tuning t(record(), net());
  ASSERT_TRUE(t.set("eth2", "napi_defer_hard_irqs", "2", &why)) << why;
  fs::remove_all(_dir / "net" / "eth2");
  EXPECT_TRUE(t.restore());
  EXPECT_FALSE(fs::exists(record()));
}

TEST_F(iface_tuning_test, a_damaged_record_is_reported_and_left_alone) {
  std::ofstream(record()) << "sysfs eth1 napi_defer_hard_irqs 0\nsysfs ../etc passwd x\n";
  iface_tuning t(record(), net());
  std::string why;
  EXPECT_FALSE(t.load(&why));
  EXPECT_NE(why.find(record() + ":2: not a ringbridge interface record line"), std::string::npos)
      << why;
  EXPECT_TRUE(t.empty());
  EXPECT_TRUE(fs::exists(record()));
}

}  // namespace
}  // namespace ringbridge::dp
