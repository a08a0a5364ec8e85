// SPDX-License-Identifier: BSD-3-Clause
// The media plane's /metrics families (ringbridge/media/media_metrics.h).
#include "ringbridge/media/media_metrics.h"

#include <prometheus/metric_family.h>

#include <limits>
#include <utility>

namespace ringbridge::media {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily single(const char* name, const char* help, MetricType t, uint64_t v) {
  ClientMetric m;
  if (t == MetricType::Counter)
    m.counter.value = static_cast<double>(v);
  else
    m.gauge.value = static_cast<double>(v);
  return MetricFamily{name, help, t, {m}};
}

class media_collectable : public prometheus::Collectable {
 public:
  media_collectable(const media_plane& mp, const dp::media_dataplane& dp) : _mp(mp), _dp(dp) {}

  std::vector<MetricFamily> Collect() const override {
    std::vector<MetricFamily> out;
    MetricFamily frames{"ringbridge_media_dataplane_total",
                        "What the workers' media stage did (label what)", MetricType::Counter, {}};
    for (size_t i = 0; i < dp::k_media_counters; i++) {
      const auto c = static_cast<dp::media_counter>(i);
      ClientMetric m;
      m.label = {{"what", dp::media_counter_name(c)}};
      m.counter.value = static_cast<double>(_dp.total(c));
      frames.metric.push_back(std::move(m));
    }
    out.push_back(std::move(frames));
    out.push_back(single("ringbridge_media_flows", "RTP/RTCP flows tracked now", MetricType::Gauge,
                         _dp.flows().size()));
    const media_stats& s = _mp.stats();
    MetricFamily calls{"ringbridge_recording_calls_total",
                       "Calls the media thread followed, by whether they were recorded",
                       MetricType::Counter, {}};
    for (auto [label, v] : {std::pair{"recorded", s.calls_recorded.load()},
                            std::pair{"not_recorded", s.calls_not_recorded.load()},
                            std::pair{"over_limit", s.calls_over_limit.load()}}) {
      ClientMetric m;
      m.label = {{"result", label}};
      m.counter.value = static_cast<double>(v);
      calls.metric.push_back(std::move(m));
    }
    out.push_back(std::move(calls));
    out.push_back(single("ringbridge_recording_write_errors_total",
                         "Recordings stopped by a write error (disk full, ...); forwarding goes on",
                         MetricType::Counter, s.write_errors));
    out.push_back(single("ringbridge_recording_frames_written_total",
                         "Frames written to the calls' pcap files", MetricType::Counter,
                         s.frames_written));
    out.push_back(single("ringbridge_recording_frames_dropped_total",
                         "Frames the media thread could not place (call unknown, limits)",
                         MetricType::Counter, s.frames_dropped));
    out.push_back(single("ringbridge_recording_spool_bytes", "Bytes of recordings in the spool",
                         MetricType::Gauge, s.spool_bytes));
    out.push_back(single("ringbridge_recording_spool_deleted_total",
                         "Recordings deleted by [recording] max_bytes / max_days",
                         MetricType::Counter, s.spool_deleted));
    out.push_back(single("ringbridge_recording_repaired_total",
                         "Recording files a crash left that were repaired at start",
                         MetricType::Counter, s.repaired));
    out.push_back(single("ringbridge_recording_quarantined_total",
                         "Recording files a crash left that could not be repaired",
                         MetricType::Counter, s.quarantined));
    out.push_back(single("ringbridge_media_rtp_packets_total", "RTP packets the media thread read",
                         MetricType::Counter, s.rtp_packets));
    out.push_back(single("ringbridge_media_late_samples_total",
                         "Audio samples that came after the jitter window (not in the WAV)",
                         MetricType::Counter, s.late_samples));
    out.push_back(single("ringbridge_media_flows_swept_total",
                         "Flows removed because no call the media thread follows owned them "
                         "(over [recording] max_calls, an INVITE flood)",
                         MetricType::Counter, s.flows_swept));
    out.push_back(single("ringbridge_media_skipped_samples_total",
                         "Audio frames not in the WAV: an RTP timestamp jump ahead of the "
                         "clock (the silence is not written)",
                         MetricType::Counter, s.skipped_samples));
    out.push_back(single("ringbridge_media_dtmf_digits_total", "DTMF digits detected",
                         MetricType::Counter, s.dtmf_digits));
    out.push_back(single("ringbridge_media_live_listens_total", "Live audio listeners started",
                         MetricType::Counter, s.live_listens));
    // The worse direction's MOS estimate of each ended call.
    MetricFamily mos{"ringbridge_call_mos_estimate",
                     "MOS estimate (simplified ITU-T G.107 E-model) of ended calls' worse "
                     "direction",
                     MetricType::Histogram, {}};
    ClientMetric h;
    static const double bounds[] = {1.5, 2.5, 3.0, 3.5, 4.0};
    uint64_t cum = 0;
    for (size_t b = 0; b < 5; b++) {
      cum += s.mos_bucket[b].load();
      prometheus::ClientMetric::Bucket bk;
      bk.upper_bound = bounds[b];
      bk.cumulative_count = cum;
      h.histogram.bucket.push_back(bk);
    }
    cum += s.mos_bucket[5].load();
    prometheus::ClientMetric::Bucket inf;
    inf.upper_bound = std::numeric_limits<double>::infinity();
    inf.cumulative_count = cum;
    h.histogram.bucket.push_back(inf);
    h.histogram.sample_count = cum;
    h.histogram.sample_sum = static_cast<double>(s.mos_sum_milli.load()) / 1000;
    mos.metric.push_back(std::move(h));
    out.push_back(std::move(mos));
    return out;
  }

 private:
  const media_plane& _mp;
  const dp::media_dataplane& _dp;
};

}  // namespace

std::unique_ptr<prometheus::Collectable> media_metrics(const media_plane& mp,
                                                       const dp::media_dataplane& dp) {
  return std::make_unique<media_collectable>(mp, dp);
}

}  // namespace ringbridge::media
