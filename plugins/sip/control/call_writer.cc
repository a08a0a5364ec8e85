// SPDX-License-Identifier: BSD-3-Clause
// Queued, non-blocking call log writes and bounded retention passes.
#include "ringbridge/sip/call_writer.h"

#include <chrono>

namespace ringbridge::ctl {

namespace {
double mono_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

call_writer::call_writer(store& db, storage_limits limits, storage_stats& stats)
    : call_writer(db, limits, stats, options{}) {}

call_writer::call_writer(store& db, storage_limits limits, storage_stats& stats, options o)
    : _db(db), _log(db), _limits(limits), _stats(stats), _o(o) {}

void call_writer::make_room() {
  while (pending() >= _o.max_pending && pending() > 0) {
    // The oldest goes: a call's first row (its newest state wins when it comes again),
    // or the oldest name.
    if (!_calls.empty())
      _calls.erase(_calls.begin());
    else
      _names.pop_front();
    _stats.pending_dropped.fetch_add(1, std::memory_order_relaxed);
  }
}

void call_writer::put_call(const call_record& c) {
  auto it = _calls.find(c.id);
  if (it != _calls.end()) {
    it->second = c;  // merged: the row is written whole
  } else {
    make_room();
    _calls.emplace(c.id, c);
  }
  publish();
}

void call_writer::put_phonebook(const std::string& number, const std::string& name, double when) {
  make_room();
  _names.push_back({number, name, when});
  publish();
}

void call_writer::publish() {
  _stats.pending.store(pending(), std::memory_order_relaxed);
  _stats.degraded.store(_degraded, std::memory_order_relaxed);
}

void call_writer::failed(double now) {
  _retry_at =
      now + (_db.last_failure() == storage_error::busy ? _o.busy_retry_s : _o.error_retry_s);
  _degraded = true;
  publish();
}

bool call_writer::write_batch(size_t* calls, size_t* names) {
  *calls = *names = 0;
  auto it = _calls.begin();
  for (; it != _calls.end() && *calls < _o.batch; ++it, ++*calls)
    if (!_log.write_call(it->second)) return false;
  for (; *names < _names.size() && *calls + *names < _o.batch; ++*names) {
    const name_write& w = _names[*names];
    if (!_log.phonebook_set(w.number, w.name, "auto", w.when)) return false;
  }
  return true;
}

size_t call_writer::flush(double now) {
  if (pending() == 0) {
    if (_degraded) {
      _degraded = false;
      publish();
    }
    return 0;
  }
  if (now < _retry_at) return 0;
  const double deadline = mono_now() + _o.budget_s;
  size_t written = 0;
  while (pending() != 0) {
    if (!_db.begin()) {
      failed(now);
      return written;
    }
    size_t calls = 0, names = 0;
    if (!write_batch(&calls, &names)) {
      _db.rollback();
      failed(now);
      return written;
    }
    if (!_db.commit()) {
      failed(now);
      return written;
    }
    _calls.erase(_calls.begin(), std::next(_calls.begin(), static_cast<long>(calls)));
    _names.erase(_names.begin(), _names.begin() + static_cast<long>(names));
    written += calls + names;
    _degraded = false;
    _retry_at = 0;
    publish();
    keep_caps(static_cast<int64_t>(calls) + 16, static_cast<int64_t>(names) + 16);
    if (mono_now() >= deadline) break;
  }
  return written;
}

void call_writer::keep_caps(int64_t calls_limit, int64_t names_limit) {
  // Two O(1) counter reads when nothing is over its cap; else one short transaction.
  const bool calls_over = _limits.max_calls != 0 && _log.call_count() > _limits.max_calls;
  const bool names_over =
      _limits.phonebook_auto_max != 0 && _log.phonebook_auto_count() > _limits.phonebook_auto_max;
  if (!calls_over && !names_over) return;
  if (!_db.begin()) return;
  int64_t c = 0, n = 0;
  if (calls_over) c = _log.prune_calls_over(_limits.max_calls, static_cast<int>(calls_limit));
  if (c >= 0 && names_over)
    n = _log.prune_phonebook_auto(_limits.phonebook_auto_max, static_cast<int>(names_limit));
  if (c < 0 || n < 0) {
    _db.rollback();
    return;
  }
  if (!_db.commit()) return;
  _stats.pruned_calls.fetch_add(static_cast<uint64_t>(c), std::memory_order_relaxed);
  _stats.pruned_phonebook.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
}

void call_writer::prune(double wall, double now) {
  if (now < _retry_at) return;  // the database is failing or busy: not now
  const bool calls_over = _limits.max_calls != 0 && _log.call_count() > _limits.max_calls;
  const bool names_over =
      _limits.phonebook_auto_max != 0 && _log.phonebook_auto_count() > _limits.phonebook_auto_max;
  const double cutoff = wall - 86400.0 * _limits.max_call_age_days;
  const double oldest = _limits.max_call_age_days != 0 ? _log.oldest_call_start() : 0;
  const bool by_age = oldest > 0 && oldest < cutoff;
  if (!calls_over && !names_over && !by_age) return;
  if (!_db.begin()) return;
  int64_t c = 0, a = 0, n = 0;
  if (calls_over) c = _log.prune_calls_over(_limits.max_calls, _o.prune_batch);
  if (c >= 0 && by_age) a = _log.prune_calls_before(cutoff, _o.prune_batch);
  if (c >= 0 && a >= 0 && names_over)
    n = _log.prune_phonebook_auto(_limits.phonebook_auto_max, _o.prune_batch);
  if (c < 0 || a < 0 || n < 0) {
    _db.rollback();
    return;
  }
  if (!_db.commit()) return;
  _stats.pruned_calls.fetch_add(static_cast<uint64_t>(c + a), std::memory_order_relaxed);
  _stats.pruned_phonebook.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
}

}  // namespace ringbridge::ctl
