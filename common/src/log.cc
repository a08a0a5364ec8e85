// SPDX-License-Identifier: BSD-3-Clause
// Leveled logging to stderr, one write(2) per line.
#include "ringbridge/common/log.h"

#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <string>

#include "ringbridge/common/utf8.h"

namespace ringbridge {

namespace {
std::atomic<int> g_level{static_cast<int>(log_level::notice)};

const char* level_name(log_level l) {
  switch (l) {
    case log_level::error: return "error";
    case log_level::warning: return "warning";
    case log_level::notice: return "notice";
    case log_level::info: return "info";
    case log_level::debug: return "debug";
  }
  return "?";
}
}  // namespace

void set_log_level(log_level level) {
  g_level.store(static_cast<int>(level));
}

log_level get_log_level() {
  return static_cast<log_level>(g_level.load());
}

bool parse_log_level(const char* text, log_level* out) {
  for (int i = 0; i <= static_cast<int>(log_level::debug); i++) {
    auto l = static_cast<log_level>(i);
    if (std::strcmp(text, level_name(l)) == 0) {
      *out = l;
      return true;
    }
  }
  return false;
}

void log_vmsg(log_level level, const char* prefix, const char* fmt, va_list ap) {
  if (static_cast<int>(level) > g_level.load(std::memory_order_relaxed)) return;
  char line[1024];
  int n = std::snprintf(line, sizeof(line), "ringbridge: %s: %s", level_name(level), prefix);
  int m = std::vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
  size_t len = n + (m < 0 ? 0 : static_cast<size_t>(m));
  if (len > sizeof(line) - 2) len = sizeof(line) - 2;
  if (len > 0 && line[len - 1] == '\n') len--;
  // Messages can carry bytes from the wire or from libraries: what reaches the log is
  // valid UTF-8 (cut on a character boundary) with control characters shown as \xNN, so
  // a log line can neither break a log shipper nor drive a terminal.
  std::string_view text(line, len);
  len = utf8_cut(text, len);
  text = text.substr(0, len);
  bool clean = utf8_valid(text);
  for (size_t i = 0; clean && i < len; i++)
    if (static_cast<unsigned char>(line[i]) < 0x20 && line[i] != '\t') clean = false;
  std::string out;
  if (clean) {
    out.assign(line, len);
  } else {
    for (char c : utf8_sanitize(text)) {
      if (static_cast<unsigned char>(c) < 0x20 && c != '\t') {
        char esc[8];
        std::snprintf(esc, sizeof(esc), "\\x%02x", static_cast<unsigned char>(c));
        out += esc;
      } else {
        out += c;
      }
    }
  }
  out += '\n';
  ssize_t w = ::write(STDERR_FILENO, out.data(), out.size());
  (void)w;
}

void log_msg(log_level level, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  log_vmsg(level, "", fmt, ap);
  va_end(ap);
}

bool log_limiter::allow(uint64_t* suppressed) {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  const double now = static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
  if (_any && now - _last < _interval_s) {
    _held++;
    return false;
  }
  *suppressed = _held;
  _held = 0;
  _last = now;
  _any = true;
  return true;
}

}  // namespace ringbridge
