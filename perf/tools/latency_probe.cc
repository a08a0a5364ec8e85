// SPDX-License-Identifier: BSD-3-Clause
// Timestamped UDP probes for one-way latency through a device under test on this host.
//
//   rb_latency send DST_IP PORT PPS SECONDS    paced probes: seq (u32) + send time (u64 ns)
//   rb_latency recv PORT SECONDS               kernel receive timestamps (SO_TIMESTAMPNS);
//                                              prints one JSON line with the percentiles
//
// Sender and receiver run in two network namespaces of the same host, so both read the
// same CLOCK_REALTIME. The sender paces with absolute sleeps (it must not steal the CPU
// from the load generator).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

struct probe {
  uint32_t seq;
  uint64_t sent_ns;
} __attribute__((packed));

uint64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

int usage() {
  std::fprintf(stderr,
               "usage: rb_latency send DST_IP PORT PPS SECONDS\n"
               "       rb_latency recv PORT SECONDS\n");
  return 2;
}

int do_send(const char* dst, int port, double pps, double seconds) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  if (fd < 0 || inet_pton(AF_INET, dst, &to.sin_addr) != 1 || pps <= 0) return usage();
  const auto count = static_cast<uint32_t>(pps * seconds);
  const auto gap = static_cast<uint64_t>(1e9 / pps);
  timespec next{};
  clock_gettime(CLOCK_MONOTONIC, &next);
  uint32_t sent = 0;
  char buf[64] = {};
  for (uint32_t seq = 0; seq < count; seq++) {
    next.tv_nsec += static_cast<long>(gap);
    while (next.tv_nsec >= 1000000000L) {
      next.tv_nsec -= 1000000000L;
      next.tv_sec++;
    }
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr);
    probe p{seq, now_ns()};
    std::memcpy(buf, &p, sizeof(p));
    if (sendto(fd, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to)) > 0) sent++;
  }
  std::printf("{\"sent\": %u}\n", sent);
  return 0;
}

double pct(std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  size_t i = static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

int do_recv(int port, double seconds) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  int on = 1;
  int rcvbuf = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  sockaddr_in me{};
  me.sin_family = AF_INET;
  me.sin_port = htons(static_cast<uint16_t>(port));
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&me), sizeof(me)) != 0) {
    std::fprintf(stderr, "rb_latency: bind port %d: %s\n", port, std::strerror(errno));
    return 1;
  }
  timeval tv{0, 200000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  std::printf("{\"listening\": true}\n");
  std::fflush(stdout);
  std::vector<double> lat_us;
  uint32_t max_seq = 0;
  const uint64_t end = now_ns() + static_cast<uint64_t>(seconds * 1e9);
  while (now_ns() < end) {
    char buf[128];
    char ctrl[128];
    iovec iov{buf, sizeof(buf)};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = ctrl;
    msg.msg_controllen = sizeof(ctrl);
    ssize_t n = recvmsg(fd, &msg, 0);
    if (n < static_cast<ssize_t>(sizeof(probe))) continue;
    probe p;
    std::memcpy(&p, buf, sizeof(p));
    uint64_t rx = 0;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
        timespec ts;
        std::memcpy(&ts, CMSG_DATA(c), sizeof(ts));
        rx = uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
      }
    }
    if (rx == 0 || rx < p.sent_ns) continue;
    lat_us.push_back(static_cast<double>(rx - p.sent_ns) / 1000.0);
    max_seq = std::max(max_seq, p.seq);
  }
  std::sort(lat_us.begin(), lat_us.end());
  std::printf(
      "{\"received\": %zu, \"max_seq\": %u, \"p50_us\": %.2f, \"p99_us\": %.2f, "
      "\"p999_us\": %.2f, \"max_us\": %.2f}\n",
      lat_us.size(), max_seq, pct(lat_us, 0.50), pct(lat_us, 0.99), pct(lat_us, 0.999),
      lat_us.empty() ? 0.0 : lat_us.back());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 6 && std::strcmp(argv[1], "send") == 0)
    return do_send(argv[2], std::atoi(argv[3]), std::atof(argv[4]), std::atof(argv[5]));
  if (argc == 4 && std::strcmp(argv[1], "recv") == 0)
    return do_recv(std::atoi(argv[2]), std::atof(argv[3]));
  return usage();
}
