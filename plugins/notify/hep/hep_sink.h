// SPDX-License-Identifier: BSD-3-Clause
// [notify.hep]: every SIP message that crosses the bridge, exported as HEPv3 to a Homer
// (or any HEP) collector over UDP or TCP. Workers copy SIP messages into a capture ring
// only while a sink like this one is configured.
#pragma once

#include <cstdint>
#include <string>

#include "ringbridge/notify/sink.h"

namespace ringbridge::plugin::hep {

inline constexpr uint8_t k_proto_sip = 1;

/// The HEPv3 packet for M: "HEP3", total length, then chunks (vendor 0): IP family and
/// protocol, addresses, ports, time (s, µs), protocol type SIP, capture agent id, the auth
/// key when PASSWORD is set, the payload, and the Call-ID as correlation id.
std::string encode(const sip_message& m, uint32_t capture_id, const std::string& password);

}  // namespace ringbridge::plugin::hep
