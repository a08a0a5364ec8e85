// SPDX-License-Identifier: BSD-3-Clause
// The call state machine, caller identity and number/name clean-up.
#include <gtest/gtest.h>
#include <cstring>

#include <chrono>

#include "ringbridge/sip/calls.h"

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
  ev.from.assign("\"Alice\" <sip:+15557654321@provider.example>;tag=a1");
  ev.to.assign("<sip:+15551230000@192.0.2.10>");
  return ev;
}

dp::sip_event response(int status, method m, const char* call_id) {
  dp::sip_event ev;
  ev.status = static_cast<uint16_t>(status);
  ev.cseq_method = m;
  ev.call_id.assign(call_id);
  ev.to.assign("<sip:+15551230000@192.0.2.10>;tag=totag");
  ev.to_tag = 1;
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
  re.to.assign("<sip:+15551230000@192.0.2.10>;tag=abc");
  re.to_tag = 1;
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

dp::sip_event invite(const std::string& call_id, int side = 0) {
  return request(method::invite, call_id.c_str(), side);
}

TEST(call_table, finished_calls_are_evicted_before_live_ones_then_the_least_recently_seen) {
  call_limits lim;
  lim.max_calls = 16;
  call_table t(lim);
  for (int i = 0; i < 8; i++) t.apply(invite("live" + std::to_string(i)), i);
  for (int i = 0; i < 8; i++) {
    t.apply(invite("done" + std::to_string(i)), 10 + i);
    t.apply(response(486, method::invite, ("done" + std::to_string(i)).c_str()), 10 + i);
  }
  ASSERT_EQ(t.size(), 16u);
  // Eight new calls push out the eight finished ones, no live call.
  for (int i = 0; i < 8; i++)
    EXPECT_TRUE(t.apply(invite("new" + std::to_string(i)), 20 + i).size() == 1);
  EXPECT_EQ(t.size(), 16u);
  for (int i = 0; i < 8; i++) {
    EXPECT_NE(t.find("live" + std::to_string(i)), nullptr) << i;
    EXPECT_EQ(t.find("done" + std::to_string(i)), nullptr) << i;
  }
  EXPECT_EQ(t.evicted(), 8u);
  // live0 was seen again (a 180): live1 is now the least recently seen and goes next,
  // closed as timeout with the reason.
  t.apply(response(180, method::invite, "live0"), 30);
  auto ch = t.apply(invite("newest"), 31);
  ASSERT_EQ(ch.size(), 2u);
  EXPECT_EQ(ch[0].what, call_change::finished);
  EXPECT_EQ(ch[0].call.call_id, "live1");
  EXPECT_EQ(ch[0].call.state, call_state::timeout);
  EXPECT_NE(ch[0].call.end_reason.find("max_active = 16"), std::string::npos)
      << ch[0].call.end_reason;
  EXPECT_EQ(ch[1].what, call_change::created);
  EXPECT_NE(t.find("live0"), nullptr);
  EXPECT_EQ(t.active_count(call_direction::inbound), 16u);
}

TEST(call_table, expire_times_out_by_start_and_answer_time_and_forgets_finished_calls) {
  call_limits lim;
  lim.ringing_timeout_s = 30;
  lim.answered_timeout_s = 100;
  lim.finished_grace_s = 32;
  call_table t(lim);
  t.apply(invite("r1"), 0);
  t.apply(invite("r2"), 10);
  t.apply(invite("a1"), 5);
  t.apply(response(200, method::invite, "a1"), 6);
  // Retransmissions keep r1 "recently seen" but do not move its ringing deadline.
  t.apply(invite("r1"), 29);
  EXPECT_TRUE(t.expire(30).empty());
  auto ch = t.expire(31);
  ASSERT_EQ(ch.size(), 1u);
  EXPECT_EQ(ch[0].call.call_id, "r1");
  EXPECT_NE(ch[0].call.end_reason.find("ringing_timeout_s = 30"), std::string::npos);
  EXPECT_NE(t.find("r1"), nullptr) << "a timed-out call waits out the grace period too";
  ch = t.expire(41);
  ASSERT_EQ(ch.size(), 1u);
  EXPECT_EQ(ch[0].call.call_id, "r2");
  EXPECT_TRUE(t.expire(100).empty());
  ch = t.expire(107);
  ASSERT_EQ(ch.size(), 1u);
  EXPECT_EQ(ch[0].call.call_id, "a1");
  EXPECT_NE(ch[0].call.end_reason.find("answered_timeout_s = 100"), std::string::npos);
  EXPECT_EQ(t.active_count(call_direction::inbound), 0u);
  EXPECT_EQ(t.size(), 1u) << "r1 and r2 are past their grace period, a1 is in it";
  EXPECT_NE(t.find("a1"), nullptr);
  t.expire(107 + 33);
  EXPECT_EQ(t.size(), 0u);
}

TEST(call_table, row_ids_continue_from_the_log_and_voicemail_is_marked_once) {
  call_table t({});
  t.set_last_id(41);
  auto ch = t.apply(invite("x"), 1);
  ASSERT_EQ(ch.size(), 1u);
  EXPECT_EQ(ch[0].call.id, 42);
  EXPECT_EQ(t.apply(invite("y"), 2)[0].call.id, 43);
  EXPECT_TRUE(t.mark_voicemail("x"));
  EXPECT_FALSE(t.mark_voicemail("x"));
  EXPECT_FALSE(t.mark_voicemail("nobody"));
  t.set_caller_name("y", "Mom");
  EXPECT_EQ(t.find("y")->caller_name, "Mom");
}

TEST(call_table, a_full_table_of_100k_calls_evicts_and_expires_in_constant_time) {
  // With a scan per eviction (the old table), 100k evictions on a 100k table are 10^10
  // steps; a sweep per expire() call is 10^5 each. Both must be near-free here.
  call_limits lim;
  lim.max_calls = 100000;
  lim.ringing_timeout_s = 1e9;
  call_table t(lim);
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 200000; i++) t.apply(invite("flood-" + std::to_string(i)), i * 1e-3);
  EXPECT_EQ(t.size(), 100000u);
  EXPECT_EQ(t.evicted(), 100000u);
  for (int i = 0; i < 2000; i++) EXPECT_TRUE(t.expire(300 + i).empty());
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(s, 20.0) << "eviction or expiry is not O(1)";  // O(n): hours; here ~0.3 s
}

