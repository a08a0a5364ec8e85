// SPDX-License-Identifier: BSD-3-Clause
// The media feature on a worker, in-process with real mbufs (part of unit_dpdk, whose EAL
// runs with --no-huge): SIP's stage with the media message hook installs the flows an
// INVITE's and a 200 OK's SDP announce; the media stage hands RTP/RTCP frames of those
// flows to the media thread's ring by reference, and lets every frame pass.
#include <gtest/gtest.h>

#include <rte_cycles.h>
#include <rte_mbuf.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "ringbridge/media/media_dataplane.h"
#include "ringbridge/sip/sip_setup.h"

namespace ringbridge::dp {
namespace {

const uint8_t k_caller[4] = {192, 0, 2, 10};     // phone side (B)
const uint8_t k_callee[4] = {198, 51, 100, 7};   // network side (A)
const uint8_t k_caller6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10};
const uint8_t k_other6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x99};
const char k_call_id[] = "a84b4c76e66710@pc33.example.com";

const char k_invite[] =
    "INVITE sip:bob@198.51.100.7 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\r\n"
    "Max-Forwards: 70\r\n"
    "To: <sip:bob@198.51.100.7>\r\n"
    "From: \"Alice\" <sip:alice@192.0.2.10>;tag=1928301774\r\n"
    "Call-ID: a84b4c76e66710@pc33.example.com\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Contact: <sip:alice@192.0.2.10>\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: %zu\r\n"
    "\r\n"
    "%s";
const char k_invite_sdp[] =
    "v=0\r\n"
    "o=alice 1 1 IN IP4 192.0.2.10\r\n"
    "s=-\r\n"
    "c=IN IP4 192.0.2.10\r\n"
    "t=0 0\r\n"
    "m=audio 40000 RTP/AVP 8 101\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "m=audio 40100 RTP/AVP 8\r\n"
    "c=IN IP6 2001:db8::10\r\n";

const char k_ok[] =
    "SIP/2.0 200 OK\r\n"
    "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\r\n"
    "To: <sip:bob@198.51.100.7>;tag=a6c85cf\r\n"
    "From: \"Alice\" <sip:alice@192.0.2.10>;tag=1928301774\r\n"
    "Call-ID: a84b4c76e66710@pc33.example.com\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Contact: <sip:bob@198.51.100.7>\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: %zu\r\n"
    "\r\n"
    "%s";
const char k_ok_sdp[] =
    "v=0\r\n"
    "o=bob 2 2 IN IP4 198.51.100.7\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "m=audio 30000 RTP/AVP 8\r\n"
    "c=IN IP4 198.51.100.7\r\n"
    "a=rtcp:30011\r\n"
    "a=rtpmap:8 PCMA/8000\r\n";

std::string sip_text(const char* fmt, const char* body) {
  char buf[2048];
  const int n = std::snprintf(buf, sizeof(buf), fmt, std::strlen(body), body);
  return std::string(buf, static_cast<size_t>(n));
}

// A frame of HDR bytes of Ethernet (ETHERTYPE) and IP header, then UDP SPORT → DPORT with
// PAYLOAD; returns the frame's first byte (nullptr: no mbuf). Checksums are left zero:
// nothing here checks them.
uint8_t* udp_frame(rte_mempool* mp, rte_mbuf** out, uint16_t ethertype, size_t hdr,
                   uint16_t sport, uint16_t dport, const std::string& payload) {
  rte_mbuf* m = rte_pktmbuf_alloc(mp);
  if (m == nullptr) return nullptr;
  const auto len = static_cast<uint16_t>(hdr + 8 + payload.size());
  auto* f = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, len));
  std::memset(f, 0, hdr + 8);
  for (int i = 0; i < 12; i++) f[i] = static_cast<uint8_t>(0x02 + i);
  f[12] = static_cast<uint8_t>(ethertype >> 8);
  f[13] = static_cast<uint8_t>(ethertype);
  uint8_t* udp = f + hdr;
  const auto ulen = static_cast<uint16_t>(8 + payload.size());
  udp[0] = static_cast<uint8_t>(sport >> 8);
  udp[1] = static_cast<uint8_t>(sport);
  udp[2] = static_cast<uint8_t>(dport >> 8);
  udp[3] = static_cast<uint8_t>(dport);
  udp[4] = static_cast<uint8_t>(ulen >> 8);
  udp[5] = static_cast<uint8_t>(ulen);
  std::memcpy(udp + 8, payload.data(), payload.size());
  *out = m;
  return f;
}

