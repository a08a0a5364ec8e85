// SPDX-License-Identifier: BSD-3-Clause
// The kernel-bridge fallback over route netlink (libnl), the state-directory lock and the
// one-shot modes the systemd unit runs before and after the service.
#include "ringbridge/ctl/ha.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/socket.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "ringbridge/common/log.h"
#include "ringbridge/ctl/appliance.h"
#include "ringbridge/dp/host_access.h"
#include "ringbridge/dp/iface_tuning.h"

namespace ringbridge::ctl {

namespace {

// The fallback bridge carries this alias; only a bridge with it is ever removed.
constexpr const char* k_alias_prefix = "ringbridge fallback";
// Link-local group addresses 01:80:c2:00:00:0X the bridge forwards: all the kernel allows
// (0-2, STP/pause/LACP, are never forwarded; with STP off the kernel forwards STP BPDUs
// anyway), so 802.1X and LLDP cross as they cross ringbridge.
constexpr uint16_t k_group_fwd_mask = 0xfff8;

class nl_route {
 public:
  ~nl_route() {
    if (_sk != nullptr) nl_socket_free(_sk);
  }
  bool open(std::string* error) {
    _sk = nl_socket_alloc();
    if (_sk == nullptr) {
      *error = "cannot allocate a netlink socket";
      return false;
    }
    const int rc = nl_connect(_sk, NETLINK_ROUTE);
    if (rc < 0) {
      *error = std::string("cannot open a route netlink socket: ") + nl_geterror(rc);
      return false;
    }
    return true;
  }
  nl_sock* sk() const { return _sk; }

 private:
  nl_sock* _sk = nullptr;
};

struct link_ref {
  rtnl_link* l = nullptr;
  ~link_ref() {
    if (l != nullptr) rtnl_link_put(l);
  }
};

// 0 when found, -NLE_OBJ_NOTFOUND when there is no such device, another libnl error else.
int get_link(nl_sock* sk, const std::string& name, link_ref* out) {
  const int rc = rtnl_link_get_kernel(sk, 0, name.c_str(), &out->l);
  return rc == -NLE_NODEV ? -NLE_OBJ_NOTFOUND : rc;
}

bool is_ours(rtnl_link* l) {
  const char* type = rtnl_link_get_type(l);
  const char* alias = rtnl_link_get_ifalias(l);
  return type != nullptr && std::strcmp(type, "bridge") == 0 && alias != nullptr &&
         std::strncmp(alias, k_alias_prefix, std::strlen(k_alias_prefix)) == 0;
}

// RTM_NEWLINK on an existing device: optionally a new master, optionally up.
int set_link(nl_sock* sk, int ifindex, int master, bool up) {
  nl_msg* msg = nlmsg_alloc_simple(RTM_NEWLINK, 0);
  if (msg == nullptr) return -NLE_NOMEM;
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = ifindex;
  if (up) {
    ifi.ifi_flags = IFF_UP;
    ifi.ifi_change = IFF_UP;
  }
  int rc = nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO);
  if (rc == 0 && master >= 0) rc = nla_put_u32(msg, IFLA_MASTER, static_cast<uint32_t>(master));
  if (rc < 0) {
    nlmsg_free(msg);
    return rc;
  }
  return nl_send_sync(sk, msg);  // frees msg, waits for the kernel's ack
}

// libnl-route has no setters for the bridge's own attributes (IFLA_INFO_DATA), so the
// request is built by hand.
int create_bridge(nl_sock* sk, const std::string& name) {
  nl_msg* msg = nlmsg_alloc_simple(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  if (msg == nullptr) return -NLE_NOMEM;
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  bool ok = nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) == 0 &&
            nla_put_string(msg, IFLA_IFNAME, name.c_str()) == 0;
  nlattr* info = ok ? nla_nest_start(msg, IFLA_LINKINFO) : nullptr;
  ok = info != nullptr && nla_put_string(msg, IFLA_INFO_KIND, "bridge") == 0;
  nlattr* data = ok ? nla_nest_start(msg, IFLA_INFO_DATA) : nullptr;
  ok = data != nullptr && nla_put_u32(msg, IFLA_BR_STP_STATE, 0) == 0 &&
       nla_put_u32(msg, IFLA_BR_FORWARD_DELAY, 0) == 0 &&
       nla_put_u8(msg, IFLA_BR_MCAST_SNOOPING, 0) == 0 &&
       nla_put_u16(msg, IFLA_BR_GROUP_FWD_MASK, k_group_fwd_mask) == 0;
  if (!ok) {
    nlmsg_free(msg);
    return -NLE_NOMEM;
  }
  nla_nest_end(msg, data);
  nla_nest_end(msg, info);
  return nl_send_sync(sk, msg);
}

// The kernel takes these only for an existing device (set while the bridge is down):
// the alias that marks the bridge as ringbridge's, and no IPv6 link-local address: an
// addressless bridge sends nothing of its own (no router solicitations, no MLD reports)
// onto the wire it stands in for.
int mark_bridge(nl_sock* sk, int ifindex, const std::string& alias) {
  nl_msg* msg = nlmsg_alloc_simple(RTM_NEWLINK, 0);
  if (msg == nullptr) return -NLE_NOMEM;
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = ifindex;
  bool ok = nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) == 0 &&
            nla_put_string(msg, IFLA_IFALIAS, alias.c_str()) == 0;
  nlattr* af = ok ? nla_nest_start(msg, IFLA_AF_SPEC) : nullptr;
  nlattr* in6 = af != nullptr ? nla_nest_start(msg, AF_INET6) : nullptr;
  ok = in6 != nullptr && nla_put_u8(msg, IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE) == 0;
  if (!ok) {
    nlmsg_free(msg);
    return -NLE_NOMEM;
  }
  nla_nest_end(msg, in6);
  nla_nest_end(msg, af);
  return nl_send_sync(sk, msg);
}

