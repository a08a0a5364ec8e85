// SPDX-License-Identifier: BSD-3-Clause
// The HEPv3 export sink.
#include "hep_sink.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>

#include "ringbridge/common/log.h"
#include "ringbridge/common/utf8.h"
#include "ringbridge/notify/net.h"

namespace ringbridge::plugin::hep {

namespace {
void put16(std::string* o, uint16_t v) {
  o->push_back(static_cast<char>(v >> 8));
  o->push_back(static_cast<char>(v & 0xFF));
}
void chunk(std::string* o, uint16_t type, const void* data, size_t len) {
  put16(o, 0);  // vendor: generic
  put16(o, type);
  put16(o, static_cast<uint16_t>(6 + len));
  o->append(static_cast<const char*>(data), len);
}
void chunk8(std::string* o, uint16_t type, uint8_t v) {
  chunk(o, type, &v, 1);
}
void chunk16(std::string* o, uint16_t type, uint16_t v) {
  const uint8_t b[2] = {static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
  chunk(o, type, b, 2);
}
void chunk32(std::string* o, uint16_t type, uint32_t v) {
  const uint8_t b[4] = {static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16),
                        static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
  chunk(o, type, b, 4);
}
}  // namespace

std::string encode(const sip_message& m, uint32_t capture_id, const std::string& password) {
  std::string o;
  o.reserve(m.data.size() + 128);
  o.append("HEP3");
  put16(&o, 0);  // total length, filled in below
  const bool v6 = m.ip_version == 6;
  chunk8(&o, 0x0001, v6 ? 10 : 2);
  chunk8(&o, 0x0002, m.transport);
  chunk(&o, v6 ? 0x0005 : 0x0003, m.src, v6 ? 16 : 4);
  chunk(&o, v6 ? 0x0006 : 0x0004, m.dst, v6 ? 16 : 4);
  chunk16(&o, 0x0007, m.sport);
  chunk16(&o, 0x0008, m.dport);
  const double secs = std::floor(m.time);
  chunk32(&o, 0x0009, static_cast<uint32_t>(secs));
  chunk32(&o, 0x000a, static_cast<uint32_t>(std::llround((m.time - secs) * 1e6)) % 1000000);
  chunk8(&o, 0x000b, k_proto_sip);
  chunk32(&o, 0x000c, capture_id);
  if (!password.empty()) chunk(&o, 0x000e, password.data(), password.size());
  // The correlation id is text for the collector's index: valid UTF-8. The payload
  // (0x000f) is the SIP message as captured, byte for byte: it is the wire record.
  const std::string cid = utf8_sanitize(m.call_id);
  const size_t room = 65535 - o.size() - 6 - (cid.size() + 6);
  chunk(&o, 0x000f, m.data.data(), std::min(m.data.size(), room));
  chunk(&o, 0x0011, cid.data(), cid.size());
  o[4] = static_cast<char>(o.size() >> 8);
  o[5] = static_cast<char>(o.size() & 0xFF);
  return o;
}

namespace {

class hep_sink final : public sink {
 public:
  hep_sink(std::string host, uint16_t port, bool tcp, uint32_t capture_id, std::string password)
      : _host(std::move(host)),
        _port(port),
        _tcp(tcp),
        _capture_id(capture_id),
        _password(std::move(password)) {}
  ~hep_sink() override { close_fd(); }

  bool wants_sip_messages() const override { return true; }
  bool wants_call_events() const override { return false; }
  bool on_call_event(const call_event&) override { return true; }

  void open() override { connect_now(); }

  bool on_sip_message(const sip_message& m) override {
    if (_fd < 0 && !connect_now()) return false;
    const std::string pkt = encode(m, _capture_id, _password);
    std::string err;
    bool ok = false;
    if (_tcp) {
      ok = net::send_all(_fd, pkt.data(), pkt.size(), 2000, &err);
    } else {
      ok = ::send(_fd, pkt.data(), pkt.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(pkt.size());
      if (!ok) err = std::strerror(errno);
    }
    if (!ok) {
      warn("send: " + err);
      close_fd();
    }
    return ok;
  }

 private:
  bool connect_now() {
    // After a failure, try again at most once a second (messages meanwhile count as failed).
    const auto now = std::chrono::steady_clock::now();
    if (now < _next_try) return false;
    _next_try = now + std::chrono::seconds(1);
    std::string err;
    net::endpoint ep;
    if (!net::resolve(_host, _port, _tcp ? SOCK_STREAM : SOCK_DGRAM, &ep, &err)) {
      warn(err);
      return false;
    }
    if (_tcp) {
      _fd = net::tcp_connect(ep, 2000, &err);
    } else {
      _fd = ::socket(ep.addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      if (_fd >= 0 && ::connect(_fd, reinterpret_cast<const sockaddr*>(&ep.addr), ep.len) != 0) {
        err = std::strerror(errno);
        close_fd();
      }
    }
    if (_fd < 0) warn("connect: " + err);
    return _fd >= 0;
  }
  void close_fd() {
    if (_fd >= 0) ::close(_fd);
    _fd = -1;
  }
  void warn(const std::string& what) {
    if (_warned++ < 5)
      RB_LOG_WARN("notify hep %s:%u/%s: %s", _host.c_str(), _port, _tcp ? "tcp" : "udp",
                  what.c_str());
  }

  std::string _host;
  uint16_t _port;
  bool _tcp;
  uint32_t _capture_id;
  std::string _password;
  int _fd = -1;
  std::chrono::steady_clock::time_point _next_try{};
  unsigned _warned = 0;
};

std::unique_ptr<sink> create(settings& s) {
  std::string host;
  uint16_t port = 0;
  const std::string addr = s.get_string("address", "");
  if (!split_host_port(addr, &host, &port))
    s.fail("address", "set the collector as \"host:port\", e.g. address = \"10.0.0.5:9060\"");
  const bool tcp = s.get_choice("transport", "udp", {"udp", "tcp"}) == "tcp";
  const auto id = static_cast<uint32_t>(s.get_int("capture_id", 2001, 0, 0xFFFFFFFFLL));
  std::string password = s.get_string("password", "");
  return std::make_unique<hep_sink>(host, port, tcp, id, password);
}

}  // namespace
}  // namespace ringbridge::plugin::hep

namespace ringbridge::plugin {
RB_REGISTER_SINK(hep, sink_factory{
                          "hep", "HEPv3 export of SIP messages (Homer)", hep::create, {}, false});
}  // namespace ringbridge::plugin
