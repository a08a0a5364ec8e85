// SPDX-License-Identifier: BSD-3-Clause
// The media thread: drains the workers' mirror rings, writes each recorded call's pcap and
// stereo WAV, measures quality per direction, detects DTMF, feeds live listeners, and
// keeps the spool within its quota. The control thread tells it about calls (ids, ends,
// what the filters decided); HTTP threads ask it about recordings.
//
// Owned by the media feature's control half. It frees every mbuf the rings hand it; it
// never touches the dataplane otherwise, except to remove the flows of ended calls from
// the flow table. Disk errors stop a call's recording (counted, logged), never the thread.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "ringbridge/media/dtmf.h"
#include "ringbridge/media/media_dataplane.h"
#include "ringbridge/media/rtp.h"

namespace ringbridge::media {

/// Frames the media thread holds, over all calls, while it waits to learn which call they
/// belong to (beyond: freed and counted).
inline constexpr size_t k_pending_total = 4096;

/// [recording]
struct recording_options {
  bool record_all = true;  ///< default = "all" (else "none": only what rules / REST ask)
  std::string spool;       ///< where recordings go (<state_dir>/recordings by default)
  uint64_t max_bytes = 0;  ///< quota of the spool; 0 = none (oldest deleted first)
  uint32_t max_days = 0;   ///< recordings older than this are deleted; 0 = keep
  uint32_t jitter_ms = 120;  ///< reordering window of the WAV (and the live stream's delay)
  uint32_t idle_s = 60;      ///< a call without packets or SIP end this long is closed
  uint32_t max_calls = 2048;  ///< calls followed at once by the media thread
  uint32_t snaplen = 2048;    ///< pcap: the largest frame kept whole
};

/// Quality of one direction, as measured inline (RFC 3550 figures, an E-model estimate).
struct direction_quality {
  uint64_t packets = 0, lost = 0, duplicates = 0, out_of_order = 0;
  double jitter_ms = 0;
  double mos = 0;  ///< an estimate (simplified G.107), 0 = no packets
  std::string codec;
  uint32_t ssrc_changes = 0;
};

/// What the API shows of a call's media.
struct call_media_info {
  std::string state;  ///< "recording", "done", "not_recorded", "stopped", "failed", "deleted"
  std::string reason;  ///< why not recorded / stopped / failed
  uint64_t bytes = 0;  ///< WAV + pcap on disk
  double duration_s = 0;  ///< audio in the WAV
  std::string wav, pcap;  ///< paths (final or .part while recording), "" when none
  bool active = false;
  direction_quality quality[2];  ///< [0] caller → callee, [1] callee → caller
  std::vector<dtmf_digit> dtmf;
};
nlohmann::json media_info_to_json(const call_media_info& m);

/// A live listener's queue: 20 ms frames of interleaved 16-bit stereo PCM.
struct live_feed {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::string> frames;  ///< bounded: the oldest dropped beyond 50 (1 s)
  unsigned rate = 0;               ///< 0 until the call's audio rate is known
  bool ended = false;
};

/// The media plane's counters (media thread writes, any thread reads).
struct media_stats {
  std::atomic<uint64_t> calls_recorded{0}, calls_not_recorded{0}, frames_written{0},
      frames_dropped{0}, rtp_packets{0}, rtp_unparsable{0}, late_samples{0}, write_errors{0},
      spool_deleted{0}, spool_bytes{0}, calls_over_limit{0}, dtmf_digits{0}, live_listens{0},
      repaired{0}, quarantined{0}, skipped_samples{0}, flows_swept{0};
  std::atomic<uint64_t> mos_bucket[6]{};  ///< ended calls' worse direction: <1.5 .. ≥4.0
  std::atomic<uint64_t> mos_sum_milli{0};  ///< their sum, in thousandths
};

/// What the control and HTTP threads ask of the media thread.
struct media_command {
  enum kind_t : uint8_t { started, ended, record_on, record_off, erase } kind = started;
  uint64_t key = 0;  ///< started / ended
  int64_t id = 0;
  int caller_side = 0;
  double started_at = 0;
  uint8_t action = 0;  ///< dp::filter_action
};

/// What the media thread tells the control thread: a call the RTP heuristics found (no
/// SIP seen for it) started or ended. The control thread logs it as a call (Call-ID
/// "rtp:A-B") and answers call_started like for any other.
struct media_notice {
  enum kind_t : uint8_t { started, ended } kind = started;
  uint64_t key = 0;     ///< the workers' key (dp::heuristic_call_key of CALL_ID)
  std::string call_id;  ///< "rtp:A-B" (dp::heuristic_call_id)
  int side = 0;         ///< the side its first packet came in on (0 = network)
  double at = 0;        ///< Unix seconds
  std::string reason;   ///< ended: why
};

class media_plane {
 public:
  /// DP: the worker half (its rings and flow table). TSC_HZ / TSC0 / WALL0: turn frame
  /// times into wall time. Repairs what an earlier run left in the spool.
  media_plane(const recording_options& opt, dp::media_dataplane& dp, double tsc_hz,
              uint64_t tsc0, double wall0);
  ~media_plane();  ///< stop()