TEST(call_table, states_include_interrupted) {
  EXPECT_STREQ(call_state_name(call_state::interrupted), "interrupted");
  EXPECT_TRUE(call_state_final(call_state::interrupted));
  EXPECT_EQ(k_call_states, 9u);
}

TEST(calls, the_call_shows_the_identity_the_worker_computed) {
  // From and PAI differ: the worker chose (PAI) and normalised; the call table must not
  // read the headers again by rules of its own.
  auto ev = request(method::invite, "id");
  ev.has_caller = 1;
  const char number[] = "+15550000003", name[] = "PAI Name";
  std::memcpy(ev.caller.number, number, sizeof(number) - 1);
  ev.caller.number_len = sizeof(number) - 1;
  std::memcpy(ev.caller.name, name, sizeof(name) - 1);
  ev.caller.name_len = sizeof(name) - 1;
  identity who = caller_identity(ev);
  EXPECT_EQ(who.number, "+15550000003");
  EXPECT_EQ(who.name, "PAI Name");
  call_table t({});
  auto ch = t.apply(ev, 1.0);
  ASSERT_EQ(ch.size(), 1u);
  EXPECT_EQ(ch[0].call.from_number, "+15550000003");
  EXPECT_EQ(ch[0].call.from_name, "PAI Name");
  // An event without the worker's reading (not an initial INVITE): From, same normaliser.
  ev.has_caller = 0;
  EXPECT_EQ(caller_identity(ev).number, "+15557654321");
  EXPECT_EQ(caller_identity(ev).name, "Alice");
  // From as sent, escapes and folding in its display name, a tel URI with separators.
  ev.from.assign("\"Bob \\\"B\\\"\r\n  Smith\" <tel:+1-555-000-0004>;tag=x");
  EXPECT_EQ(caller_identity(ev).number, "+15550000004");
  EXPECT_EQ(caller_identity(ev).name, "Bob \"B\" Smith");
  // A From that does not parse gives no identity rather than a wrong one.
  ev.from.assign("\"unterminated <sip:+15550000005@h>");
  EXPECT_EQ(caller_identity(ev).number, "");
}

