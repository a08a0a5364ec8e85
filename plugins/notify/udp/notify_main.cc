// SPDX-License-Identifier: BSD-3-Clause
// ringbridge-notify: receives ringbridge's caller-ID datagrams (UDP 7651) and prints a
// line per call event, or shows a desktop notification (notify-send, no shell involved).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>
#include <string>

#include "callerid_wire.h"
#include "ringbridge/common/json_text.h"
#include "ringbridge/common/utf8.h"
#include "ringbridge/notify/net.h"
#include "ringbridge/notify/settings.h"
#include "ringbridge_build_info.h"

extern char** environ;

namespace {

using ringbridge::plugin::callerid::message;

const char* k_events[] = {"?", "ringing", "answered", "ended", "blocked", "voicemail", "dtmf"};

const char* event_name(uint8_t e) {
  return e < std::size(k_events) ? k_events[e] : "?";
}

void usage(FILE* f) {
  std::fprintf(f,
               "usage: ringbridge-notify [--listen ADDR:PORT] [--json] [--desktop] [--count N]\n"
               "                         [--timeout SECONDS]\n"
               "Receives ringbridge caller-ID datagrams ([notify.udp]) and prints one line per\n"
               "call event.\n"
               "  --listen ADDR:PORT  where to listen (default 0.0.0.0:7651; broadcasts too)\n"
               "  --json              print each event as one JSON object per line\n"
               "  --desktop           also show a desktop notification (notify-send)\n"
               "  --count N           exit after N events\n"
               "  --timeout SECONDS   exit with status 1 if nothing arrives for this long\n");
}

std::string iso(uint64_t us) {
  const time_t s = static_cast<time_t>(us / 1000000);
  tm t{};
  gmtime_r(&s, &t);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", t.tm_year + 1900,
                t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec,
                static_cast<unsigned>(us % 1000000 / 1000));
  return buf;
}

// Text shown to a human: valid UTF-8, control characters out (anyone on the LAN can send
// a datagram, and a caller chooses their display name).
std::string printable(const std::string& s) {
  std::string o;
  for (unsigned char c : ringbridge::utf8_sanitize(s))
    o += (c < 0x20 || c == 0x7F) ? '?' : static_cast<char>(c);
  return o;
}

// notify-send bodies may carry markup: escape it.
std::string markup_escaped(const std::string& s) {
  std::string o;
  for (char c : printable(s)) {
    if (c == '<')
      o += "&lt;";
    else if (c == '>')
      o += "&gt;";
    else if (c == '&')
      o += "&amp;";
    else
      o += c;
  }
  return o;
}

