// SPDX-License-Identifier: BSD-3-Clause
// Fuzz target for what the ports do to frames on the way in before anyone else looks at
// them: the checksum completion (l4_csum.h: locate_l4, complete_if_partial,
// finish_partial_csum at the kernel's csum_start/offset) and the cutting of offload
// super-frames (gso_split.cc), on real mbufs from a real mempool (EAL with --no-huge).
//
// Input: [gso type][seg size: 2 bytes][csum_start: 2][csum_offset: 2][frame bytes].
// The frame is untrusted wire data; the header fields are what the kernel would say, but
// are fuzzed too (a confused kernel or a bug of ours must not make the bridge read out of
// bounds).
//
// Checked: no read or write outside the frame (ASan, exact-size copies); complete_if_partial
// changes at most the two checksum bytes and, when it does, the checksum verifies; a
// successful split gives segments no longer than the maximum frame, each with a valid IPv4
// header checksum and a valid TCP/UDP checksum, whose payloads put together are the
// super-frame's payload; every mbuf goes back to the pool.
#include <rte_eal.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "fuzz_eal.h"
#include "gso_split.h"
#include "l4_csum.h"
#include "ringbridge/common/log.h"
#include "ringbridge/dp/eal.h"

namespace {

namespace dp = ringbridge::dp;

constexpr uint32_t k_max_frame = 1522;
constexpr unsigned k_mbufs = 2047;
constexpr uint32_t k_max_segs = 1024;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "offload_fuzz: %s\n", what);
  __builtin_trap();
}

dp::eal_plan g_plan;
rte_mempool* g_pool = nullptr;

void at_exit() {
  dp::remove_runtime_dir(g_plan);
}

void set_up(const char* argv0) {
  g_plan = ringbridge::fuzz::start_eal(argv0, "offload");  // removed again at exit
  std::atexit(at_exit);
  g_pool = rte_pktmbuf_pool_create("fuzz_mbufs", k_mbufs, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                   static_cast<int>(rte_socket_id()));
  if (g_pool == nullptr) {
    std::fprintf(stderr, "offload_fuzz: no mempool\n");
    std::exit(1);
  }
}

// A finished TCP/UDP checksum sums, with the pseudo header, to 0xffff.
bool l4_valid(const uint8_t* f, uint32_t len) {
  dp::l4_place p;
  if (!dp::locate_l4(f, len, &p)) return false;
  uint16_t field;
  std::memcpy(&field, f + p.l4 + dp::l4_csum_field(p.proto), 2);
  uint32_t sum = dp::l4_pseudo_sum(f, p);
  sum += rte_raw_cksum(f + p.l4, p.end - p.l4);
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return sum == 0xffff || (p.proto == IPPROTO_UDP && field == 0 && !p.v6);
}

void check_completion(const uint8_t* data, size_t size, uint16_t start, uint16_t offset) {
  std::vector<uint8_t> f(data, data + size);  // exact size: ASan sees any overrun
  if (dp::complete_if_partial(f.data(), static_cast<uint32_t>(f.size()))) {
    size_t changed = 0;
    for (size_t i = 0; i < size; i++) changed += f[i] != data[i];
    if (changed > 2) fail("complete_if_partial changed more than the checksum");
    if (!l4_valid(f.data(), static_cast<uint32_t>(f.size())))
      fail("complete_if_partial left an invalid checksum");
  }
  std::vector<uint8_t> g(data, data + size);
  dp::finish_partial_csum(g.data(), static_cast<uint32_t>(g.size()), start, offset);
}

void check_split(const uint8_t* data, size_t size, const dp::gso_info& gi) {
  static rte_mbuf* segs[k_max_segs];
  const unsigned in_use = rte_mempool_in_use_count(g_pool);
  uint32_t n = 0;
  const dp::gso_result r = dp::gso_split(data, static_cast<uint32_t>(size), gi, g_pool, k_max_frame,
                                         segs, k_max_segs, &n);
  if (r != dp::gso_result::ok) {
    if (n != 0 || rte_mempool_in_use_count(g_pool) != in_use) fail("a failed split kept mbufs");
    return;
  }
  dp::l4_place p;
  if (!dp::locate_l4(data, static_cast<uint32_t>(size), &p)) fail("split a frame without L4");
  const uint32_t l4_hdr = p.proto == IPPROTO_TCP ? (data[p.l4 + 12] >> 4) * 4u : 8u;
  const uint32_t hdrs = p.l4 + l4_hdr;
  std::vector<uint8_t> payload;
  for (uint32_t i = 0; i < n; i++) {
    rte_mbuf* m = segs[i];
    const uint32_t len = rte_pktmbuf_pkt_len(m);
    const uint8_t* d = rte_pktmbuf_mtod(m, const uint8_t*);
    if (len > k_max_frame || len < hdrs) fail("segment size");
    if (len - hdrs > gi.seg_size) fail("segment payload above the segment size");
    if (!p.v6 && rte_ipv4_cksum(reinterpret_cast<const rte_ipv4_hdr*>(d + p.l3)) != 0)
      fail("segment IPv4 header checksum");
    if (!l4_valid(d, len)) fail("segment L4 checksum");
    payload.insert(payload.end(), d + hdrs, d + len);
  }
  if (payload.size() != p.end - hdrs ||
      (!payload.empty() && std::memcmp(payload.data(), data + hdrs, payload.size()) != 0))
    fail("segments do not add up to the super-frame's payload");
  rte_pktmbuf_free_bulk(segs, n);
  if (rte_mempool_in_use_count(g_pool) != in_use) fail("mbufs leaked");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  set_up(*argc > 0 ? (*argv)[0] : nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 7) return 0;
  dp::gso_info gi;
  gi.type = data[0] & static_cast<uint8_t>(~dp::k_gso_ecn);
  gi.seg_size = static_cast<uint16_t>(data[1] << 8 | data[2]);
  const uint16_t start = static_cast<uint16_t>(data[3] << 8 | data[4]);
  const uint16_t offset = static_cast<uint16_t>(data[5] << 8 | data[6]);
  const uint8_t* frame = data + 7;
  const size_t len = std::min<size_t>(size - 7, 65535 + 22);
  check_completion(frame, len, start, offset);
  check_split(frame, len, gi);
  return 0;
}
