// SPDX-License-Identifier: BSD-3-Clause
// The media thread (ringbridge/media/media_plane.h).
//
// Every frame a worker hands over is one mirror_rec: the mbuf (a reference of ours, freed
// here), when it arrived and the call it belongs to. Per call the thread keeps: the pcap
// (every frame, as it crossed the bridge), per direction the RTP statistics, a decoder and
// the placement of its packets on the call's timeline (from the INVITE), the stereo window
// that reorders within the jitter window, and the WAV that receives what leaves it. Frames
// that come before the control thread has told us the call's id wait (bounded) in the
// call's pending list.
#include "ringbridge/media/media_plane.h"

#include <dirent.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_mbuf.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>

#include "ringbridge/common/log.h"
#include "ringbridge/common/utf8.h"
#include "ringbridge/dp/clock.h"
#include "ringbridge/dp/packet.h"
#include "ringbridge/media/audio.h"
#include "ringbridge/media/files.h"
#include "ringbridge/media/sdp.h"
#include "ringbridge/sip/call_verdict.h"
#include "ringbridge/sip/sip_parser.h"

namespace ringbridge::media {

using json = nlohmann::json;

namespace {

constexpr size_t k_pending_max = 512;      // frames held per call until its id is known
constexpr size_t k_sip_held_max = 32;      // SIP frames kept per call until its media starts
constexpr double k_pending_wait_s = 3.0;   // ... and for how long
constexpr double k_linger_s = 0.5;         // after the call ended, for the last packets
constexpr double k_tick_s = 0.02;          // the WAV and live feeds move in 20 ms steps
constexpr double k_publish_s = 0.2;        // what the API shows of calls in progress
constexpr size_t k_live_max_frames = 50;   // a slow listener loses the oldest beyond 1 s
constexpr uint8_t k_pt_telephone_event = 255;
constexpr double k_silence_lag_s = 0.1;    // how far the timeline trails the clock in silence
constexpr double k_stall_s = 0.25;         // a tick this late: the thread (or all) was stalled
constexpr double k_backlog_s = 1.0;        // ... then the clock waits this long for the backlog

double mono_now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool make_dirs(const std::string& path) {
  std::string cur;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    cur = path.substr(0, pos);
    if (cur.empty()) continue;
    if (mkdir(cur.c_str(), 0750) != 0 && errno != EEXIST) return false;
  }
  return true;
}

uint64_t file_size(const std::string& p) {
  struct stat st {};
  return stat(p.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

bool ends_with(const std::string& s, std::string_view suf) {
  return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

// Every regular file under DIR (recursively, at most DEPTH levels).
void walk(const std::string& dir, int depth, std::vector<std::string>* out) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return;
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    const std::string p = dir + "/" + name;
    struct stat st {};
    if (lstat(p.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode) && depth > 0 && name != "quarantine")
      walk(p, depth - 1, out);
    else if (S_ISREG(st.st_mode))
      out->push_back(p);
  }
  closedir(d);
}

json quality_json(const direction_quality& q) {
  json j = {{"packets", q.packets},   {"lost", q.lost},
            {"duplicates", q.duplicates}, {"out_of_order", q.out_of_order},
            {"jitter_ms", std::round(q.jitter_ms * 100) / 100},
            {"codec", q.codec},        {"ssrc_changes", q.ssrc_changes}};
  if (q.packets != 0)
    j["mos_estimate"] = std::round(q.mos * 100) / 100;
  else
    j["mos_estimate"] = nullptr;
  return j;
}

direction_quality quality_from_json(const json& j) {
  direction_quality q;
  q.packets = j.value("packets", uint64_t{0});
  q.lost = j.value("lost", uint64_t{0});
  q.duplicates = j.value("duplicates", uint64_t{0});
  q.out_of_order = j.value("out_of_order", uint64_t{0});
  q.jitter_ms = j.value("jitter_ms", 0.0);
  q.codec = j.value("codec", std::string());
  q.ssrc_changes = j.value("ssrc_changes", 0u);
  if (j.contains("mos_estimate") && j["mos_estimate"].is_number()) q.mos = j["mos_estimate"];
  return q;
}

}  // namespace

json media_info_to_json(const call_media_info& m) {
  json dt = json::array();
  for (const auto& d : m.dtmf)
    dt.push_back({{"digit", std::string(1, d.digit)},
                  {"at_s", std::round(d.at_s * 1000) / 1000},
                  {"duration_ms", d.duration_ms},
                  {"source", d.source == dtmf_digit::rfc4733 ? "rfc4733" : "inband"}});
  json rec = {{"state", m.state}, {"bytes", m.bytes},
              {"duration_s", std::round(m.duration_s * 1000) / 1000}};
  if (!m.reason.empty()) rec["reason"] = m.reason;
  return {{"recording", rec},
          {"quality",
           {{"caller_to_callee", quality_json(m.quality[0])},
            {"callee_to_caller", quality_json(m.quality[1])},
            {"mos_note", "estimate: simplified ITU-T G.107 E-model (docs/design/media.md)"}}},
          {"dtmf", dt}};
}

// A SIP frame kept (as a copy) until the call's files open.
struct held_frame {
  uint64_t ns;
  std::string bytes;
  uint32_t orig_len;
};

// One direction of a call: what its sender sends (channel 0: the caller, 1: the callee).
struct direction_state {
  bool started = false;
  uint32_t ssrc = 0;
  rtp_source_stats stats;
  direction_quality past;  ///< sources before the current SSRC, summed
  std::unique_ptr<decoder> dec;
  std::unique_ptr<channel_clock> clock;
  rfc4733_detector rfc4733;
  std::unique_ptr<inband_detector> inband;
  std::vector<int16_t> pcm;  ///< scratch for one packet's samples
  unsigned late_run = 0;     ///< packets in a row that came after the window