// An untagged Ethernet / IPv4 / UDP frame.
rte_mbuf* udp4(rte_mempool* mp, const uint8_t* src, uint16_t sport, const uint8_t* dst,
               uint16_t dport, const std::string& payload) {
  rte_mbuf* m = nullptr;
  uint8_t* f = udp_frame(mp, &m, 0x0800, 34, sport, dport, payload);
  if (f == nullptr) return nullptr;
  uint8_t* ip = f + 14;
  const auto tot = static_cast<uint16_t>(20 + 8 + payload.size());
  ip[0] = 0x45;
  ip[2] = static_cast<uint8_t>(tot >> 8);
  ip[3] = static_cast<uint8_t>(tot);
  ip[6] = 0x40;  // DF
  ip[8] = 64;
  ip[9] = 17;
  std::memcpy(ip + 12, src, 4);
  std::memcpy(ip + 16, dst, 4);
  return m;
}

// The same over IPv6.
rte_mbuf* udp6(rte_mempool* mp, const uint8_t* src, uint16_t sport, const uint8_t* dst,
               uint16_t dport, const std::string& payload) {
  rte_mbuf* m = nullptr;
  uint8_t* f = udp_frame(mp, &m, 0x86dd, 54, sport, dport, payload);
  if (f == nullptr) return nullptr;
  uint8_t* ip = f + 14;
  const auto plen = static_cast<uint16_t>(8 + payload.size());
  ip[0] = 0x60;
  ip[4] = static_cast<uint8_t>(plen >> 8);
  ip[5] = static_cast<uint8_t>(plen);
  ip[6] = 17;
  ip[7] = 64;
  std::memcpy(ip + 8, src, 16);
  std::memcpy(ip + 24, dst, 16);
  return m;
}

// An RTP packet of 160 PCMA bytes.
std::string rtp_payload() {
  std::string p = {'\x80', '\x08', '\x00', '\x01', '\x00', '\x00', '\x00', '\xa0',
                   '\x12', '\x34', '\x56', '\x78'};
  p.append(160, '\xd5');
  return p;
}

class media_stage : public ::testing::Test {
 protected:
  void SetUp() override {
    mp = rte_pktmbuf_pool_create("t_media", 1023, 0, 0, 2048 + RTE_PKTMBUF_HEADROOM,
                                 SOCKET_ID_ANY);
    ASSERT_NE(mp, nullptr);
    std::string err;
    sip = sip_dataplane::create(sip_config{}, 1, &err);
    ASSERT_TRUE(sip) << err;
    media_dp_config mc;
    mc.max_flows = 64;
    mc.rtp_heuristics = heuristics();
    media = std::make_unique<media_dataplane>(mc, 1);
    media->attach(*sip);
    sip_st = sip->stage_for(0);
    media_st = media->stage_for(0);
  }
  virtual bool heuristics() const { return false; }
  void TearDown() override {
    drain();
    sip.reset();
    media.reset();
    if (mp != nullptr) {
      EXPECT_EQ(rte_mempool_in_use_count(mp), 0u) << "test mbufs leaked";
      rte_mempool_free(mp);
    }
  }

  // SIP's stage then the media stage on frames PKTS that came in on SIDE, as the worker
  // runs them; returns the burst's pass mask.
  uint64_t run(std::vector<rte_mbuf*> pkts, uint8_t side, uint64_t tsc = 0) {
    verdict v[k_max_burst];
    frame_burst b;
    b.pkts = pkts.data();
    b.v = v;
    b.n = static_cast<uint16_t>(pkts.size());
    b.side = side;
    b.worker = 0;
    b.tsc = tsc != 0 ? tsc : rte_rdtsc();
    b.pass = frame_burst::all(b.n);
    sip_st.run(sip_st.ctx, b);
    media_st.run(media_st.ctx, b);
    return b.pass;
  }

  // Every record the ring holds (their references dropped).
  std::vector<mirror_rec> drain() {
    std::vector<mirror_rec> out;
    if (!media) return out;
    mirror_rec r;
    while (media->ring(0).pop(r)) {
      out.push_back(r);
      if (r.m != nullptr) rte_pktmbuf_free(r.m);
    }
    return out;
  }

