// SPDX-License-Identifier: BSD-3-Clause
// A bounded single-producer/single-consumer ring of plain-old-data records that both sides
// use in place: the producer fills a claimed slot, the consumer reads it where it lies.
#pragma once

#include <atomic>
#include <cstddef>
#include <type_traits>

namespace ringbridge::dp {

/// N records of T (N a power of two). One producer thread (claim/publish, push), one
/// consumer thread (consume_one, pop); wait-free both ways, no allocation after
/// construction. The subset of boost::lockfree::spsc_queue's interface the project used,
/// plus claim()/publish(): a worker builds its event in the slot, so a record is written
/// once instead of built on the stack and then copied in.
template <typename T, size_t N>
class spsc_ring {
  static_assert(N != 0 && (N & (N - 1)) == 0, "N must be a power of two");
  static_assert(std::is_trivially_copyable_v<T>, "records cross threads as bytes");

 public:
  /// Producer: the next free slot, to be filled and then published, or nullptr when the
  /// ring is full. Its contents are whatever an earlier record left: write every field.
  T* claim() {
    const size_t w = _write.load(std::memory_order_relaxed);
    if (w - _read_seen == N) {
      _read_seen = _read.load(std::memory_order_acquire);
      if (w - _read_seen == N) return nullptr;
    }
    return &_slots[w & (N - 1)];
  }
  /// Producer: hands the slot claim() returned to the consumer.
  void publish() {
    _write.store(_write.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  }
  /// Producer: copies V in; false when the ring is full.
  bool push(const T& v) {
    T* slot = claim();
    if (slot == nullptr) return false;
    *slot = v;
    publish();
    return true;
  }
  /// Producer: how many records fit now.
  size_t write_available() const {
    return N - (_write.load(std::memory_order_relaxed) - _read.load(std::memory_order_acquire));
  }

  /// Consumer: calls F(const T&) on the oldest record where it lies, then frees its slot;
  /// false when the ring is empty. If F throws, the record stays (offered again).
  template <typename F>
  bool consume_one(F&& f) {
    const size_t r = _read.load(std::memory_order_relaxed);
    if (r == _write_seen) {
      _write_seen = _write.load(std::memory_order_acquire);
      if (r == _write_seen) return false;
    }
    f(static_cast<const T&>(_slots[r & (N - 1)]));
    _read.store(r + 1, std::memory_order_release);
    return true;
  }
  /// Consumer: copies the oldest record out; false when the ring is empty.
  bool pop(T& out) {
    return consume_one([&out](const T& v) { out = v; });
  }
  /// Consumer: how many records are waiting.
  size_t read_available() const {
    return _write.load(std::memory_order_acquire) - _read.load(std::memory_order_relaxed);
  }

 private:
  // Each side's index and its cached copy of the other's on a cache line of their own.
  alignas(64) std::atomic<size_t> _write{0};
  size_t _read_seen = 0;  ///< producer's last look at _read
  alignas(64) std::atomic<size_t> _read{0};
  size_t _write_seen = 0;  ///< consumer's last look at _write
  alignas(64) T _slots[N];
};

}  // namespace ringbridge::dp
