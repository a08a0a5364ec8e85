// SPDX-License-Identifier: BSD-3-Clause
// Socket helpers for sinks.
#include "ringbridge/notify/net.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace ringbridge::plugin::net {

namespace {
int ms_left(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

bool wait_fd(int fd, short events, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int r = ::poll(&p, 1, ms_left(deadline));
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) return false;
  }
}
}  // namespace

fd_guard::~fd_guard() {
  if (fd >= 0) ::close(fd);
}

bool resolve(const std::string& host, uint16_t port, int socktype, endpoint* out,
             std::string* error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = socktype;
  addrinfo* res = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res);
  if (rc != 0 || res == nullptr) {
    *error = "cannot resolve '" + host + "': " + gai_strerror(rc);
    return false;
  }
  std::memcpy(&out->addr, res->ai_addr, res->ai_addrlen);
  out->len = res->ai_addrlen;
  out->text =
      (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
  ::freeaddrinfo(res);
  return true;
}

int tcp_connect(const endpoint& ep, int timeout_ms, std::string* error) {
  const int fd = ::socket(ep.addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    *error = std::string("socket: ") + std::strerror(errno);
    return -1;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&ep.addr), ep.len) != 0) {
    if (errno != EINPROGRESS) {
      *error = "connect to " + ep.text + ": " + std::strerror(errno);
      ::close(fd);
      return -1;
    }
    if (!wait_fd(fd, POLLOUT, deadline)) {
      *error = "connect to " + ep.text + ": timed out";
      ::close(fd);
      return -1;
    }
    int err = 0;
    socklen_t len = sizeof(err);
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      *error = "connect to " + ep.text + ": " + std::strerror(err);
      ::close(fd);
      return -1;
    }
  }
  return fd;
}

bool send_all(int fd, const void* data, size_t len, int timeout_ms, std::string* error) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  const auto* p = static_cast<const uint8_t*>(data);
  while (len != 0) {
    const ssize_t n = ::send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      p += n;
      len -= static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      if (!wait_fd(fd, POLLOUT, deadline)) {
        *error = "send: timed out";
        return false;
      }
      continue;
    }
    *error = std::string("send: ") + std::strerror(errno);
    return false;
  }
  return true;
}

bool recv_until(int fd, const std::string& terminator, size_t max_bytes, int timeout_ms,
                std::string* out, std::string* error) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  out->clear();
  char buf[2048];
  while (out->size() < max_bytes) {
    const ssize_t n = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n > 0) {
      out->append(buf, static_cast<size_t>(n));
      if (out->size() >= terminator.size() &&
          out->compare(out->size() - terminator.size(), terminator.size(), terminator) == 0)
        return true;
      continue;
    }
    if (n == 0) return !out->empty();  // the peer closed after answering
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
      if (!wait_fd(fd, POLLIN, deadline)) {
        *error = "no answer: timed out";
        return false;
      }
      continue;
    }
    *error = std::string("recv: ") + std::strerror(errno);
    return false;
  }
  return true;
}

}  // namespace ringbridge::plugin::net
