// SPDX-License-Identifier: BSD-3-Clause
// [notify.growl]: Growl Notification Transport Protocol (GNTP/1.0) over TCP, port 23053.
// The application registers once (and again when Growl forgets it), then each call event
// is one NOTIFY. An optional password is sent as a salted key hash, per GNTP.
#pragma once

#include <string>
#include <vector>

#include "ringbridge/notify/sink.h"

namespace ringbridge::plugin::gntp {

/// The key part of the information line: "SHA256:<keyhash hex>.<salt hex>", or "" for no
/// password. key = H(password bytes + salt bytes); keyhash = H(key).
std::string key_hash(const std::string& algorithm, const std::string& password,
                     const std::vector<uint8_t>& salt);

/// REGISTER of APP with one notification type per event kind.
std::string register_request(const std::string& app, const std::string& key);
/// NOTIFY for one call event.
std::string notify_request(const std::string& app, const std::string& key, const call_event& ev,
                           bool sticky);

/// Parses a GNTP answer: true for -OK; false with *code (e.g. 401) and *why for -ERROR.
bool parse_response(const std::string& text, int* code, std::string* why);

}  // namespace ringbridge::plugin::gntp
