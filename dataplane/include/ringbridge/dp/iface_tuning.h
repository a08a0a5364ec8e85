// SPDX-License-Identifier: BSD-3-Clause
// Kernel settings of the bridged interfaces changed while ringbridge runs, with their
// originals recorded in a file so that they come back even after the process died.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ringbridge::dp {

/// The interface settings ringbridge changes outside DPDK's own bookkeeping: sysfs
/// attributes (the AF_XDP NAPI tuning) and the promiscuous flag that the PMDs set. Before
/// the first change the original is written to a record file (atomically: temporary file,
/// fsync, rename), so that it can be put back by this process at close, by the next run
/// after a crash, or by `ringbridge --fallback on` (the systemd unit's ExecStopPost=).
///
/// A record left by a dead run is adopted by load(): its originals stay the originals, so a
/// value the dead run tuned is never taken for one. Values that cannot be written back
/// (no permission, read-only /sys) stay in the record for a more privileged successor.
///
/// Single-threaded: the control thread, or a one-shot CLI mode. Not copyable.
class iface_tuning {
 public:
  /// RECORD: path of the record file, normally <state_dir>/iface-record ("" = originals
  /// kept in memory only). SYSFS_NET: the directory of the interfaces' sysfs attributes
  /// (tests use a scratch directory).
  explicit iface_tuning(std::string record, std::string sysfs_net = "/sys/class/net");
  ~iface_tuning();  ///< restore()
  iface_tuning(const iface_tuning&) = delete;
  iface_tuning& operator=(const iface_tuning&) = delete;

  /// Reads the record a previous run left behind (true, and nothing to do, when there is
  /// none). False with *why when it exists but cannot be read or parsed; it is then left
  /// alone and nothing is adopted.
  bool load(std::string* why);

  /// How many entries load() adopted from a previous run (before any set()).
  size_t adopted() const { return _adopted; }

  /// Sets /sys/.../IFACE/ATTR to VALUE after recording its original. False (nothing
  /// changed) with *why when the attribute cannot be read, the record cannot be written, or
  /// the attribute is not writable (e.g. an unprivileged process: the files belong to root).
  bool set(const std::string& iface, const std::string& attr, const std::string& value,
           std::string* why);

  /// Records IFACE's own promiscuous flag (IFF_PROMISC as set by `ip link set promisc`,
  /// not the count a bridge or packet socket adds) before a PMD turns it on. False with
  /// *why when the flag cannot be read or the record not written.
  bool note_promisc(const std::string& iface, std::string* why);

  /// IFACE's promiscuous flag from before this run, or before the dead run it adopted.
  std::optional<bool> original_promisc(const std::string& iface) const;

  /// Puts back the adopted entries that this run has not set or noted again: leftovers
  /// of a dead run that the current configuration does not want. Call once every set()
  /// and note_promisc() of the start-up is done. Returns how many were restored.
  size_t restore_unclaimed();

  /// Puts every recorded value back, newest first, and removes the record. Entries that
  /// cannot be written back are logged and stay in the record. True when nothing is left.
  /// Idempotent.
  bool restore();

  /// Leaves every change in place and in the record, and forgets it here, so that the
  /// destructor restores nothing: `ringbridge --prepare` hands its tuning to the service.
  void hand_over() { _entries.clear(); }

  /// True when nothing is recorded.
  bool empty() const { return _entries.empty(); }

 private:
  struct entry {
    bool promisc = false;  // the promiscuous flag; else a sysfs attribute
    std::string iface;
    std::string attr;       // sysfs attribute name (empty for the promiscuous flag)
    std::string original;   // sysfs text, or "0"/"1" for the flag
    bool claimed = false;   // set or noted by this run (adopted entries start unclaimed)
    bool reported = false;  // a failed restore was logged
  };
  entry* find(bool promisc, const std::string& iface, const std::string& attr);
  std::string path(const entry& e) const;
  bool put_back(const entry& e, std::string* why) const;
  bool save(std::string* why) const;
  void restore_if(bool unclaimed_only, size_t* restored);

  std::string _record;
  std::string _sysfs_net;
  std::vector<entry> _entries;
  size_t _adopted = 0;
};

/// The AF_XDP preferred-busy-poll tuning DPDK's net_af_xdp guide recommends: NAPI deferred
/// to the worker's busy poll (napi_defer_hard_irqs = 2) with GRO_FLUSH_US as the timer
/// (gro_flush_timeout) that runs it when no busy poll did. Originals recorded in TUNING.
bool tune_af_xdp_napi(iface_tuning& tuning, const std::string& iface, uint32_t gro_flush_us,
                      std::string* why);

}  // namespace ringbridge::dp
