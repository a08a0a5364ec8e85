// SPDX-License-Identifier: BSD-3-Clause
// Fuzz target for whole Ethernet frames through the worker's SIP inspection, exactly as the
// worker runs it: sip_inspect() on real rte_mbufs (EAL up with --no-huge, a real mempool),
// a sip_worker with the filter step on and a compiled rule set published (486 / 603 / drop
// rules, so replies get built), the capture ring on. Several frames per input, so IP
// fragments, TCP streams, VLAN / IPv6 and blocked-call state are exercised across frames.
//
// Input: [options] then frames, each [flags][time][length: 2 bytes big-endian][bytes].
//   options bit 0: [filters] on_unparsable = "drop"; bit 1: no capture ring.
//   flags bit 0: side (0 = A, the network; 1 = B); bit 1: a chain of mbuf segments of
//   16 * (bits 2-6 + 1) bytes; bit 7: housekeeping (stream sweep) after the frame.
//   time: the clock advances (bits 0-5) << 10 * (bits 6-7) microseconds before the frame.
//
// Each frame's bytes sit in a malloc'd buffer of exactly its length attached to the mbuf
// (an external buffer), so AddressSanitizer sees any read outside the frame. Checked after
// every frame: no drop or reply on side B; a reply only for a blocked request, to its
// sender, well-formed (status line, checksums); events and captures within bounds and
// counted; after every input, every mbuf back in the pool.
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "blocked_table.h"
#include "fuzz_eal.h"
#include "ringbridge/common/log.h"
#include "ringbridge/dp/eal.h"
#include "ringbridge/filters/filter.h"
#include "ringbridge/filters/filter_dataplane.h"
#include "ringbridge/sip/sip_setup.h"
#include "sip_stage.h"

namespace {

namespace dp = ringbridge::dp;

constexpr uint64_t k_hz = 1000000;           // the fuzzer's clock: 1 tick = 1 µs
constexpr uint32_t k_max_frame = 9600 + 22;  // [dataplane] mtu at its maximum
constexpr unsigned k_mbufs = 1023;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "frame_fuzz: %s\n", what);
  __builtin_trap();
}

struct env {
  dp::eal_plan plan;
  rte_mempool* pool = nullptr;
  std::unique_ptr<dp::sip_database> db;
  dp::qsbr_domain rcu{1};
  dp::sip_config cfg;
  dp::filter_dp_config fcfg;
  std::unique_ptr<dp::filter_dataplane> filters;
  dp::sip_counters counters;
  dp::sip_worker sw;
  std::unique_ptr<dp::capture_ring> capture;
};

env* g_env = nullptr;

void at_exit() {
  if (g_env == nullptr) return;
  dp::remove_runtime_dir(g_env->plan);
  // RB_FUZZ_TRACE=1: which counters the inputs reached (what the corpus exercises).
  if (std::getenv("RB_FUZZ_TRACE") != nullptr) {
    const dp::sip_counters& c = g_env->counters;
    for (size_t i = 0; i < dp::k_sip_counters; i++)
      std::fprintf(stderr, "%-22s %llu\n", dp::sip_counter_name(static_cast<dp::sip_counter>(i)),
                   static_cast<unsigned long long>(c.c[i].get()));
    for (size_t i = 0; i < dp::k_unscreened_reasons; i++)
      std::fprintf(stderr, "unscreened %-11s %llu\n",
                   dp::unscreened_reason_name(static_cast<dp::unscreened_reason>(i)),
                   static_cast<unsigned long long>(c.unscreened[i].get()));
  }
}

std::vector<dp::filter_rule> rules() {
  auto rule = [](uint32_t id, dp::filter_match m, dp::filter_syntax s, const char* p,
                 dp::filter_action a, dp::block_mode mode) {
    dp::filter_rule r;
    r.id = id;
    r.position = id * 10;
    r.match = m;
    r.syntax = s;
    r.pattern = p;
    r.action = a;
    r.mode = mode;
    return r;
  };
  using fm = dp::filter_match;
  using fs = dp::filter_syntax;
  using fa = dp::filter_action;
  using bm = dp::block_mode;
  return {
      rule(1, fm::number, fs::exact, "+49301234567", fa::block, bm::busy),
      rule(2, fm::number, fs::prefix, "+49900", fa::block, bm::decline),
      rule(3, fm::name, fs::substring, "spam", fa::block, bm::busy),
      rule(4, fm::number, fs::glob, "+4477*", fa::allow, bm::drop),
      rule(5, fm::number, fs::regex, "^\\+33[0-9]{9}$", fa::record, bm::drop),
      rule(6, fm::number, fs::exact, "+15551234567", fa::block, bm::drop),
      rule(7, fm::anonymous, fs::exact, "", fa::block, bm::decline),
  };
}

