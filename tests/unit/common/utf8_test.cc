// SPDX-License-Identifier: BSD-3-Clause
// UTF-8 validation, repair and cutting: what leaves the process is always well-formed.
#include "ringbridge/common/utf8.h"

#include <gtest/gtest.h>

#include <random>

using ringbridge::utf8_cut;
using ringbridge::utf8_sanitize;
using ringbridge::utf8_valid;

TEST(Utf8, ValidInputIsUnchanged) {
  for (const char* s : {"", "Alice", "Zoë Ågren", "東京都 千代田区", "Ελένη", "👋 hi", "\x7f"}) {
    EXPECT_TRUE(utf8_valid(s)) << s;
    EXPECT_EQ(utf8_sanitize(s), s);
  }
}

TEST(Utf8, IllFormedBytesBecomeReplacementCharacters) {
  EXPECT_FALSE(utf8_valid("\xff"));
  EXPECT_EQ(utf8_sanitize("\xff"), "\xEF\xBF\xBD");
  EXPECT_EQ(utf8_sanitize("a\xffz"), "a\xEF\xBF\xBDz");
  EXPECT_FALSE(utf8_valid("\xC0\xAF"));  // overlong '/'
  EXPECT_EQ(utf8_sanitize("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_FALSE(utf8_valid("\xED\xA0\x80"));  // a surrogate
  EXPECT_FALSE(utf8_valid("\xF4\x90\x80\x80"));  // above U+10FFFF
  // A truncated sequence is one maximal subpart: one U+FFFD, then the next character.
  EXPECT_EQ(utf8_sanitize("\xE6\x9D" "x"), "\xEF\xBF\xBDx");
  EXPECT_EQ(utf8_sanitize("\xF0\x9F\x91"), "\xEF\xBF\xBD");
}

TEST(Utf8, CutNeverSplitsACharacter) {
  const std::string s = "東京";  // two 3-byte characters
  EXPECT_EQ(utf8_cut(s, 6), 6u);
  EXPECT_EQ(utf8_cut(s, 5), 3u);
  EXPECT_EQ(utf8_cut(s, 4), 3u);
  EXPECT_EQ(utf8_cut(s, 3), 3u);
  EXPECT_EQ(utf8_cut(s, 2), 0u);
  EXPECT_EQ(utf8_cut(s, 100), 6u);
  EXPECT_EQ(utf8_cut("abc", 2), 2u);
}

TEST(Utf8, WholeDropsACharacterCutAtTheEnd) {
  EXPECT_EQ(ringbridge::utf8_whole("ab"), 2u);
  EXPECT_EQ(ringbridge::utf8_whole("東京"), 6u);
  EXPECT_EQ(ringbridge::utf8_whole(std::string_view("東京", 5)), 3u);
  EXPECT_EQ(ringbridge::utf8_whole(std::string_view("東京", 4)), 3u);
  EXPECT_EQ(ringbridge::utf8_whole("a\xF0\x9F\x91"), 1u);
  EXPECT_EQ(ringbridge::utf8_whole(""), 0u);
}

TEST(Utf8, RandomBytesAlwaysComeOutValid) {
  std::mt19937 rng(7);
  for (int i = 0; i < 20000; i++) {
    std::string s(rng() % 24, '\0');
    for (auto& c : s) c = static_cast<char>(rng() % 4 == 0 ? 0xE0 + rng() % 32 : rng() % 256);
    const std::string out = utf8_sanitize(s);
    ASSERT_TRUE(utf8_valid(out));
    if (utf8_valid(s)) {
      ASSERT_EQ(out, s);
      for (size_t m = 0; m <= s.size(); m++)
        ASSERT_TRUE(utf8_valid(std::string_view(s).substr(0, utf8_cut(s, m))));
    }
  }
}
