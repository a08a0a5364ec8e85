// SPDX-License-Identifier: BSD-3-Clause
// sysfs settings of kernel interfaces, changed for the bridge's lifetime only.
#include "iface_tuning.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "ringbridge/common/log.h"

namespace ringbridge::dp {

namespace {
bool read_file(const std::string& path, std::string* out) {
  std::ifstream f(path);
  if (!f) return false;
  std::stringstream ss;
  ss << f.rdbuf();
  *out = ss.str();
  while (!out->empty() && (out->back() == '\n' || out->back() == ' ')) out->pop_back();
  return true;
}

bool write_file(const std::string& path, const std::string& value) {
  std::ofstream f(path);
  if (!f) return false;
  f << value << '\n';
  f.flush();
  return static_cast<bool>(f);
}
}  // namespace

bool iface_tuning::set(const std::string& iface, const std::string& attr, const std::string& value,
                       std::string* why) {
  const std::string path = "/sys/class/net/" + iface + "/" + attr;
  std::string old;
  if (!read_file(path, &old)) {
    *why = "cannot read " + path + ": " + std::strerror(errno);
    return false;
  }
  if (old == value) return true;
  if (!write_file(path, value)) {
    *why = "cannot write " + path + ": " + std::strerror(errno);
    return false;
  }
  _changes.push_back({path, old});
  RB_LOG_INFO("%s: %s -> %s (restored at exit)", path.c_str(), old.c_str(), value.c_str());
  return true;
}

void iface_tuning::restore() {
  while (!_changes.empty()) {
    const change& c = _changes.back();
    if (!write_file(c.path, c.old_value))
      RB_LOG_WARN("could not restore %s to %s: %s", c.path.c_str(), c.old_value.c_str(),
                  std::strerror(errno));
    _changes.pop_back();
  }
}

}  // namespace ringbridge::dp