void set_up(const char* argv0) {
  auto* e = new env();  // lives until exit (the EAL and the pool are not torn down)
  g_env = e;
  e->plan = ringbridge::fuzz::start_eal(argv0, "frame");  // removed again at exit
  std::atexit(at_exit);
  std::string err;

  // No per-lcore cache: the in-use count is exact after every input.
  e->pool = rte_pktmbuf_pool_create("fuzz_mbufs", k_mbufs, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                    static_cast<int>(rte_socket_id()));
  e->db = dp::sip_database::compile(&err);
  if (e->pool == nullptr || !e->db) {
    std::fprintf(stderr, "frame_fuzz: set-up failed: %s\n", err.c_str());
    std::exit(1);
  }
  // The smallest tables the config allows: eviction and "no room" within reach of an input.
  e->cfg.tcp_streams = 16;
  e->cfg.reassembly_slots = 8;
  e->cfg.reassembly_max_bytes = 1500;
  e->fcfg.reply_burst = 4;  // [filters] reply_burst: the rate limit within a few frames
  e->cfg.capture_messages = true;
  dp::filter_set::options opt;
  opt.numbers.intl_prefixes = {"00", "011"};
  opt.numbers.country_code = "49";
  opt.numbers.trunk_prefix = "0";
  e->cfg.identity.numbers = opt.numbers;
  auto set = dp::filter_set::compile(rules(), opt, 1, &err);
  if (!set || !e->sw.init(*e->db, e->cfg, k_hz, e->counters, &err)) {
    std::fprintf(stderr, "frame_fuzz: set-up failed: %s\n", err.c_str());
    std::exit(1);
  }
  // The filters' verdict as the appliance installs it: the sip stage's request hook.
  e->filters = std::make_unique<dp::filter_dataplane>(e->fcfg, 1, e->pool, e->rcu, k_hz);
  e->filters->slot().publish(std::move(set));
  e->sw.on_request = {[](void* ctx, const dp::sip_request& r, dp::event_verdict* ev) {
                        return dp::filter_request(*static_cast<dp::filter_worker*>(ctx), r, ev);
                      },
                      &e->filters->worker(0)};
  e->capture = std::move(e->sw.capture);
}

// ---- frames in external buffers ---------------------------------------------------------

void free_ext(void* addr, void* opaque) {
  std::free(addr);
  delete static_cast<rte_mbuf_ext_shared_info*>(opaque);
}

// One segment: an mbuf from the pool whose data is a malloc'd copy of P[0..N).
rte_mbuf* segment(rte_mempool* pool, const uint8_t* p, uint16_t n) {
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  if (m == nullptr) fail("the pool ran dry: mbufs leak");
  void* buf = std::malloc(n);
  std::memcpy(buf, p, n);
  auto* sh = new rte_mbuf_ext_shared_info();
  sh->free_cb = free_ext;
  sh->fcb_opaque = sh;
  rte_mbuf_ext_refcnt_set(sh, 1);
  rte_pktmbuf_attach_extbuf(m, buf, reinterpret_cast<uintptr_t>(buf), n, sh);
  m->data_len = n;
  m->pkt_len = n;
  return m;
}

// The frame P[0..N) as one mbuf, or as a chain of CHUNK-byte segments.
rte_mbuf* frame(rte_mempool* pool, const uint8_t* p, uint32_t n, uint32_t chunk) {
  if (chunk == 0 || chunk >= n) chunk = n;
  rte_mbuf* head = segment(pool, p, static_cast<uint16_t>(std::min(chunk, n)));
  for (uint32_t off = head->data_len; off < n;) {
    const uint32_t k = std::min(chunk, n - off);
    if (rte_pktmbuf_chain(head, segment(pool, p + off, static_cast<uint16_t>(k))) != 0)
      fail("cannot chain a segment");
    off += k;
  }
  return head;
}

// ---- checks -------------------------------------------------------------------------------

template <size_t N>
void check_str(const dp::fixed_str<N>& s) {
  if (s.len > N) fail("an event field longer than its storage");
}

