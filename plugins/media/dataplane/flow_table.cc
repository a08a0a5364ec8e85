// SPDX-License-Identifier: BSD-3-Clause
// The flow table (ringbridge/media/media_dataplane.h): open addressing over a fixed array,
// one sequence word per slot.
//
// A slot's word is (version << 2) | state. Writers take a slot by moving its word from
// free/live to busy with a compare-and-swap (so two writers never write one slot), write
// the fields, and publish with version + 1. Readers load the word, read the fields, and
// load the word again: any write in between changed it, and the reader treats the slot as
// a miss (a frame not mirrored, never a wrong call). Fields are relaxed atomics, so a
// racing read is defined behaviour, not a torn value acted upon.
#include <random>

#include "ringbridge/common/mix.h"
#include "ringbridge/media/media_dataplane.h"

namespace ringbridge::dp {

namespace {
enum slot_state : uint64_t { st_empty = 0, st_busy = 1, st_live = 2, st_free = 3 };
constexpr uint64_t state_of(uint64_t w) { return w & 3; }
constexpr uint64_t with_state(uint64_t w, uint64_t st) { return ((w >> 2) + 1) << 2 | st; }

uint64_t load8(const uint8_t* p) {
  uint64_t v;
  __builtin_memcpy(&v, p, 8);
  return v;
}
}  // namespace

struct flow_table::slot {
  std::atomic<uint64_t> word{st_empty};
  std::atomic<uint64_t> a0{0}, a1{0};
  std::atomic<uint64_t> call{0};
  std::atomic<uint32_t> meta{0};  ///< port << 16 | family << 8 | kind
  std::atomic<uint64_t> installed{0};  ///< the installer's clock, for sweep()
};

flow_table::flow_table(uint32_t max_flows) {
  uint32_t cap = 16;
  while (cap < 2ULL * max_flows && cap < (1U << 24)) cap <<= 1;
  _slots = std::make_unique<slot[]>(cap);
  _mask = cap - 1;
  std::random_device rd;
  _seed = (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

flow_table::~flow_table() = default;

uint32_t flow_table::index(const uint8_t* addr16, uint16_t port) const {
  const uint64_t h = mix64(load8(addr16) ^ _seed) ^ mix64(load8(addr16 + 8) + port + _seed);
  return static_cast<uint32_t>(h) & _mask;
}

bool flow_table::install(const flow_key& key, uint64_t call, media_kind kind, uint64_t now) {
  const uint64_t a0 = load8(key.addr), a1 = load8(key.addr + 8);
  const uint32_t meta = static_cast<uint32_t>(key.port) << 16 |
                        static_cast<uint32_t>(key.family) << 8 | static_cast<uint32_t>(kind);
  const uint32_t key_meta = meta & ~0xffU;
  const uint32_t home = index(key.addr, key.port);
  slot* reuse = nullptr;  // the first free (never used or removed) slot on the way
  uint64_t reuse_word = 0;
  for (unsigned i = 0; i < k_probe; i++) {
    slot& s = _slots[(home + i) & _mask];
    uint64_t w = s.word.load(std::memory_order_acquire);
    const uint64_t st = state_of(w);
    if (st == st_live && s.a0.load(std::memory_order_relaxed) == a0 &&
        s.a1.load(std::memory_order_relaxed) == a1 &&
        (s.meta.load(std::memory_order_relaxed) & ~0xffU) == key_meta) {
      if (s.call.load(std::memory_order_relaxed) == call &&
          s.meta.load(std::memory_order_relaxed) == meta) {
        // Already there (a retransmission, the ACK's SDP, ...): only the age is refreshed
        // (a relaxed store that readers do not look at).
        s.installed.store(now, std::memory_order_relaxed);
        return true;
      }
      // The key now belongs to another call (or another kind): retarget it in place.
      if (!s.word.compare_exchange_strong(w, with_state(w, st_busy), std::memory_order_acquire))
        continue;
      std::atomic_thread_fence(std::memory_order_release);  // busy before the fields (why: below)
      s.call.store(call, std::memory_order_relaxed);
      s.meta.store(meta, std::memory_order_relaxed);
      s.installed.store(now, std::memory_order_relaxed);
      s.word.store(with_state(with_state(w, st_busy), st_live), std::memory_order_release);
      return true;
    }
    if ((st == st_empty || st == st_free) && reuse == nullptr) {
      reuse = &s;
      reuse_word = w;
    }
    if (st == st_empty) break;  // the key is nowhere further on
  }
  if (reuse == nullptr) return false;
  uint64_t w = reuse_word;
  if (!reuse->word.compare_exchange_strong(w, with_state(w, st_busy), std::memory_order_acquire))
    return false;  // another writer took it this instant: counted as no room, rare
  // The busy word must be visible before any field store: a reader that reads a new field
  // then (after its acquire fence) sees the changed word and drops the hit. An acquire CAS
  // alone does not order the later relaxed stores after its store on weakly ordered CPUs
  // (free on x86: a compiler barrier).
  std::atomic_thread_fence(std::memory_order_release);
  reuse->a0.store(a0, std::memory_order_relaxed);
  reuse->a1.store(a1, std::memory_order_relaxed);
  reuse->call.store(call, std::memory_order_relaxed);
  reuse->meta.store(meta, std::memory_order_relaxed);
  reuse->installed.store(now, std::memory_order_relaxed);
  reuse->word.store(with_state(with_state(w, st_busy), st_live), std::memory_order_release);
  _used.fetch_add(1, std::memory_order_relaxed);
  return true;
}

bool flow_table::lookup(const uint8_t* addr, uint8_t family, uint16_t port, flow_hit* out) const {
  uint8_t a[16] = {};
  __builtin_memcpy(a, addr, family == 6 ? 16 : 4);
  const uint64_t a0 = load8(a), a1 = load8(a + 8);
  const uint32_t key_meta = static_cast<uint32_t>(port) << 16 | static_cast<uint32_t>(family) << 8;
  const uint32_t home = index(a, port);
  for (unsigned i = 0; i < k_probe; i++) {
    const slot& s = _slots[(home + i) & _mask];
    const uint64_t w = s.word.load(std::memory_order_acquire);
    const uint64_t st = state_of(w);
    if (st == st_empty) return false;
    if (st != st_live) continue;
    const uint32_t meta = s.meta.load(std::memory_order_relaxed);
    if (s.a0.load(std::memory_order_relaxed) != a0 || s.a1.load(std::memory_order_relaxed) != a1 ||
        (meta & ~0xffU) != key_meta)
      continue;
    const uint64_t call = s.call.load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (s.word.load(std::memory_order_relaxed) != w) return false;  // rewritten meanwhile
    out->call = call;
    out->kind = static_cast<media_kind>(meta & 0xff);
    return true;
  }
  return false;
}

size_t flow_table::remove_if(bool (*f)(void* ctx, uint64_t call, uint64_t installed),
                             void* ctx) {
  size_t removed = 0;
  for (uint32_t i = 0; i <= _mask; i++) {
    slot& s = _slots[i];
    uint64_t w = s.word.load(std::memory_order_acquire);
    if (state_of(w) != st_live ||
        !f(ctx, s.call.load(std::memory_order_relaxed), s.installed.load(std::memory_order_relaxed)))
      continue;
    // A writer that changed the slot since it was read wins: the CAS fails, the slot stays.
    if (!s.word.compare_exchange_strong(w, with_state(w, st_free), std::memory_order_acq_rel))
      continue;
    _used.fetch_sub(1, std::memory_order_relaxed);
    removed++;
  }
  return removed;
}

size_t flow_table::remove_call(uint64_t call) {
  return remove_if([](void* c, uint64_t k, uint64_t) { return k == *static_cast<uint64_t*>(c); },
                   &call);
}

}  // namespace ringbridge::dp
