// SPDX-License-Identifier: BSD-3-Clause
// SipHash under a random per-process key (libsodium).
#include "ringbridge/common/keyed_hash.h"

#include <sodium.h>

#include <cstring>
#include <mutex>

namespace ringbridge {

namespace {
unsigned char g_key64[crypto_shorthash_KEYBYTES];
unsigned char g_key128[crypto_shorthash_siphashx24_KEYBYTES];
std::once_flag g_once;
bool g_ok = false;
}  // namespace

bool keyed_hash_init() {
  std::call_once(g_once, [] {
    if (sodium_init() < 0) return;
    crypto_shorthash_keygen(g_key64);
    randombytes_buf(g_key128, sizeof(g_key128));
    g_ok = true;
  });
  return g_ok;
}

uint64_t keyed_hash64(const void* data, size_t len) {
  unsigned char out[crypto_shorthash_BYTES];
  crypto_shorthash(out, static_cast<const unsigned char*>(data), len, g_key64);
  uint64_t v;
  std::memcpy(&v, out, sizeof(v));
  return v;
}

hash128 keyed_hash128(const void* data, size_t len) {
  unsigned char out[crypto_shorthash_siphashx24_BYTES];
  crypto_shorthash_siphashx24(out, static_cast<const unsigned char*>(data), len, g_key128);
  hash128 h;
  std::memcpy(&h.lo, out, 8);
  std::memcpy(&h.hi, out + 8, 8);
  return h;
}

}  // namespace ringbridge
