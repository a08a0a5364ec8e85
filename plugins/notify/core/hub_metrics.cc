// SPDX-License-Identifier: BSD-3-Clause
// ringbridge_notify_events_total and ringbridge_notify_queue_depth from hub::stats().
#include "ringbridge/notify/hub_metrics.h"

#include <prometheus/metric_family.h>

namespace ringbridge::plugin {

namespace {

class hub_collectable : public prometheus::Collectable {
 public:
  explicit hub_collectable(const hub& h) : _h(h) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    using prometheus::ClientMetric;
    using prometheus::MetricType;
    if (_h.empty()) return {};
    prometheus::MetricFamily ev{"ringbridge_notify_events_total",
                                "Notification / export items per sink: delivered, failed (the "
                                "sink tried), dropped (its queue was full)",
                                MetricType::Counter,
                                {}};
    prometheus::MetricFamily depth{"ringbridge_notify_queue_depth",
                                   "Items waiting in each sink's queue",
                                   MetricType::Gauge,
                                   {}};
    for (const auto& s : _h.stats()) {
      auto count = [&](const char* result, uint64_t v) {
        ClientMetric m;
        m.label = {{"sink", s.name}, {"type", s.type}, {"result", result}};
        m.counter.value = static_cast<double>(v);
        ev.metric.push_back(std::move(m));
      };
      count("delivered", s.delivered);
      count("failed", s.failed);
      count("dropped", s.dropped);
      ClientMetric q;
      q.label = {{"sink", s.name}, {"type", s.type}};
      q.gauge.value = static_cast<double>(s.queued);
      depth.metric.push_back(std::move(q));
    }
    return {std::move(ev), std::move(depth)};
  }

 private:
  const hub& _h;
};

}  // namespace

std::unique_ptr<prometheus::Collectable> hub_metrics(const hub& h) {
  return std::make_unique<hub_collectable>(h);
}

}  // namespace ringbridge::plugin
