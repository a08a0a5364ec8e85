// SPDX-License-Identifier: BSD-3-Clause
// Interface settings changed for the bridge's lifetime, recorded in a file before each change.
#include "ringbridge/dp/iface_tuning.h"

#include <fcntl.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "ringbridge/common/log.h"

namespace ringbridge::dp {

namespace {

constexpr const char* k_header =
    "# ringbridge: original values of interface settings changed while it runs.\n"
    "# Written before each change, removed after they were put back; a leftover means the\n"
    "# process died: the next run or `ringbridge --fallback on` restores them.\n";

bool read_text(const std::string& path, std::string* out) {
  std::ifstream f(path);
  if (!f) return false;
  std::stringstream ss;
  ss << f.rdbuf();
  *out = ss.str();
  while (!out->empty() && (out->back() == '\n' || out->back() == ' ')) out->pop_back();
  return true;
}

// sysfs attributes take one write(2) of the whole value; an ofstream would do the same but
// hides errno.
bool write_text(const std::string& path, const std::string& value) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const std::string line = value + "\n";
  const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  const int saved = errno;
  ::close(fd);
  errno = saved;
  return ok;
}

// The interface's own IFF_PROMISC (SIOCGIFFLAGS reports the flag as set by the user, not
// dev->promiscuity, which a bridge or a packet socket's membership also raises).
bool promisc_flag(const std::string& iface, bool* on, bool set_to, bool write) {
  if (iface.size() >= IFNAMSIZ) {
    errno = ENAMETOOLONG;
    return false;
  }
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, iface.c_str(), iface.size());
  bool ok = ::ioctl(fd, SIOCGIFFLAGS, &ifr) == 0;
  if (ok && !write) *on = (ifr.ifr_flags & IFF_PROMISC) != 0;
  if (ok && write && ((ifr.ifr_flags & IFF_PROMISC) != 0) != set_to) {
    ifr.ifr_flags =
        static_cast<short>(set_to ? (ifr.ifr_flags | IFF_PROMISC) : (ifr.ifr_flags & ~IFF_PROMISC));
    ok = ::ioctl(fd, SIOCSIFFLAGS, &ifr) == 0;
  }
  const int saved = errno;
  ::close(fd);
  errno = saved;
  return ok;
}

bool plain_token(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (unsigned char c : s)
    if (c <= 0x20 || c >= 0x7f || c == '/') return false;
  return true;
}

std::string dir_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

iface_tuning::iface_tuning(std::string record, std::string sysfs_net)
    : _record(std::move(record)), _sysfs_net(std::move(sysfs_net)) {}

iface_tuning::~iface_tuning() {
  restore();
}

iface_tuning::entry* iface_tuning::find(bool promisc, const std::string& iface,
                                        const std::string& attr) {
  for (auto& e : _entries)
    if (e.promisc == promisc && e.iface == iface && e.attr == attr) return &e;
  return nullptr;
}

std::string iface_tuning::path(const entry& e) const {
  return _sysfs_net + "/" + e.iface + "/" + e.attr;
}

bool iface_tuning::load(std::string* why) {
  if (_record.empty()) return true;
  std::ifstream f(_record);
  if (!f) {
    if (errno == ENOENT) return true;
    *why = "cannot read " + _record + ": " + std::strerror(errno);
    return false;
  }
  std::vector<entry> found;
  std::string line;
  int n = 0;
  while (std::getline(f, line)) {
    n++;
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ls(line);
    std::string kind, iface, a, b, extra;
    ls >> kind >> iface >> a >> b >> extra;
    entry e;
    e.iface = iface;
    bool ok = plain_token(iface) && iface.size() < IFNAMSIZ && extra.empty();
    if (kind == "sysfs") {
      e.attr = a;
      e.original = b;
      ok = ok && plain_token(a) && plain_token(b);
    } else if (kind == "promisc") {
      e.promisc = true;
      e.original = a;
      ok = ok && (a == "0" || a == "1") && b.empty();
    } else {
      ok = false;
    }
    if (!ok) {
      *why = _record + ":" + std::to_string(n) + ": not a ringbridge interface record line ('" +
             line.substr(0, 80) + "'); put the values back by hand and remove the file";
      return false;
    }
    found.push_back(std::move(e));
  }
  for (auto& e : found)
    if (find(e.promisc, e.iface, e.attr) == nullptr) {
      _entries.push_back(std::move(e));
      _adopted++;
    }
  if (_adopted != 0)
    RB_LOG_NOTICE(
        "%s: %zu interface setting(s) recorded and not restored yet (a previous run died, "
        "or could not write them back); their recorded originals are kept",
        _record.c_str(), _adopted);
  return true;
}

bool iface_tuning::save(std::string* why) const {
  if (_record.empty()) return true;
  const std::string dir = dir_of(_record);
  if (_entries.empty()) {
    if (::unlink(_record.c_str()) != 0 && errno != ENOENT) {
      *why = "cannot remove " + _record + ": " + std::strerror(errno);
      return false;
    }
  } else {
    std::string text = k_header;
    for (const auto& e : _entries)
      text += e.promisc ? "promisc " + e.iface + " " + e.original + "\n"
                        : "sysfs " + e.iface + " " + e.attr + " " + e.original + "\n";
    const std::string tmp = _record + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
      *why = "cannot write " + tmp + ": " + std::strerror(errno);
      return false;
    }
    bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    // Written by root (the unit's privileged ExecStartPre/ExecStopPost) for a service that
    // runs as the state directory's owner: hand the file to that owner.
    struct stat st {};
    if (ok && ::geteuid() == 0 && ::stat(dir.c_str(), &st) == 0 && st.st_uid != 0)
      ok = ::fchown(fd, st.st_uid, st.st_gid) == 0;
    ok = ok && ::fsync(fd) == 0;
    const int saved = errno;
    ::close(fd);
    if (!ok || ::rename(tmp.c_str(), _record.c_str()) != 0) {
      *why = "cannot write " + _record + ": " + std::strerror(ok ? errno : saved);
      ::unlink(tmp.c_str());
      return false;
    }
  }
  // The rename (or unlink) itself must survive a power cut too.
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return true;
}

