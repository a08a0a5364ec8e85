// SPDX-License-Identifier: BSD-3-Clause
// The media feature on the worker (ringbridge/media/media_dataplane.h): SIP's message hook
// installs the flows each SDP announces and hands the call's SIP frames over; the media
// stage hands over the frames of tracked flows. Handing over is one reference on the mbuf
// and one ring slot: the frame is still forwarded unchanged, by the core, after the stages.
#include <rte_branch_prediction.h>
#include <rte_mbuf.h>

#include <array>

#include "ringbridge/common/keyed_hash.h"
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

// Whether the header section of RAW (before BODY) has a header named NAME.
bool has_header(std::string_view head, std::string_view name) {
  if (name.empty()) return false;
  size_t pos = head.find('\n');
  while (pos != std::string_view::npos && pos + 1 < head.size()) {
    std::string_view line = head.substr(pos + 1);
    if (line.size() > name.size() && iequal(line.substr(0, name.size()), name)) {
      size_t k = name.size();
      while (k < line.size() && (line[k] == ' ' || line[k] == '\t')) k++;
      if (k < line.size() && line[k] == ':') return true;
    }
    pos = head.find('\n', pos + 1);
  }
  return false;
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
  const uint64_t call = media_call_key(msg.call_id);
  uint8_t flags = 0;
  const bool initial = msg.is_request && msg.req_method == sip::method::invite && msg.to.tag.empty();
  if (initial) {
    flags |= mirror_initial_invite;
    const size_t head_len =
        msg.body.empty() ? msg.length : static_cast<size_t>(msg.body.data() - s.raw);
    if (has_header({s.raw, head_len}, mw.no_record_header)) flags |= mirror_no_record;
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

void media_stage_burst(media_worker& mw, frame_burst& b) {
  const flow_table& ft = *mw.flows;
  if (likely(ft.size() == 0)) return;  // no call with media in progress: nothing to look for
  for (uint16_t i = 0; i < b.n; i++) {
    if (unlikely(!b.passes(i))) continue;
    flow_hit hit;
    if (!tracked(ft, b.pkts[i], &hit)) continue;
    if (mirror(mw, b.pkts[i], b.tsc, hit.call, hit.kind, b.side, 0))
      mw[media_counter::rtp_mirrored].inc();
  }
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
    _workers.push_back(std::move(mw));
  }
}

media_dataplane::~media_dataplane() = default;

void media_dataplane::attach(sip_dataplane& sip) {
  for (unsigned w = 0; w < _workers.size(); w++)
    sip.set_message_hook(w, message_hook{on_message, _workers[w].get()});
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
