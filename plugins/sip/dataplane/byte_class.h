// SPDX-License-Identifier: BSD-3-Clause
// Which of 16 bytes belong to a class of ASCII bytes, in a few instructions whatever the
// class: two 16-entry tables indexed by each byte's low and high nibble (SSSE3 PSHUFB, which
// the DPDK build's -march=corei7 provides). A byte is in the class when
// lo[low nibble] & hi[high nibble] != 0: each high nibble gets the bit of its group (high
// nibbles with the same low nibbles in the class share one), so any class of bytes below
// 0x80 is exact. The SIP parser's searches for special bytes and the caller identity's
// fast paths use it.
#pragma once

#include <cstdint>

#if defined(__SSSE3__)
#include <tmmintrin.h>
#define RB_BYTE_CLASS 1
#endif

namespace ringbridge::dp {

struct byte_class {
  alignas(16) unsigned char lo[16] = {};
  alignas(16) unsigned char hi[16] = {};

  /// The class of the bytes B for which IN(B) holds (none of them 0x80 or above).
  template <typename Pred>
  constexpr explicit byte_class(Pred in) {
    for (unsigned b = 0x80; b < 0x100; b++)  // (a compile error in a constant expression)
      if (in(static_cast<unsigned char>(b))) throw "a byte class holds bytes below 0x80 only";
    uint16_t lows[8] = {};  // per high nibble 0..7: its low nibbles in the class
    for (unsigned b = 0; b < 0x80; b++)
      if (in(static_cast<unsigned char>(b))) lows[b >> 4] |= static_cast<uint16_t>(1u << (b & 15));
    unsigned groups = 0;
    uint16_t group_lows[8] = {};
    for (unsigned h = 0; h < 8; h++) {
      if (lows[h] == 0) continue;
      unsigned g = 0;
      while (g < groups && group_lows[g] != lows[h]) g++;
      if (g == groups) group_lows[groups++] = lows[h];
      hi[h] = static_cast<unsigned char>(1u << g);
      for (unsigned l = 0; l < 16; l++)
        if ((lows[h] >> l) & 1) lo[l] |= static_cast<unsigned char>(1u << g);
    }
  }

  /// The byte B is in the class (what the tables say: the check of a class's exactness).
  constexpr bool has(unsigned char b) const { return (lo[b & 15] & hi[b >> 4]) != 0; }
};

/// A class of the listed bytes.
template <char... C>
inline constexpr byte_class k_bytes{[](unsigned char b) {
  return ((b == static_cast<unsigned char>(C)) || ...);
}};

#if defined(RB_BYTE_CLASS)
/// The bytes of V in class K, as a 16-bit mask.
inline unsigned match(__m128i v, const byte_class& k) {
  const __m128i low = _mm_set1_epi8(0x0f);
  const __m128i lo = _mm_load_si128(reinterpret_cast<const __m128i*>(k.lo));
  const __m128i hi = _mm_load_si128(reinterpret_cast<const __m128i*>(k.hi));
  const __m128i hit = _mm_and_si128(_mm_shuffle_epi8(lo, _mm_and_si128(v, low)),
                                    _mm_shuffle_epi8(hi, _mm_and_si128(_mm_srli_epi16(v, 4), low)));
  return ~static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(hit, _mm_setzero_si128()))) &
         0xffffu;
}
#endif

}  // namespace ringbridge::dp