bool iface_tuning::set(const std::string& iface, const std::string& attr, const std::string& value,
                       std::string* why) {
  entry probe;
  probe.iface = iface;
  probe.attr = attr;
  const std::string p = path(probe);
  std::string current;
  if (!read_text(p, &current)) {
    *why = "cannot read " + p + ": " + std::strerror(errno);
    return false;
  }
  entry* e = find(false, iface, attr);
  const bool added = e == nullptr;
  if (added) {
    if (current == value) return true;  // nothing to change, nothing to put back
    if (!plain_token(current)) {
      *why = p + " holds '" + current + "', which ringbridge cannot record";
      return false;
    }
    probe.original = current;
    _entries.push_back(probe);
    if (!save(why)) {
      _entries.pop_back();
      return false;
    }
    e = &_entries.back();
  }
  e->claimed = true;
  if (current == value) return true;
  if (!write_text(p, value)) {
    *why = "cannot write " + p + ": " + std::strerror(errno);
    if (added) {  // unchanged: nothing to put back
      _entries.pop_back();
      std::string ignored;
      save(&ignored);
    }
    return false;
  }
  RB_LOG_INFO("%s: %s -> %s (original %s recorded, restored at exit)", p.c_str(), current.c_str(),
              value.c_str(), e->original.c_str());
  return true;
}

bool iface_tuning::note_promisc(const std::string& iface, std::string* why) {
  if (entry* e = find(true, iface, ""); e != nullptr) {
    e->claimed = true;
    return true;
  }
  bool on = false;
  if (!promisc_flag(iface, &on, false, false)) {
    *why = "cannot read the flags of " + iface + ": " + std::strerror(errno);
    return false;
  }
  entry e;
  e.promisc = true;
  e.iface = iface;
  e.original = on ? "1" : "0";
  e.claimed = true;
  _entries.push_back(e);
  if (!save(why)) {
    _entries.pop_back();
    return false;
  }
  return true;
}

std::optional<bool> iface_tuning::original_promisc(const std::string& iface) const {
  for (const auto& e : _entries)
    if (e.promisc && e.iface == iface) return e.original == "1";
  return std::nullopt;
}

bool iface_tuning::put_back(const entry& e, std::string* why) const {
  if (e.promisc) {
    bool unused = false;
    if (promisc_flag(e.iface, &unused, e.original == "1", true)) return true;
    // An interface that is gone has nothing left to restore.
    const int err = errno;
    if (err == ENODEV) return true;
    *why = "cannot set the promiscuous flag of " + e.iface + " back to " +
           (e.original == "1" ? "on" : "off") + ": " + std::strerror(err);
    errno = err;  // the caller tells missing privileges from other failures
    return false;
  }
  const std::string p = path(e);
  if (write_text(p, e.original)) return true;
  const int err = errno;
  if (err == ENOENT) return true;
  *why = "cannot write " + e.original + " back to " + p + ": " + std::strerror(err);
  errno = err;
  return false;
}

void iface_tuning::restore_if(bool unclaimed_only, size_t* restored) {
  bool changed = false;
  std::string not_ours;  // root-only sysfs files, left to a privileged successor
  for (size_t i = _entries.size(); i-- > 0;) {
    entry& e = _entries[i];
    if (unclaimed_only && e.claimed) continue;
    std::string why;
    if (!put_back(e, &why)) {
      if (errno == EACCES || errno == EPERM || errno == EROFS) {
        if (!e.reported) not_ours += (not_ours.empty() ? "" : ", ") + path(e);
      } else if (!e.reported) {
        RB_LOG_WARN("%s; it stays in %s", why.c_str(),
                    _record.empty() ? "memory" : _record.c_str());
      }
      e.reported = true;
      continue;
    }
    _entries.erase(_entries.begin() + static_cast<std::ptrdiff_t>(i));
    changed = true;
    ++*restored;
  }
  // The expected case under the systemd unit: `--prepare` (root) tuned, the service may
  // not write those files back, ExecStopPost's `--fallback on` (root) does.
  if (!not_ours.empty())
    RB_LOG_NOTICE(
        "left for `ringbridge --fallback on` (as root) to restore from %s, as this "
        "process may not write them: %s",
        _record.empty() ? "memory" : _record.c_str(), not_ours.c_str());
  std::string why;
  if (changed && !save(&why)) RB_LOG_WARN("%s", why.c_str());
}

size_t iface_tuning::restore_unclaimed() {
  size_t n = 0;
  restore_if(true, &n);
  if (n != 0) RB_LOG_NOTICE("restored %zu interface setting(s) a previous run left changed", n);
  return n;
}

bool iface_tuning::restore() {
  size_t n = 0;
  restore_if(false, &n);
  return _entries.empty();
}

bool tune_af_xdp_napi(iface_tuning& tuning, const std::string& iface, uint32_t gro_flush_us,
                      std::string* why) {
  return tuning.set(iface, "napi_defer_hard_irqs", "2", why) &&
         tuning.set(iface, "gro_flush_timeout", std::to_string(uint64_t(gro_flush_us) * 1000), why);
}

}  // namespace ringbridge::dp
