// SPDX-License-Identifier: BSD-3-Clause
// Zero-copy, bounded SIP (RFC 3261) and SDP (RFC 4566) parsing for the worker's hot path.
//
// Everything here is a view into the caller's buffer: nothing is allocated or copied, and no
// length from the wire is trusted (every index is checked against the buffer). Pure C++, no
// DPDK, so it is unit-tested and fuzzed on its own. Any thread; no shared state.
//
// Owned by the sip feature; the filters read parsed messages. Touches nothing else.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ringbridge::dp::sip {

/// Request methods ringbridge tells apart (RFC 3261 and extensions); others are `other`.
#define RB_SIP_FOREACH_METHOD(_)                                                \
  _(invite, "INVITE")                                                           \
  _(ack, "ACK")                                                                 \
  _(bye, "BYE")                                                                 \
  _(cancel, "CANCEL")                                                           \
  _(register_, "REGISTER")                                                      \
  _(options, "OPTIONS")                                                         \
  _(notify, "NOTIFY")                                                           \
  _(subscribe, "SUBSCRIBE")                                                     \
  _(info, "INFO")                                                               \
  _(update, "UPDATE") _(prack, "PRACK") _(refer, "REFER") _(message, "MESSAGE") \
      _(publish, "PUBLISH")

enum class method : uint8_t {
  none = 0,  ///< a response, or no method parsed
#define RB_SIP_METHOD_ENUM(id, text) id,
  RB_SIP_FOREACH_METHOD(RB_SIP_METHOD_ENUM)
#undef RB_SIP_METHOD_ENUM
      other,  ///< a syntactically valid extension method
};

/// "INVITE", ..., "other", "none".
const char* method_name(method m);
/// Methods are case-sensitive (RFC 3261 §7.1).
method method_from_token(std::string_view token);

/// Why a message could not be parsed. Declared once: enum, names and counters.
#define RB_SIP_FOREACH_PARSE_ERROR(_)                                                       \
  _(not_sip, "no SIP request or status line")                                               \
  _(bad_start_line, "malformed request or status line")                                     \
  _(bad_header, "a header line without a name and colon, or a continuation with no header") \
  _(no_header_end, "the headers do not end with an empty line within the datagram")         \
  _(bad_content_length, "Content-Length missing on a stream, not a number, or too large")   \
  _(truncated_body, "the body is shorter than Content-Length")                              \
  _(missing_call_id, "no Call-ID header")                                                   \
  _(bad_cseq, "CSeq missing or malformed")

enum class parse_status : uint8_t {
  ok = 0,
  incomplete,  ///< stream only: more bytes are needed
#define RB_SIP_PARSE_ENUM(name, help) name,
  RB_SIP_FOREACH_PARSE_ERROR(RB_SIP_PARSE_ENUM)
#undef RB_SIP_PARSE_ENUM
};

const char* parse_status_name(parse_status s);

/// A From / To / Contact / P-Asserted-Identity / Remote-Party-ID value: name-addr or
/// addr-spec with header parameters. Views may span folded lines (CRLF + whitespace).
struct name_addr {
  bool present = false;
  std::string_view display;  ///< display name without quotes; may hold \" escapes
  std::string_view uri;      ///< the whole URI
  std::string_view scheme;   ///< "sip", "sips", "tel", ...
  std::string_view user;     ///< user part (sip) or number (tel), raw (%XX escapes kept)
  std::string_view host;
  std::string_view tag;     ///< the tag header parameter
  std::string_view params;  ///< header parameters after the URI, raw (";party=calling...")
  /// The header's value (trimmed) the fields above were, or are to be, read from: the
  /// first of the message's headers of this name that parses (when none does, the last
  /// one tried).
  std::string_view value;
  /// parse_fresh(..., lazy) met the header but left VALUE unread; settle() reads it.
  bool pending = false;
};

/// The audio part of an SDP body.
struct sdp_info {
  bool present = false;
  std::string_view conn_addr;  ///< c= address applying to the audio stream
  uint8_t conn_family = 0;     ///< 4 or 6
  uint16_t audio_port = 0;     ///< first m=audio line
  uint16_t rtcp_port = 0;      ///< a=rtcp (0 = audio_port + 1 by convention)
  uint8_t pt_count = 0;        ///< payload types listed on the m= line (first 16)
  uint8_t pts[16] = {};
  int16_t telephone_event_pt = -1;  ///< a=rtpmap:N telephone-event/...
  std::string_view direction;       ///< sendrecv / sendonly / recvonly / inactive, if given
};

/// One parsed message. Valid as long as the buffer it was parsed from.
struct message {
  bool is_request = false;
  method req_method = method::none;
  std::string_view method_token;
  std::string_view request_uri;
  uint16_t status = 0;  ///< responses: 100..699
  std::string_view reason;

  std::string_view call_id;
  /// keyed_hash64(call_id): not the parser's; the sip stage sets it once for everything
  /// after it (the media feature's call key, the event signature). 0: not computed.
  uint64_t call_hash = 0;
  uint32_t cseq = 0;
  method cseq_method = method::none;
  name_addr from, to, pai, rpid;
  std::string_view contact;       ///< raw Contact value (parse_name_addr() on demand)
  std::string_view privacy;       ///< raw Privacy header value
  std::string_view content_type;  ///< raw, parameters included
  int64_t content_length = -1;    ///< -1 = no header
  std::string_view body;
  sdp_info sdp;
  uint16_t header_count = 0;
  size_t length = 0;  ///< bytes from the start line to the end of the body
  bool watched = false;  ///< a header named like parse()'s WATCH is among the headers
  const char* limit = nullptr;  ///< the end of the buffer parsed (settle() may read to it)
};