  direction_quality quality(codec c) const {
    direction_quality q = past;
    q.packets += stats.received();
    q.lost += stats.lost();
    q.duplicates += stats.duplicates();
    q.out_of_order += stats.out_of_order();
    if (stats.received() != 0) q.jitter_ms = stats.jitter_ms();
    if (q.packets != 0) {
      const double expected = static_cast<double>(q.packets - q.duplicates + q.lost);
      const double loss = expected > 0 ? static_cast<double>(q.lost) / expected : 0;
      // One-way delay the E-model needs but RTP does not carry: the packetisation (20 ms)
      // plus a jitter buffer of twice the jitter plus 40 ms, a typical phone's.
      q.mos = mos_estimate(c, loss, 20 + 40 + 2 * q.jitter_ms);
    }
    q.codec = codec_name(c);
    return q;
  }
};

struct media_plane::call {
  uint64_t key = 0;
  int64_t id = 0;  ///< 0 until the control thread names the call
  int caller_side = -1;
  double origin_wall = 0;  ///< the INVITE: where both channels start
  uint64_t origin_tsc = 0;
  double created_mono = 0, last_frame_mono = 0, ended_mono = 0;
  bool ended = false;
  bool decided = false;
  bool record = false;
  bool privacy = false;
  bool heuristic = false;  ///< found by the RTP heuristics: no SIP, the call log hears of it from us
  std::string heuristic_id;  ///< its Call-ID, "rtp:A-B"
  uint8_t action = 0;
  std::string state = "pending", reason;
  std::vector<dp::mirror_rec> pending;  ///< mbuf references held until decided
  std::vector<held_frame> sip_held;      ///< SIP frames (copies) until the files open

  std::string base;  ///< the files' path without extension
  pcap_writer pcap;
  wav_writer wav;
  bool files_open = false;
  std::string wav_path, pcap_path;

  uint8_t pt_codec[128] = {};  ///< codec (media::codec) per payload type; 255 telephone-event
  codec audio = codec::unknown;  ///< the codec of the first audio packet (the WAV's rate)
  unsigned rate = 0;
  std::unique_ptr<stereo_window> window;
  std::vector<int16_t> out;      ///< frames taken from the window, not yet written
  std::string live_buf;  ///< bytes that have not made a whole 20 ms live frame yet
  direction_state dir[2];
  std::vector<dtmf_digit> digits;
  double last_publish = 0;