void desktop(const message& m) {
  const std::string who =
      m.name.empty() ? (m.number.empty() ? "Unknown caller" : m.number) : m.name;
  std::string title = std::string(m.event == 1 ? "Incoming call: " : "Call ") +
                      (m.event == 1 ? "" : std::string(event_name(m.event)) + ": ") +
                      printable(who);
  std::string body = markup_escaped(m.number.empty() ? "number withheld" : m.number);
  if (!m.to_number.empty()) body += " → " + markup_escaped(m.to_number);
  const char* argv[] = {"notify-send", "--app-name=ringbridge", title.c_str(), body.c_str(),
                        nullptr};
  pid_t pid = 0;
  if (posix_spawnp(&pid, "notify-send", nullptr, nullptr, const_cast<char**>(argv), environ) != 0) {
    std::fprintf(stderr, "ringbridge-notify: cannot run notify-send: %s\n", std::strerror(errno));
    return;
  }
  int st = 0;
  waitpid(pid, &st, 0);
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen = "0.0.0.0:7651";
  bool json = false, show = false;
  long count = -1;
  double timeout_s = 0;
  for (int i = 1; i < argc; i++) {
    const std::string a = argv[i];
    auto value = [&](const char* flag) -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "ringbridge-notify: %s needs a value\n", flag);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      usage(stdout);
      return 0;
    } else if (a == "--version") {
      std::printf("ringbridge-notify %s\n", RINGBRIDGE_VERSION);
      return 0;
    } else if (a == "--listen") {
      listen = value("--listen");
    } else if (a == "--json") {
      json = true;
    } else if (a == "--desktop") {
      show = true;
    } else if (a == "--count") {
      const std::string v = value("--count");
      char* end = nullptr;
      count = std::strtol(v.c_str(), &end, 10);
      if (*end != 0 || count < 1) {
        std::fprintf(stderr, "ringbridge-notify: --count: expected a positive number, got '%s'\n",
                     v.c_str());
        return 2;
      }
    } else if (a == "--timeout") {
      const std::string v = value("--timeout");
      char* end = nullptr;
      timeout_s = std::strtod(v.c_str(), &end);
      if (*end != 0 || timeout_s <= 0) {
        std::fprintf(stderr, "ringbridge-notify: --timeout: expected seconds > 0, got '%s'\n",
                     v.c_str());
        return 2;
      }
    } else {
      std::fprintf(stderr, "ringbridge-notify: unknown argument '%s' (see --help)\n", a.c_str());
      return 2;
    }
  }
  std::string host, err;
  uint16_t port = 0;
  ringbridge::plugin::net::endpoint ep;
  if (!ringbridge::plugin::split_host_port(listen, &host, &port) ||
      !ringbridge::plugin::net::resolve(host, port, SOCK_DGRAM, &ep, &err)) {
    std::fprintf(stderr, "ringbridge-notify: --listen: '%s' is not a usable ADDR:PORT %s\n",
                 listen.c_str(), err.c_str());
    return 2;
  }
  const int fd = socket(ep.addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  const int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  if (fd < 0 || bind(fd, reinterpret_cast<const sockaddr*>(&ep.addr), ep.len) != 0) {
    std::fprintf(stderr, "ringbridge-notify: cannot listen on %s: %s\n", listen.c_str(),
                 std::strerror(errno));
    return 1;
  }
  std::fprintf(stderr, "ringbridge-notify: listening on %s\n", ep.text.c_str());
  uint8_t buf[2048];
  for (long seen = 0; count < 0 || seen < count;) {
    pollfd p{fd, POLLIN, 0};
    const int r = poll(&p, 1, timeout_s > 0 ? static_cast<int>(timeout_s * 1000) : -1);
    if (r == 0) {
      std::fprintf(stderr, "ringbridge-notify: nothing received for %.1f s\n", timeout_s);
      return 1;
    }
    if (r < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    sockaddr_storage from{};
    socklen_t flen = sizeof(from);
    const ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &flen);
    if (n <= 0) continue;
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    const double recv_us =
        static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(now).count());
    message m;
    if (!ringbridge::plugin::callerid::decode(buf, static_cast<size_t>(n), &m, &err)) {
      std::fprintf(stderr, "ringbridge-notify: ignored a datagram of %zd bytes: %s\n", n,
                   err.c_str());
      continue;
    }
    seen++;
    const double delay_ms = m.time_us != 0 ? (recv_us - static_cast<double>(m.time_us)) / 1000 : 0;
    if (json) {
      nlohmann::json j{{"event", event_name(m.event)},
                       {"direction", m.inbound ? "inbound" : "outbound"},
                       {"time_us", m.time_us},
                       {"delay_ms", delay_ms},
                       {"status_code", m.status},
                       {"withheld", (m.flags & 1) != 0},
                       {"from_phonebook", (m.flags & 2) != 0},
                       {"name", m.name},
                       {"number", m.number},
                       {"name_sent", m.name_sent},
                       {"to_number", m.to_number},
                       {"call_id", m.call_id}};
      std::printf("%s\n", ringbridge::json_text(j).c_str());
    } else {
      std::printf("%s %-9s %s \"%s\" %s -> %s%s\n", iso(m.time_us).c_str(), event_name(m.event),
                  m.inbound ? "inbound " : "outbound", printable(m.name).c_str(),
                  m.number.empty() ? "(withheld)" : printable(m.number).c_str(),
                  printable(m.to_number).c_str(),
                  m.status ? (" " + std::to_string(m.status)).c_str() : "");
    }
    std::fflush(stdout);
    if (show) desktop(m);
  }
  return 0;
}
