// SPDX-License-Identifier: BSD-3-Clause
// Fuzz target for the SIP/SDP parser and the frame header parser: every view a parse
// returns lies inside the input, and the parser agrees with the one it replaced
// (sip_parser_ref.cc: same status, same views) and the start-line check with the worker's
// Hyperscan database. libFuzzer with -Dfuzz=true (tests/fuzz/run.sh); otherwise
// replay_main.cc replays the checked-in corpus as a normal test.
#include <hs/hs.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ringbridge/dp/packet.h"
#include "ringbridge/sip/sip_event.h"
#include "ringbridge/sip/sip_setup.h"
#include "ringbridge/sip/sip_parser.h"
#include "sip_parser_ref.h"

namespace {

namespace dp = ringbridge::dp;
namespace sip = ringbridge::dp::sip;
namespace sip_ref = ringbridge::dp::sip_ref;

struct bounds {
  const char* begin;
  const char* end;
  // An empty view may point anywhere (a default-constructed one points nowhere).
  void check(std::string_view v) const {
    if (!v.empty() && (v.data() < begin || v.data() + v.size() > end)) __builtin_trap();
  }
  void check(const sip::name_addr& a) const {
    for (std::string_view v :
         {a.display, a.uri, a.scheme, a.user, a.host, a.tag, a.params, a.value})
      check(v);
  }
  void check(const sip::message& m) const {
    for (std::string_view v : {m.method_token, m.request_uri, m.reason, m.call_id, m.contact,
                               m.privacy, m.content_type, m.body, m.sdp.conn_addr, m.sdp.direction})
      check(v);
    for (const sip::name_addr* a : {&m.from, &m.to, &m.pai, &m.rpid}) check(*a);
  }
};

[[noreturn]] void mismatch(const char* what, const std::string& field, const char* data,
                           size_t size) {
  std::fprintf(stderr, "sip_parser_fuzz: %s differs from the reference (%s) on %zu bytes: ", what,
               field.c_str(), size);
  for (size_t i = 0; i < size && i < 400; i++) {
    const unsigned char c = static_cast<unsigned char>(data[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\')
      std::fputc(c, stderr);
    else
      std::fprintf(stderr, "\\x%02x", c);
  }
  std::fputc('\n', stderr);
  __builtin_trap();
}

// The fields fill_event() sets are the same in A and B.
bool same_event(const dp::sip_event& a, const dp::sip_event& b) {
  return a.is_request == b.is_request && a.method == b.method && a.cseq_method == b.cseq_method &&
         a.truncated == b.truncated && a.status == b.status && a.cseq == b.cseq &&
         a.to_tag == b.to_tag && a.call_id.view() == b.call_id.view() &&
         a.call_id.truncated == b.call_id.truncated && a.call_id_hash == b.call_id_hash &&
         a.from.view() == b.from.view() && a.from.truncated == b.from.truncated &&
         a.to.view() == b.to.view() && a.to.truncated == b.to.truncated;
}

// The worker's lazy parse (parse_fresh(..., lazy)): once settled, the same message as the
// eager parse A; with only To's tag settled, the same event.
void compare_lazy(const char* buf, size_t size, bool datagram, sip::parse_status ra,
                  const sip::message& a) {
  sip::message l;
  const sip::parse_status rl = sip::parse_fresh(buf, size, datagram, &l, {}, nullptr, true);
  if (rl != ra) mismatch("lazy parse", "status", buf, size);
  if (rl != sip::parse_status::ok) {
    if (rl == sip::parse_status::incomplete && l.length != a.length)
      mismatch("lazy parse", "length", buf, size);
    return;
  }
  sip::settle_to_tag(&l);
  if (l.to.tag != a.to.tag) mismatch("lazy parse", "To tag before settle()", buf, size);
  dp::sip_event ea, el;
  dp::fill_event(a, &ea);
  dp::fill_event(l, &el);
  if (!same_event(ea, el)) mismatch("lazy parse", "event", buf, size);
  if (l.sdp.present) mismatch("lazy parse", "SDP read", buf, size);
  for (sip::name_addr* na : {&l.from, &l.to, &l.pai, &l.rpid}) sip::settle(l, na);
  sip::settle_sdp(&l);
  if (std::string d = sip_ref::differs(a, l); !d.empty()) mismatch("lazy parse", d, buf, size);
  for (auto [x, y] : {std::pair{&a.from, &l.from}, {&a.to, &l.to}, {&a.pai, &l.pai},
                      {&a.rpid, &l.rpid}})
    if (x->value.data() != y->value.data() || x->value.size() != y->value.size() || y->pending)
      mismatch("lazy parse", "name-addr value", buf, size);
}

// The worker's Hyperscan start-line database and a scratch for it.
struct start_lines {
  std::unique_ptr<dp::sip_database> db;
  hs_scratch* scratch = nullptr;
  start_lines() {
    std::string err;
    db = dp::sip_database::compile(&err);
    if (!db || hs_alloc_scratch(db->db(), &scratch) != HS_SUCCESS) {
      std::fprintf(stderr, "sip_parser_fuzz: %s\n", err.c_str());
      std::abort();
    }
  }
  unsigned id(const char* p, size_t n) const {
    unsigned matched = 0;
    auto on_match = [](unsigned i, unsigned long long, unsigned long long, unsigned,
                       void* ctx) -> int {
      *static_cast<unsigned*>(ctx) = i;
      return 1;
    };
    hs_scan(db->db(), p, static_cast<unsigned>(n), 0, scratch, on_match, &matched);
    return matched;
  }
};

// Whether the header block HEAD (start line first) has a line NAME [SP/HT...] ":" — the
// line scan the media feature used before the parser looked out for its header.
bool has_header_line(std::string_view head, std::string_view name) {
  size_t pos = head.find('\n');
  while (pos != std::string_view::npos && pos + 1 < head.size()) {
    const std::string_view line = head.substr(pos + 1);
    if (line.size() > name.size() && sip::iequals(line.substr(0, name.size()), name)) {
      size_t k = name.size();
      while (k < line.size() && (line[k] == ' ' || line[k] == '\t')) k++;
      if (k < line.size() && line[k] == ':') return true;
    }
    pos = head.find('\n', pos + 1);
  }
  return false;
}

// parse() with a watched header: the same result otherwise, and message::watched exactly
// when a header line of that name is in the header block.
void compare_watch(const char* buf, size_t size) {
  static constexpr std::string_view k_name = "X-No-Record";
  for (bool datagram : {true, false}) {
    sip::message a, w;
    const sip::parse_status ra = sip::parse(buf, size, datagram, &a);
    const sip::parse_status rw = sip::parse(buf, size, datagram, &w, k_name);
    if (ra != rw) mismatch("parse with a watched header", "status", buf, size);
    if (rw != sip::parse_status::ok) continue;
    if (std::string d = sip_ref::differs(a, w); !d.empty())
      mismatch("parse with a watched header", d, buf, size);
    const size_t head =
        w.body.empty() ? w.length : static_cast<size_t>(w.body.data() - buf);
    if (w.watched != has_header_line({buf, head}, k_name))
      mismatch("parse with a watched header", "watched", buf, size);
  }
}

// The new parser and the reference on the same bytes.
void compare(const char* buf, size_t size) {
  compare_watch(buf, size);
  for (bool datagram : {true, false}) {
    sip::message a, b;
    const sip::parse_status ra = sip::parse(buf, size, datagram, &a);
    const sip::parse_status rb = sip_ref::parse(buf, size, datagram, &b);
    compare_lazy(buf, size, datagram, ra, a);
    if (ra != rb)
      mismatch(datagram ? "parse (datagram) status" : "parse (stream) status",
               std::string(sip::parse_status_name(ra)) + " vs " + sip::parse_status_name(rb), buf,
               size);
    if (ra == sip::parse_status::ok) {
      if (std::string d = sip_ref::differs(a, b); !d.empty())
        mismatch(datagram ? "parse (datagram)" : "parse (stream)", d, buf, size);
    } else if (ra == sip::parse_status::incomplete && a.length != b.length) {
      mismatch("parse (stream) length", "length", buf, size);
    }
  }
  sip::name_addr na, nb;
  const bool oa = sip::parse_name_addr({buf, size}, &na);
  const bool ob = sip_ref::parse_name_addr({buf, size}, &nb);
  if (oa != ob) mismatch("parse_name_addr", "result", buf, size);
  if (oa)
    if (std::string d = sip_ref::differs(na, nb); !d.empty())
      mismatch("parse_name_addr", d, buf, size);
  sip::sdp_info sa, sb;
  sip::parse_sdp({buf, size}, &sa);
  sip_ref::parse_sdp({buf, size}, &sb);
  if (std::string d = sip_ref::differs(sa, sb); !d.empty()) mismatch("parse_sdp", d, buf, size);
  if (sip::could_be_sip(buf, size) != sip_ref::could_be_sip(buf, size))
    mismatch("could_be_sip", "result", buf, size);
  if (sip::could_be_sip_prefix(buf, size) != sip_ref::could_be_sip_prefix(buf, size))
    mismatch("could_be_sip_prefix", "result", buf, size);
  // The start-line check on the first line.
  static const start_lines hs;
  const char* nl = size == 0 ? nullptr : static_cast<const char*>(std::memchr(buf, '\n', size));
  if (nl != nullptr) {
    const size_t n = static_cast<size_t>(nl - buf) + 1;
    std::vector<char> line(buf, buf + n);  // exact size: ASan sees a read past the LF
    const unsigned got = sip::start_line_id(line.data(), n), want = hs.id(line.data(), n);
    // A known method's line matches the extension pattern too, and Hyperscan may report
    // that one first (it does for long lines); start_line_id() always names the method.
    const bool both_requests =
        want == sip::k_start_line_extension && got != 0 && got < sip::k_start_line_extension;
    if (got != want && !both_requests)
      mismatch("start_line_id", std::to_string(got) + " vs Hyperscan " + std::to_string(want), buf,
               size);
    // The worker hands the parser the start line it read: the parse is the same as one that
    // reads the line itself.
    sip::start_line sl;
    if (sip::start_line_read(buf, n, &sl) != got) mismatch("start_line_read", "id", buf, size);
    if (got != 0) {
      for (bool datagram : {true, false}) {
        sip::message a, k;
        const sip::parse_status ra = sip::parse(buf, size, datagram, &a);
        const sip::parse_status rk = sip::parse_fresh(buf, size, datagram, &k, {}, &sl);
        if (ra != rk) mismatch("parse with the start line read", "status", buf, size);
        if (ra == sip::parse_status::ok) {
          if (std::string d = sip_ref::differs(a, k); !d.empty())
            mismatch("parse with the start line read", d, buf, size);
        } else if (ra == sip::parse_status::incomplete && a.length != k.length) {
          mismatch("parse with the start line read", "length", buf, size);
        }
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Exact-size copies so sanitizers see any read past the end.
  std::vector<char> buf(data, data + size);
  const bounds in{buf.data(), buf.data() + buf.size()};
  compare(buf.data(), buf.size());
  for (bool datagram : {true, false}) {
    sip::message m;
    const sip::parse_status r = sip::parse(buf.data(), buf.size(), datagram, &m);
    if (r == sip::parse_status::ok) {
      if (m.length > size) __builtin_trap();
      in.check(m);
      dp::sip_event ev;
      dp::fill_event(m, &ev);
      // Into a ring slot an older record left behind: the same event.
      auto stale = std::make_unique<dp::sip_event>();
      std::memset(static_cast<void*>(stale.get()), 0xa5, sizeof(dp::sip_event));
      dp::fill_event(m, stale.get());
      if (!same_event(ev, *stale)) __builtin_trap();
      if (!m.contact.empty()) {
        sip::name_addr c;
        if (sip::parse_name_addr(m.contact, &c)) in.check(c);
      }
    } else if (r == sip::parse_status::incomplete && datagram) {
      __builtin_trap();  // a datagram is complete or wrong, never "incomplete"
    }
  }
  // The SDP parser and the name-addr parser on their own, on the whole input.
  sip::sdp_info sdp;
  sip::parse_sdp({buf.data(), buf.size()}, &sdp);
  in.check(sdp.conn_addr);
  in.check(sdp.direction);
  if (sdp.pt_count > 16) __builtin_trap();
  sip::name_addr na;
  if (sip::parse_name_addr({buf.data(), buf.size()}, &na)) in.check(na);
  // could_be_sip_prefix() never says no where could_be_sip() of the whole says yes.
  if (sip::could_be_sip(buf.data(), buf.size()))
    for (size_t n = 0; n <= size && n < 12; n++)
      if (!sip::could_be_sip_prefix(buf.data(), n)) __builtin_trap();
  dp::l4_info li;
  const dp::l4_result lr =
      dp::parse_l4(reinterpret_cast<const uint8_t*>(buf.data()), static_cast<uint32_t>(size), &li);
  if ((lr == dp::l4_result::ok || lr == dp::l4_result::fragment) &&
      uint64_t(li.payload_offset) + li.payload_len > size)
    __builtin_trap();
  // The inline common case agrees with parse_l4() wherever it answers.
  dp::l4_info fast;
  if (dp::parse_ipv4_udp(reinterpret_cast<const uint8_t*>(buf.data()), static_cast<uint32_t>(size),
                         &fast) &&
      (lr != dp::l4_result::ok || fast.ip_version != li.ip_version || fast.proto != li.proto ||
       fast.vlans != li.vlans || fast.tcp_flags != li.tcp_flags || fast.src != li.src ||
       fast.dst != li.dst || fast.sport != li.sport || fast.dport != li.dport ||
       fast.tcp_seq != li.tcp_seq || fast.payload_offset != li.payload_offset ||
       fast.payload_len != li.payload_len || fast.frag_id != li.frag_id ||
       fast.frag_offset != li.frag_offset || fast.frag_more != li.frag_more))
    __builtin_trap();
  return 0;
}
