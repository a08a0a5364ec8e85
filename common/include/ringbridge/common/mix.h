// SPDX-License-Identifier: BSD-3-Clause
// An unkeyed 64-bit mixer for values that are already keyed or already spread (a keyed
// hash combined with small fields, a seeded slot index). Not a hash of attacker-chosen
// bytes on its own: keyed_hash.h is.
#pragma once

#include <cstdint>

namespace ringbridge {

/// splitmix64's finaliser: invertible, so no two inputs give the same output.
inline uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace ringbridge