  call() {
    for (int pt = 0; pt < 128; pt++)
      pt_codec[pt] = static_cast<uint8_t>(codec_for_pt(static_cast<uint8_t>(pt)));
  }
};

media_plane::media_plane(const recording_options& opt, dp::media_dataplane& dp, double tsc_hz,
                         uint64_t tsc0, double wall0)
    : _opt(opt), _dp(dp), _hz(tsc_hz), _tsc0(tsc0), _wall0(wall0) {
  if (!make_dirs(_opt.spool))
    RB_LOG_ERR("[recording] spool '%s' cannot be created: %s; recordings will fail",
               _opt.spool.c_str(), std::strerror(errno));
  recover_spool();
}

media_plane::~media_plane() {
  stop();
}

void media_plane::start() {
  if (_started) return;
  _started = true;
  _thread = std::thread([this] { run(); });
  // Named so that per-thread CPU (top -H, /proc/<pid>/task/*/comm, perf/rbmedia) finds it.
  pthread_setname_np(_thread.native_handle(), "rb-media");
}

void media_plane::stop() {
  if (!_started) return;
  _stop.store(true);
  if (_thread.joinable()) _thread.join();
  _started = false;
}

double media_plane::wall(uint64_t tsc) const {
  return _wall0 + static_cast<double>(static_cast<int64_t>(tsc - _tsc0)) / _hz;
}

void media_plane::call_started(uint64_t key, int64_t id, int caller_side, double started_at,
                               uint8_t action) {
  std::lock_guard<std::mutex> g(_mu);
  _commands.push_back({media_command::started, key, id, caller_side, started_at, action});
}

std::vector<media_notice> media_plane::take_notices() {
  std::lock_guard<std::mutex> g(_mu);
  std::vector<media_notice> out;
  out.swap(_notices);
  return out;
}

void media_plane::notify_control(media_notice n) {
  std::lock_guard<std::mutex> g(_mu);
  // Bounded: a control thread that stopped draining does not grow the media thread.
  if (_notices.size() >= 4 * _opt.max_calls) return;
  _notices.push_back(std::move(n));
}

void media_plane::call_ended(uint64_t key, int64_t id) {
  std::lock_guard<std::mutex> g(_mu);
  media_command c;
  c.kind = media_command::ended;
  c.key = key;
  c.id = id;
  _commands.push_back(c);
}

std::optional<call_media_info> media_plane::info(int64_t id) const {
  std::lock_guard<std::mutex> g(_mu);
  auto it = _index.find(id);
  if (it == _index.end()) return std::nullopt;
  return it->second;
}

bool media_plane::set_recording(int64_t id, bool on, std::string* error) {
  std::lock_guard<std::mutex> g(_mu);
  auto it = _index.find(id);
  if (it == _index.end() || !it->second.active) {
    *error = "call " + std::to_string(id) + " is not in progress";
    return false;
  }
  media_command c;
  c.kind = on ? media_command::record_on : media_command::record_off;
  c.id = id;
  _commands.push_back(c);
  return true;
}

bool media_plane::delete_recording(int64_t id, std::string* error) {
  std::lock_guard<std::mutex> g(_mu);
  auto it = _index.find(id);
  if (it == _index.end() || (it->second.wav.empty() && it->second.pcap.empty())) {
    *error = "call " + std::to_string(id) + " has no recording";
    return false;
  }
  if (it->second.active) {  // the media thread stops writing, then deletes
    media_command c;
    c.kind = media_command::erase;
    c.id = id;
    _commands.push_back(c);
    return true;
  }
  call_media_info& m = it->second;
  for (const std::string& p : {m.wav, m.pcap}) {
    if (p.empty()) continue;
    const uint64_t sz = file_size(p);
    if (unlink(p.c_str()) == 0) _stats.spool_bytes.fetch_sub(std::min(sz, _stats.spool_bytes.load()));
  }
  const std::string meta = m.wav.empty() ? std::string() : m.wav.substr(0, m.wav.size() - 4) + ".json";
  m.state = "deleted";
  m.reason = "deleted through the API";
  m.wav.clear();
  m.pcap.clear();
  m.bytes = 0;
  if (!meta.empty()) {
    std::ofstream f(meta + ".tmp");
    json j = media_info_to_json(m);
    j["id"] = id;
    f << j.dump() << "\n";
    f.close();
    rename((meta + ".tmp").c_str(), meta.c_str());
  }
  return true;
}

std::shared_ptr<live_feed> media_plane::listen(int64_t id) {
  std::lock_guard<std::mutex> g(_mu);
  auto it = _index.find(id);
  if (it == _index.end() || !it->second.active) return nullptr;
  auto feed = std::make_shared<live_feed>();
  _live[id].push_back(feed);
  _stats.live_listens++;
  return feed;
}

// The media thread.
void media_plane::run() {
  while (!_stop.load(std::memory_order_relaxed)) {
    apply_commands();
    drain_rings();
    const double now = mono_now();
    if (now - _last_tick >= k_tick_s) {
      if (_last_tick != 0 && now - _last_tick > k_stall_s) _clock_hold_until = now + k_backlog_s;
      tick(now);
      _last_tick = now;
    }
    bool empty = true;
    for (unsigned w = 0; w < _dp.workers(); w++)
      if (_dp.ring(w).read_available() != 0) empty = false;
    if (empty) {
      timespec ts{0, 2 * 1000 * 1000};
      nanosleep(&ts, nullptr);
    }
  }
  // The workers have stopped (the appliance stops the bridge first): what they handed
  // over is written, then every call is closed.
  apply_commands();
  drain_rings();
  for (auto& [key, c] : _calls) {
    if (!c->decided) {
      c->decided = true;
      c->record = false;
    }
    finalize(*c, "ringbridge stopped");
  }
  _calls.clear();
}

void media_plane::drain_rings() {
  _now = mono_now();  // a frame's arrival on this side, for idle timers (seconds): per batch
  for (unsigned w = 0; w < _dp.workers(); w++) {
    dp::mirror_ring& ring = _dp.ring(w);
    for (int i = 0; i < 4096; i++)
      if (!ring.consume_one([this](const dp::mirror_rec& r) { handle(r); })) break;
  }
  free_done();
}

void media_plane::done_with(rte_mbuf* m) {
  _done[_done_n++] = m;
  if (_done_n == _done.size()) free_done();
}

void media_plane::free_done() {
  // In bulk: this thread has no mempool cache, so each single free would be an operation
  // on the pool's shared ring (and a cache line taken from the worker).
  if (_done_n != 0) rte_pktmbuf_free_bulk(_done.data(), static_cast<unsigned>(_done_n));
  _done_n = 0;
}

void media_plane::handle(const dp::mirror_rec& r) {
  auto it = _calls.find(r.call);
  if (it == _calls.end()) {
    if (_calls.size() >= _opt.max_calls) {
      _stats.calls_over_limit++;
      _stats.frames_dropped++;
      done_with(r.m);
      return;
    }
    auto c = std::make_unique<call>();
    c->key = r.call;
    c->created_mono = _now;
    if (r.flags & dp::mirror_heuristic) start_heuristic(*c, r);
    it = _calls.emplace(r.call, std::move(c)).first;
  }
  call& c = *it->second;
  c.last_frame_mono = _now;
  if (r.flags & dp::mirror_initial_invite) {
    if (c.origin_tsc == 0) {
      c.origin_tsc = r.tsc;
      c.origin_wall = wall(r.tsc);
    }
    if (c.caller_side < 0) c.caller_side = r.side;
  }
  if (r.flags & dp::mirror_no_record) c.privacy = true;
  if (!c.decided) {
    if (c.pending.size() >= k_pending_max || _pending >= k_pending_total) {
      _stats.frames_dropped++;
      done_with(r.m);
      return;
    }
    c.pending.push_back(r);
    _pending++;
    return;
  }
  write_frame(c, r);
  done_with(r.m);
}

void media_plane::start_heuristic(call& c, const dp::mirror_rec& r) {
  const auto* d = rte_pktmbuf_mtod(r.m, const uint8_t*);
  dp::l4_info li;
  if (dp::parse_l4(d, rte_pktmbuf_data_len(r.m), &li) != dp::l4_result::ok) return;
  uint8_t src[16], dst[16];
  li.copy_addrs(src, dst);
  char id[128];
  const size_t n = dp::heuristic_call_id(li.ip_version, src, li.sport, dst, li.dport, id);
  if (n == 0) return;
  c.heuristic = true;
  c.heuristic_id.assign(id, n);
  c.origin_tsc = r.tsc;
  c.origin_wall = wall(r.tsc);
  c.caller_side = r.side;  // who spoke first: the left channel
  notify_heuristic(c, media_notice::started, c.origin_wall);
}

void media_plane::notify_heuristic(const call& c, media_notice::kind_t kind, double at,
                                   std::string reason) {
  media_notice m;
  m.kind = kind;
  m.key = c.key;
  m.call_id = c.heuristic_id;
  m.side = c.caller_side;
  m.at = at;
  m.reason = std::move(reason);
  notify_control(std::move(m));
}

void media_plane::apply_commands() {
  std::deque<media_command> cmds;
  {
    std::lock_guard<std::mutex> g(_mu);
    cmds.swap(_commands);
  }
  // A call's start follows its INVITE's event, which the worker sends after handing the
  // INVITE over: drained now, the INVITE (its no-record header) is seen before the start.
  if (!cmds.empty()) drain_rings();
  for (const media_command& cmd : cmds) {
    call* c = nullptr;
    if (cmd.kind == media_command::started || cmd.kind == media_command::ended) {
      auto it = _calls.find(cmd.key);
      if (it == _calls.end()) {
        if (cmd.kind == media_command::ended) continue;  // nothing of it was seen
        if (_calls.size() >= _opt.max_calls) {
          _stats.calls_over_limit++;
          continue;
        }
        auto n = std::make_unique<call>();
        n->key = cmd.key;
        n->created_mono = n->last_frame_mono = mono_now();
        it = _calls.emplace(cmd.key, std::move(n)).first;
      }
      c = it->second.get();
    } else {
      for (auto& [k, v] : _calls)
        if (v->id == cmd.id) c = v.get();
      if (c == nullptr) continue;
    }
    switch (cmd.kind) {
      case media_command::started: {
        if (c->id != 0) break;  // a re-created call (evicted and seen again): keep the first
        c->id = cmd.id;
        c->caller_side = cmd.caller_side;  // the call log's reading of who called wins
        if (c->origin_tsc == 0) c->origin_wall = cmd.started_at;
        c->action = cmd.action;
        const auto act = static_cast<dp::filter_action>(cmd.action);
        c->record = _opt.record_all;
        c->reason = _opt.record_all ? "" : "[recording] default = \"none\"";
        if (act == dp::filter_action::record) {
          c->record = true;
          c->reason.clear();
        }
        if (act == dp::filter_action::norecord) {
          c->record = false;
          c->reason = "a norecord filter rule matched";
        }
        if (c->privacy) {
          c->record = false;
          c->reason = "the INVITE forbids recording (its no-record header)";
        }
        c->decided = true;
        c->state = c->record ? "recording" : "not_recorded";
        if (c->record) {  // the files open with the first RTP: a call without media has none
          _stats.calls_recorded++;
        } else {
          _stats.calls_not_recorded++;
        }
        for (const dp::mirror_rec& r : c->pending) {
          write_frame(*c, r);
          rte_pktmbuf_free(r.m);
        }
        _pending -= c->pending.size();
        c->pending.clear();
        publish(*c);
        break;
      }
      case media_command::ended:
        if (!c->ended) {
          c->ended = true;
          c->ended_mono = mono_now();
        }
        break;
      case media_command::record_on:
        if (!c->record && !c->privacy) {
          c->record = true;
          c->reason.clear();
          c->state = "recording";
          publish(*c);
        }
        break;
      case media_command::record_off:
        if (c->record) {
          c->record = false;
          c->state = "stopped";
          c->reason = "stopped through the API";
          publish(*c);
        }
        break;
      case media_command::erase:
        c->record = false;
        c->state = "deleted";
        c->reason = "deleted through the API";
        if (c->files_open) {
          std::string err;
          c->pcap.close(&err);
          c->wav.close(&err);
          unlink(c->pcap_path.c_str());
          if (!c->wav_path.empty()) unlink(c->wav_path.c_str());
          c->files_open = false;
          c->wav_path.clear();
          c->pcap_path.clear();
        }
        publish(*c);
        break;
    }
  }
}

void media_plane::open_files(call& c) {
  // <spool>/YYYY/MM/DD/<id>-<HHMMSS>: by the call's start (UTC).
  const time_t t = static_cast<time_t>(c.origin_wall);
  tm tmv{};
  gmtime_r(&t, &tmv);
  char dir[64], name[64];
  std::snprintf(dir, sizeof(dir), "/%04d/%02d/%02d", tmv.tm_year + 1900, tmv.tm_mon + 1, tmv.tm_mday);
  std::snprintf(name, sizeof(name), "/%lld-%02d%02d%02d", static_cast<long long>(c.id),
                tmv.tm_hour, tmv.tm_min, tmv.tm_sec);
  const std::string d = _opt.spool + dir;
  std::string err;
  if (!make_dirs(d)) {
    fail(c, "cannot create " + d + ": " + std::strerror(errno));
    return;
  }
  c.base = d + name;
  c.pcap_path = c.base + ".pcap.part";
  if (!c.pcap.open(c.pcap_path, _opt.snaplen, &err)) {
    fail(c, err);
    return;
  }
  c.files_open = true;
}

void media_plane::fail(call& c, const std::string& what) {
  _stats.write_errors++;
  static log_limiter limit(5);
  uint64_t held = 0;
  if (limit.allow(&held))
    RB_LOG_ERR("recording of call %lld stopped: %s (forwarding and the call log go on)%s",
               static_cast<long long>(c.id), what.c_str(),
               held ? (" (" + std::to_string(held) + " more since the last message)").c_str() : "");
  c.record = false;
  c.state = "failed";
  c.reason = what;
  std::string err;
  if (c.pcap.is_open()) c.pcap.close(&err);
  if (c.wav.is_open()) c.wav.close(&err);
}

void media_plane::write_frame(call& c, const dp::mirror_rec& r) {
  const auto* d = rte_pktmbuf_mtod(r.m, const uint8_t*);
  const uint32_t len = rte_pktmbuf_data_len(r.m);
  const uint64_t ns = static_cast<uint64_t>(wall(r.tsc) * 1e9);
  const uint32_t caplen = std::min<uint32_t>(len, _opt.snaplen);
  // The files open with the call's first RTP or RTCP frame (an INVITE flood makes no
  // files); the SIP frames before it wait as copies (bounded).
  if (c.record && !c.files_open && r.kind != dp::media_kind::sip && c.state == "recording")
    open_files(c);
  if (c.record && c.pcap.is_open()) {
    std::string err;
    for (const held_frame& h : c.sip_held) {
      if (!c.pcap.write(h.ns, reinterpret_cast<const uint8_t*>(h.bytes.data()), h.bytes.size(),
                        h.orig_len, &err)) {
        fail(c, err);
        break;
      }
      _stats.frames_written++;
    }
    c.sip_held.clear();
    if (c.pcap.is_open() && !c.pcap.write(ns, d, caplen, rte_pktmbuf_pkt_len(r.m), &err))
      fail(c, err);
    else if (c.pcap.is_open())
      _stats.frames_written++;
  } else if (r.kind == dp::media_kind::sip && !c.files_open) {
    if (c.sip_held.size() < k_sip_held_max)
      c.sip_held.push_back({ns, std::string(reinterpret_cast<const char*>(d), caplen),
                            rte_pktmbuf_pkt_len(r.m)});
    else
      _stats.frames_dropped++;
  }
  // A SIP message without SDP has nothing more for this thread (the worker flagged the
  // ones with a body): its bytes are not read again.
  if (r.kind == dp::media_kind::sip && (r.flags & dp::mirror_sdp) == 0) return;
  dp::l4_info li;
  if (dp::parse_l4(d, len, &li) != dp::l4_result::ok || li.proto != 17) return;
  const uint8_t* p = d + li.payload_offset;
  const size_t n = std::min<size_t>(li.payload_len, len - li.payload_offset);
  if (r.kind == dp::media_kind::sip)
    sip(c, p, n);
  else if (r.kind == dp::media_kind::rtp)
    rtp(c, r, p, n);
}

void media_plane::sip(call& c, const uint8_t* p, size_t n) {
  // The codecs the SDP maps to dynamic payload types (telephone-event above all). Only
  // messages the worker found an SDP body in come here (write_frame()): the rest of a
  // dialog, and every frame of an INVITE flood, are not parsed a second time.
  dp::sip::message msg;
  if (dp::sip::parse_fresh(reinterpret_cast<const char*>(p), n, true, &msg) !=
      dp::sip::parse_status::ok)
    return;
  const std::string_view body = dp::sip::sdp_body(msg);
  if (body.empty()) return;
  sdp_stream st[k_max_sdp_streams];
  const size_t k = parse_sdp_streams(body, st, k_max_sdp_streams);
  for (size_t i = 0; i < k; i++) {
    if (st[i].media != "audio") continue;
    for (size_t m = 0; m < st[i].map_count; m++) {
      const sdp_rtpmap& rm = st[i].maps[m];
      codec cd = codec::unknown;
      if (dp::sip::iequals(rm.name, "PCMU")) cd = codec::pcmu;
      else if (dp::sip::iequals(rm.name, "PCMA")) cd = codec::pcma;
      else if (dp::sip::iequals(rm.name, "G722")) cd = codec::g722;
      if (dp::sip::iequals(rm.name, "telephone-event"))
        c.pt_codec[rm.pt] = k_pt_telephone_event;
      else if (rm.pt >= 96)
        c.pt_codec[rm.pt] = static_cast<uint8_t>(cd);
    }
  }
}

void media_plane::rtp(call& c, const dp::mirror_rec& r, const uint8_t* p, size_t n) {
  rtp_header h;
  if (!parse_rtp(p, n, &h)) {
    if (!looks_like_rtcp(p, n)) _stats.rtp_unparsable++;
    return;
  }
  _stats.rtp_packets++;
  const int ch = c.caller_side < 0 ? r.side : (r.side == c.caller_side ? 0 : 1);
  direction_state& ds = c.dir[ch];
  const double at = wall(r.tsc) - c.origin_wall;
  if (ds.started && h.ssrc != ds.ssrc) {  // a new source (re-INVITE, transfer): new figures
    ds.past = ds.quality(c.audio);
    ds.past.jitter_ms = ds.stats.jitter_ms();
    ds.past.ssrc_changes++;
    ds.stats = rtp_source_stats(8000);
  }
  ds.started = true;
  ds.ssrc = h.ssrc;
  ds.stats.on_packet(h.seq, h.ts, at);
  const uint8_t kind = c.pt_codec[h.pt & 0x7f];
  if (kind == k_pt_telephone_event) {
    dtmf_digit dg;
    if (ds.rfc4733.on_packet(h.payload, h.payload_len, h.ts, at, &dg)) digit(c, dg);
    return;
  }
  const auto cd = static_cast<codec>(kind);
  if (cd == codec::unknown || h.payload_len == 0) return;
  if (c.audio == codec::unknown) {
    c.audio = cd;
    c.rate = codec_sample_rate(cd);
    c.window = std::make_unique<stereo_window>(static_cast<size_t>(_opt.jitter_ms) * c.rate / 1000);
  }
  if (!ds.dec || ds.dec->kind() != cd) ds.dec = std::make_unique<decoder>(cd);
  if (!ds.clock) ds.clock = std::make_unique<channel_clock>(c.rate, 8000);
  if (!ds.inband) ds.inband = std::make_unique<inband_detector>(codec_sample_rate(cd));
  ds.pcm.resize(ds.dec->samples_for(h.payload_len));
  size_t got = ds.dec->decode(h.payload, h.payload_len, ds.pcm.data());
  _found.clear();
  ds.inband->feed(ds.pcm.data(), got, at, &_found);
  for (const dtmf_digit& d : _found) digit(c, d);
  // Another rate than the WAV's (a codec change mid-call): halve or double it.
  const unsigned r_in = codec_sample_rate(cd);
  if (r_in > c.rate) {
    for (size_t i = 0; i < got / 2; i++) ds.pcm[i] = ds.pcm[2 * i];
    got /= 2;
  } else if (r_in < c.rate) {
    ds.pcm.resize(got * 2);
    for (size_t i = got; i-- > 0;) ds.pcm[2 * i] = ds.pcm[2 * i + 1] = ds.pcm[i];
    got *= 2;
  }
  const uint64_t pos = ds.clock->place(h.ssrc, h.ts, at < 0 ? 0 : at);
  // A burst (the thread was descheduled, a call's pending frames written at once) or a
  // timestamp jump must not run past the ring: what is final goes out first, silence
  // included (the WAV stays in step with the clock), a ring's worth at a time.
  const uint64_t room = c.window->capacity();
  const uint64_t jitter = static_cast<uint64_t>(_opt.jitter_ms) * c.rate / 1000;
  for (int i = 0; i < 64 && pos + got > c.window->done() + room; i++) {
    c.window->advance(pos + got - room + jitter);
    flush_window(c, false);
  }
  const uint64_t skipped = c.window->skipped();
  const size_t landed = c.window->put(ch, pos, ds.pcm.data(), got);
  _stats.skipped_samples += c.window->skipped() - skipped;
  _stats.late_samples += got - landed;
  // The sender's clock runs slower than ours (or the path's delay grew): its packets fall
  // behind the window. After a few in a row, place the stream afresh by arrival.
  ds.late_run = landed == 0 ? ds.late_run + 1 : 0;
  if (ds.late_run >= 3) {
    ds.clock.reset();
    ds.late_run = 0;
  }
}

void media_plane::digit(call& c, const dtmf_digit& d) {
  if (c.digits.size() >= 256) return;  // bounded: a stuck detector cannot grow a call
  c.digits.push_back(d);
  _stats.dtmf_digits++;
  if (_on_dtmf && c.id != 0) _on_dtmf(c.id, d, c.origin_wall + d.at_s);
}

void media_plane::publish(call& c) {
  if (c.id == 0) return;
  call_media_info m;
  m.state = c.state;
  m.reason = c.reason;
  m.active = !c.ended || c.files_open;
  m.wav = c.wav_path;
  m.pcap = c.pcap_path;
  m.bytes = c.pcap.bytes() + c.wav.bytes();
  m.duration_s = c.rate != 0 ? static_cast<double>(c.wav.frames()) / c.rate : 0;
  for (int d = 0; d < 2; d++) m.quality[d] = c.dir[d].quality(c.audio);
  m.dtmf = c.digits;
  std::lock_guard<std::mutex> g(_mu);
  _index[c.id] = std::move(m);
}

void media_plane::flush_window(call& c, bool all) {
  c.out.clear();
  c.window->take(&c.out, all);
  const size_t frames = c.out.size() / 2;
  if (frames != 0 && c.record && c.files_open) {
    std::string err;
    if (!c.wav.is_open()) {
      c.wav_path = c.base + ".wav.part";
      if (!c.wav.open(c.wav_path, c.rate, 2, &err)) fail(c, err);
    }
    if (c.wav.is_open() && !c.wav.write(c.out.data(), frames, &err)) fail(c, err);
  }
  // Live listeners: whole 20 ms frames.
  std::vector<std::shared_ptr<live_feed>> feeds;
  {
    std::lock_guard<std::mutex> g(_mu);
    auto it = _live.find(c.id);
    if (it != _live.end()) feeds = it->second;
  }
  if (feeds.empty()) {
    c.live_buf.clear();
    return;
  }
  // Whole 20 ms frames out of what is left from before and what was just taken.
  const size_t step_bytes = c.rate / 50 * 2 * sizeof(int16_t);
  c.live_buf.append(reinterpret_cast<const char*>(c.out.data()), c.out.size() * sizeof(int16_t));
  size_t off = 0;
  for (; off + step_bytes <= c.live_buf.size(); off += step_bytes) {
    std::string f = c.live_buf.substr(off, step_bytes);
    for (auto& feed : feeds) {
      std::lock_guard<std::mutex> g(feed->mu);
      feed->rate = c.rate;
      feed->frames.push_back(f);
      if (feed->frames.size() > k_live_max_frames) feed->frames.pop_front();
      feed->cv.notify_all();
    }
  }
  c.live_buf.erase(0, off);
}

void media_plane::tick(double now) {
  std::vector<uint64_t> done;
  for (auto& [key, cp] : _calls) {
    call& c = *cp;
    if (!c.decided) {
      if (now - c.created_mono > k_pending_wait_s) {  // the call log never named it
        if (c.heuristic)  // in case it did, late: its row does not stay "answered"
          notify_heuristic(c, media_notice::ended, unix_now(),
                           "the call log did not take the call in time");
        for (const dp::mirror_rec& r : c.pending) rte_pktmbuf_free(r.m);
        _stats.frames_dropped += c.pending.size();
        _pending -= c.pending.size();
        c.pending.clear();
        _dp.flows().remove_call(c.key);
        done.push_back(key);
      }
      continue;
    }
    const bool closing = (c.ended && now - c.ended_mono >= k_linger_s) ||
                         now - c.last_frame_mono > _opt.idle_s;
    if (c.window) {
      // The timeline moves with the clock, not only with packets: silence is written and
      // heard live while nothing arrives, and the WAV keeps both channels in step.
      // Not right after a stall of this thread (a paused VM, SIGSTOP, a long deschedule):
      // the frames queued meanwhile arrive stamped late and are placed by RTP timestamp,
      // which the clock must not have made final first.
      const double t = wall(dp::tsc_now()) - c.origin_wall - k_silence_lag_s;
      if (t > 0 && now >= _clock_hold_until) c.window->advance(static_cast<uint64_t>(t * c.rate));
      flush_window(c, closing);
    }
    if (closing) {
      finalize(c, c.ended ? "" : "no media or SIP for [recording] idle_s");
      done.push_back(key);
    } else if (now - c.last_publish >= k_publish_s) {
      publish(c);
      c.last_publish = now;
    }
  }
  for (uint64_t k : done) _calls.erase(k);
  if (now - _last_sweep >= 5) {
    // Flows no call of ours owns (the media thread never followed it: over max_calls, an
    // INVITE flood) and nothing refreshed for 10 s give their slots back.
    const uint64_t ten_s = static_cast<uint64_t>(10 * _hz);
    const uint64_t t = dp::tsc_now();
    if (t > ten_s)
      _stats.flows_swept += _dp.flows().sweep(
          t - ten_s, [this](uint64_t call) { return _calls.count(call) != 0; });
    _last_sweep = now;
  }
  if (now - _last_spool >= 10) {
    enforce_spool(now);
    _last_spool = now;
  }
}

void media_plane::finalize(call& c, const char* why) {
  _dp.flows().remove_call(c.key);
  if (c.heuristic)  // no BYE will tell the call log: we do
    notify_heuristic(c, media_notice::ended, unix_now(),
                     why[0] != '\0' ? why : "the RTP stopped");
  for (const dp::mirror_rec& r : c.pending) rte_pktmbuf_free(r.m);
  _pending -= c.pending.size();
  c.pending.clear();
  std::string err;
  if (c.window && c.wav.is_open()) {
    c.out.clear();
    c.window->take(&c.out, true);
    if (!c.out.empty() && !c.wav.write(c.out.data(), c.out.size() / 2, &err)) fail(c, err);
  }
  // Rename what was written, also after a failure (what is there is readable).
  auto settle = [&](auto& f, std::string& path) {
    if (path.empty()) return;
    if (f.is_open() && !f.close(&err)) fail(c, err);
    if (ends_with(path, ".part")) {
      const std::string final_path = path.substr(0, path.size() - 5);
      if (rename(path.c_str(), final_path.c_str()) == 0) path = final_path;
    }
    _stats.spool_bytes += file_size(path);
  };
  const uint64_t wav_frames = c.wav.frames();
  settle(c.pcap, c.pcap_path);
  settle(c.wav, c.wav_path);
  c.files_open = false;
  if (c.state == "recording" && c.pcap_path.empty()) {
    c.state = "not_recorded";
    c.reason = "no RTP was seen";
  }
  if (c.state == "recording") c.state = "done";
  if (c.state == "done" && *why != '\0' && c.reason.empty()) c.reason = why;
  publish(c);
  {
    std::lock_guard<std::mutex> g(_mu);
    auto it = _index.find(c.id);
    if (it != _index.end()) {
      it->second.active = false;
      it->second.duration_s = c.rate != 0 ? static_cast<double>(wav_frames) / c.rate : 0;
      it->second.bytes = file_size(c.pcap_path) + file_size(c.wav_path);
    }
    auto lit = _live.find(c.id);
    if (lit != _live.end()) {
      for (auto& feed : lit->second) {
        std::lock_guard<std::mutex> fg(feed->mu);
        feed->ended = true;
        feed->cv.notify_all();
      }
      _live.erase(lit);
    }
  }
  // Worse direction's MOS estimate into the histogram.
  double mos = 5;
  for (int d = 0; d < 2; d++) {
    const direction_quality q = c.dir[d].quality(c.audio);
    if (q.packets != 0) mos = std::min(mos, q.mos);
  }
  if (mos < 5) {
    static const double bounds[] = {1.5, 2.5, 3.0, 3.5, 4.0};
    size_t b = 0;
    while (b < 5 && mos >= bounds[b]) b++;
    _stats.mos_bucket[b]++;
    _stats.mos_sum_milli += static_cast<uint64_t>(mos * 1000);
  }
  // The sidecar: what the API shows of this recording after a restart.
  if (!c.base.empty() && c.id != 0) {
    std::optional<call_media_info> m = info(c.id);
    if (m) {
      json j = media_info_to_json(*m);
      j["id"] = c.id;
      j["wav"] = m->wav;
      j["pcap"] = m->pcap;
      j["started_at"] = c.origin_wall;
      const std::string meta = c.base + ".json";
      std::ofstream f(meta + ".tmp");
      f << j.dump() << "\n";
      f.close();
      if (f) rename((meta + ".tmp").c_str(), meta.c_str());
    }
  }
}

void media_plane::recover_spool() {
  std::vector<std::string> files;
  walk(_opt.spool, 4, &files);
  std::sort(files.begin(), files.end());
  uint64_t total = 0;
  for (std::string p : files) {
    std::string err;
    if (ends_with(p, ".wav.part") || ends_with(p, ".pcap.part")) {
      const bool wav = ends_with(p, ".wav.part");
      const repair_result rr = wav ? repair_wav(p, &err) : repair_pcap(p, &err);
      if (rr == repair_result::quarantine) {
        const std::string q = _opt.spool + "/quarantine";
        make_dirs(q);
        const std::string to = q + p.substr(p.rfind('/'));
        rename(p.c_str(), to.c_str());
        _stats.quarantined++;
        RB_LOG_WARN("recording %s is unreadable (%s): moved to %s", p.c_str(), err.c_str(),
                    to.c_str());
        continue;
      }
      const std::string final_path = p.substr(0, p.size() - 5);
      rename(p.c_str(), final_path.c_str());
      _stats.repaired++;
      RB_LOG_NOTICE("recording %s left by an earlier run %s", final_path.c_str(),
                    rr == repair_result::repaired ? "repaired" : "kept as it was");
      p = final_path;
    }
    if (ends_with(p, ".wav") || ends_with(p, ".pcap")) total += file_size(p);
  }
  // The index: sidecars, then recordings a crash left without one.
  files.clear();
  walk(_opt.spool, 4, &files);
  std::sort(files.begin(), files.end());
  std::lock_guard<std::mutex> g(_mu);
  for (const std::string& p : files) {
    const bool wav = ends_with(p, ".wav"), pcap = ends_with(p, ".pcap");
    if (!wav && !pcap && !ends_with(p, ".json")) continue;
    const std::string name = p.substr(p.rfind('/') + 1);
    const int64_t id = std::strtoll(name.c_str(), nullptr, 10);
    if (id <= 0) continue;
    call_media_info& m = _index[id];
    if (ends_with(p, ".json")) {
      std::ifstream f(p);
      json j = json::parse(f, nullptr, false);
      if (j.is_discarded() || !j.is_object()) continue;
      const json& rec = j.value("recording", json::object());
      m.state = rec.value("state", std::string("done"));
      m.reason = rec.value("reason", std::string());
      m.duration_s = rec.value("duration_s", 0.0);
      if (j.contains("quality")) {
        m.quality[0] = quality_from_json(j["quality"].value("caller_to_callee", json::object()));
        m.quality[1] = quality_from_json(j["quality"].value("callee_to_caller", json::object()));
      }
      for (const auto& d : j.value("dtmf", json::array())) {
        dtmf_digit dg;
        const std::string s = d.value("digit", std::string("?"));
        dg.digit = s.empty() ? '?' : s[0];
        dg.at_s = d.value("at_s", 0.0);
        dg.duration_ms = d.value("duration_ms", 0u);
        dg.source = d.value("source", std::string()) == "inband" ? dtmf_digit::inband
                                                                 : dtmf_digit::rfc4733;
        m.dtmf.push_back(dg);
      }
    } else {
      (wav ? m.wav : m.pcap) = p;
      if (m.state.empty()) {
        m.state = "done";
        m.reason = "recovered after a restart";
      }
    }
  }
  for (auto& [id, m] : _index) {
    m.bytes = (m.wav.empty() ? 0 : file_size(m.wav)) + (m.pcap.empty() ? 0 : file_size(m.pcap));
    if (m.wav.empty() && m.pcap.empty() && m.state != "not_recorded") m.state = "deleted";
  }
  _stats.spool_bytes = total;
}

void media_plane::enforce_spool(double) {
  if (_opt.max_bytes == 0 && _opt.max_days == 0) return;
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  const double now = static_cast<double>(ts.tv_sec);
  struct item {
    double mtime;
    int64_t id;
    uint64_t bytes;
  };
  std::vector<item> items;
  uint64_t total = 0;
  {
    std::lock_guard<std::mutex> g(_mu);
    for (const auto& [id, m] : _index) {
      if (m.active || (m.wav.empty() && m.pcap.empty())) continue;
      struct stat st {};
      const std::string& p = m.pcap.empty() ? m.wav : m.pcap;
      if (stat(p.c_str(), &st) != 0) continue;
      items.push_back({static_cast<double>(st.st_mtime), id, m.bytes});
      total += m.bytes;
    }
  }
  std::sort(items.begin(), items.end(), [](const item& a, const item& b) { return a.mtime < b.mtime; });
  for (const item& it : items) {
    const bool too_old = _opt.max_days != 0 && now - it.mtime > _opt.max_days * 86400.0;
    const bool over = _opt.max_bytes != 0 && total > _opt.max_bytes;
    if (!too_old && !over) break;
    std::string err;
    std::optional<call_media_info> m = info(it.id);
    if (!m) continue;
    for (const std::string& p : {m->wav, m->pcap})
      if (!p.empty()) unlink(p.c_str());
    {
      std::lock_guard<std::mutex> g(_mu);
      call_media_info& x = _index[it.id];
      x.state = "deleted";
      x.reason = too_old ? "older than [recording] max_days" : "over [recording] max_bytes";
      x.wav.clear();
      x.pcap.clear();
      x.bytes = 0;
    }
    total -= std::min(total, it.bytes);
    _stats.spool_deleted++;
  }
  _stats.spool_bytes = total;
}

}  // namespace ringbridge::media
