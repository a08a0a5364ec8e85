// SPDX-License-Identifier: BSD-3-Clause
// The filters' verdict on the worker: blocked calls' later messages get the same
// treatment, an initial INVITE from side A is matched against the published rules (by the
// caller identity the sip stage computed), and blocked calls are dropped or answered with
// 486 / 603 (200 for their CANCEL). Only SIP over UDP is acted on: dropping or answering
// inside a TCP stream would break the stream for every other message on it
// (docs/design/filters.md).
#include <rte_mbuf.h>

#include <string_view>

#include "blocked_table.h"
#include "reply_frame.h"
#include "ringbridge/filters/filter_dataplane.h"
#include "ringbridge/filters/sip_reply.h"

namespace ringbridge::dp {

namespace {
/// Sends CODE REASON back for the request P[0..N) (blocked INVITE, or its CANCEL), if the
/// destination is a sane unicast one and the reply budget allows.
rte_mbuf* answer(filter_worker& sw, sip_counters& sc, const char* p, size_t n, const uint8_t* frame,
                 const l4_info& li, int code, std::string_view reason, std::string_view to_tag,
                 uint64_t now) {
  if (!reply_destination_ok(frame, li)) {
    sc[sip_counter::reply_suppressed].inc();
    return nullptr;
  }
  if (!sw.replies.take(now)) {
    sc[sip_counter::reply_rate_limited].inc();
    return nullptr;
  }
  const size_t len =
      build_sip_response({p, n}, code, reason, to_tag, sw.reply_buf.get(), k_reply_buf);
  rte_mbuf* r = len ? reply_frame(sw.pool, frame, li, sw.reply_buf.get(), len) : nullptr;
  sc[r ? sip_counter::replies_sent : sip_counter::reply_failed].inc();
  return r;
}

}  // namespace

verdict filter_request(filter_worker& sw, const sip_request& r, event_verdict* ev) {
  sip_counters& sc = r.counters;
  sip::message& msg = r.msg;
  const char* p = r.raw;
  const uint8_t* frame = r.frame;
  const l4_info& li = r.li;
  const int side = r.side;
  const unsigned worker = r.worker;
  const uint64_t tsc = r.tsc;
  rte_mbuf* reply = nullptr;
  // Rules screen calls to the phone: INVITEs entering on side A. The phone's own calls out
  // are never blocked, and nothing from side B can match a blocked call.
  if (side != 0) return {};
  blocked_table& bt = *sw.blocked;
  const bool initial_invite = r.caller != nullptr;
  hash128 who;
  bool have_who = false;
  if (bt.live != 0) {
    who = blocked_identity(msg, side);
    have_who = true;
    if (blocked_call* b = bt.find(who, tsc)) {
      // A retransmitted INVITE, the ACK for our answer, a CANCEL, anything else of the call.
      ev->verdict = static_cast<uint8_t>(filter_action::block);
      ev->block_mode = static_cast<uint8_t>(b->mode);
      ev->rule_id = b->rule_id;
      ev->repeat = 1;
      sc[sip_counter::blocked_repeats].inc();
      const std::string_view tag(b->to_tag, b->tag_len);
      if (b->mode != block_mode::drop) {
        if (initial_invite)
          reply = b->mode == block_mode::busy
                      ? answer(sw, sc, p, msg.length, frame, li, 486, "Busy Here", tag, tsc)
                      : answer(sw, sc, p, msg.length, frame, li, 603, "Decline", tag, tsc);
        else if (msg.req_method == sip::method::cancel)
          reply = answer(sw, sc, p, msg.length, frame, li, 200, "OK", tag, tsc);
      }
      return verdict::answered(drop_reason::sip_blocked, reply);
    }
  }
  if (!initial_invite) return {};
  const filter_set* fs = sw.slot->current();
  if (fs == nullptr) return {};
  const filter_verdict v = fs->evaluate(*r.caller, worker);
  ev->verdict = static_cast<uint8_t>(v.action);
  ev->block_mode = static_cast<uint8_t>(v.mode);
  ev->rule_id = v.rule_id;
  switch (v.action) {
    case filter_action::none: sc[sip_counter::verdict_none].inc(); return {};
    case filter_action::allow: sc[sip_counter::verdict_allow].inc(); return {};
    case filter_action::record: sc[sip_counter::verdict_record].inc(); return {};
    case filter_action::norecord: sc[sip_counter::verdict_norecord].inc(); return {};
    case filter_action::block: break;
  }
  sc[sip_counter::verdict_block].inc();
  if (!have_who) who = blocked_identity(msg, side);
  bool evicted = false;
  blocked_call* b = bt.insert(who, tsc, &evicted);
  if (evicted) sc[sip_counter::blocked_evicted].inc();
  b->rule_id = v.rule_id;
  b->mode = v.mode;
  // Our To tag: the same for every retransmission of this call.
  static const char k_hex[] = "0123456789abcdef";
  uint64_t t = who.hi ^ tsc ^ (static_cast<uint64_t>(worker) << 56);
  b->tag_len = 12;
  for (int i = 0; i < 12; i++, t >>= 4) b->to_tag[i] = k_hex[t & 15];
  const std::string_view tag(b->to_tag, b->tag_len);
  if (v.mode == block_mode::busy)
    reply = answer(sw, sc, p, msg.length, frame, li, 486, "Busy Here", tag, tsc);
  else if (v.mode == block_mode::decline)
    reply = answer(sw, sc, p, msg.length, frame, li, 603, "Decline", tag, tsc);
  return verdict::answered(drop_reason::sip_blocked, reply);
}

filter_worker::filter_worker() = default;
filter_worker::~filter_worker() = default;

filter_dataplane::filter_dataplane(const filter_dp_config& cfg, unsigned workers, rte_mempool* pool,
                                   const qsbr_domain& rcu, uint64_t tsc_hz)
    : _slot(rcu) {
  for (unsigned w = 0; w < workers; w++) {
    auto fw = std::make_unique<filter_worker>();
    fw->slot = &_slot;
    fw->pool = pool;
    fw->blocked = std::make_unique<blocked_table>();
    fw->blocked->ttl_tsc = tsc_hz * cfg.blocked_ttl_s;
    fw->reply_buf.reset(new char[k_reply_buf]);
    if (cfg.reply_rate != 0) {
      fw->replies.period = tsc_hz / cfg.reply_rate;
      fw->replies.burst = cfg.reply_burst == 0 ? 1 : cfg.reply_burst;
    }
    _workers.push_back(std::move(fw));
  }
}

filter_dataplane::~filter_dataplane() = default;

void filter_dataplane::attach(sip_dataplane& sip) {
  auto hook = [](void* ctx, const sip_request& r, event_verdict* ev) {
    return filter_request(*static_cast<filter_worker*>(ctx), r, ev);
  };
  for (unsigned w = 0; w < sip.workers() && w < _workers.size(); w++)
    sip.set_request_hook(w, request_hook{hook, _workers[w].get()});
}

}  // namespace ringbridge::dp