  void expect_flow(const uint8_t* addr, uint8_t family, uint16_t port, media_kind kind) {
    flow_hit h;
    ASSERT_TRUE(media->flows().lookup(addr, family, port, &h)) << "port " << port;
    EXPECT_EQ(h.call, media_call_key(k_call_id)) << "port " << port;
    EXPECT_EQ(h.kind, kind) << "port " << port;
  }

  // Sets the call up: INVITE from the phone (side B), 200 OK from the network (side A).
  void set_up_call() {
    rte_mbuf* inv = udp4(mp, k_caller, 5060, k_callee, 5060, sip_text(k_invite, k_invite_sdp));
    rte_mbuf* ok = udp4(mp, k_callee, 5060, k_caller, 5060, sip_text(k_ok, k_ok_sdp));
    ASSERT_NE(inv, nullptr);
    ASSERT_NE(ok, nullptr);
    EXPECT_EQ(run({inv}, 1), 1u);
    EXPECT_EQ(run({ok}, 0), 1u);
    rte_pktmbuf_free(inv);  // as the core does once forwarded: the ring's reference stays
    rte_pktmbuf_free(ok);
  }

  rte_mempool* mp = nullptr;
  std::unique_ptr<sip_dataplane> sip;
  std::unique_ptr<media_dataplane> media;
  stage sip_st, media_st;
};

TEST_F(media_stage, sdp_of_invite_and_answer_installs_rtp_and_rtcp_flows) {
  set_up_call();
  EXPECT_EQ(sip->stats().requests[static_cast<size_t>(sip::method::invite)], 1u);
  expect_flow(k_caller, 4, 40000, media_kind::rtp);
  expect_flow(k_caller, 4, 40001, media_kind::rtcp);
  expect_flow(k_caller6, 6, 40100, media_kind::rtp);
  expect_flow(k_caller6, 6, 40101, media_kind::rtcp);
  expect_flow(k_callee, 4, 30000, media_kind::rtp);
  expect_flow(k_callee, 4, 30011, media_kind::rtcp);  // a=rtcp, not port + 1
  flow_hit h;
  EXPECT_FALSE(media->flows().lookup(k_callee, 4, 30001, &h));
  EXPECT_EQ(media->flows().size(), 6u);
  EXPECT_EQ(media->total(media_counter::flows_installed), 6u);
  EXPECT_EQ(media->total(media_counter::sdp_unusable), 0u);

  // Both SIP frames went to the media thread, by reference, with the call's key.
  const std::vector<mirror_rec> recs = drain();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(media->total(media_counter::sip_mirrored), 2u);
  for (const mirror_rec& r : recs) {
    EXPECT_EQ(r.kind, media_kind::sip);
    EXPECT_EQ(r.call, media_call_key(k_call_id));
    EXPECT_EQ(r.worker, 0);
    EXPECT_TRUE(r.flags & mirror_sdp);
  }
  EXPECT_EQ(recs[0].side, 1);
  EXPECT_EQ(recs[0].flags, mirror_initial_invite | mirror_sdp);
  EXPECT_EQ(recs[1].side, 0);
  EXPECT_EQ(recs[1].flags, mirror_sdp);
}

TEST_F(media_stage, the_no_record_header_is_flagged_only_in_the_headers) {
  std::string with = sip_text(k_invite, k_invite_sdp);
  with.insert(with.find("Content-Type:"), "x-no-record : yes\r\n");
  std::string lookalike = sip_text(k_invite, "v=0\r\nX-No-Record: in the body\r\n");
  lookalike.insert(lookalike.find("Content-Type:"), "X-No-Recording: 1\r\n");
  lookalike.replace(lookalike.find("Call-ID: a"), 10, "Call-ID: b");
  rte_mbuf* a = udp4(mp, k_caller, 5060, k_callee, 5060, with);
  rte_mbuf* b = udp4(mp, k_caller, 5060, k_callee, 5060, lookalike);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(run({a, b}, 1), 3u);
  rte_pktmbuf_free(a);
  rte_pktmbuf_free(b);
  const std::vector<mirror_rec> recs = drain();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].flags, mirror_initial_invite | mirror_no_record | mirror_sdp);
  EXPECT_EQ(recs[1].flags, mirror_initial_invite | mirror_sdp);
  EXPECT_NE(recs[0].call, recs[1].call);
}

