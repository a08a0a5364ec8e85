// SPDX-License-Identifier: BSD-3-Clause
// The call state machine, caller identity and number/name clean-up.
#include <gtest/gtest.h>

#include "ringbridge/ctl/calls.h"

namespace ringbridge::ctl {
namespace {

using dp::sip::method;

dp::sip_event request(method m, const char* call_id, int side = 0) {
  dp::sip_event ev;
  ev.is_request = 1;
  ev.method = m;
  ev.cseq_method = m;
  ev.side = static_cast<uint8_t>(side);
  ev.call_id.assign(call_id);
  ev.from.present = 1;
  ev.from.user.assign("+15557654321");
  ev.from.display.assign("Alice");
  ev.to.present = 1;
  ev.to.user.assign("+15551230000");
  return ev;
}

dp::sip_event response(int status, method m, const char* call_id) {
  dp::sip_event ev;
  ev.status = static_cast<uint16_t>(status);
  ev.cseq_method = m;
  ev.call_id.assign(call_id);
  ev.to.present = 1;
  ev.to.tag.assign("totag");
  return ev;
}

TEST(calls, answered_then_ended) {
  call_table t({});
  auto ch = t.apply(request(method::invite, "c1"), 100);
  ASSERT_EQ(ch.size(), 1u);
  EXPECT_EQ(ch[0].what, call_change::created);
  const call_record& c = ch[0].call;
  EXPECT_EQ(c.direction, call_direction::inbound);
  EXPECT_EQ(c.from_number, "+15557654321");
  EXPECT_EQ(c.from_name, "Alice");
  EXPECT_EQ(c.to_number, "+15551230000");
  EXPECT_EQ(c.state, call_state::ringing);
  EXPECT_TRUE(t.apply(request(method::invite, "c1"), 100.5).empty()) << "retransmission";
  EXPECT_TRUE(t.apply(response(180, method::invite, "c1"), 101).empty());
  ch = t.apply(response(200, method::invite, "c1"), 105);
  ASSERT_EQ(ch.size(), 1u);
  EXPECT_EQ(ch[0].call.state, call_state::answered);
  EXPECT_EQ(ch[0].call.status_code, 200);
  EXPECT_EQ(ch[0].call.answered_at, 105);
  EXPECT_TRUE(t.apply(request(method::ack, "c1"), 105.1).empty());
  ch = t.apply(request(method::bye, "c1", 1), 165);
  ASSERT_EQ(ch.size(), 1u);
  EXPECT_EQ(ch[0].what, call_change::finished);
  EXPECT_EQ(ch[0].call.state, call_state::ended);
  EXPECT_DOUBLE_EQ(ch[0].call.duration_s(), 60);
  EXPECT_TRUE(t.apply(response(200, method::bye, "c1"), 165.1).empty());
  EXPECT_TRUE(t.active().empty());
}

TEST(calls, inbound_cancel_is_missed_outbound_is_cancelled) {
  call_table t({});
  t.apply(request(method::invite, "in"), 1);
  auto ch = t.apply(request(method::cancel, "in"), 5);
  ASSERT_EQ(ch.size(), 1u);
  EXPECT_EQ(ch[0].call.state, call_state::missed);
  ch = t.apply(response(487, method::invite, "in"), 5.1);
  ASSERT_EQ(ch.size(), 1u);
  EXPECT_EQ(ch[0].call.status_code, 487);
  EXPECT_EQ(ch[0].call.state, call_state::missed);

  t.apply(request(method::invite, "out", 1), 10);
  ch = t.apply(response(487, method::invite, "out"), 12);
  ASSERT_EQ(ch.size(), 1u);
  EXPECT_EQ(ch[0].call.direction, call_direction::outbound);
  EXPECT_EQ(ch[0].call.state, call_state::cancelled);
}

TEST(calls, final_errors_fail_with_the_status_and_an_answer_beats_a_cancel) {
  call_table t({});
  t.apply(request(method::invite, "busy"), 1);
  auto ch = t.apply(response(486, method::invite, "busy"), 2);
  ASSERT_EQ(ch.size(), 1u);
  EXPECT_EQ(ch[0].call.state, call_state::failed);
  EXPECT_EQ(ch[0].call.status_code, 486);

  t.apply(request(method::invite, "race"), 1);
  t.apply(request(method::cancel, "race"), 2);
  ch = t.apply(response(200, method::invite, "race"), 2.01);
  ASSERT_EQ(ch.size(), 1u);
  EXPECT_EQ(ch[0].call.state, call_state::answered);
}

TEST(calls, responses_to_other_methods_and_unknown_calls_change_nothing) {
  call_table t({});
  EXPECT_TRUE(t.apply(response(200, method::invite, "nobody"), 1).empty());
  EXPECT_TRUE(t.apply(request(method::bye, "nobody"), 1).empty());
  t.apply(request(method::invite, "x"), 1);
  EXPECT_TRUE(t.apply(response(200, method::options, "x"), 2).empty());
  EXPECT_EQ(t.active().size(), 1u);
  // A re-INVITE (To has a tag) of a call never seen does not create one.
  auto re = request(method::invite, "mid-dialog");
  re.to.tag.assign("abc");
  EXPECT_TRUE(t.apply(re, 3).empty());
}

TEST(calls, stale_calls_time_out_and_the_table_is_bounded) {
  call_limits lim;
  lim.max_calls = 16;
  lim.ringing_timeout_s = 30;
  call_table t(lim);
  t.apply(request(method::invite, "stale"), 0);
  auto ch = t.expire(31);
  ASSERT_EQ(ch.size(), 1u);
  EXPECT_EQ(ch[0].call.state, call_state::timeout);
  for (int i = 0; i < 100; i++)
    t.apply(request(method::invite, ("f" + std::to_string(i)).c_str()), 40 + i);
  EXPECT_LE(t.size(), 16u);
  EXPECT_GE(t.evicted(), 84u);
  EXPECT_TRUE(t.expire(1000).size() <= 16u);
}

TEST(calls, identity_prefers_pai_then_rpid_then_from) {
  auto ev = request(method::invite, "id");
  EXPECT_EQ(caller_identity(ev).number, "+15557654321");
  ev.rpid.present = 1;
  ev.rpid.user.assign("+15550000002");
  ev.rpid.display.assign("RPID Name");
  EXPECT_EQ(caller_identity(ev).number, "+15550000002");
  ev.pai.present = 1;
  ev.pai.user.assign("%2B1%20555%20000-0003");
  ev.pai.display.assign("\\\"PAI\\\"   Name");
  identity who = caller_identity(ev);
  EXPECT_EQ(who.number, "+15550000003");
  EXPECT_EQ(who.name, "\"PAI\" Name");
}

TEST(calls, clean_up_helpers) {
  EXPECT_EQ(normalize_number("+1 (555) 123-4567"), "+15551234567");
  EXPECT_EQ(normalize_number("%2b15551234567"), "+15551234567");
  EXPECT_EQ(normalize_number("100%"), "100%");
  EXPECT_EQ(normalize_number("%4"), "%4");
  EXPECT_EQ(clean_display_name("  Folded\r\n   Name "), "Folded Name");
  EXPECT_EQ(clean_display_name("a\\\\b"), "a\\b");
}

}  // namespace
}  // namespace ringbridge::ctl