/// A start line as start_line_read() found it: what parse() would fill in from it.
struct start_line {
  unsigned id = 0;      ///< start_line_id()'s value (0: not a start line it accepts)
  size_t length = 0;    ///< bytes up to and including the line's LF
  bool is_request = false;
  method req_method = method::none;
  std::string_view method_token;
  std::string_view request_uri;
  uint16_t status = 0;
  std::string_view reason;
};

/// Parses one message at the start of BUF. DATAGRAM: a UDP payload (the message must be
/// complete; a missing Content-Length means "the rest of the datagram"). Otherwise a TCP
/// stream: `incomplete` asks for more bytes (with out->length set to the total the message
/// needs once its headers are complete, 0 before), and Content-Length is required. Never
/// reads outside [buf, buf + len). Leading CRLFs are the caller's to skip (RFC 3261 §7.5).
/// The start line is parsed leniently, as permissive user agents do (version in any case,
/// runs of whitespace): everything a phone might take for an INVITE is one here.
/// WATCH: one more header name (any case) to look out for on the way, e.g. the media
/// feature's X-No-Record; message::watched says whether it was there. Empty: none.
parse_status parse(const char* buf, size_t len, bool datagram, message* out,
                   std::string_view watch = {});
/// parse() into a message just constructed (`message m;`), which it does not reset again:
/// the message is ~800 bytes, and the worker parses into a fresh one every time.
/// KNOWN: BUF's start line as start_line_read(BUF, ...) accepted it (id != 0); the parser
/// takes its parts from there instead of walking the line again. The result is the same.
/// LAZY: From, To, P-Asserted-Identity and Remote-Party-ID are not read as they are met,
/// only found (name_addr::value, `pending`): the worker reads them when it needs them
/// (settle(), settle_to_tag()), which for most messages is never or only To. What settle()
/// then gives is what the eager parse gives: the first header of each name that parses.
/// The SDP is not read either (message::sdp; settle_sdp()): the worker's media feature
/// reads the body's streams itself.
parse_status parse_fresh(const char* buf, size_t len, bool datagram, message* out,
                         std::string_view watch = {}, const start_line* known = nullptr,
                         bool lazy = false);

/// Reads M's name-addr NA (one of its from, to, pai, rpid) if the lazy parse left it
/// pending. Returns NA->present.
bool settle(const message& m, name_addr* na);
/// Reads M's SDP into message::sdp (what the eager parse does) if it is not read yet.
void settle_sdp(message* m);
/// What M's To tag is, reading the To header only when it could have one (a tag needs a
/// ';'): after it, m->to.tag is right whether or not To was read.
void settle_to_tag(message* m);

/// The cheap test every UDP/TCP payload gets: could this start a SIP message? Looks at
/// no more than 11 bytes. False positives are fine (the full check follows). Inline: the
/// worker makes it on every UDP frame that is not on a hint port.
inline bool could_be_sip(const char* buf, size_t len) {
  if (len < 8) return false;
  // Most payloads that are not SIP are out after one compare: neither "SIP/" (any case)
  // nor a method (upper case) starts with anything but a letter.
  const auto c0 = static_cast<unsigned char>(buf[0]);
  if (static_cast<unsigned>(c0 - 'A') >= 26u && c0 != 's') return false;
  if ((c0 | 0x20) == 's' && (buf[1] | 0x20) == 'i' && (buf[2] | 0x20) == 'p' && buf[3] == '/')
    return true;
  // A method: 2..10 upper-case letters, then a space or tab.
  size_t i = 0;
  while (i < len && i < 11 && buf[i] >= 'A' && buf[i] <= 'Z') i++;
  return i >= 2 && i <= 10 && i < len && (buf[i] == ' ' || buf[i] == '\t');
}
/// For a stream's first segment, which may be short: could these be the first bytes of
/// something could_be_sip() accepts? Never false where could_be_sip() of a longer input
/// with this prefix would be true (e.g. "REGISTER" before its space has arrived).
bool could_be_sip_prefix(const char* buf, size_t len);

/// start_line_id(): the id of a request line with an extension method, and of a status line.
inline constexpr unsigned k_start_line_extension = 100;
inline constexpr unsigned k_start_line_status = 200;

/// Which SIP start line is the line P[0..N) — N bytes up to and including the first LF —:
/// a request of a known method (its `method` value), of an extension method
/// (k_start_line_extension), a status line (k_start_line_status), or none (0). Exactly what
/// the worker's Hyperscan database of start lines (sip_setup.cc) reports, without it:
/// method (case-sensitive), runs of spaces or tabs, a Request-URI of any length without
/// whitespace or CR, "SIP/2.0" in any case, trailing spaces or tabs, an optional CR.
unsigned start_line_id(const char* p, size_t n);
/// start_line_id() that also says where the line's parts are (OUT; OUT->id is the id).
unsigned start_line_read(const char* p, size_t n, start_line* out);

/// Parses a name-addr / addr-spec value (exposed for tests and the filter code).
bool parse_name_addr(std::string_view value, name_addr* out);

/// Parses an SDP body into the audio description.
void parse_sdp(std::string_view body, sdp_info* out);
/// M's SDP: its body when that is application/sdp, the SDP part of a multipart body, else
/// empty. A view into M's buffer.
std::string_view sdp_body(const message& m);

/// Case-insensitive ASCII comparison.
bool iequals(std::string_view a, std::string_view b);

}  // namespace ringbridge::dp::sip