TEST_F(media_stage, rtp_and_rtcp_of_tracked_flows_are_mirrored_and_still_pass) {
  set_up_call();
  drain();
  const std::string rtp = rtp_payload();
  // Callee → caller's RTP port; caller → callee's RTCP port; caller over IPv6.
  rte_mbuf* a = udp4(mp, k_callee, 30000, k_caller, 40000, rtp);
  rte_mbuf* b = udp4(mp, k_caller, 40001, k_callee, 30011, std::string(32, '\x81'));
  rte_mbuf* c = udp6(mp, k_other6, 7000, k_caller6, 40100, rtp);
  rte_mbuf* untracked = udp4(mp, k_callee, 30000, k_caller, 40002, rtp);
  rte_mbuf* untracked6 = udp6(mp, k_other6, 7000, k_caller6, 40102, rtp);
  for (rte_mbuf* m : {a, b, c, untracked, untracked6}) ASSERT_NE(m, nullptr);

  EXPECT_EQ(run({a, untracked, c, untracked6}, 0), 0xfu) << "every frame passes";
  EXPECT_EQ(run({b}, 1), 1u);
  EXPECT_EQ(rte_mbuf_refcnt_read(a), 2);
  EXPECT_EQ(rte_mbuf_refcnt_read(b), 2);
  EXPECT_EQ(rte_mbuf_refcnt_read(c), 2);
  EXPECT_EQ(rte_mbuf_refcnt_read(untracked), 1);
  EXPECT_EQ(rte_mbuf_refcnt_read(untracked6), 1);
  EXPECT_EQ(media->total(media_counter::rtp_mirrored), 3u);

  ASSERT_EQ(media->ring(0).read_available(), 3u);
  mirror_rec r;
  ASSERT_TRUE(media->ring(0).pop(r));
  EXPECT_EQ(r.m, a);
  EXPECT_EQ(r.kind, media_kind::rtp);
  EXPECT_EQ(r.side, 0);
  EXPECT_EQ(r.call, media_call_key(k_call_id));
  EXPECT_EQ(r.flags, 0);
  rte_pktmbuf_free(r.m);
  ASSERT_TRUE(media->ring(0).pop(r));
  EXPECT_EQ(r.m, c);
  EXPECT_EQ(r.kind, media_kind::rtp);
  EXPECT_EQ(r.call, media_call_key(k_call_id));
  rte_pktmbuf_free(r.m);
  ASSERT_TRUE(media->ring(0).pop(r));
  EXPECT_EQ(r.m, b);
  EXPECT_EQ(r.kind, media_kind::rtcp);
  EXPECT_EQ(r.side, 1);
  EXPECT_EQ(r.call, media_call_key(k_call_id));
  rte_pktmbuf_free(r.m);
  for (rte_mbuf* m : {a, b, c, untracked, untracked6}) {
    EXPECT_EQ(rte_mbuf_refcnt_read(m), 1);
    rte_pktmbuf_free(m);  // the core's forward
  }
}

TEST_F(media_stage, a_full_ring_is_counted_and_the_frame_passes_without_a_reference) {
  set_up_call();
  drain();
  mirror_ring& ring = media->ring(0);
  size_t filled = 0;
  while (mirror_rec* r = ring.claim()) {
    *r = mirror_rec{nullptr, 0, 0, media_kind::rtp, 0, 0, 0};
    ring.publish();
    filled++;
  }
  EXPECT_GE(filled, k_mirror_ring_size - 1);
  rte_mbuf* a = udp4(mp, k_callee, 30000, k_caller, 40000, rtp_payload());
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(run({a}, 0), 1u);
  EXPECT_EQ(rte_mbuf_refcnt_read(a), 1);
  EXPECT_EQ(media->total(media_counter::mirror_ring_full), 1u);
  EXPECT_EQ(media->total(media_counter::rtp_mirrored), 0u);
  EXPECT_EQ(drain().size(), filled);
  rte_pktmbuf_free(a);
}

