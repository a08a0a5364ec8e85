// SPDX-License-Identifier: BSD-3-Clause
// Fuzz target for the config file parser (ringbridge::ctl::parse_config on TOML text, the
// [notify.*] sections through the sinks' factories, then validate_config): true or false,
// never an exception out of it, never a crash; a refusal always says why, in valid UTF-8
// (the message is printed to the terminal and the journal).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "ringbridge/common/log.h"
#include "ringbridge/common/utf8.h"
#include "ringbridge/ctl/config.h"

namespace {

[[noreturn]] void fail(const char* what, const std::string& err) {
  std::fprintf(stderr, "config_fuzz: %s: %s\n", what, err.c_str());
  __builtin_trap();
}

void check_error(const std::string& err) {
  if (err.empty()) fail("refused without a message", err);
  if (!ringbridge::utf8_valid(err)) fail("the message is not valid UTF-8", err);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  ringbridge::set_log_level(ringbridge::log_level::error);  // no warnings per input
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  ringbridge::ctl::config cfg;
  std::string err;
  if (!ringbridge::ctl::parse_config(text, "fuzz.toml", &cfg, &err)) {
    check_error(err);
    return 0;
  }
  err.clear();
  if (!ringbridge::ctl::validate_config(cfg, &err)) check_error(err);
  return 0;
}
