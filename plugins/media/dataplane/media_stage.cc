// SPDX-License-Identifier: BSD-3-Clause
// The media feature on the worker (ringbridge/media/media_dataplane.h): SIP's message hook
// installs the flows each SDP announces and hands the call's SIP frames over; the media
// stage hands over the frames of tracked flows. Handing over is one reference on the mbuf
// and one ring slot: the frame is still forwarded unchanged, by the core, after the stages.
#include <rte_branch_prediction.h>
#include <arpa/inet.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>

#include "ringbridge/common/keyed_hash.h"
#include "ringbridge/dp/clock.h"
#include "ringbridge/dp/packet.h"
#include "ringbridge/media/media_dataplane.h"
#include "ringbridge/media/sdp.h"
#include "ringbridge/sip/ascii.h"

namespace ringbridge::dp {

RB_DP_DEFINE_NAME_AND_HELP(media_counter, RB_DP_FOREACH_MEDIA_COUNTER, media_counter_name,
                           media_counter_help)

uint64_t media_call_key(std::string_view call_id) {
  return keyed_hash64(call_id);
}

bool looks_like_rtp(const uint8_t* p, uint32_t len, uint32_t* ssrc, uint16_t* seq) {
  if (len < 12 || (p[0] >> 6) != 2) return false;
  const uint32_t head = 12 + 4u * (p[0] & 0x0f);  // CSRCs
  if (head > len) return false;
  // Audio payload types: the static ones (0-34, RFC 3551) and the dynamic range. Not
  // 72-76: with the marker bit those are RTCP's packet types 200-204.
  const uint8_t pt = p[1] & 0x7f;
  if (!(pt <= 34 || pt >= 96)) return false;
  *seq = static_cast<uint16_t>(p[2] << 8 | p[3]);
  *ssrc = static_cast<uint32_t>(p[8]) << 24 | static_cast<uint32_t>(p[9]) << 16 |
          static_cast<uint32_t>(p[10]) << 8 | p[11];
  return true;
}

uint64_t heuristic_call_key(std::string_view endpoints) {
  return keyed_hash64(endpoints);
}

size_t heuristic_call_id(uint8_t family, const uint8_t* addr1, uint16_t port1,
                         const uint8_t* addr2, uint16_t port2, char* out) {
  const size_t alen = family == 6 ? 16 : 4;
  const int c = std::memcmp(addr1, addr2, alen);
  if (c > 0 || (c == 0 && port1 > port2)) {
    std::swap(addr1, addr2);
    std::swap(port1, port2);
  }
  char a[INET6_ADDRSTRLEN] = {}, b[INET6_ADDRSTRLEN] = {};
  const int af = family == 6 ? AF_INET6 : AF_INET;
  if (inet_ntop(af, addr1, a, sizeof(a)) == nullptr || inet_ntop(af, addr2, b, sizeof(b)) == nullptr)
    return 0;
  const int n = family == 6 ? std::snprintf(out, 128, "rtp:[%s]:%u-[%s]:%u", a, port1, b, port2)
                            : std::snprintf(out, 128, "rtp:%s:%u-%s:%u", a, port1, b, port2);
  return n > 0 && n < 128 ? static_cast<size_t>(n) : 0;
}

namespace {

// Hands M to the media thread (a reference of its own). False when the ring is full.
inline bool mirror(media_worker& mw, rte_mbuf* m, uint64_t tsc, uint64_t call, media_kind kind,
                   uint8_t side, uint8_t flags) {
  mirror_rec* r = mw.ring->claim();
  if (unlikely(r == nullptr)) {
    mw[media_counter::mirror_ring_full].inc();
    return false;
  }
  rte_mbuf_refcnt_update(m, 1);
  r->m = m;
  r->tsc = tsc;
  r->call = call;
  r->kind = kind;
  r->side = side;
  r->flags = flags;
  r->worker = static_cast<uint8_t>(mw.index);
  mw.ring->publish();
  return true;
}

}  // namespace

// The methods of an INVITE dialog, by CSeq (requests and their responses): what a call's
// recording holds. REGISTER, OPTIONS, SUBSCRIBE, ... are no call's.
inline bool call_method(sip::method m) {
  switch (m) {
    case sip::method::invite:
    case sip::method::ack:
    case sip::method::bye:
    case sip::method::cancel:
    case sip::method::update:
    case sip::method::prack:
    case sip::method::info:
    case sip::method::refer: return true;
    default: return false;
  }
}

void media_on_sip(media_worker& mw, const sip_message_seen& s) {
  const sip::message& msg = s.msg;
  if (!call_method(msg.cseq_method)) return;
  // A flood of one message: the message and its first copies installed the flows and are
  // in the recording.
  if (s.nth_copy > k_repeats_mirrored) {
    mw[media_counter::sip_repeats_skipped].inc();
    return;
  }
  // The sip stage hashed the Call-ID already (media_call_key() is that hash).
  const uint64_t call = msg.call_hash != 0 ? msg.call_hash : media_call_key(msg.call_id);
  uint8_t flags = 0;
  const bool initial = msg.is_request && msg.req_method == sip::method::invite && msg.to.tag.empty();
  if (initial) {
    flags |= mirror_initial_invite;
    // The parser looked out for the no-record header in its walk (attach(): the hook's
    // header).
    if (msg.watched) flags |= mirror_no_record;
  }
  // The flows this SDP announces, before the frame goes out: the RTP it announces cannot
  // come back before this burst is forwarded.
  if (const std::string_view body = sip::sdp_body(msg); !body.empty()) {
    flags |= mirror_sdp;
    media::sdp_stream st[media::k_max_sdp_streams];
    const size_t n = media::parse_sdp_streams(body, st, media::k_max_sdp_streams);
    for (size_t i = 0; i < n; i++) {
      flow_key k;
      if (st[i].port == 0) continue;  // a rejected or disabled stream
      if (!media::parse_sdp_addr(st[i].addr, st[i].family, k.addr)) {
        mw[media_counter::sdp_unusable].inc();
        continue;
      }
      // c=IN IP4 0.0.0.0 (RFC 2543 hold): nothing will be sent to it.
      uint64_t any = 0;
      for (uint8_t b : k.addr) any |= b;
      if (any == 0) continue;
      k.family = st[i].family;
      k.port = st[i].port;
      if (!mw.flows->install(k, call, media_kind::rtp, s.tsc)) {
        mw[media_counter::flow_table_full].inc();
        continue;
      }
      mw[media_counter::flows_installed].inc();
      if (st[i].rtcp_port == 0) continue;
      k.port = st[i].rtcp_port;
      if (mw.flows->install(k, call, media_kind::rtcp, s.tsc))
        mw[media_counter::flows_installed].inc();
      else
        mw[media_counter::flow_table_full].inc();
    }
  }
  if (s.frame == nullptr) {
    mw[media_counter::sip_not_mirrored].inc();
    return;
  }
  if (mirror(mw, s.frame, s.tsc, call, media_kind::sip, static_cast<uint8_t>(s.side), flags))
    mw[media_counter::sip_mirrored].inc();
}

namespace {

// The tracked flow frame M belongs to, if any.
inline bool tracked(const flow_table& ft, rte_mbuf* m, flow_hit* hit) {
  const auto* d = rte_pktmbuf_mtod(m, const uint8_t*);
  const uint32_t len = rte_pktmbuf_data_len(m);
  if (likely(ipv4_udp_length(d, len) != 0))
    return ft.lookup(d + 30, 4, static_cast<uint16_t>(d[36] << 8 | d[37]), hit);
  l4_info li;
  if (parse_l4(d, len, &li) != l4_result::ok || li.proto != 17) return false;
  return ft.lookup(li.dst, li.ip_version, li.dport, hit);
}

}  // namespace

namespace {

// The RTP heuristics on an untracked frame: UDP between unprivileged, non-SIP ports whose
// payload looks like RTP is remembered; the stream's next packet (same 5-tuple and SSRC,
// sequence number 1-3 on, within a second) confirms it, and both directions' RTP and RTCP
// flows are installed for a call keyed by the two endpoints. Bounded: one cache slot per
// 5-tuple hash, flows in the same table as SDP's (a full table is counted there).
void heuristic(media_worker& mw, rte_mbuf* m, uint64_t tsc, uint8_t side) {
  const auto* d = rte_pktmbuf_mtod(m, const uint8_t*);
  const uint32_t len = rte_pktmbuf_data_len(m);
  l4_info li;
  if (parse_l4(d, len, &li) != l4_result::ok || li.proto != 17) return;
  if (li.sport < 1024 || li.dport < 1024) return;
  if (li.sport == 5060 || li.dport == 5060 || li.sport == 5061 || li.dport == 5061) return;
  if (li.payload_offset >= len) return;
  const uint32_t avail = std::min(li.payload_len, len - li.payload_offset);
  uint32_t ssrc = 0;
  uint16_t seq = 0;
  if (!looks_like_rtp(d + li.payload_offset, avail, &ssrc, &seq)) return;
  struct {
    uint8_t src[16], dst[16];
    uint16_t sport, dport;
    uint8_t family;
  } t;
  std::memset(&t, 0, sizeof(t));  // hashed whole, padding included
  li.copy_addrs(t.src, t.dst);
  t.sport = li.sport;
  t.dport = li.dport;
  t.family = li.ip_version;
  // The other direction may already belong to a call SIP announced: not ours to take.
  flow_hit hit;
  if (mw.flows->lookup(t.src, t.family, t.sport, &hit)) return;
  const uint64_t h = keyed_hash64(&t, sizeof(t)) | 1;
  rtp_candidate& c = mw.candidates[h & (k_rtp_candidates - 1)];
  const uint16_t step = static_cast<uint16_t>(seq - c.seq);
  if (c.tuple != h || c.ssrc != ssrc || step == 0 || step > 3 || tsc - c.tsc > mw.tsc_hz) {
    c = rtp_candidate{h, tsc, ssrc, seq};
    return;
  }
  c.tuple = 0;
  char id[128];
  const size_t n = heuristic_call_id(t.family, t.src, t.sport, t.dst, t.dport, id);
  if (n == 0) return;
  const uint64_t call = heuristic_call_key({id, n});
  flow_key k;
  k.family = t.family;
  const uint8_t* addrs[2] = {t.dst, t.src};
  const uint16_t ports[2] = {t.dport, t.sport};
  for (int i = 0; i < 2; i++) {
    std::memcpy(k.addr, addrs[i], sizeof(k.addr));
    k.port = ports[i];
    const auto rtp = static_cast<media_kind>(static_cast<uint8_t>(media_kind::rtp) | k_kind_heuristic);
    if (!mw.flows->install(k, call, rtp, tsc)) {
      mw[media_counter::flow_table_full].inc();
      continue;
    }
    mw[media_counter::heuristic_flows].inc();
    if ((ports[i] & 1) != 0) continue;  // RTCP: the next port up, from an even RTP port
    k.port = static_cast<uint16_t>(ports[i] + 1);
    const auto rtcp = static_cast<media_kind>(static_cast<uint8_t>(media_kind::rtcp) | k_kind_heuristic);
    if (mw.flows->install(k, call, rtcp, tsc))
      mw[media_counter::heuristic_flows].inc();
    else
      mw[media_counter::flow_table_full].inc();
  }
  if (mirror(mw, m, tsc, call, media_kind::rtp, side, mirror_heuristic))
    mw[media_counter::rtp_mirrored].inc();
}

}  // namespace

namespace {
__attribute__((noinline)) void media_stage_visit(media_worker& mw, frame_burst& b) {
  const flow_table& ft = *mw.flows;
  for (uint64_t todo = b.pass & b.ip; todo != 0; todo &= todo - 1) {  // IP frames going out
    const auto i = static_cast<uint16_t>(__builtin_ctzll(todo));
    flow_hit hit;
    if (!tracked(ft, b.pkts[i], &hit)) {
      if (unlikely(mw.heuristics)) heuristic(mw, b.pkts[i], b.tsc, b.side);
      continue;
    }
    const auto raw = static_cast<uint8_t>(hit.kind);
    const auto kind = static_cast<media_kind>(raw & ~k_kind_heuristic);
    const uint8_t flags = (raw & k_kind_heuristic) != 0 ? mirror_heuristic : 0;
    if (mirror(mw, b.pkts[i], b.tsc, hit.call, kind, b.side, flags))
      mw[media_counter::rtp_mirrored].inc();
  }
}
}  // namespace

void media_stage_burst(media_worker& mw, frame_burst& b) {
  // No call with media in progress and no heuristics: nothing to look for. Checked before
  // the visit's call, so such a burst costs a few instructions (no register saves).
  if (likely(mw.flows->size() == 0) && !mw.heuristics) return;
  media_stage_visit(mw, b);
}

namespace {
void run_stage(void* ctx, frame_burst& b) {
  media_stage_burst(*static_cast<media_worker*>(ctx), b);
}
void on_message(void* ctx, const sip_message_seen& s) {
  media_on_sip(*static_cast<media_worker*>(ctx), s);
}
}  // namespace

media_dataplane::media_dataplane(const media_dp_config& cfg, unsigned workers)
    : _flows(std::make_unique<flow_table>(cfg.max_flows)) {
  for (unsigned w = 0; w < workers; w++) {
    auto mw = std::make_unique<media_worker>();
    mw->flows = _flows.get();
    mw->ring = std::make_unique<mirror_ring>();
    mw->no_record_header = cfg.no_record_header;
    mw->index = w;
    mw->heuristics = cfg.rtp_heuristics;
    mw->tsc_hz = tsc_hz();
    _workers.push_back(std::move(mw));
  }
}

media_dataplane::~media_dataplane() = default;

void media_dataplane::attach(sip_dataplane& sip) {
  for (unsigned w = 0; w < _workers.size(); w++)
    sip.set_message_hook(w, message_hook{on_message, _workers[w].get(),
                                         _workers[w]->no_record_header});
}

stage media_dataplane::stage_for(unsigned w) {
  return stage{"media", run_stage, nullptr, _workers[w].get()};
}

uint64_t media_dataplane::total(media_counter c) const {
  uint64_t s = 0;
  for (const auto& w : _workers) s += w->counters[static_cast<size_t>(c)].get();
  return s;
}

}  // namespace ringbridge::dp
