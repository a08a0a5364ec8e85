// SPDX-License-Identifier: BSD-3-Clause
// Leveled logging to stderr, one write(2) per line.
#include "ringbridge/common/log.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>

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
  line[len++] = '\n';
  ssize_t w = ::write(STDERR_FILENO, line, len);
  (void)w;
}

void log_msg(log_level level, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  log_vmsg(level, "", fmt, ap);
  va_end(ap);
}

}  // namespace ringbridge