TEST(calls, the_callee_is_read_from_to_as_sent) {
  call_table t({});
  auto ev = request(method::invite, "callee");
  ev.to.assign("\"Front Desk\" <sip:%2B1%20555%20123-0000@pbx.example;user=phone>");
  auto ch = t.apply(ev, 1.0);
  ASSERT_EQ(ch.size(), 1u);
  EXPECT_EQ(ch[0].call.to_number, "+15551230000");
  // A To the worker had to cut (over 256 bytes) is not read: cut here, it would read as the
  // addr-spec "sip:evil:..." in front of the real URI.
  auto cut = request(method::invite, "callee-cut");
  EXPECT_FALSE(cut.to.assign("sip:evil:+15550009999@h " + std::string(240, 'p') +
                             " <sip:+15551230000@pbx.example>"));
  ch = t.apply(cut, 2.0);
  ASSERT_EQ(ch.size(), 1u);
  EXPECT_EQ(ch[0].call.to_number, "");
}

TEST(calls, clean_up_helpers) {
  EXPECT_EQ(normalize_number("+1 (555) 123-4567"), "+15551234567");
  EXPECT_EQ(normalize_number("%2b15551234567"), "+15551234567");
  EXPECT_EQ(normalize_number("100%"), "100%");
  EXPECT_EQ(normalize_number("%4"), "%4");
  char out[96];
  EXPECT_EQ(std::string(out, dp::clean_name("  Folded\r\n   Name ", out, sizeof(out))),
            "Folded Name");
  EXPECT_EQ(std::string(out, dp::clean_name("a\\\\b", out, sizeof(out))), "a\\b");
}

TEST(calls, a_call_found_without_sip_is_answered_until_its_media_stops) {
  call_table t({});
  const std::string id = "rtp:10.0.0.1:30000-10.0.0.2:40000";
  auto ch = t.start_media_only(id, 0x1234, 1, 100);
  ASSERT_EQ(ch.size(), 1u);
  EXPECT_EQ(ch[0].what, call_change::created);
  EXPECT_EQ(ch[0].call.call_id, id);
  EXPECT_EQ(ch[0].call.state, call_state::answered);
  EXPECT_EQ(ch[0].call.direction, call_direction::outbound);
  EXPECT_EQ(ch[0].call.media_key, 0x1234u);
  EXPECT_EQ(ch[0].call.answered_at, 100);
  EXPECT_TRUE(ch[0].call.from_number.empty());
  const int64_t first = ch[0].call.id;
  EXPECT_TRUE(t.start_media_only(id, 0x1234, 1, 101).empty()) << "already followed";
  EXPECT_EQ(t.active().size(), 1u);
  ch = t.end_media_only(id, 160, "no media");
  ASSERT_EQ(ch.size(), 1u);
  EXPECT_EQ(ch[0].what, call_change::finished);
  EXPECT_EQ(ch[0].call.state, call_state::ended);
  EXPECT_EQ(ch[0].call.end_reason, "no media");
  EXPECT_DOUBLE_EQ(ch[0].call.duration_s(), 60);
  EXPECT_TRUE(t.end_media_only(id, 161, "again").empty());
  EXPECT_TRUE(t.active().empty());
  // The same endpoints talk again later: a new call.
  ch = t.start_media_only(id, 0x1234, 0, 200);
  ASSERT_EQ(ch.size(), 1u);
  EXPECT_GT(ch[0].call.id, first);
  EXPECT_EQ(ch[0].call.direction, call_direction::inbound);
}

}  // namespace
}  // namespace ringbridge::ctl
