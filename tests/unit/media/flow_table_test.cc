// SPDX-License-Identifier: BSD-3-Clause
// The media plane's flow table (dp::flow_table): keys, retargeting, removal and slot reuse,
// the probe bound, and readers racing writers without ever seeing a wrong call.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

#include "ringbridge/media/media_dataplane.h"

namespace ringbridge::dp {
namespace {

flow_key v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port) {
  flow_key k;
  k.addr[0] = a;
  k.addr[1] = b;
  k.addr[2] = c;
  k.addr[3] = d;
  k.port = port;
  k.family = 4;
  return k;
}

flow_key v6(uint16_t last, uint16_t port) {  // 2001:db8::<last>
  flow_key k;
  k.addr[0] = 0x20;
  k.addr[1] = 0x01;
  k.addr[2] = 0x0d;
  k.addr[3] = 0xb8;
  k.addr[14] = static_cast<uint8_t>(last >> 8);
  k.addr[15] = static_cast<uint8_t>(last);
  k.port = port;
  k.family = 6;
  return k;
}

// Key number I: IPv4 for even I, IPv6 for odd, spread over addresses and ports.
flow_key nth_key(uint32_t i) {
  if (i % 2 == 0)
    return v4(10, static_cast<uint8_t>(i >> 16), static_cast<uint8_t>(i >> 8),
              static_cast<uint8_t>(i), static_cast<uint16_t>(10000 + i % 5000));
  return v6(static_cast<uint16_t>(i), static_cast<uint16_t>(20000 + i % 7000));
}

bool find(const flow_table& ft, const flow_key& k, flow_hit* h) {
  return ft.lookup(k.addr, k.family, k.port, h);
}

TEST(flow_table, capacity_is_the_power_of_two_at_least_twice_max_flows) {
  EXPECT_EQ(flow_table(0).capacity(), 16u);
  EXPECT_EQ(flow_table(8).capacity(), 16u);
  EXPECT_EQ(flow_table(9).capacity(), 32u);
  EXPECT_EQ(flow_table(100).capacity(), 256u);
  EXPECT_EQ(flow_table(4096).capacity(), 8192u);
  EXPECT_EQ(flow_table(100).size(), 0u);
}

TEST(flow_table, installs_and_finds_ipv4_and_ipv6) {
  flow_table ft(64);
  const flow_key a = v4(192, 0, 2, 10, 40000);
  const flow_key b = v6(0x1234, 40000);
  ASSERT_TRUE(ft.install(a, 111, media_kind::rtp));
  ASSERT_TRUE(ft.install(b, 222, media_kind::rtcp));
  EXPECT_EQ(ft.size(), 2u);
  flow_hit h;
  ASSERT_TRUE(find(ft, a, &h));
  EXPECT_EQ(h.call, 111u);
  EXPECT_EQ(h.kind, media_kind::rtp);
  ASSERT_TRUE(find(ft, b, &h));
  EXPECT_EQ(h.call, 222u);
  EXPECT_EQ(h.kind, media_kind::rtcp);
  // Lookup takes 4 bytes for IPv4: what follows the address in the caller's buffer (the
  // rest of an IPv4 header) does not matter.
  const uint8_t hdr[8] = {192, 0, 2, 10, 0xde, 0xad, 0xbe, 0xef};
  ASSERT_TRUE(ft.lookup(hdr, 4, 40000, &h));
  EXPECT_EQ(h.call, 111u);
}

TEST(flow_table, absent_keys_miss) {
  flow_table ft(64);
  flow_hit h{77, media_kind::sip};
  EXPECT_FALSE(find(ft, v4(192, 0, 2, 10, 40000), &h));  // empty table
  ASSERT_TRUE(ft.install(v4(192, 0, 2, 10, 40000), 1, media_kind::rtp));
  EXPECT_FALSE(find(ft, v4(192, 0, 2, 11, 40000), &h));  // other address
  EXPECT_FALSE(find(ft, v4(192, 0, 2, 10, 40002), &h));  // other port
  EXPECT_FALSE(find(ft, v6(1, 40000), &h));              // other family
  EXPECT_EQ(h.call, 77u) << "a miss leaves *out alone";
}

TEST(flow_table, ipv4_and_ipv6_with_the_same_bytes_are_different_keys) {
  flow_table ft(64);
  flow_key a = v4(1, 2, 3, 4, 5000);
  flow_key b = a;
  b.family = 6;  // the IPv6 address 0102:0304::
  ASSERT_TRUE(ft.install(a, 1, media_kind::rtp));
  flow_hit h;
  EXPECT_FALSE(find(ft, b, &h));
  ASSERT_TRUE(ft.install(b, 2, media_kind::rtp));
  EXPECT_EQ(ft.size(), 2u);
  ASSERT_TRUE(find(ft, a, &h));
  EXPECT_EQ(h.call, 1u);
  ASSERT_TRUE(find(ft, b, &h));
  EXPECT_EQ(h.call, 2u);
}

TEST(flow_table, same_address_different_ports_are_different_flows) {
  flow_table ft(64);
  for (uint16_t p = 0; p < 8; p++)
    ASSERT_TRUE(ft.install(v4(198, 51, 100, 7, static_cast<uint16_t>(30000 + p)), 100 + p,
                           p % 2 ? media_kind::rtcp : media_kind::rtp));
  EXPECT_EQ(ft.size(), 8u);
  for (uint16_t p = 0; p < 8; p++) {
    flow_hit h;
    ASSERT_TRUE(find(ft, v4(198, 51, 100, 7, static_cast<uint16_t>(30000 + p)), &h));
    EXPECT_EQ(h.call, 100u + p);
    EXPECT_EQ(h.kind, p % 2 ? media_kind::rtcp : media_kind::rtp);
  }
}

TEST(flow_table, installing_again_is_idempotent_and_another_call_retargets) {
  flow_table ft(64);
  const flow_key k = v4(203, 0, 113, 5, 16384);
  ASSERT_TRUE(ft.install(k, 1, media_kind::rtp));
  ASSERT_TRUE(ft.install(k, 1, media_kind::rtp));  // a retransmission's SDP
  EXPECT_EQ(ft.size(), 1u);
  ASSERT_TRUE(ft.install(k, 2, media_kind::rtp));  // the port reused by the next call
  EXPECT_EQ(ft.size(), 1u);
  flow_hit h;
  ASSERT_TRUE(find(ft, k, &h));
  EXPECT_EQ(h.call, 2u);
  ASSERT_TRUE(ft.install(k, 2, media_kind::rtcp));  // same call, another kind
  ASSERT_TRUE(find(ft, k, &h));
  EXPECT_EQ(h.kind, media_kind::rtcp);
  EXPECT_EQ(ft.size(), 1u);
  // The old call owns nothing any more.
  EXPECT_EQ(ft.remove_call(1), 0u);
  EXPECT_EQ(ft.size(), 1u);
  EXPECT_EQ(ft.remove_call(2), 1u);
  EXPECT_EQ(ft.size(), 0u);
  EXPECT_FALSE(find(ft, k, &h));
}

TEST(flow_table, remove_call_removes_that_call_only) {
  flow_table ft(256);
  for (uint32_t i = 0; i < 120; i++)
    ASSERT_TRUE(ft.install(nth_key(i), 1000 + i % 3, media_kind::rtp)) << i;
  EXPECT_EQ(ft.size(), 120u);
  EXPECT_EQ(ft.remove_call(1001), 40u);
  EXPECT_EQ(ft.size(), 80u);
  EXPECT_EQ(ft.remove_call(1001), 0u);
  EXPECT_EQ(ft.remove_call(999), 0u);
  for (uint32_t i = 0; i < 120; i++) {
    flow_hit h;
    const bool found = find(ft, nth_key(i), &h);
    EXPECT_EQ(found, i % 3 != 1) << i;
    if (found) {
      EXPECT_EQ(h.call, 1000 + i % 3);
    }
  }
  EXPECT_EQ(ft.remove_call(1000), 40u);
  EXPECT_EQ(ft.remove_call(1002), 40u);
  EXPECT_EQ(ft.size(), 0u);
}

TEST(flow_table, removed_slots_are_reused_and_do_not_hide_later_keys) {
  flow_table ft(8);  // 16 slots, and a probe covers them all
  ASSERT_EQ(ft.capacity(), 16u);
  for (uint32_t i = 0; i < 16; i++) ASSERT_TRUE(ft.install(nth_key(i), i + 1, media_kind::rtp));
  EXPECT_EQ(ft.size(), 16u);
  EXPECT_FALSE(ft.install(nth_key(16), 17, media_kind::rtp)) << "no free slot";
  // Free every other slot: the keys probed past them are still found.
  for (uint32_t i = 0; i < 16; i += 2) ASSERT_EQ(ft.remove_call(i + 1), 1u);
  EXPECT_EQ(ft.size(), 8u);
  for (uint32_t i = 0; i < 16; i++) {
    flow_hit h;
    EXPECT_EQ(find(ft, nth_key(i), &h), i % 2 == 1) << i;
  }
  // The freed slots take new keys, as many as were freed.
  for (uint32_t i = 100; i < 108; i++)
    ASSERT_TRUE(ft.install(nth_key(i), i + 1, media_kind::rtcp)) << i;
  EXPECT_EQ(ft.size(), 16u);
  EXPECT_FALSE(ft.install(nth_key(200), 201, media_kind::rtp));
  for (uint32_t i = 100; i < 108; i++) {
    flow_hit h;
    ASSERT_TRUE(find(ft, nth_key(i), &h)) << i;
    EXPECT_EQ(h.call, i + 1);
  }
  // Over many rounds of install and remove the table never runs out of slots.
  for (uint32_t i = 100; i < 108; i++) ASSERT_EQ(ft.remove_call(i + 1), 1u);
  for (uint32_t round = 0; round < 1000; round++) {
    const uint64_t call = 5000 + round;
    ASSERT_TRUE(ft.install(nth_key(300 + round), call, media_kind::rtp)) << round;
    if (round > 0) {
      ASSERT_EQ(ft.remove_call(call - 1), 1u) << round;
    }
  }
  EXPECT_EQ(ft.size(), 9u);  // the 8 odd keys and the last round's
}

TEST(flow_table, a_full_probe_sequence_fails_the_install_and_harms_no_other_key) {
  flow_table ft(64);  // 128 slots, 16 probes
  std::vector<uint32_t> in, out;
  for (uint32_t i = 0; i < 2000; i++)
    (ft.install(nth_key(i), 0x1000000ULL + i, media_kind::rtp) ? in : out).push_back(i);
  EXPECT_FALSE(out.empty()) << "2000 keys in 128 slots";
  EXPECT_LE(in.size(), ft.capacity());
  EXPECT_GE(in.size(), 64u) << "room for at least max_flows";
  EXPECT_EQ(ft.size(), in.size());
  for (uint32_t i : in) {
    flow_hit h;
    ASSERT_TRUE(find(ft, nth_key(i), &h)) << i;
    EXPECT_EQ(h.call, 0x1000000ULL + i);
  }
  for (uint32_t i : out) {
    flow_hit h;
    EXPECT_FALSE(find(ft, nth_key(i), &h)) << i;
  }
  // An installed key can still be retargeted in a full table.
  ASSERT_TRUE(ft.install(nth_key(in[0]), 42, media_kind::rtcp));
  EXPECT_EQ(ft.size(), in.size());
}

// Two writers install, retarget and remove; two readers look up. Every call value carries
// the number of its key (high 32 bits) and the kind is fixed per key, so a reader that got
// a field of another key's entry — a torn read — is caught.
TEST(flow_table, readers_never_see_a_call_that_was_not_installed_for_the_key) {
  constexpr uint32_t k_keys = 96;  // per writer
  flow_table ft(128);              // 256 slots: installs also fail now and then
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> lookups{0}, hits{0}, bad{0}, installs{0}, removes{0};
  auto kind_of = [](uint32_t key) { return key % 3 == 0 ? media_kind::rtcp : media_kind::rtp; };

  auto writer = [&](uint32_t w) {
    std::vector<uint64_t> current(k_keys, 0);
    uint32_t gen = 1;
    uint32_t x = 12345 + w;
    while (!stop.load(std::memory_order_relaxed)) {
      x = x * 1103515245 + 12345;
      const uint32_t slot = (x >> 8) % k_keys;
      const uint32_t key = w * k_keys + slot;
      const uint64_t call = uint64_t{key} << 32 | gen++;
      if (current[slot] != 0 && (x >> 20) % 3 == 0) {
        ft.remove_call(current[slot]);
        current[slot] = 0;
        removes.fetch_add(1, std::memory_order_relaxed);
      } else if (ft.install(nth_key(key), call, kind_of(key))) {
        current[slot] = call;  // a retarget when there was one: the old call owns nothing
        installs.fetch_add(1, std::memory_order_relaxed);
      }
    }
    for (uint64_t c : current)
      if (c != 0) ft.remove_call(c);
  };
  auto reader = [&](uint32_t r) {
    uint32_t x = 777 + r;
    uint64_t n = 0, found = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      x = x * 1103515245 + 12345;
      const uint32_t key = (x >> 8) % (2 * k_keys);
      const flow_key k = nth_key(key);
      flow_hit h;
      n++;
      if (!ft.lookup(k.addr, k.family, k.port, &h)) continue;
      found++;
      if (h.call >> 32 != key || static_cast<uint32_t>(h.call) == 0 || h.kind != kind_of(key))
        bad.fetch_add(1, std::memory_order_relaxed);
    }
    lookups.fetch_add(n);
    hits.fetch_add(found);
  };
  std::vector<std::thread> t;
  t.emplace_back(writer, 0);
  t.emplace_back(writer, 1);
  t.emplace_back(reader, 0);
  t.emplace_back(reader, 1);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  stop = true;
  for (auto& th : t) th.join();
  EXPECT_EQ(bad.load(), 0u) << "of " << hits.load() << " hits";
  EXPECT_GT(lookups.load(), 1000u);
  EXPECT_GT(hits.load(), 0u);
  EXPECT_GT(installs.load(), 100u);
  EXPECT_GT(removes.load(), 10u);
  // Each writer removed its calls on the way out.
  EXPECT_EQ(ft.size(), 0u);
  for (uint32_t key = 0; key < 2 * k_keys; key++) {
    flow_hit h;
    EXPECT_FALSE(find(ft, nth_key(key), &h)) << key;
  }
}

}  // namespace
}  // namespace ringbridge::dp