std::string dir_owner_note(const std::string& dir) {
  struct stat st {};
  if (stat(dir.c_str(), &st) != 0) return "";
  return " (owner uid " + std::to_string(st.st_uid) + ")";
}

}  // namespace

std::string iface_record_path(const config& cfg) {
  return cfg.storage.state_dir + "/iface-record";
}

std::string fallback_bridge_name(const config& cfg, const std::array<dp::port_spec, 2>& ports) {
  if (!cfg.ha.bridge.empty()) return cfg.ha.bridge;
  if (!ports[0].is_kernel_iface()) return "";
  return ("rbfb-" + ports[0].iface).substr(0, 15);
}

bool check_ha_config(const config& cfg, const std::array<dp::port_spec, 2>& ports,
                     std::string* error) {
  if (cfg.ha.fallback != config::ha_section::fallback_kind::kernel_bridge) return true;
  for (int s = 0; s < 2; s++)
    if (!ports[s].is_kernel_iface()) {
      *error = std::string(
                   "[ha] fallback = \"kernel-bridge\" needs two kernel interfaces, but "
                   "port ") +
               (s == 0 ? 'a' : 'b') + " is '" + ports[s].text +
               "'; use xdp:/afpacket: ports or set [ha] fallback = \"none\"";
      return false;
    }
  const std::string name = fallback_bridge_name(cfg, ports);
  if (name == ports[0].iface || name == ports[1].iface) {
    *error = "[ha] bridge = \"" + name + "\" is one of the bridged interfaces; choose another name";
    return false;
  }
  return true;
}

bool state_lock::acquire(const std::string& state_dir, std::string* error) {
  const std::string path = state_dir + "/lock";
  _fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (_fd < 0) {
    *error = "cannot open " + path + ": " + std::strerror(errno) +
             "; the state directory must belong to the user ringbridge runs as" +
             dir_owner_note(state_dir);
    return false;
  }
  // Made by root (the unit's privileged helpers) for a service that runs as the directory's
  // owner: hand the file over.
  struct stat st {};
  if (geteuid() == 0 && stat(state_dir.c_str(), &st) == 0 && st.st_uid != 0 &&
      fchown(_fd, st.st_uid, st.st_gid) != 0)
    RB_LOG_WARN("cannot hand %s to uid %u: %s", path.c_str(), st.st_uid, std::strerror(errno));
  if (flock(_fd, LOCK_EX | LOCK_NB) != 0) {
    char buf[32] = {};
    const ssize_t n = pread(_fd, buf, sizeof(buf) - 1, 0);
    std::string pid = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "?";
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
    *error = "another ringbridge (pid " + pid + ") is running with [storage] state_dir = '" +
             state_dir + "'; stop it first, or give this one its own state_dir";
    ::close(_fd);
    _fd = -1;
    return false;
  }
  const std::string pid = std::to_string(getpid()) + "\n";
  if (ftruncate(_fd, 0) != 0 || pwrite(_fd, pid.data(), pid.size(), 0) < 0)
    RB_LOG_DEBUG("cannot write the pid into %s: %s", path.c_str(), std::strerror(errno));
  return true;
}

state_lock::~state_lock() {
  if (_fd >= 0) ::close(_fd);  // releases the flock
}

