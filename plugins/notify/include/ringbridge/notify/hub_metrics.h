// SPDX-License-Identifier: BSD-3-Clause
// The notification sinks' figures for /metrics: items delivered, failed and dropped per
// sink, and each sink's queue depth.
//
// Owns: those metric families' names, help and labels. Reads hub::stats() at scrape time
// (any thread); touches nothing else.
#pragma once

#include <prometheus/collectable.h>
#include <memory>

#include "ringbridge/notify/hub.h"

namespace ringbridge::plugin {

/// A collectable over H (which must outlive it); no families while H has no sink.
std::unique_ptr<prometheus::Collectable> hub_metrics(const hub& h);

}  // namespace ringbridge::plugin
