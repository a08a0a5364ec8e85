// SPDX-License-Identifier: BSD-3-Clause
// Host checks before the ports open: capabilities, and XDP programs left by a dead run.
#include "ringbridge/dp/host_access.h"

#include <linux/capability.h>
#include <net/if.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include <cerrno>
#include <cstring>

namespace ringbridge::dp {

namespace {

// libxdp's AF_XDP default program (xsk_def_xdp_prog*.o), the one net_af_xdp attaches.
constexpr const char* k_xsk_prog = "xsk_def_prog";

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
       "attaching the XDP program, busy-poll socket options, promiscuous mode", "promiscuous mode"},
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

bool detach_stale_xdp(const std::string& iface, std::string* msg) {
  msg->clear();
  const int ifindex = static_cast<int>(if_nametoindex(iface.c_str()));
  if (ifindex == 0) return true;  // no interface, nothing attached
  // libxdp's dispatcher pins (bpffs) of programs no longer attached: DPDK's own close leaves
  // them. Needs write access to bpffs (root); without it there is nothing to do here anyway.
  libxdp_clean_references(ifindex);
  xdp_multiprog* mp = xdp_multiprog__get_from_ifindex(ifindex);
  const long err = libxdp_get_error(mp);
  if (err == -ENOENT || (err == 0 && mp == nullptr)) return true;
  if (err != 0) {
    uint32_t id = 0;
    if (bpf_xdp_query_id(ifindex, 0, &id) == 0 && id == 0) return true;
    *msg = "interface " + iface + " has an XDP program attached (id " + std::to_string(id) +
           ") whose owner cannot be read (" + std::strerror(static_cast<int>(-err)) +
           "; it needs CAP_SYS_ADMIN); if ringbridge left it, detach it with `ip link set dev " +
           iface + " xdp off`";
    return false;
  }
  // Ours: the default AF_XDP program alone, or libxdp's dispatcher running only that.
  std::string names;
  bool ours = true;
  if (xdp_multiprog__is_legacy(mp)) {
    const char* name = xdp_program__name(xdp_multiprog__main_prog(mp));
    names = name != nullptr ? name : "?";
    ours = names == k_xsk_prog;
  } else {
    for (xdp_program* p = xdp_multiprog__next_prog(nullptr, mp); p != nullptr;
         p = xdp_multiprog__next_prog(p, mp)) {
      const char* name = xdp_program__name(p);
      names += (names.empty() ? "" : ", ") + std::string(name != nullptr ? name : "?");
      ours = ours && name != nullptr && std::strcmp(name, k_xsk_prog) == 0;
    }
    ours = ours && !names.empty();
    names = "dispatcher with " + (names.empty() ? std::string("no programs") : names);
  }
  if (!ours) {
    xdp_multiprog__close(mp);
    *msg = "interface " + iface + " has an XDP program ringbridge did not load (" + names +
           "); ringbridge leaves it alone, but AF_XDP needs the interface to itself: detach "
           "it (`ip link set dev " +
           iface + " xdp off`) if nothing else needs it";
    return false;
  }
  const int rc = xdp_multiprog__detach(mp);
  xdp_multiprog__close(mp);
  if (rc != 0) {
    *msg = "cannot detach the stale XDP program (" + names + ") from " + iface + ": " +
           std::strerror(-rc) + "; detach it with `ip link set dev " + iface + " xdp off`";
    return false;
  }
  *msg = "detached the XDP program (" + names + ") a previous run left on " + iface;
  return true;
}

}  // namespace ringbridge::dp
