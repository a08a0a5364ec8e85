// SPDX-License-Identifier: BSD-3-Clause
// The media feature on the worker side: the flow table of the RTP/RTCP flows the calls'
// SDP announced, the media stage that hands frames of those flows to the media thread by
// mbuf reference, and the SIP message hook that installs the flows and hands over the
// calls' SIP frames.
//
// Owned by the media feature. Uses the dataplane core (stage, counters, packet parsing)
// and the sip feature (parsed messages through its message hook); nothing in the cores
// names it. The appliance builds it, attaches it to SIP and adds its stage after SIP's.
//
// Why the flow table is not a published copy swapped whole (as the filter set is): the
// answer's SDP crosses the bridge a round trip before the first RTP packet it announces,
// so the flow must be in the table when the worker that saw the answer finishes its burst
// — not when the control side gets to it. Workers therefore install flows themselves, in
// a fixed array of slots each published with its own sequence word (a per-slot seqlock):
// readers never wait and never see a half-written entry, writers never wait for readers,
// and no memory is ever freed, so no grace period is needed.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ringbridge/dp/counters.h"
#include "ringbridge/dp/spsc_ring.h"
#include "ringbridge/dp/stage.h"
#include "ringbridge/sip/sip_setup.h"

struct rte_mbuf;

namespace ringbridge::dp {

/// What a tracked flow carries.
enum class media_kind : uint8_t { sip = 0, rtp = 1, rtcp = 2 };

/// A flow's key: the receiving address and port an SDP announced (RTP travels to it).
struct flow_key {
  uint8_t addr[16] = {};  ///< IPv4 in the first 4 bytes, the rest zero
  uint16_t port = 0;
  uint8_t family = 4;  ///< 4 or 6
};

/// What a lookup found.
struct flow_hit {
  uint64_t call = 0;  ///< the call's key: keyed_hash64 of the whole Call-ID
  media_kind kind = media_kind::rtp;
};

/// The flows of the calls in progress: a fixed array of slots, open addressing with at
/// most k_probe probes. Any thread installs (workers from SDP) and removes (the media
/// thread); any thread looks up. Wait-free for readers; a writer that finds a slot being
/// written by another writer probes on. Bounded: an install with no free slot within
/// k_probe fails (the caller counts it).
class flow_table {
 public:
  static constexpr unsigned k_probe = 16;

  /// Room for at least MAX_FLOWS flows (the array is the next power of two ≥ 2 × that).
  explicit flow_table(uint32_t max_flows);
  ~flow_table();
  flow_table(const flow_table&) = delete;
  flow_table& operator=(const flow_table&) = delete;

  /// KEY → (CALL, KIND): installs it, or points an existing entry for KEY at CALL (a port
  /// reused by the next call, a re-INVITE). False when the table has no room for it.
  /// NOW: a clock of the caller's (the TSC), kept with the flow for sweep().
  bool install(const flow_key& key, uint64_t call, media_kind kind, uint64_t now = 0);
  /// The flow to ADDR (4 or 16 bytes by FAMILY) : PORT, if tracked.
  bool lookup(const uint8_t* addr, uint8_t family, uint16_t port, flow_hit* out) const;
  /// Removes every flow of CALL; returns how many. Walks the whole array (media thread,
  /// once per call end).
  size_t remove_call(uint64_t call);
  /// Removes the flows installed (or refreshed) before the tick BEFORE whose call KEEP
  /// rejects: flows of calls the media thread never followed (over its limits, an INVITE
  /// flood) would otherwise hold their slots for good. Media thread, every few seconds.
  template <typename F>
  size_t sweep(uint64_t before, F&& keep);
  /// Flows installed now (relaxed: the stage's "nothing to look for" test).
  uint32_t size() const { return _used.load(std::memory_order_relaxed); }
  uint32_t capacity() const { return _mask + 1; }