TEST_F(media_stage, frames_already_dropped_are_not_mirrored) {
  set_up_call();
  drain();
  rte_mbuf* a = udp4(mp, k_callee, 30000, k_caller, 40000, rtp_payload());
  ASSERT_NE(a, nullptr);
  verdict v[1];
  rte_mbuf* pkts[1] = {a};
  frame_burst b;
  b.pkts = pkts;
  b.v = v;
  b.n = 1;
  b.pass = 0;  // an earlier stage dropped it
  v[0] = verdict::dropped(drop_reason{});
  media_st.run(media_st.ctx, b);
  EXPECT_EQ(rte_mbuf_refcnt_read(a), 1);
  EXPECT_EQ(media->ring(0).read_available(), 0u);
  rte_pktmbuf_free(a);
}

TEST_F(media_stage, removed_calls_are_no_longer_mirrored) {
  set_up_call();
  drain();
  EXPECT_EQ(media->flows().remove_call(media_call_key(k_call_id)), 6u);
  rte_mbuf* a = udp4(mp, k_callee, 30000, k_caller, 40000, rtp_payload());
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(run({a}, 0), 1u);
  EXPECT_EQ(rte_mbuf_refcnt_read(a), 1);
  EXPECT_EQ(media->ring(0).read_available(), 0u);
  rte_pktmbuf_free(a);
}

// An RTP packet of stream SSRC with sequence number SEQ (PCMA, or payload type PT).
std::string rtp_packet(uint32_t ssrc, uint16_t seq, uint8_t pt = 8) {
  std::string p = rtp_payload();
  p[1] = static_cast<char>(pt);
  p[2] = static_cast<char>(seq >> 8);
  p[3] = static_cast<char>(seq);
  for (int i = 0; i < 4; i++) p[8 + i] = static_cast<char>(ssrc >> (24 - 8 * i));
  return p;
}

TEST_F(media_stage, without_the_heuristics_rtp_of_no_sdp_is_not_followed) {
  for (uint16_t seq = 1; seq <= 3; seq++) {
    rte_mbuf* m = udp4(mp, k_callee, 30000, k_caller, 40000, rtp_packet(7, seq));
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(run({m}, 0), 1u);
    EXPECT_EQ(rte_mbuf_refcnt_read(m), 1);
    rte_pktmbuf_free(m);
  }
  EXPECT_EQ(media->flows().size(), 0u);
  EXPECT_EQ(media->ring(0).read_available(), 0u);
}

class media_heuristics : public media_stage {
 protected:
  bool heuristics() const override { return true; }
  // Runs one frame from SRC:SPORT to DST:DPORT on SIDE, as forwarded (its reference freed).
  void send(const uint8_t* src, uint16_t sport, const uint8_t* dst, uint16_t dport,
            const std::string& payload, uint8_t side = 0) {
    rte_mbuf* m = udp4(mp, src, sport, dst, dport, payload);
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(run({m}, side), 1u) << "the frame passes";
    rte_pktmbuf_free(m);
  }
};

TEST_F(media_heuristics, a_stream_is_confirmed_by_its_next_packet_and_both_directions_follow) {
  send(k_callee, 30000, k_caller, 40000, rtp_packet(7, 100));
  EXPECT_EQ(media->flows().size(), 0u) << "one packet is not a stream yet";
  EXPECT_EQ(media->ring(0).read_available(), 0u);
  send(k_callee, 30000, k_caller, 40000, rtp_packet(7, 101));
  // RTP and RTCP (the next port up) of both endpoints.
  EXPECT_EQ(media->total(media_counter::heuristic_flows), 4u);
  const std::string id = "rtp:192.0.2.10:40000-198.51.100.7:30000";
  char buf[128];
  ASSERT_EQ(heuristic_call_id(4, k_callee, 30000, k_caller, 40000, buf), id.size());
  EXPECT_EQ(std::string(buf, id.size()), id);
  ASSERT_EQ(heuristic_call_id(4, k_caller, 40000, k_callee, 30000, buf), id.size());
  EXPECT_EQ(std::string(buf, id.size()), id) << "the same from either end";
  const uint64_t key = heuristic_call_key(id);
  flow_hit h;
  ASSERT_TRUE(media->flows().lookup(k_caller, 4, 40001, &h));
  EXPECT_EQ(h.call, key);
  // The confirming packet, then the other direction, go to the media thread flagged.
  send(k_caller, 40000, k_callee, 30000, rtp_packet(9, 5000), 1);
  const auto recs = drain();
  ASSERT_EQ(recs.size(), 2u);
  for (const mirror_rec& r : recs) {
    EXPECT_EQ(r.call, key);
    EXPECT_EQ(r.kind, media_kind::rtp);
    EXPECT_EQ(r.flags, mirror_heuristic);
  }
  EXPECT_EQ(recs[0].side, 0);
  EXPECT_EQ(recs[1].side, 1);
}

