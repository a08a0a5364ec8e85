// SPDX-License-Identifier: BSD-3-Clause
// The control thread's way into the call log and the automatic phonebook: writes that
// never wait for SQLite, a bounded queue for what could not be written yet, and retention.
//
// Owned by the sip feature's control half; uses the control core's store.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <string>

#include "ringbridge/ctl/store.h"
#include "ringbridge/sip/call_store.h"
#include "ringbridge/sip/calls.h"

namespace ringbridge::ctl {

/// Writes call changes and automatic phonebook names for the control thread.
///
/// Control thread only. Everything goes through a bounded in-memory queue that is
/// written in BEGIN IMMEDIATE transactions. The connection has no busy timeout: when
/// another connection holds the write lock (a bulk import, an external `sqlite3`) or a
/// write fails (disk full, I/O error), the pass fails at once, the transaction is rolled
/// back, what it held stays queued and a later pass retries — the caller goes back to
/// draining the rings. A call is queued by its row id: later changes of the same call
/// replace the queued copy (a row is written whole), so a failed insert never orphans
/// an update. A full queue drops its oldest entry and counts it.
class call_writer {
 public:
  struct options {
    size_t max_pending = 20000;  ///< queued rows (calls + phonebook names)
    size_t batch = 2000;         ///< rows per transaction
    double budget_s = 0.02;      ///< at most this long writing per flush()
    int prune_batch = 1000;      ///< rows deleted per cap per prune() pass
    double busy_retry_s = 0.02;  ///< after SQLITE_BUSY, try again this much later
    double error_retry_s = 1.0;  ///< after any other failure
  };

  call_writer(store& db, storage_limits limits, storage_stats& stats);
  call_writer(store& db, storage_limits limits, storage_stats& stats, options o);

  /// Queues call C (row C.id) to be written as it is now.
  void put_call(const call_record& c);
  /// Queues an automatic phonebook name (never overwrites a name the user set).
  void put_phonebook(const std::string& number, const std::string& name, double when);

  /// Writes what is queued, batch by batch, for up to budget_s; NOW is monotonic seconds
  /// (retries are scheduled on it). Returns the rows written. Keeps the row caps after
  /// each batch (deletes about as many old rows as it added), so a flood never outgrows
  /// them between prune() passes.
  size_t flush(double now);
  /// Housekeeping retention: up to prune_batch rows per cap (count, age, automatic
  /// phonebook rows). WALL is Unix time, NOW monotonic seconds.
  void prune(double wall, double now);

  size_t pending() const { return _calls.size() + _names.size(); }
  /// The last attempt to write failed (what is queued waits for a retry).
  bool degraded() const { return _degraded; }

 private:
  struct name_write {
    std::string number, name;
    double when;
  };
  bool write_batch(size_t* calls, size_t* names);
  void keep_caps(int64_t calls_limit, int64_t names_limit);
  void failed(double now);
  void make_room();
  void publish();

  store& _db;       ///< transactions
  call_store _log;  ///< the rows, over _db
  storage_limits _limits;
  storage_stats& _stats;
  options _o;
  std::map<int64_t, call_record> _calls;  ///< by row id: oldest first
  std::deque<name_write> _names;          ///< oldest first
  double _retry_at = 0;
  bool _degraded = false;
};

}  // namespace ringbridge::ctl
