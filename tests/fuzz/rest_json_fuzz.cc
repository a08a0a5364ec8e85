// SPDX-License-Identifier: BSD-3-Clause
// Fuzz target for the REST API's JSON bodies, through the functions the handlers call:
// POST/PUT /api/v1/filters (json::parse without exceptions, parse_rule_json, the rule's
// shape check and its compilation as filter_manager validates it, the rule as the API
// returns it) and PUT /api/v1/phonebook/<number> (parse_phonebook_body). No exception
// escapes; a refusal says why in valid UTF-8; what is accepted can be answered as JSON.
//
// Input: [selector byte][body]. Selector bits 0-1: the default block mode; bit 2: the body
// is also tried as a phonebook body only (skipping the rule compilation).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "ringbridge/common/utf8.h"
#include "ringbridge/ctl/http_resources.h"
#include "ringbridge/sip/calls_http.h"
#include "ringbridge/filters/filter.h"
#include "ringbridge/filters/rule_json.h"

namespace {

namespace ctl = ringbridge::ctl;
namespace dp = ringbridge::dp;

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "rest_json_fuzz: %s: %s\n", what, detail.c_str());
  __builtin_trap();
}

void check_refusal(const std::string& why) {
  if (why.empty()) fail("refused without saying why", why);
  if (!ringbridge::utf8_valid(why)) fail("the refusal is not valid UTF-8", why);
}

void rule_body(const nlohmann::json& j, dp::block_mode def) {
  dp::filter_rule r;
  std::string why;
  if (!ctl::parse_rule_json(j, def, &r, &why)) return check_refusal(why);
  // filter_manager::validate(): the shape, then the pattern through the real compiler.
  if (std::string shape = dp::check_rule_shape(r); !shape.empty()) return check_refusal(shape);
  dp::filter_set::options opt;
  if (!dp::filter_set::compile({r}, opt, 1, &why)) return check_refusal(why);
  // The 201/200 answer: the rule as JSON, dumped strictly as reply_json() does.
  ctl::stored_filter f{r, "api", 1.5};
  const std::string out = ctl::rule_json(f).dump();
  if (!ringbridge::utf8_valid(out)) fail("the answer is not valid UTF-8", out);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  static const dp::block_mode k_modes[] = {dp::block_mode::drop, dp::block_mode::busy,
                                           dp::block_mode::decline, dp::block_mode::drop};
  // The filters handlers: a body that is not JSON is a 400 before any rule code runs.
  if (!(data[0] & 4)) {
    const nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
    if (!j.is_discarded()) rule_body(j, k_modes[data[0] & 3]);
  }
  // The phonebook handler.
  std::string name, why;
  if (ctl::parse_phonebook_body(body, &name, &why)) {
    if (name.empty() || name.size() > 64) fail("a name of the wrong length accepted", name);
    const std::string out = nlohmann::json{{"name", name}}.dump();  // strict, as reply_json()
    if (!ringbridge::utf8_valid(out)) fail("the answer is not valid UTF-8", out);
  } else {
    check_refusal(why);
  }
  return 0;
}
