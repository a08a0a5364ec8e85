// SPDX-License-Identifier: BSD-3-Clause
// Keyed hashes: deterministic within a process, and every byte of the input counts.
#include "ringbridge/common/keyed_hash.h"

#include <gtest/gtest.h>

#include <string>

using namespace ringbridge;

TEST(KeyedHash, StableAndSensitiveToEveryByte) {
  ASSERT_TRUE(keyed_hash_init());
  const std::string a(300, 'x');
  std::string b = a;
  b[299] = 'y';  // beyond any fixed-size prefix a table might store
  EXPECT_EQ(keyed_hash64(a), keyed_hash64(a));
  EXPECT_NE(keyed_hash64(a), keyed_hash64(b));
  EXPECT_EQ(keyed_hash128(a), keyed_hash128(a));
  EXPECT_FALSE(keyed_hash128(a) == keyed_hash128(b));
  EXPECT_NE(keyed_hash64(""), keyed_hash64("a"));
}
