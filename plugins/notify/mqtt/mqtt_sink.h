// SPDX-License-Identifier: BSD-3-Clause
// [notify.mqtt]: call events as JSON (event_json()) over MQTT (libmosquitto):
//   <topic>/call/<event>   every event
//   <topic>/last_call      retained: the last inbound call (ringing or blocked)
//   <topic>/status         retained "online"; "offline" as the last will
// plus, unless ha_discovery = false, a retained Home Assistant discovery config for a
// "Last caller" sensor that reads <topic>/last_call.
#pragma once

#include <string>

#include "ringbridge/notify/sink.h"

namespace ringbridge::plugin::mqtt {

/// The Home Assistant MQTT discovery payload for the "Last caller" sensor.
std::string ha_discovery_config(const std::string& topic, const std::string& node_id);

}  // namespace ringbridge::plugin::mqtt
