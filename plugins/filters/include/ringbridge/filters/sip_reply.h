// SPDX-License-Identifier: BSD-3-Clause
// SIP responses the bridge sends itself (486 Busy Here / 603 Decline for a blocked INVITE,
// 200 OK for the CANCEL of one), built from the request per RFC 3261 §8.2.6: every Via in
// order, From, Call-ID and CSeq copied, To copied with our tag added, Content-Length: 0.
// Pure code (no DPDK), bounded, never reads outside the request. Owned by the filters
// feature (its verdict answers blocked calls with it).
#pragma once

#include <cstddef>
#include <string_view>

namespace ringbridge::dp {

/// Writes the response to REQUEST (the whole message) into OUT; returns its length, or 0
/// when it does not fit in CAP bytes or REQUEST has no header block.
size_t build_sip_response(std::string_view request, int code, std::string_view reason,
                          std::string_view to_tag, char* out, size_t cap);

}  // namespace ringbridge::dp