void check_event(const dp::sip_event& ev, int side, uint64_t tsc) {
  if (ev.side != side || ev.worker != 0 || ev.tsc != tsc) fail("an event from another frame");
  check_str(ev.call_id);
  check_str(ev.from);
  check_str(ev.to);
  // The control side reads From and To from the event: whatever a worker handed over reads
  // within the field.
  for (const dp::fixed_str<256>* v : {&ev.from, &ev.to}) {
    dp::sip::name_addr na;
    if (!dp::sip::parse_name_addr(v->view(), &na)) continue;
    for (std::string_view s : {na.display, na.uri, na.scheme, na.user, na.host, na.tag, na.params})
      if (!s.empty() && (s.data() < v->data || s.data() + s.size() > v->data + v->len))
        fail("a name-addr read from an event outside the event's field");
  }
  if (ev.has_caller && (ev.caller.number_len > sizeof(ev.caller.number) ||
                        ev.caller.name_len > sizeof(ev.caller.name)))
    fail("a caller longer than its storage");
  if (ev.verdict != 0 && side != 0) fail("a verdict on side B");
}

// One's complement sum of P[0..N) (RFC 1071), added to S; fold() makes it 16 bits.
uint32_t sum16(const uint8_t* p, size_t n, uint32_t s) {
  for (size_t i = 0; i < n; i += 2)
    s += static_cast<uint32_t>(p[i] << 8 | (i + 1 < n ? p[i + 1] : 0));
  return s;
}
uint16_t fold(uint32_t s) {
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return static_cast<uint16_t>(s);
}

// A reply goes back to the request's sender: MACs and addresses swapped, a sane unicast
// destination, a SIP response with the status line first and the empty line last, both
// checksums right.
void check_reply(rte_mbuf* r, const uint8_t* req, uint32_t req_len) {
  if (r->nb_segs != 1) fail("a reply in more than one segment");
  const auto* o = rte_pktmbuf_mtod(r, const uint8_t*);
  const uint32_t len = rte_pktmbuf_data_len(r);
  dp::l4_info ri, qi;
  if (dp::parse_l4(o, len, &ri) != dp::l4_result::ok || ri.proto != 17)
    fail("a reply that is not a whole UDP frame");
  const dp::l4_result qr = dp::parse_l4(req, req_len, &qi);
  if (std::memcmp(o, req + 6, 6) != 0 || std::memcmp(o + 6, req, 6) != 0)
    fail("a reply not addressed to the request's sender");
  if (o[0] & 1) fail("a reply to a group MAC address");
  if (ri.dport == 0) fail("a reply to port 0");
  if (qr == dp::l4_result::ok || qr == dp::l4_result::fragment) {
    if (ri.ip_version != qi.ip_version || std::memcmp(ri.dst, qi.src, qi.addr_len()) != 0 ||
        std::memcmp(ri.src, qi.dst, qi.addr_len()) != 0)
      fail("a reply with addresses not swapped");
  }
  if (ri.ip_version == 4) {
    const uint8_t a = ri.dst[0];
    if (a == 0 || a == 127 || a >= 224) fail("a reply to a reserved IPv4 address");
  } else if (ri.dst[0] == 0xff) {
    fail("a reply to an IPv6 multicast address");
  }
  const uint32_t l3 = 14 + 4 * ri.vlans;
  const uint8_t* udp = o + ri.payload_offset - 8;
  const uint32_t udp_len = ri.payload_len + 8;
  uint32_t sum = 17 + udp_len;  // pseudo-header: protocol and UDP length, then the addresses
  if (ri.ip_version == 4) {
    if (fold(sum16(o + l3, 20, 0)) != 0xffff) fail("a reply with a bad IPv4 header checksum");
    sum = sum16(o + l3 + 12, 8, sum);
  } else {
    sum = sum16(o + l3 + 8, 32, sum);
  }
  if (fold(sum16(udp, udp_len, sum)) != 0xffff) fail("a reply with a bad UDP checksum");
  const std::string_view sip(reinterpret_cast<const char*>(o + ri.payload_offset), ri.payload_len);
  if (sip.substr(0, 22) != "SIP/2.0 486 Busy Here\r" &&
      sip.substr(0, 20) != "SIP/2.0 603 Decline\r" && sip.substr(0, 15) != "SIP/2.0 200 OK\r")
    fail("a reply without a 486, 603 or 200 status line");
  if (sip.size() < 4 || sip.substr(sip.size() - 4) != "\r\n\r\n")
    fail("a reply that does not end with an empty line");
}

