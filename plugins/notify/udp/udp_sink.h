// SPDX-License-Identifier: BSD-3-Clause
// [notify.udp]: the caller-ID datagram (callerid_wire.h) to each target, by default a
// broadcast on the management network, port 7651.
#pragma once

#include "callerid_wire.h"
#include "ringbridge/notify/sink.h"

namespace ringbridge::plugin {

/// The datagram for EV.
callerid::message callerid_from_event(const call_event& ev);

}  // namespace ringbridge::plugin
