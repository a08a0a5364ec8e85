// SPDX-License-Identifier: BSD-3-Clause
// Host checks before the ports open: capabilities, and XDP programs left by a dead run.
#include "ringbridge/dp/host_access.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <net/if.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "ringbridge/dp/eal.h"

namespace ringbridge::dp {

namespace {

// libxdp's AF_XDP default program (xsk_def_xdp_prog*.o), the one net_af_xdp attaches.
constexpr const char* k_xsk_prog = "xsk_def_prog";

// Whether a live process holds one of the programs IDS open (libxdp keeps the program of
// its sockets open): /proc/<pid>/fdinfo of a BPF program fd says "prog_id:\t<id>". A
// killed process holds nothing, so its program is stale. Processes this one may not
// inspect are not seen (the unit's ProtectProc=invisible hides other users' only).
bool program_in_use(const std::vector<uint32_t>& ids) {
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return false;
  bool used = false;
  char buf[4096];
  const long self = static_cast<long>(getpid());
  while (!used) {
    const dirent* p = readdir(proc);
    if (p == nullptr) break;
    if (p->d_name[0] < '1' || p->d_name[0] > '9') continue;
    if (std::strtol(p->d_name, nullptr, 10) == self) continue;  // holds it to read it
    const std::string dir = std::string("/proc/") + p->d_name + "/fdinfo";
    DIR* fds = opendir(dir.c_str());
    if (fds == nullptr) continue;
    while (!used) {
      const dirent* f = readdir(fds);
      if (f == nullptr) break;
      if (f->d_name[0] == '.') continue;
      const int fd = open((dir + "/" + f->d_name).c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) continue;
      const ssize_t n = read(fd, buf, sizeof(buf) - 1);
      close(fd);
      if (n <= 0) continue;
      buf[n] = '\0';
      const char* at = std::strstr(buf, "prog_id:");
      if (at == nullptr) continue;
      const unsigned long id = std::strtoul(at + 8, nullptr, 10);
      for (uint32_t want : ids) used = used || id == want;
    }
    closedir(fds);
  }
  closedir(proc);
  return used;
}

bool effective_has(const __user_cap_data_struct (&data)[_LINUX_CAPABILITY_U32S_3], int cap) {
  return (data[cap / 32].effective & (1u << (cap % 32))) != 0;
}

}  // namespace

std::vector<missing_capability> missing_capabilities(const std::array<port_spec, 2>& ports) {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
  std::vector<missing_capability> out;
  if (syscall(SYS_capget, &hdr, data) != 0) return out;  // cannot tell: let DPDK report
  rlimit memlock{};
  const bool memlock_unlimited =
      getrlimit(RLIMIT_MEMLOCK, &memlock) == 0 && memlock.rlim_cur == RLIM_INFINITY;
  struct need {
    int cap;
    const char* name;
    const char* af_xdp;     // why AF_XDP needs it (nullptr: it does not)
    const char* af_packet;  // why AF_PACKET needs it
  };
  static const need k_needs[] = {
      {CAP_NET_RAW, "CAP_NET_RAW", "AF_XDP sockets", "AF_PACKET sockets"},
      {CAP_NET_ADMIN, "CAP_NET_ADMIN",
       "attaching the XDP program, busy-poll socket options, promiscuous mode",
       nullptr},  // AF_PACKET: promiscuous as a socket membership, which CAP_NET_RAW allows
      {CAP_SYS_ADMIN, "CAP_SYS_ADMIN",
       "libxdp opening its XDP program by id (BPF_PROG_GET_FD_BY_ID) to find the socket map",
       nullptr},
      {CAP_IPC_LOCK, "CAP_IPC_LOCK",
       "the UMEM packet buffer is locked memory (or run with an unlimited RLIMIT_MEMLOCK)",
       nullptr},
  };
  for (const need& n : k_needs) {
    if (effective_has(data, n.cap)) continue;
    if (n.cap == CAP_IPC_LOCK && memlock_unlimited) continue;
    std::string why;
    for (int side = 0; side < 2; side++) {
      const port_spec& p = ports[side];
      const char* what = p.kind == port_kind::af_xdp      ? n.af_xdp
                         : p.kind == port_kind::af_packet ? n.af_packet
                                                          : nullptr;
      if (what == nullptr) continue;
      const std::string port = std::string("port ") + (side == 0 ? 'a' : 'b') + " (" + p.text + ")";
      if (why.empty())
        why = std::string(what) + ": " + port;
      else if (why.find(what) == 0)
        why += ", " + port;
      else
        why += "; " + std::string(what) + ": " + port;
    }
    if (!why.empty()) out.push_back({n.name, why});
  }
  return out;
}

stale_xdp detach_stale_xdp(const std::string& iface, std::string* msg) {
  msg->clear();
  const int ifindex = static_cast<int>(if_nametoindex(iface.c_str()));
  if (ifindex == 0) return stale_xdp::none;  // no interface, nothing attached
  route_bpf_logs();
  // libxdp's dispatcher pins (bpffs) of programs no longer attached: DPDK's own close leaves
  // them. Needs write access to bpffs (root); without it there is nothing to do here anyway.
  libxdp_clean_references(ifindex);
  xdp_multiprog* mp = xdp_multiprog__get_from_ifindex(ifindex);
  const long err = libxdp_get_error(mp);
  if (err == -ENOENT || (err == 0 && mp == nullptr)) return stale_xdp::none;
  if (err != 0) {
    uint32_t id = 0;
    if (bpf_xdp_query_id(ifindex, 0, &id) == 0 && id == 0) return stale_xdp::none;
    *msg = "interface " + iface + " has an XDP program attached (id " + std::to_string(id) +
           ") whose owner cannot be read (" + std::strerror(static_cast<int>(-err)) +
           "; it needs CAP_SYS_ADMIN); if ringbridge left it, detach it with `ip link set dev " +
           iface + " xdp off`";
    return stale_xdp::failed;
  }
  // Ours: the default AF_XDP program alone, or libxdp's dispatcher running only that.
  std::string names;
  bool ours = true;
  std::vector<uint32_t> ids;
  if (xdp_multiprog__is_legacy(mp)) {
    const xdp_program* main = xdp_multiprog__main_prog(mp);
    const char* name = xdp_program__name(main);
    names = name != nullptr ? name : "?";
    ours = names == k_xsk_prog;
    ids.push_back(xdp_program__id(main));
  } else {
    ids.push_back(xdp_program__id(xdp_multiprog__main_prog(mp)));
    for (xdp_program* p = xdp_multiprog__next_prog(nullptr, mp); p != nullptr;
         p = xdp_multiprog__next_prog(p, mp)) {
      const char* name = xdp_program__name(p);
      names += (names.empty() ? "" : ", ") + std::string(name != nullptr ? name : "?");
      ours = ours && name != nullptr && std::strcmp(name, k_xsk_prog) == 0;
      ids.push_back(xdp_program__id(p));
    }
    ours = ours && !names.empty();
    names = "dispatcher with " + (names.empty() ? std::string("no programs") : names);
  }
  // Held open by a live process: another ringbridge runs on these interfaces (with
  // another state directory); taking its program away would cut that one's wire.
  if (ours && program_in_use(ids)) {
    xdp_multiprog__close(mp);
    *msg = "interface " + iface + " is in use by a running AF_XDP program (" + names +
           " held open by a live process, e.g. another ringbridge): stop that one first";
    return stale_xdp::in_use;
  }
  if (!ours) {
    xdp_multiprog__close(mp);
    *msg = "interface " + iface + " has an XDP program ringbridge did not load (" + names +
           "); ringbridge leaves it alone, but AF_XDP needs the interface to itself: detach "
           "it (`ip link set dev " +
           iface + " xdp off`) if nothing else needs it";
    return stale_xdp::foreign;
  }
  const int rc = xdp_multiprog__detach(mp);
  xdp_multiprog__close(mp);
  if (rc != 0) {
    *msg = "cannot detach the stale XDP program (" + names + ") from " + iface + ": " +
           std::strerror(-rc) + "; detach it with `ip link set dev " + iface + " xdp off`";
    return stale_xdp::failed;
  }
  *msg = "detached the XDP program (" + names + ") a previous run left on " + iface;
  return stale_xdp::detached;
}

}  // namespace ringbridge::dp