  /// Starts the media thread.
  void start();
  /// Drains what is left, closes every recording, stops the thread. Idempotent.
  void stop();

  // Control thread: the call lifecycle (KEY = dp::media_call_key of the Call-ID).
  /// A call the call log created: its row id, the side its INVITE came from (the caller's),
  /// its start time (Unix seconds) and the filter action that matched (dp::filter_action).
  void call_started(uint64_t key, int64_t id, int caller_side, double started_at, uint8_t action);
  /// The call is over (BYE, CANCEL, a final failure, a timeout): its recording closes.
  void call_ended(uint64_t key, int64_t id);
  /// The heuristics' calls that started or ended since the last call (oldest first).
  std::vector<media_notice> take_notices();

  // HTTP threads.
  /// The media of call ID (in progress or recorded), if the media plane knows it.
  std::optional<call_media_info> info(int64_t id) const;
  /// POST .../recording {"record": ON}: false with *ERROR (404 / 409 text) when it cannot.
  bool set_recording(int64_t id, bool on, std::string* error);
  /// DELETE .../recording: removes the files; false when there are none.
  bool delete_recording(int64_t id, std::string* error);
  /// A live feed of call ID's audio; nullptr when the call is not in progress.
  std::shared_ptr<live_feed> listen(int64_t id);

  const media_stats& stats() const { return _stats; }

  /// Called on the media thread for every DTMF digit detected (call id, the digit, its
  /// Unix time): the appliance posts it to the notification sinks. Set before start().
  using dtmf_fn = std::function<void(int64_t id, const dtmf_digit& d, double when)>;
  void set_dtmf_listener(dtmf_fn f) { _on_dtmf = std::move(f); }

 private:
  struct call;
  void run();
  void drain_rings();
  void handle(const dp::mirror_rec& r);
  void done_with(rte_mbuf* m);  ///< freed with the next bulk (free_done())
  void free_done();
  void start_heuristic(call& c, const dp::mirror_rec& r);
  void notify_control(media_notice n);
  /// Tells the call log that heuristic call C started or ended (AT: Unix seconds).
  void notify_heuristic(const call& c, media_notice::kind_t kind, double at,
                        std::string reason = {});
  void apply_commands();
  void tick(double now_mono);
  void finalize(call& c, const char* why);
  void open_files(call& c);
  void write_frame(call& c, const dp::mirror_rec& r);
  void rtp(call& c, const dp::mirror_rec& r, const uint8_t* payload, size_t len);
  void sip(call& c, const uint8_t* payload, size_t len);
  void fail(call& c, const std::string& what);
  void publish(call& c);
  void flush_window(call& c, bool all);
  void digit(call& c, const dtmf_digit& d);
  void enforce_spool(double now_wall);
  void recover_spool();
  double wall(uint64_t tsc) const;

  recording_options _opt;
  dp::media_dataplane& _dp;
  double _hz;
  uint64_t _tsc0;
  double _wall0;
  media_stats _stats;
  dtmf_fn _on_dtmf;

  std::thread _thread;
  std::atomic<bool> _stop{false};
  bool _started = false;

  // Media thread only.
  std::map<uint64_t, std::unique_ptr<call>> _calls;  ///< by key
  size_t _pending = 0;  ///< frames in the calls' pending lists
  std::array<rte_mbuf*, 64> _done{};  ///< handled frames, freed in bulk
  size_t _done_n = 0;
  double _now = 0;  ///< mono_now() when the current drain began
  std::vector<dtmf_digit> _found;  ///< scratch: in-band digits of one packet
  double _last_tick = 0, _last_spool = 0, _last_sweep = 0;
  double _clock_hold_until = 0;  ///< after a stall: the timeline follows packets only

  // Shared with the control and HTTP threads, under _mu.
  mutable std::mutex _mu;
  std::deque<media_command> _commands;
  std::vector<media_notice> _notices;  ///< media thread → control thread (bounded)
  std::map<int64_t, call_media_info> _index;  ///< by call id: what the API shows
  std::map<int64_t, std::vector<std::shared_ptr<live_feed>>> _live;
};

}  // namespace ringbridge::media