uint64_t get(const dp::sip_counters& c, dp::sip_counter k) {
  return c[k].get();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  set_up(*argc > 0 ? (*argv)[0] : nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  env& e = *g_env;
  if (size < 1) return 0;
  dp::sip_worker& sw = e.sw;
  // Every input starts from a worker that has seen nothing.
  sw.streams = std::make_unique<dp::tcp_stream_table>(e.cfg.tcp_streams, e.cfg.tcp_buffer,
                                                      k_hz * e.cfg.tcp_idle_s, e.counters);
  sw.reasm = std::make_unique<dp::reasm_table>(e.cfg.reassembly_slots, e.cfg.reassembly_max_bytes,
                                               k_hz * e.cfg.reassembly_timeout_s, e.counters);
  dp::filter_worker& fw = e.filters->worker(0);
  fw.blocked = std::make_unique<dp::blocked_table>();
  fw.blocked->ttl_tsc = k_hz * e.fcfg.blocked_ttl_s;
  fw.replies.tat = 0;
  sw.drop_unparsable_invites = data[0] & 1;
  sw.capture = (data[0] & 2) ? nullptr : std::move(e.capture);
  const unsigned in_use = rte_mempool_in_use_count(e.pool);

  uint64_t tsc = 1'000'000'000'000ull;
  size_t off = 1;
  for (int frames = 0; off + 4 <= size && frames < 64; frames++) {
    const uint8_t flags = data[off], when = data[off + 1];
    uint32_t len = static_cast<uint32_t>(data[off + 2] << 8 | data[off + 3]);
    off += 4;
    len = std::min<uint32_t>({len, static_cast<uint32_t>(size - off), k_max_frame});
    if (len == 0) continue;
    const uint8_t* bytes = data + off;
    off += len;
    const int side = flags & 1;
    tsc += static_cast<uint64_t>(when & 0x3f) << (10 * (when >> 6));
    const uint32_t chunk = (flags & 2) ? 16u * (((flags >> 2) & 0x1f) + 1) : 0;
    // The worker's ethertype test never hides a frame parse_l4() reads IP from: the stages
    // skip exactly the frames it calls not_ip (frame_burst::ip).
    if (dp::l4_info li; !dp::may_carry_ip(bytes, len) &&
                        dp::parse_l4(bytes, len, &li) != dp::l4_result::not_ip)
      fail("may_carry_ip() hides a frame parse_l4() reads");
    rte_mbuf* m = frame(e.pool, bytes, len, chunk);

    const uint64_t msgs0 = get(e.counters, dp::sip_counter::sip_messages);
    const uint64_t events0 = get(e.counters, dp::sip_counter::sip_events);
    const uint64_t repeats0 = get(e.counters, dp::sip_counter::repeats_coalesced);
    const dp::verdict o = dp::sip_inspect(sw, e.counters, m, side, 0, tsc);
    rte_pktmbuf_free(m);

    if (!o.passes() && side != 0) fail("a frame from side B not forwarded");
    if (o.kind == dp::verdict_kind::modified) fail("inspection changed a frame");
    if (!o.passes() && o.reason == dp::drop_reason::sip_unparsed && !sw.drop_unparsable_invites)
      fail("dropped as unparsable with on_unparsable = forward");
    if (!o.passes() && o.reason != dp::drop_reason::sip_unparsed &&
        o.reason != dp::drop_reason::sip_blocked)
      fail("dropped for a reason SIP inspection does not give");
    if (o.kind == dp::verdict_kind::answer) {
      if (o.reason != dp::drop_reason::sip_blocked) fail("a reply for a request not blocked");
      if (o.reply == nullptr) fail("an answer without a frame");
      check_reply(o.reply, bytes, len);
      rte_pktmbuf_free(o.reply);
    }
    // Every message parsed became exactly one event, or was a retransmission of one
    // handed over within the window (coalesced), for this frame.
    uint64_t events = 0;
    dp::sip_event ev;
    while (sw.ring->pop(ev)) {
      check_event(ev, side, tsc);
      events++;
    }
    if (get(e.counters, dp::sip_counter::sip_events) - events0 != events ||
        get(e.counters, dp::sip_counter::sip_messages) - msgs0 !=
            events + (get(e.counters, dp::sip_counter::repeats_coalesced) - repeats0))
      fail("messages, events and the ring disagree");
    if (sw.capture) {
      dp::sip_capture c;
      uint64_t captures = 0;
      while (sw.capture->pop(c)) {
        if (c.len > dp::k_capture_bytes || c.side != side) fail("a bad capture record");
        captures++;
      }
      if (captures > get(e.counters, dp::sip_counter::sip_messages) - msgs0)
        fail("more captures than messages");
    }
    if (flags & 0x80) sw.streams->sweep(tsc, 4);
  }
  if (sw.capture) e.capture = std::move(sw.capture);
  if (rte_mempool_in_use_count(e.pool) != in_use) fail("mbufs leaked");
  return 0;
}
