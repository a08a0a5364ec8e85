// SPDX-License-Identifier: BSD-3-Clause
// SIP/SDP parser: ordinary messages, the odd-but-valid forms a caller-ID filter must not
// be fooled by (compact headers, folding, escapes, multipart bodies), and malformed input.
#include <gtest/gtest.h>

#include <string>

#include "byte_class.h"
#include "ringbridge/sip/sip_parser.h"

namespace ringbridge::dp::sip {
namespace {

std::string crlf(std::string s) {  // write tests with \n, send them with CRLF
  std::string out;
  for (char c : s) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

parse_status parse_dgram(const std::string& s, message* m) {
  return parse(s.data(), s.size(), true, m);
}

const std::string k_sdp = crlf(
    "v=0\n"
    "o=alice 2890844526 2890844526 IN IP4 192.0.2.10\n"
    "s=-\n"
    "c=IN IP4 192.0.2.10\n"
    "t=0 0\n"
    "m=audio 49170 RTP/AVP 0 8 101\n"
    "a=rtpmap:101 telephone-event/8000\n");

const std::string k_invite =
    crlf(
        "INVITE sip:+15551230000@pbx.example.com SIP/2.0\n"
        "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\n"
        "Max-Forwards: 70\n"
        "From: \"Alice Caller\" <sip:+15557654321@example.net>;tag=1928301774\n"
        "To: <sip:+15551230000@pbx.example.com>\n"
        "Call-ID: a84b4c76e66710@192.0.2.10\n"
        "CSeq: 314159 INVITE\n"
        "Contact: <sip:alice@192.0.2.10:5060>\n"
        "P-Asserted-Identity: \"Alice A.\" <sip:+15557654321@example.net>, <tel:+15557654321>\n"
        "Content-Type: application/sdp\n"
        "Content-Length: ") +
    std::to_string(k_sdp.size()) + "\r\n\r\n" + k_sdp;

TEST(sip_parser, an_ordinary_invite) {
  message m;
  ASSERT_EQ(parse_dgram(k_invite, &m), parse_status::ok);
  EXPECT_TRUE(m.is_request);
  EXPECT_EQ(m.req_method, method::invite);
  EXPECT_EQ(m.request_uri, "sip:+15551230000@pbx.example.com");
  EXPECT_EQ(m.call_id, "a84b4c76e66710@192.0.2.10");
  EXPECT_EQ(m.cseq, 314159u);
  EXPECT_EQ(m.cseq_method, method::invite);
  EXPECT_EQ(m.from.display, "Alice Caller");
  EXPECT_EQ(m.from.user, "+15557654321");
  EXPECT_EQ(m.from.host, "example.net");
  EXPECT_EQ(m.from.tag, "1928301774");
  EXPECT_EQ(m.to.user, "+15551230000");
  EXPECT_TRUE(m.to.tag.empty());
  name_addr contact;
  ASSERT_TRUE(parse_name_addr(m.contact, &contact));
  EXPECT_EQ(contact.user, "alice");
  EXPECT_EQ(contact.host, "192.0.2.10");
  EXPECT_EQ(m.pai.display, "Alice A.");
  EXPECT_EQ(m.pai.user, "+15557654321");
  EXPECT_EQ(m.content_length, static_cast<int64_t>(k_sdp.size()));
  EXPECT_EQ(m.length, k_invite.size());
  ASSERT_TRUE(m.sdp.present);
  EXPECT_EQ(m.sdp.conn_addr, "192.0.2.10");
  EXPECT_EQ(m.sdp.conn_family, 4);
  EXPECT_EQ(m.sdp.audio_port, 49170);
  ASSERT_EQ(m.sdp.pt_count, 3);
  EXPECT_EQ(m.sdp.pts[0], 0);
  EXPECT_EQ(m.sdp.pts[1], 8);
  EXPECT_EQ(m.sdp.pts[2], 101);
  EXPECT_EQ(m.sdp.telephone_event_pt, 101);
}

TEST(sip_parser, responses) {
  message m;
  std::string r = crlf(
      "SIP/2.0 180 Ringing\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\n"
      "From: <sip:a@b>;tag=1\nTo: <sip:c@d>;tag=2\nCall-ID: x\nCSeq: 1 INVITE\n"
      "Content-Length: 0\n\n");
  ASSERT_EQ(parse_dgram(r, &m), parse_status::ok);
  EXPECT_FALSE(m.is_request);
  EXPECT_EQ(m.status, 180);
  EXPECT_EQ(m.reason, "Ringing");
  EXPECT_EQ(m.cseq_method, method::invite);
  EXPECT_EQ(m.to.tag, "2");
  r = crlf("SIP/2.0 486 Busy Here\nCall-ID: y\nCSeq: 2 INVITE\nl: 0\n\n");
  ASSERT_EQ(parse_dgram(r, &m), parse_status::ok);
  EXPECT_EQ(m.status, 486);
}

TEST(sip_parser, the_start_line_read_once_gives_the_same_parse) {
  // The worker reads the start line for its check and hands it to the parser.
  for (const std::string& text :
       {k_invite, crlf("SIP/2.0  180   Ringing  \nCall-ID: x\nCSeq: 1 INVITE\nl: 0\n\n"),
        crlf("SIP/2.0 200\nCall-ID: x\nCSeq: 1 INVITE\nl: 0\n\n"),
        crlf("FOO  sip:x@y\tsip/2.0 \nCall-ID: x\nCSeq: 1 FOO\nl: 0\n\n")}) {
    SCOPED_TRACE(text.substr(0, text.find('\n')));
    const size_t n = text.find('\n') + 1;
    start_line sl;
    ASSERT_NE(start_line_read(text.data(), n, &sl), 0u);
    EXPECT_EQ(sl.id, start_line_id(text.data(), n));
    EXPECT_EQ(sl.length, n);
    message a, b;
    ASSERT_EQ(parse(text.data(), text.size(), true, &a), parse_status::ok);
    ASSERT_EQ(parse_fresh(text.data(), text.size(), true, &b, {}, &sl), parse_status::ok);
    EXPECT_EQ(a.is_request, b.is_request);
    EXPECT_EQ(a.req_method, b.req_method);
    EXPECT_EQ(a.method_token, b.method_token);
    EXPECT_EQ(a.request_uri.data(), b.request_uri.data());
    EXPECT_EQ(a.request_uri, b.request_uri);
    EXPECT_EQ(a.status, b.status);
    EXPECT_EQ(a.reason, b.reason);
    EXPECT_EQ(a.call_id.data(), b.call_id.data());
    EXPECT_EQ(a.length, b.length);
  }
  start_line sl;
  const std::string bad = "SIP/2.0 200 O\rK\r\n";  // a CR inside: not one it accepts
  EXPECT_EQ(start_line_read(bad.data(), bad.size(), &sl), 0u);
  EXPECT_EQ(sl.id, 0u);
  const std::string status = "SIP/2.0\t404 Not  Found \r\n";
  ASSERT_EQ(start_line_read(status.data(), status.size(), &sl), k_start_line_status);
  EXPECT_EQ(sl.status, 404);
  EXPECT_EQ(sl.reason, "Not  Found");
}

TEST(sip_parser, compact_forms_case_and_spacing) {
  message m;
  std::string s = crlf(
      "INVITE sip:bob@example.com SIP/2.0\n"
      "v: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\n"
      "f:Mallory<sip:+15550001111@evil.example>;tag=abc\n"  // no space before '<', none after ':'
      "t  : sip:bob@example.com\n"                          // space before the colon
      "i:compact-call-id\n"
      "cSeQ:   7   INVITE\n"
      "m: <sip:m@192.0.2.1>\n"
      "c: application/sdp\n"
      "l: 0\n\n");
  ASSERT_EQ(parse_dgram(s, &m), parse_status::ok);
  EXPECT_EQ(m.from.display, "Mallory");
  EXPECT_EQ(m.from.user, "+15550001111");
  EXPECT_EQ(m.from.tag, "abc");
  EXPECT_EQ(m.to.user, "bob");
  EXPECT_EQ(m.call_id, "compact-call-id");
  EXPECT_EQ(m.cseq, 7u);
  EXPECT_EQ(m.contact, "<sip:m@192.0.2.1>");
  EXPECT_EQ(m.content_type, "application/sdp");
  EXPECT_EQ(m.content_length, 0);
}

// Header names are matched from one 16-byte load and a table (sip_parser.cc read_name()):
// whole names only, case ignored for letters only, whitespace only between name and colon,
// and names whose colon lies past the first 16 bytes of the line read the same way.
// The byte classes the parser's searches use (byte_class.h): exact for every byte, the
// 16-byte match the same as the tables, whatever the class.
TEST(byte_class, is_exact_for_every_byte) {
  constexpr auto& name_addr = k_bytes<'"', '<', '>', ':', '@', ';', '\\', ',', '?', '[', ']'>;
  const std::string special = "\"<>:@;\\,?[]";
  for (unsigned b = 0; b < 256; b++)
    EXPECT_EQ(name_addr.has(static_cast<unsigned char>(b)),
              special.find(static_cast<char>(b)) != std::string::npos)
        << b;
  // Any class of bytes below 0x80 (here: every high nibble its own low nibbles).
  constexpr byte_class odd{[](unsigned char c) { return c < 0x80 && (c * 7 + c / 16) % 3 == 0; }};
  for (unsigned b = 0; b < 256; b++)
    EXPECT_EQ(odd.has(static_cast<unsigned char>(b)), b < 0x80 && (b * 7 + b / 16) % 3 == 0) << b;
#if defined(RB_BYTE_CLASS)
  for (unsigned base = 0; base < 256; base += 16) {
    alignas(16) unsigned char block[16];
    for (unsigned i = 0; i < 16; i++) block[i] = static_cast<unsigned char>(base + i);
    const unsigned got = match(_mm_load_si128(reinterpret_cast<const __m128i*>(block)), odd);
    unsigned want = 0;
    for (unsigned i = 0; i < 16; i++) want |= odd.has(block[i]) ? 1u << i : 0;
    EXPECT_EQ(got, want) << base;
  }
#endif
}

TEST(sip_parser, header_names_are_matched_whole_and_only_letters_ignore_case) {
  std::string s;  // the message the views point into, until the next one
  auto parsed = [&s](const std::string& headers, message* m) {
    s = crlf("INVITE sip:x@y SIP/2.0\n" + headers + "\n");
    *m = message{};
    return parse(s.data(), s.size(), true, m);
  };
  message m;
  ASSERT_EQ(parsed("CALL-id: a\ncseq: 1 INVITE\nCONTENT-LENGTH: 0\n", &m), parse_status::ok);
  EXPECT_EQ(m.call_id, "a");
  // Lookalikes: a byte that differs in a non-letter place, a longer or shorter name, a
  // name that is another's prefix.
  for (const char* other : {"Call_ID", "Call-IDs", "Call-I", "CallXID", "Call\x0dID", "Cseqq",
                            "Content-Lengthy", "Content-Lengt", "Fromm", "T0", "Privac"}) {
    ASSERT_EQ(parsed(std::string(other) + ": z\nCall-ID: a\nCSeq: 1 INVITE\nl: 0\n", &m),
              parse_status::ok)
        << other;
    EXPECT_EQ(m.call_id, "a") << other;
    EXPECT_FALSE(m.from.present || m.from.pending) << other;
    EXPECT_EQ(m.content_length, 0) << other;
  }
  // Whitespace before the colon is allowed, inside the name it is not.
  ASSERT_EQ(parsed("Call-ID \t : a\nCSeq : 1 INVITE\n", &m), parse_status::ok);
  EXPECT_EQ(m.call_id, "a");
  EXPECT_EQ(parsed("Call ID: a\nCSeq: 1 INVITE\n", &m), parse_status::bad_header);
  EXPECT_EQ(parsed(": a\nCall-ID: a\nCSeq: 1 INVITE\n", &m), parse_status::bad_header);
  // Names (and whitespace) reaching past 16 bytes: the same answers.
  ASSERT_EQ(parsed("P-Asserted-Identity: <sip:+1555@x>\nCall-ID: a\nCSeq: 1 INVITE\n"
                   "Content-Length                 : 0\n",
                   &m),
            parse_status::ok);
  EXPECT_EQ(m.pai.user, "+1555");
  EXPECT_EQ(m.content_length, 0);
  EXPECT_EQ(parsed("X-A-Rather-Long-Header Name: 1\nCall-ID: a\nCSeq: 1 INVITE\n", &m),
            parse_status::bad_header);
  EXPECT_EQ(parsed("X-A-Rather-Long-Header-Name-With-No-Colon\nCall-ID: a\n", &m),
            parse_status::bad_header);
}

TEST(sip_parser, folded_headers_are_one_value) {
  message m;
  std::string s = crlf(
      "INVITE sip:bob@example.com SIP/2.0\n"
      "From: \"Folded\n"
      "  Name\"\n"
      "\t<sip:+15552223333@example.net>\n"
      "  ;tag=fold1\n"
      "To: <sip:bob@example.com>\n"
      "Call-ID: fold\n"
      "CSeq: 1\n INVITE\n"
      "Content-Length: 0\n\n");
  ASSERT_EQ(parse_dgram(s, &m), parse_status::ok);
  EXPECT_EQ(m.from.user, "+15552223333");
  EXPECT_EQ(m.from.tag, "fold1");
  EXPECT_NE(m.from.display.find("Folded"), std::string_view::npos);
  EXPECT_EQ(m.cseq_method, method::invite);
}

// The caller's extra header (the media feature's X-No-Record): found in any case and with
// spaces before the colon, also in a stream, also when the parser knows the header; not
// in the body, not as the start of a longer name, not when nothing is asked.
TEST(sip_parser, a_watched_header_is_found_only_among_the_headers) {
  const auto with = [](const std::string& line, const std::string& body) {
    std::string s = k_invite.substr(0, k_invite.find("Content-Length:")) + line +
                    "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    return s;
  };
  const std::string yes[] = {with("X-No-Record: 1\r\n", ""), with("x-no-RECORD  :yes\r\n", "")};
  for (const std::string& s : yes) {
    message m;
    ASSERT_EQ(parse(s.data(), s.size(), true, &m, "X-No-Record"), parse_status::ok) << s;
    EXPECT_TRUE(m.watched) << s;
    message t;
    ASSERT_EQ(parse(s.data(), s.size(), false, &t, "x-no-record"), parse_status::ok) << s;
    EXPECT_TRUE(t.watched) << s;
    message none;
    ASSERT_EQ(parse(s.data(), s.size(), true, &none), parse_status::ok);
    EXPECT_FALSE(none.watched);
  }
  const std::string no[] = {with("X-No-Recording: 1\r\n", ""), with("X-No: 1\r\n", ""),
                            with("", "X-No-Record: 1\r\n"), k_invite};
  for (const std::string& s : no) {
    message m;
    ASSERT_EQ(parse(s.data(), s.size(), true, &m, "X-No-Record"), parse_status::ok) << s;
    EXPECT_FALSE(m.watched) << s;
  }
  message known;
  ASSERT_EQ(parse(k_invite.data(), k_invite.size(), true, &known, "Call-ID"), parse_status::ok);
  EXPECT_TRUE(known.watched);
  EXPECT_EQ(known.call_id, "a84b4c76e66710@192.0.2.10");  // and still parsed as such
}

TEST(sip_parser, escapes_quotes_and_addr_spec) {
  message m;
  std::string s = crlf(
      "INVITE sip:bob@example.com SIP/2.0\n"
      "From: \"\\\"Bank\\\" <sip:fake@x>\" <sip:%2B1555%20444@example.net;user=phone>;tag=q\n"
      "To: sip:bob@example.com;tag=t2\n"
      "Call-ID: esc\nCSeq: 1 INVITE\nContent-Length: 0\n\n");
  ASSERT_EQ(parse_dgram(s, &m), parse_status::ok);
  // The display name holds a fake URI: the real one is the one in angle brackets.
  EXPECT_EQ(m.from.user, "%2B1555%20444");
  EXPECT_EQ(m.from.host, "example.net");
  EXPECT_EQ(m.from.tag, "q");
  EXPECT_EQ(m.to.user, "bob");
  EXPECT_EQ(m.to.tag, "t2") << "addr-spec: parameters after the URI are header parameters";
}

TEST(sip_parser, tel_uri_rpid_privacy_and_anonymous) {
  message m;
  std::string s = crlf(
      "INVITE sip:bob@example.com SIP/2.0\n"
      "From: \"Anonymous\" <sip:anonymous@anonymous.invalid>;tag=a\n"
      "To: <sip:bob@example.com>\n"
      "Remote-Party-ID: \"Real Name\" "
      "<tel:+15559990000;phone-context=x>;party=calling;privacy=full\n"
      "Privacy: id; header\n"
      "Call-ID: anon\nCSeq: 1 INVITE\nContent-Length: 0\n\n");
  ASSERT_EQ(parse_dgram(s, &m), parse_status::ok);
  EXPECT_EQ(m.from.user, "anonymous");
  EXPECT_EQ(m.rpid.scheme, "tel");
  EXPECT_EQ(m.rpid.user, "+15559990000");
  EXPECT_EQ(m.rpid.display, "Real Name");
  EXPECT_NE(m.rpid.params.find("privacy=full"), std::string_view::npos);
  EXPECT_EQ(m.privacy, "id; header");
}

TEST(sip_parser, repeated_headers_first_wins) {
  message m;
  std::string s = crlf(
      "INVITE sip:bob@example.com SIP/2.0\n"
      "From: <sip:first@a>;tag=1\nFrom: <sip:second@b>;tag=2\n"
      "To: <sip:bob@example.com>\nCall-ID: one\nCall-ID: two\nCSeq: 1 INVITE\n"
      "Content-Length: 0\n\n");
  ASSERT_EQ(parse_dgram(s, &m), parse_status::ok);
  EXPECT_EQ(m.from.user, "first");
  EXPECT_EQ(m.call_id, "one");
}

TEST(sip_parser, lf_only_line_ends_and_extension_methods) {
  message m;
  std::string s = "FOOBAR sip:x@y SIP/2.0\nCall-ID: lf\nCSeq: 3 FOOBAR\nContent-Length: 0\n\n";
  ASSERT_EQ(parse_dgram(s, &m), parse_status::ok);
  EXPECT_EQ(m.req_method, method::other);
  EXPECT_EQ(m.method_token, "FOOBAR");
  EXPECT_EQ(m.cseq_method, method::other);
}

TEST(sip_parser, multipart_body_sdp_part_is_found) {
  message m;
  std::string body = crlf(
      "--boundary42\n"
      "Content-Type: application/isup\n\n"
      "binary-ish\n"
      "--boundary42\n"
      "Content-Type: application/sdp\n\n"
      "v=0\nc=IN IP6 2001:db8::1\nm=audio 4000 RTP/AVP 9\n"
      "--boundary42--\n");
  std::string s = crlf(
                      "INVITE sip:bob@example.com SIP/2.0\nCall-ID: mp\nCSeq: 1 INVITE\n"
                      "Content-Type: multipart/mixed;boundary=boundary42\n"
                      "Content-Length: ") +
                  std::to_string(body.size()) + "\r\n\r\n" + body;
  ASSERT_EQ(parse_dgram(s, &m), parse_status::ok);
  ASSERT_TRUE(m.sdp.present);
  EXPECT_EQ(m.sdp.audio_port, 4000);
  EXPECT_EQ(m.sdp.conn_addr, "2001:db8::1");
  EXPECT_EQ(m.sdp.conn_family, 6);
}

TEST(sip_parser, sdp_media_level_connection_and_rtcp) {
  sdp_info sdp;
  const std::string body = crlf("v=0\nc=IN IP4 198.51.100.1\nt=0 0\nm=video 5000 RTP/AVP 96\n"
                 "m=audio 6000 RTP/AVP 18 0\nc=IN IP4 198.51.100.2/127\na=rtcp:6005\n"
                 "a=sendonly\nm=audio 7000 RTP/AVP 0\n");
  parse_sdp(body, &sdp);  // the views point into BODY, which must outlive them
  EXPECT_TRUE(sdp.present);
  EXPECT_EQ(sdp.audio_port, 6000) << "the first audio stream";
  EXPECT_EQ(sdp.conn_addr, "198.51.100.2");
  EXPECT_EQ(sdp.rtcp_port, 6005);
  EXPECT_EQ(sdp.direction, "sendonly");
  ASSERT_EQ(sdp.pt_count, 2);
  EXPECT_EQ(sdp.pts[0], 18);
}

TEST(sip_parser, streams_ask_for_more_and_frame_by_content_length) {
  const std::string two = k_invite + k_invite;
  message m;
  for (size_t cut : {size_t{5}, size_t{60}, k_invite.size() - 150, k_invite.size() - 1})
    EXPECT_EQ(parse(two.data(), cut, false, &m), parse_status::incomplete) << cut;
  ASSERT_EQ(parse(two.data(), two.size(), false, &m), parse_status::ok);
  EXPECT_EQ(m.length, k_invite.size()) << "only the first message is consumed";
  std::string no_len = crlf("BYE sip:x SIP/2.0\nCall-ID: s\nCSeq: 2 BYE\n\n");
  EXPECT_EQ(parse(no_len.data(), no_len.size(), false, &m), parse_status::bad_content_length);
}

struct bad_case {
  const char* text;
  parse_status expect;
};
class sip_parser_malformed : public ::testing::TestWithParam<bad_case> {};

TEST_P(sip_parser_malformed, is_refused_with_a_reason) {
  message m;
  std::string s = crlf(GetParam().text);
  EXPECT_EQ(parse_dgram(s, &m), GetParam().expect) << GetParam().text;
}

INSTANTIATE_TEST_SUITE_P(
    all, sip_parser_malformed,
    ::testing::Values(
        bad_case{"GET / HTTP/1.1\nHost: x\n\n", parse_status::not_sip},
        bad_case{"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", parse_status::not_sip},
        bad_case{"INVITE sip:x SIP/3.0\nCall-ID: a\n\n", parse_status::bad_start_line},
        bad_case{"INVITE  SIP/2.0\nCall-ID: a\n\n", parse_status::bad_start_line},
        bad_case{"SIP/2.0 99 Too Low\nCall-ID: a\n\n", parse_status::bad_start_line},
        bad_case{"SIP/2.0 1234 x\nCall-ID: a\n\n", parse_status::bad_start_line},
        bad_case{"INVITE sip:x SIP/2.0\nNoColonHere\n\n", parse_status::bad_header},
        bad_case{"INVITE sip:x SIP/2.0\n continuation first\n\n", parse_status::bad_header},
        bad_case{"INVITE sip:x SIP/2.0\nCall-ID: a\nCSeq: 1 INVITE\n", parse_status::no_header_end},
        bad_case{"INVITE sip:x SIP/2.0\nCall-ID: a\nCSeq: 1 INVITE\nContent-Length: x1\n\n",
                 parse_status::bad_content_length},
        bad_case{
            "INVITE sip:x SIP/2.0\nCall-ID: a\nCSeq: 1 INVITE\nContent-Length: 99999999999\n\n",
            parse_status::bad_content_length},
        bad_case{"INVITE sip:x SIP/2.0\nCall-ID: a\nCSeq: 1 INVITE\nContent-Length: 5\nl: 6\n\n",
                 parse_status::bad_content_length},
        bad_case{"INVITE sip:x SIP/2.0\nCall-ID: a\nCSeq: 1 INVITE\nContent-Length: 500\n\nshort",
                 parse_status::truncated_body},
        bad_case{"INVITE sip:x SIP/2.0\nCSeq: 1 INVITE\nContent-Length: 0\n\n",
                 parse_status::missing_call_id},
        bad_case{"INVITE sip:x SIP/2.0\nCall-ID: a\nCSeq: INVITE\nContent-Length: 0\n\n",
                 parse_status::bad_cseq},
        bad_case{"INVITE sip:x SIP/2.0\nCall-ID: a\nCSeq: 99999999999 INVITE\n\n",
                 parse_status::bad_cseq}));

TEST(sip_parser, hostile_name_addrs_do_not_read_past_the_value) {
  name_addr na;
  for (const char* v : {"\"unterminated <sip:a@b>", "<sip:a@b", "\"x\" sip:a@b", "", "   ", "\"\\",
                        "<>", "<sip:>", "<sip:@>;tag", ";tag=x", "\"a\"<", "sip:"}) {
    std::string s = v;  // exact-size buffer so ASan sees any overread
    parse_name_addr(s, &na);
  }
  EXPECT_TRUE(parse_name_addr("<sip:>", &na));
  EXPECT_TRUE(na.user.empty());
}

// The usual shapes (one walk) and their near neighbours that take the general path give the
// fields a caller-ID user reads; the fuzz target holds both paths to the reference parser.
TEST(sip_parser, name_addr_shapes_and_their_neighbours) {
  struct want {
    const char* value;
    const char* display;
    const char* scheme;
    const char* user;
    const char* host;
    const char* tag;
  };
  const want cases[] = {
      {"\"Caller 7\" <sip:+15550000007@10.99.0.1>;tag=7", "Caller 7", "sip", "+15550000007",
       "10.99.0.1", "7"},
      {"<sip:+15551230000@10.99.0.2>", "", "sip", "+15551230000", "10.99.0.2", ""},
      {"Bob Smith < sip:bob:secret@example.com:5070 ;user=phone >;TAG = x1 ;foo", "Bob Smith",
       "sip", "bob", "example.com", "x1"},
      {"\"Ann, <Sales>\" <sips:ann@b.example;transport=tls>;x=1;tag=t9", "Ann, <Sales>", "sips",
       "ann", "b.example", "t9"},
      {"<tel:+1-555-0100;phone-context=x@y>;tag=z", "", "tel", "+1-555-0100", "", "z"},
      {"<sip:host.only:5060>", "", "sip", "", "host.only", ""},
      {"<sip:host.only;lr>;tag=a;b", "", "sip", "", "host.only", "a"},
      {"Carol <sip:c@h:5060;transport=udp;x=a:b@c>;tag=q", "Carol", "sip", "c", "h", "q"},
      {"\"\" <sip:e@h>", "", "sip", "e", "h", ""},
      {"<sip:@h>", "", "sip", "", "h", ""},
      {"<SIP:Up@Host>;TAG=Z", "", "SIP", "Up", "Host", "Z"},
      {"<sip:a@b@c:1>", "", "sip", "a", "b@c", ""},
      // The general path: an escape, a comma between values, IPv6, URI headers, addr-spec.
      {"\"a \\\"q\\\"\" <sip:u@h>;tag=e", "a \\\"q\\\"", "sip", "u", "h", "e"},
      {"<sip:first@a>;tag=1, <sip:second@b>", "", "sip", "first", "a", "1"},
      {"<sip:v6@[2001:db8::1]:5060>", "", "sip", "v6", "[2001:db8::1]", ""},
      {"<sip:h@x?subject=y>", "", "sip", "h", "x", ""},
      {"sip:plain@example.com;tag=p", "", "sip", "plain", "example.com", "p"},
  };
  for (const want& w : cases) {
    const std::string v = w.value;  // exact-size buffer: ASan sees any overread
    name_addr na;
    ASSERT_TRUE(parse_name_addr(v, &na)) << v;
    EXPECT_EQ(na.display, w.display) << v;
    EXPECT_EQ(na.scheme, w.scheme) << v;
    EXPECT_EQ(na.user, w.user) << v;
    EXPECT_EQ(na.host, w.host) << v;
    EXPECT_EQ(na.tag, w.tag) << v;
    // Inside a message, with more of it after the value, the commonest shapes are read from
    // the order of their special bytes (name_addr_common()): the same fields.
    const std::string msg = crlf("INVITE sip:x@y SIP/2.0\nFrom: " + v +
                                 "\nCall-ID: a\nCSeq: 1 INVITE\nX-Pad: " + std::string(64, '>') +
                                 "\n\n");
    message m;
    ASSERT_EQ(parse(msg.data(), msg.size(), true, &m), parse_status::ok) << v;
    EXPECT_EQ(m.from.display, na.display) << v;
    EXPECT_EQ(m.from.uri, na.uri) << v;
    EXPECT_EQ(m.from.scheme, na.scheme) << v;
    EXPECT_EQ(m.from.user, na.user) << v;
    EXPECT_EQ(m.from.host, na.host) << v;
    EXPECT_EQ(m.from.params, na.params) << v;
    EXPECT_EQ(m.from.tag, na.tag) << v;
  }
}

TEST(sip_parser, the_lazy_parse_reads_what_the_eager_one_reads_when_asked) {
  // The worker's parse: name-addrs found, read only when needed, with the eager result.
  const std::string text = crlf(
      "SIP/2.0 180 Ringing\n"
      "From: \"unterminated <sip:bad@h>\n"     // does not parse: the next From counts
      "From: \"Alice\" <sip:+15557654321@h>;tag=f1\n"
      "From: <sip:third@h>;tag=f3\n"
      "To: <sip:+15551230000@h>;tag=t1\n"
      "P-Asserted-Identity: <tel:+1-555-000-0003>\n"
      "Call-ID: lazy\nCSeq: 1 INVITE\nl: 0\n\n");
  message eager, lazy;
  ASSERT_EQ(parse(text.data(), text.size(), true, &eager), parse_status::ok);
  ASSERT_EQ(parse_fresh(text.data(), text.size(), true, &lazy, {}, nullptr, true),
            parse_status::ok);
  EXPECT_EQ(eager.from.user, "+15557654321");
  EXPECT_EQ(eager.from.value, "\"Alice\" <sip:+15557654321@h>;tag=f1");
  EXPECT_FALSE(eager.from.pending);
  // A second and a third From made the parse read the ones waiting before them, up to the
  // one that parses: the second, as the eager parse took it.
  EXPECT_FALSE(lazy.from.pending);
  EXPECT_EQ(lazy.from.value, eager.from.value);
  EXPECT_TRUE(lazy.to.pending);
  EXPECT_TRUE(lazy.to.tag.empty());
  settle_to_tag(&lazy);  // To has a ';': read
  EXPECT_FALSE(lazy.to.pending);
  EXPECT_EQ(lazy.to.tag, "t1");
  EXPECT_TRUE(lazy.pai.pending);
  EXPECT_TRUE(settle(lazy, &lazy.from));
  EXPECT_EQ(lazy.from.user, eager.from.user);
  EXPECT_EQ(lazy.from.display, "Alice");
  EXPECT_EQ(lazy.from.tag, "f1");
  EXPECT_TRUE(settle(lazy, &lazy.pai));
  EXPECT_EQ(lazy.pai.user, "+1-555-000-0003");
  EXPECT_FALSE(settle(lazy, &lazy.rpid)) << "no Remote-Party-ID";
  // A To without ';' has no tag whatever it holds: it is left unread.
  const std::string invite = crlf(
      "INVITE sip:x@h SIP/2.0\nFrom: <sip:a@h>;tag=1\nTo: \"Desk\" <sip:100@h>\n"
      "Call-ID: c\nCSeq: 1 INVITE\nl: 0\n\n");
  message li;
  ASSERT_EQ(parse_fresh(invite.data(), invite.size(), true, &li, {}, nullptr, true),
            parse_status::ok);
  settle_to_tag(&li);
  EXPECT_TRUE(li.to.pending);
  EXPECT_TRUE(li.to.tag.empty());
  EXPECT_EQ(li.to.value, "\"Desk\" <sip:100@h>");
  EXPECT_TRUE(settle(li, &li.to));
  EXPECT_EQ(li.to.user, "100");
  EXPECT_EQ(li.to.display, "Desk");
  // The SDP waits for settle_sdp() (the worker's media feature reads the body itself).
  message ls, es;
  ASSERT_EQ(parse_fresh(k_invite.data(), k_invite.size(), true, &ls, {}, nullptr, true),
            parse_status::ok);
  ASSERT_EQ(parse(k_invite.data(), k_invite.size(), true, &es), parse_status::ok);
  ASSERT_TRUE(es.sdp.present);
  EXPECT_FALSE(ls.sdp.present);
  EXPECT_EQ(sdp_body(ls), sdp_body(es));
  settle_sdp(&ls);
  EXPECT_TRUE(ls.sdp.present);
  EXPECT_EQ(ls.sdp.audio_port, es.sdp.audio_port);
  EXPECT_EQ(ls.sdp.conn_addr, es.sdp.conn_addr);
}

TEST(sip_parser, the_probe_is_cheap_and_permissive) {
  EXPECT_TRUE(could_be_sip("INVITE sip:", 11));
  EXPECT_TRUE(could_be_sip("SIP/2.0 200", 11));
  EXPECT_TRUE(could_be_sip("FOO sip:x y", 11));
  EXPECT_FALSE(could_be_sip("\x80\x00\x12\x34\x56\x78\x9a\xbc", 8));  // RTP
  EXPECT_FALSE(could_be_sip("GET", 3));
  EXPECT_FALSE(could_be_sip("invite sip:x", 12));
  EXPECT_FALSE(could_be_sip("\r\n\r\n", 4));
}

TEST(sip_parser, every_prefix_of_every_fixture_is_safe) {
  // Truncation at any byte must give an error or incomplete, never a crash or overread.
  message m;
  for (size_t n = 0; n <= k_invite.size(); n++) {
    std::string cut = k_invite.substr(0, n);
    parse(cut.data(), cut.size(), true, &m);
    parse(cut.data(), cut.size(), false, &m);
  }
  SUCCEED();
}

}  // namespace
}  // namespace ringbridge::dp::sip
