// SPDX-License-Identifier: BSD-3-Clause
// Leveled logging for setup, housekeeping and the control side (never per packet).
#pragma once

#include <cstdarg>
#include <cstdint>

namespace ringbridge {

enum class log_level : int { error = 0, warning = 1, notice = 2, info = 3, debug = 4 };

/// Messages above this level are discarded. Any thread; read without locks.
void set_log_level(log_level level);
log_level get_log_level();

/// Parses "error", "warning", "notice", "info", "debug"; false if unknown.
bool parse_log_level(const char* text, log_level* out);

/// Writes "ringbridge: <level>: <message>\n" to stderr as one write(2), so lines from
/// several threads do not interleave. Safe from any thread; not async-signal-safe.
void log_msg(log_level level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

/// Same, for messages relayed from libraries: PREFIX is put in front, one trailing
/// newline in FMT's output is dropped.
void log_vmsg(log_level level, const char* prefix, const char* fmt, va_list ap);

/// Lets one log line through per interval and counts the ones it holds back, for errors
/// that can repeat at line rate (a full disk, a stream of bad input). One per call site
/// or stage; not thread-safe (each thread keeps its own).
class log_limiter {
 public:
  explicit log_limiter(double interval_s = 5) : _interval_s(interval_s) {}
  /// True when a line may be written now; *suppressed then holds how many were held back
  /// since the last line let through.
  bool allow(uint64_t* suppressed);

 private:
  double _interval_s;
  double _last = 0;
  bool _any = false;
  uint64_t _held = 0;
};

}  // namespace ringbridge

#define RB_LOG_ERR(...) ::ringbridge::log_msg(::ringbridge::log_level::error, __VA_ARGS__)
#define RB_LOG_WARN(...) ::ringbridge::log_msg(::ringbridge::log_level::warning, __VA_ARGS__)
#define RB_LOG_NOTICE(...) ::ringbridge::log_msg(::ringbridge::log_level::notice, __VA_ARGS__)
#define RB_LOG_INFO(...) ::ringbridge::log_msg(::ringbridge::log_level::info, __VA_ARGS__)
#define RB_LOG_DEBUG(...) ::ringbridge::log_msg(::ringbridge::log_level::debug, __VA_ARGS__)
