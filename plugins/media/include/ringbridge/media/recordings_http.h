// SPDX-License-Identifier: BSD-3-Clause
// The recordings resource: a call's WAV and pcap (with Range), deleting them, the per-call
// recording switch, and the live audio of a call in progress.
//
// Owns: the routes under /api/v1/calls/{id}/ that are about media, their answers' types
// and status codes (docs/api.md "Recordings"). May touch only the media plane's HTTP-side
// calls (info, set_recording, delete_recording, listen).
#pragma once

#include "ringbridge/ctl/http_router.h"
#include "ringbridge/media/media_plane.h"

namespace ringbridge::ctl {

void add_recording_routes(http_router& r, media::media_plane& media);

}  // namespace ringbridge::ctl