 private:
  struct slot;
  uint32_t index(const uint8_t* addr16, uint16_t port) const;
  /// Visits the live slots: F(call, installed) → true to remove the slot.
  size_t remove_if(bool (*f)(void* ctx, uint64_t call, uint64_t installed), void* ctx);
  std::unique_ptr<slot[]> _slots;
  uint32_t _mask = 0;
  uint64_t _seed = 0;
  std::atomic<uint32_t> _used{0};
};

template <typename F>
size_t flow_table::sweep(uint64_t before, F&& keep) {
  struct ctx_t {
    uint64_t before;
    F& keep;
  } ctx{before, keep};
  return remove_if(
      [](void* c, uint64_t call, uint64_t installed) {
        auto& x = *static_cast<ctx_t*>(c);
        return installed < x.before && !x.keep(call);
      },
      &ctx);
}

/// One frame handed to the media thread: the frame itself by reference (the media thread
/// frees it), when it was seen and which call it belongs to.
struct mirror_rec {
  rte_mbuf* m;
  uint64_t tsc;
  uint64_t call;  ///< keyed_hash64 of the Call-ID
  media_kind kind;
  uint8_t side;   ///< ingress side: 0 = A (network), 1 = B (phone)
  uint8_t flags;  ///< mirror_flag bits
  uint8_t worker;
};
enum mirror_flag : uint8_t {
  mirror_initial_invite = 1,  ///< the INVITE that opens the call (its side is the caller's)
  mirror_no_record = 2,       ///< carries the header that forbids recording ([recording])
  mirror_sdp = 4,             ///< carries an SDP body
  mirror_heuristic = 8,       ///< RTP of a flow the heuristics found (no SIP seen for it)
};

/// Set in a flow's stored kind when the RTP heuristics installed it (not SDP): the stage
/// strips it and flags the frame mirror_heuristic.
inline constexpr uint8_t k_kind_heuristic = 0x80;

/// Retransmissions of one SIP message (sip_message_seen::nth_copy) handed to the media
/// thread, besides the message itself, within the window after its event: a phone's
/// (RFC 3261's timers: at most two a second) all reach the recording; a flood of one
/// message costs the media thread no more.
inline constexpr unsigned k_repeats_mirrored = 3;

inline constexpr size_t k_mirror_ring_size = 4096;
/// One per worker: worker → media thread.
using mirror_ring = spsc_ring<mirror_rec, k_mirror_ring_size>;

/// The media stage's counters (declared once): name, help.
#define RB_DP_FOREACH_MEDIA_COUNTER(_)                                                        \
  _(rtp_mirrored, "RTP/RTCP frames of tracked flows handed to the media thread")             \
  _(sip_mirrored, "SIP frames handed to the media thread (the calls' pcap)")                  \
  _(mirror_ring_full,                                                                         \
    "frames not handed to the media thread: its ring was full (forwarded all the same)")      \
  _(flows_installed, "RTP/RTCP flows installed from SDP")                                     \
  _(flow_table_full, "flows an SDP announced that found no room in the flow table")           \
  _(sdp_unusable, "SDP bodies with no usable audio address or port")                          \
  _(sip_not_mirrored, "SIP messages not handed over whole (reassembled or over TCP)")        \
  _(heuristic_flows, "RTP/RTCP flows installed by the RTP heuristics (no SIP seen)")        \
  _(sip_repeats_skipped,                                                                      \
    "copies of a SIP message past its third retransmission within 1 s of its event (a "      \
    "flood): not handed to the media thread")

enum class media_counter : uint8_t {
#define RB_DP_MEDIA_ENUM(name, help) name,
  RB_DP_FOREACH_MEDIA_COUNTER(RB_DP_MEDIA_ENUM)
#undef RB_DP_MEDIA_ENUM
};
#define RB_DP_MEDIA_COUNT(name, help) +1
inline constexpr size_t k_media_counters = 0 RB_DP_FOREACH_MEDIA_COUNTER(RB_DP_MEDIA_COUNT);
#undef RB_DP_MEDIA_COUNT
const char* media_counter_name(media_counter c);
const char* media_counter_help(media_counter c);

/// The media feature's worker-side settings.
struct media_dp_config {
  uint32_t max_flows = 8192;  ///< RTP + RTCP flows tracked at once (4 per two-party call)
  /// A header whose presence in the INVITE forbids recording the call ("" = none).
  std::string no_record_header = "X-No-Record";
  /// Follow RTP whose SIP was not seen ([recording] rtp_heuristics): UDP between
  /// unprivileged ports that looks like RTP in two packets in a row of one stream.
  bool rtp_heuristics = false;
};

/// The RTP heuristics' memory of streams seen once: a small direct-mapped cache per
/// worker (a stream is confirmed by its next packet: same SSRC, sequence number 1-3 on).
struct rtp_candidate {
  uint64_t tuple = 0;  ///< hash of the 5-tuple (0 = empty)
  uint64_t tsc = 0;
  uint32_t ssrc = 0;
  uint16_t seq = 0;
};
inline constexpr size_t k_rtp_candidates = 256;

/// One worker's media state. Used only by its worker lcore (the ring's producer).
struct media_worker {
  flow_table* flows = nullptr;
  std::unique_ptr<mirror_ring> ring;
  std::array<counter, k_media_counters> counters;
  std::string no_record_header;
  unsigned index = 0;
  bool heuristics = false;
  uint64_t tsc_hz = 0;  ///< the heuristics' candidates expire after a second
  std::array<rtp_candidate, k_rtp_candidates> candidates{};