bool fallback_bridge_up(const std::string& name, const std::array<std::string, 2>& ifaces,
                        std::string* error) {
  nl_route nl;
  if (!nl.open(error)) return false;
  link_ref br;
  int rc = get_link(nl.sk(), name, &br);
  if (rc == 0 && !is_ours(br.l)) {
    *error = "a device named '" + name +
             "' exists and is not a ringbridge fallback bridge; ringbridge leaves it alone: "
             "set [ha] bridge to another name";
    return false;
  }
  const bool create = rc == -NLE_OBJ_NOTFOUND;
  if (create) {
    rc = create_bridge(nl.sk(), name);
    if (rc < 0) {
      *error = "cannot create the fallback bridge '" + name + "': " + nl_geterror(rc) +
               (rc == -NLE_PERM ? " (needs CAP_NET_ADMIN: run as root)" : "");
      return false;
    }
    rc = get_link(nl.sk(), name, &br);
  }
  if (rc < 0) {
    *error = "cannot look up the fallback bridge '" + name + "': " + nl_geterror(rc);
    return false;
  }
  const int br_index = rtnl_link_get_ifindex(br.l);
  if (create && (rc = mark_bridge(
                     nl.sk(), br_index,
                     std::string(k_alias_prefix) + ": " + ifaces[0] + " <-> " + ifaces[1])) < 0) {
    *error = "cannot set up the new fallback bridge '" + name + "': " + nl_geterror(rc);
    rtnl_link_delete(nl.sk(), br.l);
    return false;
  }
  for (const auto& iface : ifaces) {
    link_ref port;
    rc = get_link(nl.sk(), iface, &port);
    if (rc < 0) {
      *error = "interface '" + iface + "': " + nl_geterror(rc);
      return false;
    }
    const int master = rtnl_link_get_master(port.l);
    if (master != 0 && master != br_index) {
      *error = "interface '" + iface + "' already belongs to another device (ifindex " +
               std::to_string(master) + "); the fallback bridge leaves it alone";
      return false;
    }
    rc = set_link(nl.sk(), rtnl_link_get_ifindex(port.l), br_index, true);
    if (rc < 0) {
      *error =
          "cannot add '" + iface + "' to the fallback bridge '" + name + "': " + nl_geterror(rc);
      return false;
    }
  }
  rc = set_link(nl.sk(), br_index, -1, true);
  if (rc < 0) {
    *error = "cannot bring the fallback bridge '" + name + "' up: " + nl_geterror(rc);
    return false;
  }
  return true;
}

bool fallback_bridge_down(const std::string& name, bool* removed, std::string* error) {
  *removed = false;
  nl_route nl;
  if (!nl.open(error)) return false;
  link_ref br;
  int rc = get_link(nl.sk(), name, &br);
  if (rc == -NLE_OBJ_NOTFOUND) return true;
  if (rc < 0) {
    *error = "cannot look up the fallback bridge '" + name + "': " + nl_geterror(rc);
    return false;
  }
  if (!is_ours(br.l)) {
    *error = "a device named '" + name +
             "' exists and is not a ringbridge fallback bridge; ringbridge leaves it alone: "
             "set [ha] bridge to another name";
    return false;
  }
  rc = rtnl_link_delete(nl.sk(), br.l);
  if (rc < 0) {
    *error = "cannot remove the fallback bridge '" + name + "': " + nl_geterror(rc) +
             (rc == -NLE_PERM ? " (needs CAP_NET_ADMIN)" : "");
    return false;
  }
  *removed = true;
  return true;
}

namespace {

bool all_af_xdp(const std::array<dp::port_spec, 2>& ports) {
  return ports[0].kind == dp::port_kind::af_xdp && ports[1].kind == dp::port_kind::af_xdp;
}

void release_fallback(const config& cfg, const std::array<dp::port_spec, 2>& ports) {
  const std::string name = fallback_bridge_name(cfg, ports);
  if (name.empty()) return;
  bool removed = false;
  std::string err;
  if (!fallback_bridge_down(name, &removed, &err))
    RB_LOG_WARN("%s", err.c_str());
  else if (removed)
    RB_LOG_NOTICE("took the interfaces back from the fallback bridge %s", name.c_str());
}

// XDP programs a killed run left; a foreign program is only reported. False (logged as
// an error) when a live process holds ringbridge's program on an interface: another
// instance runs there, and nothing may touch its interfaces.
bool detach_stale_programs(const std::array<dp::port_spec, 2>& ports) {
  bool ok = true;
  for (const auto& p : ports) {
    if (!p.is_kernel_iface()) continue;
    std::string msg;
    switch (dp::detach_stale_xdp(p.iface, &msg)) {
      case dp::stale_xdp::none: break;
      case dp::stale_xdp::detached: RB_LOG_NOTICE("%s", msg.c_str()); break;
      case dp::stale_xdp::in_use:
        RB_LOG_ERR("%s", msg.c_str());
        ok = false;
        break;
      case dp::stale_xdp::foreign:
      case dp::stale_xdp::failed: RB_LOG_WARN("%s", msg.c_str()); break;
    }
  }
  return ok;
}

}  // namespace

