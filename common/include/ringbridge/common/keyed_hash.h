// SPDX-License-Identifier: BSD-3-Clause
// Keyed hashing (SipHash-2-4, libsodium) for tables whose keys an attacker chooses:
// Call-IDs, TCP 4-tuples, fragment ids. With a random key per process nobody can
// precompute inputs that collide, so bounded probing stays bounded in practice.
//
// Any thread; no allocation. keyed_hash_init() must run once before the first hash (it
// seeds libsodium and draws the process key); the dataplane calls it at start-up.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ringbridge {

/// Draws the process-wide random key (idempotent, thread-safe). False when libsodium
/// cannot initialise (no entropy source).
bool keyed_hash_init();

/// 64-bit SipHash-2-4 of DATA under the process key.
uint64_t keyed_hash64(const void* data, size_t len);
inline uint64_t keyed_hash64(std::string_view s) {
  return keyed_hash64(s.data(), s.size());
}

/// 128-bit SipHash-2-4 (libsodium's siphashx24): an identity for values too long to
/// store (a Call-ID), where a false match must be as unlikely as a random 128-bit guess.
struct hash128 {
  uint64_t lo = 0, hi = 0;
  bool operator==(const hash128& o) const { return lo == o.lo && hi == o.hi; }
};
hash128 keyed_hash128(const void* data, size_t len);
inline hash128 keyed_hash128(std::string_view s) {
  return keyed_hash128(s.data(), s.size());
}

}  // namespace ringbridge
