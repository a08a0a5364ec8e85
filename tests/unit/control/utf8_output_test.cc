// SPDX-License-Identifier: BSD-3-Clause
// Text from the wire that is not UTF-8 never makes the control side throw, and what it
// writes out (call JSON, the call table's records) is valid UTF-8.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "ringbridge/common/utf8.h"
#include "ringbridge/sip/call_view.h"
#include "ringbridge/sip/calls.h"

namespace ringbridge::ctl {
namespace {

using dp::sip::method;

call_record hostile_record() {
  call_record c;
  c.id = 1;
  c.call_id = "cid\xff@x";
  c.from_number =
      "\xfe\xfe"
      "5550001";
  c.from_name = "\xff";
  c.caller_name = "Cut \xe4\xb8";  // a CJK character cut after 2 of its 3 bytes
  c.to_number = "%C3(";
  c.state = call_state::ringing;
  c.started_at = 1;
  return c;
}

TEST(utf8_output, call_json_never_throws_and_is_valid_utf8) {
  std::string text;
  ASSERT_NO_THROW(text = call_json(hostile_record()));
  EXPECT_TRUE(utf8_valid(text)) << text;
  const auto j = nlohmann::json::parse(text);
  EXPECT_EQ(j["from_name"], "\xEF\xBF\xBD");
  EXPECT_EQ(j["call_id"], "cid\xEF\xBF\xBD@x");
}

TEST(utf8_output, the_call_table_sanitizes_what_it_builds_from_the_wire) {
  call_table t({});
  dp::sip_event ev;
  ev.is_request = 1;
  ev.method = ev.cseq_method = method::invite;
  ev.call_id.assign(
      "raw\xff"
      "id");
  ev.from.assign("\"\xc0\xaf name\" <sip:%FF15550001@h>");
  ev.to.assign(
      "<sip:\xed\xa0\x80"
      "100@h>");
  auto ch = t.apply(ev, 10);
  ASSERT_EQ(ch.size(), 1u);
  const call_record& c = ch[0].call;
  for (const std::string* s :
       {&c.call_id, &c.from_number, &c.from_name, &c.caller_name, &c.to_number})
    EXPECT_TRUE(utf8_valid(*s)) << *s;
  EXPECT_EQ(c.from_number,
            "\xEF\xBF\xBD"
            "15550001");
  // The table still knows the call by its raw Call-ID: later messages find it.
  auto resp = ev;
  resp.is_request = 0;
  resp.status = 200;
  resp.to.assign("<sip:100@h>;tag=t");
  resp.to_tag = 1;
  ch = t.apply(resp, 11);
  ASSERT_EQ(ch.size(), 1u);
  EXPECT_EQ(ch[0].call.state, call_state::answered);
  // Two Call-IDs that differ only in their invalid bytes stay two calls.
  auto other = ev;
  other.call_id.assign(
      "raw\xfe"
      "id");
  EXPECT_EQ(t.apply(other, 12).size(), 1u);
  EXPECT_EQ(t.size(), 2u);
}

TEST(utf8_output, a_field_cut_by_the_worker_mid_character_loses_the_partial_character) {
  const std::string cjk =
      "\xe5\xbc\xa0\xe4\xbc\x9f\xe6\x9d\x8e\xe5\xa8\x9c\xe7\x8e\x8b"
      "\xe8\x8a\xb3\xe5\x88\x98\xe6\xb4\x8b\xe9\x99\x88\xe9\x9d\x99"
      "\xe6\x9d\xa8\xe5\xb8\x86\xe8\xb5\xb5\xe7\xa3\x8a\xe9\xbb\x84"
      "\xe6\x95\x8f\xe5\x91\xa8";  // 17 CJK characters: 51 bytes
  const std::string call_id = "X" + cjk + cjk + cjk;  // 154 bytes
  dp::sip_event ev;
  ev.is_request = 1;
  ev.method = ev.cseq_method = method::invite;
  EXPECT_FALSE(ev.call_id.assign(call_id));  // cut at 128 bytes: inside the 43rd character
  ev.call_id_hash = 1;
  ev.from.assign("<sip:+15550001@h>");
  call_table t({});
  auto ch = t.apply(ev, 1);
  ASSERT_EQ(ch.size(), 1u);
  EXPECT_EQ(ch[0].call.call_id, call_id.substr(0, 127));
  EXPECT_EQ(ch[0].call.from_number, "+15550001");
}

}  // namespace
}  // namespace ringbridge::ctl