  counter& operator[](media_counter c) { return counters[static_cast<size_t>(c)]; }
};

/// The media stage on a burst: frames of tracked flows are handed over (a reference each).
void media_stage_burst(media_worker& mw, frame_burst& b);
/// SIP's message hook: flows from the SDP, the frame to the media thread.
void media_on_sip(media_worker& mw, const sip_message_seen& s);
/// The key of a call: keyed_hash64 of its whole Call-ID (sip_event: call_id, or
/// call_id_hash when the Call-ID was cut).
uint64_t media_call_key(std::string_view call_id);

/// What the RTP heuristics make of a UDP payload: whether it has the shape of an RTP
/// packet (version 2, an audio payload type, room for its CSRCs), and its SSRC and
/// sequence number. Exposed for the tests and the fuzzer.
bool looks_like_rtp(const uint8_t* p, uint32_t len, uint32_t* ssrc, uint16_t* seq);
/// The key of a call the heuristics found: keyed_hash64 of the ENDPOINTS text
/// (heuristic_call_id), the same from either direction.
uint64_t heuristic_call_key(std::string_view endpoints);
/// "rtp:A-B" for the two endpoints (family 4 or 6, 16-byte addresses), the lower one first:
/// the Call-ID of such a call in the call log. OUT has room for 128 bytes; returns its length.
size_t heuristic_call_id(uint8_t family, const uint8_t* addr1, uint16_t port1,
                         const uint8_t* addr2, uint16_t port2, char* out);

class media_dataplane {
 public:
  media_dataplane(const media_dp_config& cfg, unsigned workers);
  ~media_dataplane();

  /// Installs the message hook into SIP's stage on every worker (before they start).
  void attach(sip_dataplane& sip);
  /// Worker W's media stage, for bridge::add_stage() (after SIP's).
  stage stage_for(unsigned w);

  unsigned workers() const { return static_cast<unsigned>(_workers.size()); }
  mirror_ring& ring(unsigned w) { return *_workers[w]->ring; }
  flow_table& flows() { return *_flows; }
  const flow_table& flows() const { return *_flows; }
  /// A counter summed over the workers. Any thread.
  uint64_t total(media_counter c) const;
  /// Mbufs the rings can hold at once (what the mempool must have room for).
  static size_t mbufs_held_max(unsigned workers) { return workers * k_mirror_ring_size; }

 private:
  std::unique_ptr<flow_table> _flows;
  std::vector<std::unique_ptr<media_worker>> _workers;
};

}  // namespace ringbridge::dp
