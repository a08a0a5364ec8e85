// SPDX-License-Identifier: BSD-3-Clause
// Call filters without DPDK ports: number normalisation, caller identity (and the odd but
// valid forms callers use to slip past naive filters), rule compilation and first-match
// evaluation, RCU publication, and the SIP responses the bridge sends for blocked calls.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <string>

#include "ringbridge/filters/filter.h"
#include "ringbridge/filters/sip_reply.h"
#include "ringbridge/sip/sip_parser.h"

namespace ringbridge::dp {
namespace {

std::string norm(std::string_view raw, const number_format& f = {}) {
  char out[64];
  return std::string(out, normalize_number(raw, f, out, sizeof(out)));
}

TEST(Numbers, SeparatorsEscapesAndPrefixes) {
  EXPECT_EQ(norm("+1 (555) 123-4567"), "+15551234567");
  EXPECT_EQ(norm("%2B1%20555.123.4567"), "+15551234567");
  EXPECT_EQ(norm("0015551234567"), "+15551234567");
  EXPECT_EQ(norm("5551234567"), "5551234567");  // no country code configured
  number_format us;
  us.intl_prefixes = {"011"};
  us.country_code = "1";
  us.trunk_prefix = "1";
  EXPECT_EQ(norm("5551234567", us), "+15551234567");
  EXPECT_EQ(norm("15551234567", us), "+15551234567");
  EXPECT_EQ(norm("011441234567890", us), "+441234567890");
  EXPECT_EQ(norm("100", us), "100");  // an extension stays one
  number_format de;
  de.country_code = "49";
  de.trunk_prefix = "0";
  EXPECT_EQ(norm("030 1234567", de), "+49301234567");
  EXPECT_EQ(norm("0049301234567", de), "+49301234567");
}

// A number or name inside a message (the worker's case: memory readable past the value) is
// checked 16 bytes at a time: the same results as on its own, whatever follows it.
TEST(Numbers, AValueInsideAMessageReadsAsOnItsOwn) {
  const std::string tail(16, ' ');
  for (std::string raw : {"+15551234567", "+1 555 123", "%2b15551234567", "12345678901234567",
                          "anonymous", "1234567890123456", "0"}) {
    const std::string buf = raw + "-%" + tail;  // separators right after the value
    char a[64], b[64];
    const size_t na = normalize_number(raw, {}, a, sizeof(a));
    const size_t nb = normalize_number(std::string_view(buf.data(), raw.size()), {}, b, sizeof(b),
                                       buf.data() + buf.size());
    EXPECT_EQ(std::string(a, na), std::string(b, nb)) << raw;
  }
  for (std::string raw : {"Caller 7", "Alice  Smith", " lead", "trail ", "a\\\"b\"", "Ünïcödé nàmé",
                          "exactly sixteen!", "\"Q\"", "tab\there", "x"}) {
    const std::string buf = raw + "\" \\" + tail;
    char a[96], b[96];
    const size_t na = clean_name(raw, a, sizeof(a));
    const size_t nb = clean_name(std::string_view(buf.data(), raw.size()), b, sizeof(b),
                                 buf.data() + buf.size());
    EXPECT_EQ(std::string(a, na), std::string(b, nb)) << raw;
  }
  char out[96];
  EXPECT_EQ(std::string(out, clean_name("Caller 7", out, sizeof(out), nullptr)), "Caller 7");
  const std::string msg = "Alice  Smith\"" + tail;
  EXPECT_EQ(std::string(out, clean_name(std::string_view(msg.data(), 12), out, sizeof(out),
                                        msg.data() + msg.size())),
            "Alice Smith");
}

sip::message parse_invite(const std::string& text) {
  static std::string keep;  // the message views into it
  keep = text;
  sip::message m;
  EXPECT_EQ(sip::parse(keep.data(), keep.size(), true, &m), sip::parse_status::ok) << text;
  return m;
}

std::string invite(const std::string& headers) {
  return "INVITE sip:100@pbx SIP/2.0\r\n"
         "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\n"
         "Call-ID: c1@10.0.0.1\r\n"
         "CSeq: 1 INVITE\r\n"
         "To: <sip:100@pbx>\r\n" +
         headers + "Content-Length: 0\r\n\r\n";
}

const identity_source k_order[] = {identity_source::pai, identity_source::rpid,
                                   identity_source::from};

caller_id who(const std::string& headers) {
  sip::message m = parse_invite(invite(headers));
  return identify_caller(m, k_order, 3, number_format{});
}

TEST(Identity, PrecedenceAndOddButValidForms) {
  auto w = who("From: \"Bob\" <sip:+15550001111@x>;tag=1\r\n");
  EXPECT_EQ(w.number_view(), "+15550001111");
  EXPECT_EQ(w.name_view(), "Bob");
  EXPECT_FALSE(w.anonymous);
  // P-Asserted-Identity beats From (a spoofed From does not help).
  w =
      who("From: \"Friend\" <sip:+15550009999@x>;tag=1\r\n"
          "P-Asserted-Identity: <sip:+15550001111@carrier>\r\n");
  EXPECT_EQ(w.number_view(), "+15550001111");
  EXPECT_EQ(w.name_view(), "Friend");
  // Compact form, escapes, folding.
  w = who("f: \"Sp\\\"am\" <sip:%2B1555%2000%2001111@x>;tag=1\r\n");
  EXPECT_EQ(w.number_view(), "+15550001111");
  EXPECT_EQ(w.name_view(), "Sp\"am");
  w = who("From:\r\n  \"Tele\r\n marketer\" <sip:+1-555-000-1111@x>\r\n ;tag=1\r\n");
  EXPECT_EQ(w.number_view(), "+15550001111");
  EXPECT_EQ(w.name_view(), "Tele marketer");
  w = who("From: <tel:+1-555-000-1111>;tag=1\r\n");
  EXPECT_EQ(w.number_view(), "+15550001111");
}

// The identity as the worker computes it: from a lazily parsed INVITE (M keeps the parse).
caller_id lazy_who(const std::string& text, sip::message* m) {
  EXPECT_EQ(sip::parse_fresh(text.data(), text.size(), true, m, {}, nullptr, true),
            sip::parse_status::ok);
  return identify_caller(*m, k_order, 3, number_format{});
}

TEST(Identity, ALazilyParsedInviteIsReadOnlyAsFarAsTheIdentityNeeds) {
  // A named P-Asserted-Identity gives number and name, From stays unread; an unnamed one
  // sends the identity on to From for the name.
  const std::string named = invite(
      "From: \"Friend\" <sip:+15550009999@x>;tag=1\r\n"
      "P-Asserted-Identity: \"Carrier Name\" <sip:+15550001111@carrier>\r\n");
  sip::message m;
  caller_id w = lazy_who(named, &m);
  EXPECT_EQ(w.number_view(), "+15550001111");
  EXPECT_EQ(w.name_view(), "Carrier Name");
  EXPECT_TRUE(m.from.pending) << "From was read though nothing needed it";
  const std::string unnamed = invite(
      "From: \"Friend\" <sip:+15550009999@x>;tag=1\r\n"
      "P-Asserted-Identity: <sip:+15550001111@carrier>\r\n");
  sip::message u;
  w = lazy_who(unnamed, &u);
  EXPECT_EQ(w.number_view(), "+15550001111");
  EXPECT_EQ(w.name_view(), "Friend");
  EXPECT_FALSE(u.from.pending);
}

TEST(Identity, Anonymous) {
  EXPECT_TRUE(who("From: \"Anonymous\" <sip:anonymous@anonymous.invalid>;tag=1\r\n").anonymous);
  EXPECT_TRUE(who("From: <sip:Restricted@x>;tag=1\r\n").anonymous);
  EXPECT_TRUE(who("From: <sip:x.example>;tag=1\r\n").anonymous);  // no user part
  EXPECT_TRUE(who("From: <sip:+15550001111@x>;tag=1\r\nPrivacy: id\r\n").anonymous);
  EXPECT_TRUE(who("From: <sip:+15550001111@x>;tag=1\r\nPrivacy: user; id\r\n").anonymous);
  EXPECT_FALSE(who("From: <sip:+15550001111@x>;tag=1\r\nPrivacy: none\r\n").anonymous);
  EXPECT_TRUE(
      who("From: <sip:a@x>;tag=1\r\nRemote-Party-ID: <sip:+1555@x>;privacy=full\r\n").anonymous);
}

filter_rule rule(uint32_t id, filter_match m, filter_syntax s, std::string p, filter_action a,
                 block_mode mode = block_mode::drop) {
  filter_rule r;
  r.id = id;
  r.position = id * 10;
  r.match = m;
  r.syntax = s;
  r.pattern = std::move(p);
  r.action = a;
  r.mode = mode;
  return r;
}

caller_id caller(const std::string& number, const std::string& name = "", bool anon = false) {
  caller_id c;
  c.number_len = static_cast<uint8_t>(number.size());
  std::memcpy(c.number, number.data(), number.size());
  c.name_len = static_cast<uint8_t>(name.size());
  std::memcpy(c.name, name.data(), name.size());
  c.anonymous = anon;
  return c;
}

TEST(FilterSet, FirstMatchWinsAcrossKinds) {
  std::string err;
  auto fs = filter_set::compile(
      {rule(1, filter_match::number, filter_syntax::exact, "+15550001111", filter_action::allow),
       rule(2, filter_match::number, filter_syntax::prefix, "+1900", filter_action::block,
            block_mode::busy),
       rule(3, filter_match::number, filter_syntax::glob, "+1555???2222", filter_action::block),
       rule(4, filter_match::name, filter_syntax::substring, "spam", filter_action::block,
            block_mode::decline),
       rule(5, filter_match::number, filter_syntax::regex, "^\\+44", filter_action::record),
       rule(6, filter_match::anonymous, filter_syntax::exact, "", filter_action::block),
       rule(7, filter_match::any, filter_syntax::exact, "", filter_action::norecord)},
      {}, 1, &err);
  ASSERT_TRUE(fs) << err;
  auto v = fs->evaluate(caller("+15550001111", "SPAM"), 0);
  EXPECT_EQ(v.action, filter_action::allow);  // rule 1 before the name rule 4
  EXPECT_EQ(v.rule_id, 1u);
  v = fs->evaluate(caller("+19005551234"), 0);
  EXPECT_EQ(v.action, filter_action::block);
  EXPECT_EQ(v.mode, block_mode::busy);
  EXPECT_EQ(v.rule_id, 2u);
  EXPECT_EQ(fs->evaluate(caller("+15551232222"), 0).rule_id, 3u);
  EXPECT_EQ(fs->evaluate(caller("+155512322229"), 0).rule_id, 7u);  // glob is anchored
  EXPECT_EQ(fs->evaluate(caller("+16665550000", "Likely Spam Caller"), 0).rule_id, 4u);
  EXPECT_EQ(fs->evaluate(caller("+441234"), 0).action, filter_action::record);
  EXPECT_EQ(fs->evaluate(caller("", "", true), 0).rule_id, 6u);
  EXPECT_EQ(fs->evaluate(caller("+16665550000"), 0).rule_id, 7u);
}

TEST(FilterSet, PrefixesOfEveryLengthAndTheOrderAroundHyperscanRules) {
  // Prefixes are hash probes and exact numbers skip Hyperscan when they come first: the
  // first matching rule must still win, whatever kind it is.
  std::string err;
  auto fs = filter_set::compile(
      {rule(1, filter_match::number, filter_syntax::glob, "+1555*", filter_action::record),
       rule(2, filter_match::number, filter_syntax::prefix, "+1", filter_action::allow),
       rule(3, filter_match::number, filter_syntax::prefix, "+1900", filter_action::block),
       rule(4, filter_match::number, filter_syntax::prefix, "+1900", filter_action::record),
       rule(5, filter_match::number, filter_syntax::exact, "+44207", filter_action::block),
       rule(6, filter_match::name, filter_syntax::substring, "spam", filter_action::block),
       rule(7, filter_match::number, filter_syntax::prefix, "00 44 (20)", filter_action::record)},
      {}, 1, &err);
  ASSERT_TRUE(fs) << err;
  EXPECT_EQ(fs->evaluate(caller("+15550001111"), 0).rule_id, 1u);    // the glob comes first
  EXPECT_EQ(fs->evaluate(caller("+19001234567"), 0).rule_id, 2u);    // shorter prefix, earlier
  EXPECT_EQ(fs->evaluate(caller("+1"), 0).rule_id, 2u);              // the whole number
  EXPECT_EQ(fs->evaluate(caller("+44207", "spam"), 0).rule_id, 5u);  // exact before the name
  EXPECT_EQ(fs->evaluate(caller("+44208", "spam"), 0).rule_id, 6u);
  EXPECT_EQ(fs->evaluate(caller("+442071", "x"), 0).rule_id, 7u);  // normalised like numbers
  EXPECT_EQ(fs->evaluate(caller("+4", "x"), 0).action, filter_action::none);
  // A prefix that normalises to nothing matches every number (not an absent one).
  auto all = filter_set::compile(
      {rule(9, filter_match::number, filter_syntax::prefix, "--", filter_action::block)}, {}, 1,
      &err);
  ASSERT_TRUE(all) << err;
  EXPECT_EQ(all->evaluate(caller("+15550001111"), 0).rule_id, 9u);
  EXPECT_EQ(all->evaluate(caller("", "x"), 0).action, filter_action::none);
}

TEST(FilterSet, AllowListThenBlockEveryoneElse) {
  std::string err;
  auto fs = filter_set::compile(
      {rule(1, filter_match::number, filter_syntax::exact, "0015550001111", filter_action::allow),
       rule(2, filter_match::any, filter_syntax::exact, "", filter_action::block)},
      {}, 2, &err);
  ASSERT_TRUE(fs) << err;
  // The rule's "00" form and the caller's "+" form are one number after normalisation.
  EXPECT_EQ(fs->evaluate(caller("+15550001111"), 1).action, filter_action::allow);
  EXPECT_EQ(fs->evaluate(caller("+15550001112"), 1).action, filter_action::block);
}

TEST(FilterSet, BadRegexNamesTheRule) {
  std::string err;
  uint32_t bad = 0;
  auto fs = filter_set::compile(
      {rule(1, filter_match::number, filter_syntax::exact, "+1", filter_action::block),
       rule(42, filter_match::name, filter_syntax::regex, "(unclosed", filter_action::block)},
      {}, 1, &err, &bad);
  EXPECT_FALSE(fs);
  EXPECT_EQ(bad, 42u);
  EXPECT_NE(err.find("rule 42: pattern does not compile"), std::string::npos) << err;
  EXPECT_NE(check_rule_shape(
                rule(3, filter_match::number, filter_syntax::substring, "1", filter_action::block)),
            "");
}

TEST(FilterSet, HundredThousandRulesCompileAndStayCheap) {
  std::vector<filter_rule> rules;
  for (uint32_t i = 0; i < 100000; i++)
    rules.push_back(rule(i + 1, filter_match::number, filter_syntax::exact,
                         "+1555" + std::to_string(1000000 + i), filter_action::block));
  rules.push_back(
      rule(200000, filter_match::number, filter_syntax::prefix, "+1900", filter_action::block));
  std::string err;
  const auto t0 = std::chrono::steady_clock::now();
  auto fs = filter_set::compile(rules, {}, 1, &err);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(fs) << err;
  std::printf("compiled 100,001 rules in %.0f ms\n", ms);
  EXPECT_EQ(fs->evaluate(caller("+15551099999"), 0).rule_id, 100000u);
  EXPECT_EQ(fs->evaluate(caller("+19001"), 0).rule_id, 200000u);
  EXPECT_EQ(fs->evaluate(caller("+15552000000"), 0).action, filter_action::none);
}

TEST(FilterSlot, OldSetsAreFreedAfterTheGracePeriodOnly) {
  qsbr_domain rcu(1);
  filter_slot slot(rcu);
  std::string err;
  auto make = [&](const char* num) {
    return filter_set::compile(
        {rule(1, filter_match::number, filter_syntax::exact, num, filter_action::block)}, {}, 1,
        &err);
  };
  rcu.online(0);
  slot.publish(make("+1"));
  const filter_set* first = slot.current();
  ASSERT_NE(first, nullptr);
  slot.publish(make("+2"));
  EXPECT_NE(slot.current(), first);
  EXPECT_EQ(slot.reclaim(), 1u);  // the worker has not passed a quiescent state yet
  rcu.quiescent(0);
  EXPECT_EQ(slot.reclaim(), 0u);
  rcu.offline(0);
  EXPECT_EQ(slot.generation(), 2u);
}

TEST(SipReply, BusyHereCopiesTheTransactionAndTagsTo) {
  const std::string req =
      "INVITE sip:100@pbx SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\n"
      "v: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bK0\r\n"
      "Max-Forwards: 70\r\n"
      "f: \"Bob\" <sip:+1555@x>;tag=abc\r\n"
      "To: <sip:100@pbx>\r\n"
      "Call-ID: c1@10.0.0.1\r\n"
      "CSeq: 7 INVITE\r\n"
      "Content-Type: application/sdp\r\n"
      "Content-Length: 4\r\n\r\nv=0\n";
  char out[1400];
  const size_t n = build_sip_response(req, 486, "Busy Here", "t4g", out, sizeof(out));
  ASSERT_GT(n, 0u);
  const std::string r(out, n);
  EXPECT_EQ(r,
            "SIP/2.0 486 Busy Here\r\n"
            "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\n"
            "v: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bK0\r\n"
            "f: \"Bob\" <sip:+1555@x>;tag=abc\r\n"
            "To: <sip:100@pbx>;tag=t4g\r\n"
            "Call-ID: c1@10.0.0.1\r\n"
            "CSeq: 7 INVITE\r\n"
            "Server: ringbridge\r\n"
            "Content-Length: 0\r\n\r\n");
  // The response parses as SIP.
  sip::message m;
  ASSERT_EQ(sip::parse(r.data(), r.size(), true, &m), sip::parse_status::ok);
  EXPECT_EQ(m.status, 486);
  EXPECT_EQ(m.to.tag, "t4g");
  EXPECT_EQ(m.cseq, 7u);
  EXPECT_EQ(m.cseq_method, sip::method::invite);
}

TEST(SipReply, KeepsAnExistingTagAndRefusesWhatDoesNotFit) {
  const std::string req =
      "CANCEL sip:100@pbx SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
      "To: <sip:100@pbx>;tag=theirs\r\nFrom: <sip:a@b>;tag=x\r\nCall-ID: c\r\nCSeq: 1 "
      "CANCEL\r\n\r\n";
  char out[1400];
  const size_t n = build_sip_response(req, 200, "OK", "mine", out, sizeof(out));
  const std::string r(out, n);
  EXPECT_NE(r.find("To: <sip:100@pbx>;tag=theirs\r\n"), std::string::npos) << r;
  EXPECT_EQ(r.find("mine"), std::string::npos);
  EXPECT_EQ(build_sip_response(req, 200, "OK", "mine", out, 40), 0u);
  EXPECT_EQ(build_sip_response("INVITE x SIP/2.0\r\nVia: a\r\n", 486, "Busy", "t", out, 1400),
            0u);  // no end of headers
}

}  // namespace
}  // namespace ringbridge::dp