TEST_F(media_heuristics, what_is_not_an_rtp_stream_is_left_alone) {
  auto twice = [&](const uint8_t* src, uint16_t sport, uint16_t dport, std::string a,
                   std::string b) {
    send(src, sport, k_caller, dport, a);
    send(src, sport, k_caller, dport, b);
  };
  std::string v0 = rtp_packet(7, 1), v0b = rtp_packet(7, 2);
  v0[0] = v0b[0] = 0x00;  // version 0: DTLS, STUN, WireGuard, ...
  twice(k_callee, 30000, 40000, v0, v0b);
  twice(k_callee, 53, 40000, rtp_packet(7, 1), rtp_packet(7, 2));      // privileged port
  twice(k_callee, 5060, 40000, rtp_packet(7, 1), rtp_packet(7, 2));    // SIP's port
  twice(k_callee, 30002, 40002, rtp_packet(7, 1), rtp_packet(8, 2));   // another SSRC
  twice(k_callee, 30004, 40004, rtp_packet(7, 1), rtp_packet(7, 40));  // a jump
  twice(k_callee, 30006, 40006, rtp_packet(7, 1), rtp_packet(7, 1));   // the same packet
  twice(k_callee, 30008, 40008, rtp_packet(7, 1, 72), rtp_packet(7, 2, 72));  // RTCP's types
  twice(k_callee, 30010, 40010, std::string(8, '\x80'), std::string(8, '\x80'));  // short
  EXPECT_EQ(media->flows().size(), 0u);
  EXPECT_EQ(media->total(media_counter::heuristic_flows), 0u);
  EXPECT_EQ(media->ring(0).read_available(), 0u);
}

TEST_F(media_heuristics, a_flow_sip_announced_is_not_taken_over) {
  set_up_call();
  drain();
  // From the caller's SDP port to somewhere no SDP named (a NAT's address): not a new call.
  uint8_t nat[4] = {203, 0, 113, 9};
  send(k_caller, 40000, nat, 31000, rtp_packet(7, 1), 1);
  send(k_caller, 40000, nat, 31000, rtp_packet(7, 2), 1);
  EXPECT_EQ(media->total(media_counter::heuristic_flows), 0u);
  flow_hit h;
  ASSERT_TRUE(media->flows().lookup(k_caller, 4, 40000, &h));
  EXPECT_EQ(h.call, media_call_key(k_call_id));
}

TEST(rtp_shape, lengths_versions_csrcs_and_payload_types) {
  uint32_t ssrc = 0;
  uint16_t seq = 0;
  std::string p = rtp_packet(0x01020304, 0xabcd);
  ASSERT_TRUE(looks_like_rtp(reinterpret_cast<const uint8_t*>(p.data()), 12, &ssrc, &seq));
  EXPECT_EQ(ssrc, 0x01020304u);
  EXPECT_EQ(seq, 0xabcd);
  EXPECT_FALSE(looks_like_rtp(reinterpret_cast<const uint8_t*>(p.data()), 11, &ssrc, &seq));
  p[0] = static_cast<char>(0x83);  // three CSRCs: 24 bytes of header
  EXPECT_FALSE(looks_like_rtp(reinterpret_cast<const uint8_t*>(p.data()), 23, &ssrc, &seq));
  EXPECT_TRUE(looks_like_rtp(reinterpret_cast<const uint8_t*>(p.data()), 24, &ssrc, &seq));
  for (uint8_t pt : {0, 8, 9, 18, 34, 96, 101, 127})
    EXPECT_TRUE(looks_like_rtp(reinterpret_cast<const uint8_t*>(rtp_packet(1, 1, pt).data()),
                               172, &ssrc, &seq)) << int(pt);
  for (uint8_t pt : {35, 72, 76, 95})
    EXPECT_FALSE(looks_like_rtp(reinterpret_cast<const uint8_t*>(rtp_packet(1, 1, pt).data()),
                                172, &ssrc, &seq)) << int(pt);
  char buf[128];
  const size_t n = heuristic_call_id(6, k_other6, 7000, k_caller6, 40100, buf);
  EXPECT_EQ(std::string(buf, n), "rtp:[2001:db8::10]:40100-[2001:db8::99]:7000");
}

}  // namespace
}  // namespace ringbridge::dp

