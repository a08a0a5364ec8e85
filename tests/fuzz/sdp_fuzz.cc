// SPDX-License-Identifier: BSD-3-Clause
// Fuzz target for what the workers read out of SDP bodies and do with it
// (plugins/media/dataplane/sdp.cc, flow_table.cc), as media_on_sip() does.
//
// - parse_sdp_streams() on arbitrary bytes: at most MAX streams (MAX itself taken from the
//   input, capped at k_max_sdp_streams), nothing written past them; every view lies inside
//   the input; counts within their arrays; family 0, 4 or 6, an address exactly when the
//   family is set.
// - each stream's address through parse_sdp_addr() (IPv4: the last 12 bytes zero) and its
//   RTP and RTCP flows (and up to 7 more pairs on the next even ports) into a 16-slot
//   flow_table, the two calls and the repetitions taken from the input's first byte: a
//   successful install is found by lookup with its call and kind, a key in the table is
//   never refused; size() is the number of distinct keys installed and not removed;
//   remove_call() removes exactly the keys that call held last; the other call then takes
//   the streams over (freed slots reused) and everything installed is still found.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <string_view>
#include <tuple>

#include "ringbridge/media/media_dataplane.h"
#include "ringbridge/media/sdp.h"

namespace {

namespace m = ringbridge::media;
namespace dp = ringbridge::dp;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "sdp_fuzz: %s\n", what);
  __builtin_trap();
}

bool inside(std::string_view v, const uint8_t* data, size_t size) {
  if (v.empty()) return true;
  const auto* p = reinterpret_cast<const uint8_t*>(v.data());
  return p >= data && p + v.size() <= data + size;
}

using model_key = std::tuple<uint8_t, std::string, uint16_t>;  // family, 16 address bytes, port

model_key key_of(const dp::flow_key& k) {
  return {k.family, std::string(reinterpret_cast<const char*>(k.addr), 16), k.port};
}

void check_found(const dp::flow_table& ft, const dp::flow_key& k, uint64_t call,
                 dp::media_kind kind) {
  dp::flow_hit h;
  if (!ft.lookup(k.addr, k.family, k.port, &h)) fail("installed flow not found");
  if (h.call != call || h.kind != kind) fail("flow found with another call or kind");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The first byte picks MAX and the calls; the rest is the body.
  const uint8_t ctl = size > 0 ? data[0] : 0;
  const uint8_t* body = size > 0 ? data + 1 : data;
  const size_t body_len = size > 0 ? size - 1 : 0;
  const size_t max = ctl % (m::k_max_sdp_streams + 2);  // sometimes more than the room
  const std::string_view sdp(reinterpret_cast<const char*>(body), body_len);

  m::sdp_stream st[m::k_max_sdp_streams + 1];
  st[m::k_max_sdp_streams].port = 0x5a5a;
  st[m::k_max_sdp_streams].media = "guard";
  const size_t n = m::parse_sdp_streams(sdp, st, max);
  if (n > max || n > m::k_max_sdp_streams) fail("more streams than MAX");
  if (st[m::k_max_sdp_streams].port != 0x5a5a || st[m::k_max_sdp_streams].media != "guard")
    fail("wrote past k_max_sdp_streams");

  // The flows as media_on_sip() installs them, each stream's also REPS times over on the
  // next even ports, into a table too small for them all; the model is what it must hold.
  dp::flow_table ft(8);  // 16 slots: installs fail, keys are retargeted, slots freed and reused
  std::map<model_key, uint64_t> model;
  const uint64_t calls[2] = {static_cast<uint64_t>(ctl >> 4 & 3),
                            0x8000000000000000ULL | static_cast<uint64_t>(ctl >> 6)};
  const unsigned reps = 1 + (ctl >> 2 & 7);
  auto install = [&](dp::flow_key k, uint64_t call, dp::media_kind kind) {
    if (ft.install(k, call, kind)) {
      check_found(ft, k, call, kind);
      model[key_of(k)] = call;
    } else if (model.count(key_of(k)) != 0) {
      fail("install refused for a key already in the table");
    }
    if (ft.size() != model.size()) fail("size() is not the number of distinct keys");
  };
  auto install_stream = [&](const m::sdp_stream& s, dp::flow_key k, unsigned j, uint64_t call) {
    const auto step = static_cast<uint16_t>(2 * j);
    if (s.port + step <= 65535) {
      k.port = static_cast<uint16_t>(s.port + step);
      install(k, call, dp::media_kind::rtp);
    }
    if (s.rtcp_port != 0 && s.rtcp_port + step <= 65535) {
      k.port = static_cast<uint16_t>(s.rtcp_port + step);
      install(k, call, dp::media_kind::rtcp);
    }
  };
  // A call ends: remove_call() removes exactly the keys it held last.
  auto end_call = [&](uint64_t call) {
    size_t held = 0;
    for (auto it = model.begin(); it != model.end();) {
      if (it->second == call) {
        held++;
        it = model.erase(it);
      } else {
        ++it;
      }
    }
    if (ft.remove_call(call) != held) fail("remove_call removed another number of flows");
    if (ft.size() != model.size()) fail("size() wrong after remove_call");
  };
  dp::flow_key keys[m::k_max_sdp_streams];
  bool usable[m::k_max_sdp_streams] = {};
  for (size_t i = 0; i < n; i++) {
    const m::sdp_stream& s = st[i];
    if (!inside(s.media, body, body_len) || !inside(s.addr, body, body_len) ||
        !inside(s.direction, body, body_len))
      fail("view outside the input");
    if (s.pt_count > sizeof(s.pts) || s.map_count > sizeof(s.maps) / sizeof(s.maps[0]))
      fail("count past its array");
    for (size_t j = 0; j < s.pt_count; j++)
      if (s.pts[j] > 127) fail("payload type over 127");
    for (size_t j = 0; j < s.map_count; j++) {
      if (!inside(s.maps[j].name, body, body_len)) fail("rtpmap name outside the input");
      if (s.maps[j].pt > 127) fail("rtpmap payload type over 127");
    }
    if (s.family != 0 && s.family != 4 && s.family != 6) fail("family not 0, 4 or 6");
    if ((s.family == 0) != s.addr.empty()) fail("address without family or family without one");

    dp::flow_key& k = keys[i];
    if (s.port == 0 || !m::parse_sdp_addr(s.addr, s.family, k.addr)) continue;
    if (s.family == 4)
      for (int b = 4; b < 16; b++)
        if (k.addr[b] != 0) fail("IPv4 address with bytes past the fourth");
    k.family = s.family;
    usable[i] = true;
    for (unsigned j = 0; j < reps; j++) install_stream(s, k, j, calls[(i + j) % 2]);
  }
  // The first call ends; the second takes its streams over (freed slots reused).
  end_call(calls[0]);
  for (size_t i = 0; i < n; i++)
    if (usable[i]) install_stream(st[i], keys[i], 0, calls[1]);
  // Everything installed is still there (with the call that installed it last).
  for (const auto& [key, call] : model) {
    dp::flow_key k;
    k.family = std::get<0>(key);
    std::memcpy(k.addr, std::get<1>(key).data(), 16);
    k.port = std::get<2>(key);
    dp::flow_hit h;
    if (!ft.lookup(k.addr, k.family, k.port, &h) || h.call != call) fail("flow lost");
  }
  for (uint64_t call : calls) end_call(call);
  if (ft.size() != 0) fail("table not empty at the end");
  return 0;
}
