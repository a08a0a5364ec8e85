// SPDX-License-Identifier: BSD-3-Clause
// The UDP caller-ID sink.
#include "udp_sink.h"

#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>

#include "ringbridge/common/log.h"
#include "ringbridge/notify/net.h"

namespace ringbridge::plugin {

callerid::message callerid_from_event(const call_event& ev) {
  callerid::message m;
  m.event = static_cast<uint8_t>(ev.kind);
  m.inbound = ev.inbound;
  if (ev.number.empty()) m.flags |= callerid::k_flag_withheld;
  if (!ev.name.empty() && ev.name != ev.name_sent) m.flags |= callerid::k_flag_phonebook;
  m.time_us = ev.time > 0 ? static_cast<uint64_t>(std::llround(ev.time * 1e6)) : 0;
  m.status = static_cast<uint16_t>(ev.status_code);
  m.name = ev.name;
  m.number = ev.number;
  m.name_sent = ev.name_sent;
  m.to_number = ev.to_number;
  m.call_id = ev.call_id;
  return m;
}

namespace {

class udp_sink final : public sink {
 public:
  struct target {
    std::string host;
    uint16_t port = 0;
    net::endpoint ep;
    bool resolved = false;
  };
  explicit udp_sink(std::vector<target> t) : _targets(std::move(t)) {}
  ~udp_sink() override {
    for (int fd : _fds)
      if (fd >= 0) ::close(fd);
  }

  bool on_call_event(const call_event& ev) override {
    const std::string dgram = callerid::encode(callerid_from_event(ev));
    bool all = true;
    for (auto& t : _targets) {
      std::string err;
      if (!t.resolved && !(t.resolved = net::resolve(t.host, t.port, SOCK_DGRAM, &t.ep, &err))) {
        warn(err);
        all = false;
        continue;
      }
      const int fd = socket_for(t.ep.addr.ss_family);
      if (fd < 0 || ::sendto(fd, dgram.data(), dgram.size(), 0,
                             reinterpret_cast<const sockaddr*>(&t.ep.addr), t.ep.len) < 0) {
        warn("send to " + t.ep.text + ": " + std::strerror(errno));
        t.resolved = false;  // resolve again next time (DHCP, DNS changes)
        all = false;
      }
    }
    return all;
  }

 private:
  int socket_for(int family) {
    int& fd = _fds[family == AF_INET6 ? 1 : 0];
    if (fd >= 0) return fd;
    fd = ::socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && family == AF_INET) {
      const int on = 1;
      ::setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &on, sizeof(on));
    }
    return fd;
  }
  void warn(const std::string& what) {
    if (_warned++ < 5) RB_LOG_WARN("notify udp: %s", what.c_str());
  }

  std::vector<target> _targets;
  int _fds[2] = {-1, -1};
  unsigned _warned = 0;
};

std::unique_ptr<sink> create(settings& s) {
  std::vector<udp_sink::target> targets;
  for (const auto& t : s.get_strings("targets", {"255.255.255.255:7651"})) {
    udp_sink::target x;
    if (!split_host_port(t, &x.host, &x.port)) {
      s.fail("targets", "\"" + t + "\" is not host:port (e.g. \"192.168.1.255:7651\")");
      return nullptr;
    }
    targets.push_back(std::move(x));
  }
  if (targets.empty()) s.fail("targets", "give at least one \"host:port\"");
  return std::make_unique<udp_sink>(std::move(targets));
}

}  // namespace

RB_REGISTER_SINK(udp, sink_factory{"udp",
                                   "caller-ID datagram on UDP port 7651",
                                   create,
                                   {event_kind::ringing, event_kind::blocked},
                                   true});

}  // namespace ringbridge::plugin
