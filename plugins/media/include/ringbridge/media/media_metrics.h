// SPDX-License-Identifier: BSD-3-Clause
// The media plane's /metrics families (docs/design/counters.md "Media"): the workers'
// media counters, the flow table, the recorder's figures, and the calls' MOS estimates as
// a histogram (no per-call series).
#pragma once

#include <memory>
#include <prometheus/collectable.h>

#include "ringbridge/media/media_dataplane.h"
#include "ringbridge/media/media_plane.h"

namespace ringbridge::media {

std::unique_ptr<prometheus::Collectable> media_metrics(const media_plane& mp,
                                                       const dp::media_dataplane& dp);

}  // namespace ringbridge::media