namespace ringbridge::dp {
namespace {

// The call events SIP's stage hands to the control thread, next to the media stage's
// mirror: a retransmission is mirrored (the recording has it) but is not a second event.
class sip_events : public media_stage {
 protected:
  // One frame of TEXT from SIDE at TSC through both stages; the frame passes.
  void send(const std::string& text, uint8_t side, uint64_t tsc) {
    rte_mbuf* m = side == 1 ? udp4(mp, k_caller, 5060, k_callee, 5060, text)
                            : udp4(mp, k_callee, 5060, k_caller, 5060, text);
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(run({m}, side, tsc), 1u);
    rte_pktmbuf_free(m);
  }
  // The events handed over since the last call: (CSeq, status) of each.
  std::vector<std::pair<uint32_t, uint16_t>> events() {
    std::vector<std::pair<uint32_t, uint16_t>> out;
    while (sip->events(0)->consume_one(
        [&](const sip_event& ev) { out.emplace_back(ev.cseq, ev.status); })) {
    }
    return out;
  }
  uint64_t count(sip_counter c) { return sip->stats()[c]; }
  const uint64_t hz = rte_get_tsc_hz();
  const uint64_t t0 = rte_rdtsc();
};

TEST_F(sip_events, a_retransmission_within_the_window_is_mirrored_but_not_a_second_event) {
  const std::string invite = sip_text(k_invite, k_invite_sdp);
  send(invite, 1, t0);
  send(invite, 1, t0 + hz / 2);  // T1: the first retransmission
  send(invite, 1, t0 + hz * 9 / 10);
  EXPECT_EQ(events(), (std::vector<std::pair<uint32_t, uint16_t>>{{314159, 0}}));
  EXPECT_EQ(count(sip_counter::sip_messages), 3u);
  EXPECT_EQ(count(sip_counter::sip_events), 1u);
  EXPECT_EQ(count(sip_counter::repeats_coalesced), 2u);
  EXPECT_EQ(drain().size(), 3u) << "the recording gets every retransmission";

  // The answer is another message; so is the same INVITE a window after the first
  // (the call log sees the call is still being set up), and a new CSeq (the INVITE again
  // after a 401) at once.
  send(sip_text(k_ok, k_ok_sdp), 0, t0 + hz);
  send(invite, 1, t0 + hz + hz / 10);
  std::string again = invite;
  again.replace(again.find("314159 INVITE"), 13, "314160 INVITE");
  send(again, 1, t0 + hz + hz / 5);
  EXPECT_EQ(events(), (std::vector<std::pair<uint32_t, uint16_t>>{
                          {314159, 200}, {314159, 0}, {314160, 0}}));
  // The same INVITE from the other side is another message, too.
  send(invite, 0, t0 + hz + hz / 4);
  EXPECT_EQ(events().size(), 1u);
  EXPECT_EQ(count(sip_counter::repeats_coalesced), 2u);
}

TEST_F(sip_events, a_flood_of_one_message_reaches_the_recording_three_retransmissions_a_window) {
  const std::string invite = sip_text(k_invite, k_invite_sdp);
  send(invite, 1, t0);
  const uint64_t flows = media->total(media_counter::flows_installed);
  ASSERT_GT(flows, 0u);
  for (int i = 1; i <= 20; i++) send(invite, 1, t0 + hz * i / 25);  // 20 copies in 0.8 s
  const std::vector<mirror_rec> got = drain();
  ASSERT_EQ(got.size(), 1u + k_repeats_mirrored);
  for (size_t i = 0; i < got.size(); i++)
    EXPECT_TRUE(got[i].flags & mirror_initial_invite) << i;
  EXPECT_EQ(media->total(media_counter::flows_installed), flows * (1 + k_repeats_mirrored))
      << "the copies past the third retransmission install nothing";
  EXPECT_EQ(media->total(media_counter::sip_mirrored), 1u + k_repeats_mirrored);
  EXPECT_EQ(media->total(media_counter::sip_repeats_skipped), 20u - k_repeats_mirrored);
  EXPECT_EQ(count(sip_counter::repeats_coalesced), 20u);
  EXPECT_EQ(events().size(), 1u);

  // A window after the event the message is handed over again, and so are its first
  // copies after that.
  for (int i = 0; i < 6; i++) send(invite, 1, t0 + hz + hz * i / 10);
  EXPECT_EQ(events().size(), 1u);
  EXPECT_EQ(drain().size(), 1u + k_repeats_mirrored);
  EXPECT_EQ(media->total(media_counter::sip_repeats_skipped), 20u - k_repeats_mirrored + 2u);

  // Another message of the call (a new CSeq) is counted on its own.
  std::string again = invite;
  again.replace(again.find("314159 INVITE"), 13, "314160 INVITE");
  send(again, 1, t0 + hz * 2);
  send(again, 1, t0 + hz * 2 + 1);
  EXPECT_EQ(drain().size(), 2u);
  EXPECT_EQ(events().size(), 1u);
}

TEST_F(sip_events, a_forking_proxys_invites_to_several_phones_are_messages_of_their_own) {
  // One call forked to six registrations: the same Call-ID, CSeq and From, no To tag; only
  // the Request-URI (and with it the length) differs.
  const std::string invite = sip_text(k_invite, k_invite_sdp);
  for (int i = 0; i < 6; i++) {
    std::string fork = invite;
    const std::string ruri = "sip:bob@198.51.100." + std::to_string(7 + i * 10);
    fork.replace(fork.find("sip:bob@198.51.100.7 SIP"), 20, ruri);
    send(fork, 0, t0 + i);
  }
  EXPECT_EQ(events().size(), 6u);
  EXPECT_EQ(drain().size(), 6u) << "every fork is in the recording";
  EXPECT_EQ(media->total(media_counter::sip_repeats_skipped), 0u);
  EXPECT_EQ(count(sip_counter::repeats_coalesced), 0u);
}

TEST(recent_events, counts_the_copies_of_a_message_within_the_window) {
  recent_events r;
  r.window_tsc = 1000000;
  const uint64_t t = 123456789;
  EXPECT_EQ(r.repeat(42, t), 0u) << "never handed over";
  r.note(42, t);
  EXPECT_EQ(r.repeat(42, t + 1), 1u);
  EXPECT_EQ(r.repeat(42, t + 2), 2u);
  EXPECT_EQ(r.repeat(43, t + 2), 0u) << "another signature";
  for (unsigned i = 3; i < 300; i++) r.repeat(42, t + i);
  EXPECT_EQ(r.repeat(42, t + 300), 255u) << "saturates";
  EXPECT_EQ(r.repeat(42, t + 999000), 255u);
  EXPECT_EQ(r.repeat(42, t + 1000000), 0u) << "the window is over";
  r.note(42, t + 1000000);
  EXPECT_EQ(r.repeat(42, t + 1000001), 1u) << "handed over again: counted from 0";
  // Four others in the same set push the oldest out.
  for (uint64_t k = 1; k <= 4; k++) r.note(42 + k * recent_events::k_sets, t + 1000000 + k * 1000);
  EXPECT_EQ(r.repeat(42, t + 1005000), 0u);
  EXPECT_EQ(r.repeat(42 + recent_events::k_sets, t + 1005000), 1u);
}

TEST_F(sip_events, a_retransmission_of_an_event_the_full_ring_lost_goes_through) {
  // Fill the ring with other calls' INVITEs; the control thread reads nothing.
  const std::string invite = sip_text(k_invite, k_invite_sdp);
  for (size_t i = 0; i < k_event_ring_size; i++) {
    std::string other = invite;
    other.replace(other.find("a84b4c76e66710"), 14, "call-" + std::to_string(100000000 + i));
    send(other, 1, t0 + i);
    drain();  // the media thread keeps up: only the event ring fills
  }
  EXPECT_EQ(count(sip_counter::ring_full), 0u);
  send(invite, 1, t0 + hz / 10);
  EXPECT_EQ(count(sip_counter::ring_full), 1u);
  EXPECT_EQ(events().size(), k_event_ring_size);
  send(invite, 1, t0 + hz / 2);
  EXPECT_EQ(events(), (std::vector<std::pair<uint32_t, uint16_t>>{{314159, 0}}));
  EXPECT_EQ(count(sip_counter::repeats_coalesced), 0u);
  drain();
}

}  // namespace
}  // namespace ringbridge::dp
