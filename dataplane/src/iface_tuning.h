// SPDX-License-Identifier: BSD-3-Clause
// Internal: temporary per-interface kernel settings (sysfs), restored when the bridge closes.
#pragma once

#include <string>
#include <vector>

namespace ringbridge::dp {

/// Remembers every sysfs value it changes and puts the old values back in restore() (also
/// from the destructor). Control thread only.
class iface_tuning {
 public:
  ~iface_tuning() { restore(); }

  /// Sets /sys/class/net/IFACE/ATTR to VALUE. False (and nothing changed) when the
  /// attribute is missing or not writable; *why says which.
  bool set(const std::string& iface, const std::string& attr, const std::string& value,
           std::string* why);

  /// Puts back every value changed, newest first. Idempotent.
  void restore();

 private:
  struct change {
    std::string path;
    std::string old_value;
  };
  std::vector<change> _changes;
};

}  // namespace ringbridge::dp
