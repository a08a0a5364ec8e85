// SPDX-License-Identifier: BSD-3-Clause
// Small socket helpers for sinks: name resolution, UDP send, TCP with timeouts. Blocking
// calls, for the sinks' own threads only.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>

namespace ringbridge::plugin::net {

struct endpoint {
  sockaddr_storage addr{};
  socklen_t len = 0;
  std::string text;  ///< "host:port" as configured
};

/// Resolves HOST:PORT (numeric or by name). False with *error.
bool resolve(const std::string& host, uint16_t port, int socktype, endpoint* out,
             std::string* error);

/// A connected TCP socket (or -1 with *error) within TIMEOUT_MS.
int tcp_connect(const endpoint& ep, int timeout_ms, std::string* error);
/// Sends all of DATA within TIMEOUT_MS.
bool send_all(int fd, const void* data, size_t len, int timeout_ms, std::string* error);
/// Reads until the received text ends with TERMINATOR (or the peer closes), at most
/// MAX_BYTES, within TIMEOUT_MS. False on timeout or error.
bool recv_until(int fd, const std::string& terminator, size_t max_bytes, int timeout_ms,
                std::string* out, std::string* error);

/// Closes FD on scope exit.
struct fd_guard {
  int fd = -1;
  explicit fd_guard(int f) : fd(f) {}
  ~fd_guard();
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
};

}  // namespace ringbridge::plugin::net