bool release_before_eal(const config& cfg, const std::array<dp::port_spec, 2>& ports) {
  if (!detach_stale_programs(ports)) return false;
  if (!all_af_xdp(ports)) release_fallback(cfg, ports);
  return true;
}

void release_after_start(const config& cfg, const std::array<dp::port_spec, 2>& ports) {
  if (all_af_xdp(ports)) release_fallback(cfg, ports);
}

int run_fallback_mode(const config& cfg, const std::array<dp::port_spec, 2>& ports, bool on) {
  std::string err;
  if (!check_ha_config(cfg, ports, &err)) {
    RB_LOG_ERR("%s", err.c_str());
    return exit_usage_error;
  }
  const std::string name = fallback_bridge_name(cfg, ports);
  if (!on) {
    bool removed = false;
    if (name.empty()) return exit_ok;
    if (!fallback_bridge_down(name, &removed, &err)) {
      RB_LOG_ERR("%s", err.c_str());
      return exit_runtime_error;
    }
    RB_LOG_NOTICE(removed ? "fallback bridge %s removed" : "no fallback bridge %s to remove",
                  name.c_str());
    return exit_ok;
  }

  // Never undo the interface state of a running service. Without a state directory no
  // ringbridge ever ran here and nothing was recorded.
  state_lock lock;
  struct stat st {};
  const bool have_state = stat(cfg.storage.state_dir.c_str(), &st) == 0;
  if (have_state && !lock.acquire(cfg.storage.state_dir, &err)) {
    RB_LOG_ERR("--fallback on: %s", err.c_str());
    return exit_usage_error;
  }
  int status = exit_ok;
  if (have_state) {
    dp::iface_tuning tuning(iface_record_path(cfg));
    if (!tuning.load(&err)) {
      RB_LOG_ERR("%s", err.c_str());
      status = exit_runtime_error;
    } else if (tuning.adopted() != 0) {
      if (tuning.restore())
        RB_LOG_NOTICE("interface settings restored from %s", iface_record_path(cfg).c_str());
      else
        status = exit_runtime_error;  // what failed is logged and stays recorded
    }
  }
  if (!detach_stale_programs(ports)) return exit_usage_error;  // a live instance runs there
  if (cfg.ha.fallback == config::ha_section::fallback_kind::kernel_bridge) {
    if (!fallback_bridge_up(name, {ports[0].iface, ports[1].iface}, &err)) {
      RB_LOG_ERR("%s", err.c_str());
      return exit_runtime_error;
    }
    RB_LOG_NOTICE(
        "fallback: %s and %s are bridged by the kernel (bridge %s) until ringbridge "
        "takes them back",
        ports[0].iface.c_str(), ports[1].iface.c_str(), name.c_str());
  }
  return status;
}

int run_prepare_mode(const config& cfg, const std::array<dp::port_spec, 2>& ports) {
  std::string err;
  state_lock lock;
  if (!lock.acquire(cfg.storage.state_dir, &err)) {
    RB_LOG_ERR("--prepare: %s", err.c_str());
    return exit_usage_error;
  }
  dp::iface_tuning tuning(iface_record_path(cfg));
  if (!tuning.load(&err)) {
    RB_LOG_ERR("%s", err.c_str());
    return exit_runtime_error;
  }
  int status = exit_ok;
  const bool tune = cfg.dataplane.af_xdp_tune_napi && cfg.dataplane.af_xdp_busy_budget > 0;
  for (int s = 0; s < 2; s++) {
    if (!tune || ports[s].kind != dp::port_kind::af_xdp) continue;
    if (!dp::tune_af_xdp_napi(tuning, ports[s].iface, cfg.dataplane.af_xdp_gro_flush_us, &err)) {
      RB_LOG_ERR("port %c: %s", s == 0 ? 'a' : 'b', err.c_str());
      status = exit_runtime_error;
    }
  }
  tuning.restore_unclaimed();
  tuning.hand_over();  // the service adopts it; --fallback on restores it
  return status;
}

}  // namespace ringbridge::ctl
