// SPDX-License-Identifier: BSD-3-Clause
// A filter rule's JSON shape (REST API and [[filters.rules]]): parsing and rendering.
#include "ringbridge/filters/rule_json.h"

#include <algorithm>
#include <iterator>

namespace ringbridge::ctl {

using json = nlohmann::json;

bool parse_rule_json(const json& j, dp::block_mode default_mode, dp::filter_rule* r,
                     std::string* err, bool* has_position) {
  if (!j.is_object()) {
    *err = "expected a JSON object with match, pattern, action";
    return false;
  }
  static const char* const known[] = {"id",     "position",   "match",  "syntax",    "pattern",
                                      "action", "block_mode", "source", "created_at"};
  for (const auto& [k, v] : j.items()) {
    if (std::find(std::begin(known), std::end(known), k) == std::end(known)) {
      *err =
          "unknown field '" + k + "'; fields: position, match, syntax, pattern, action, block_mode";
      return false;
    }
  }
  auto str = [&](const char* key, std::string def, std::string* out) {
    if (!j.contains(key) || j[key].is_null()) {
      *out = std::move(def);
      return true;
    }
    if (!j[key].is_string()) {
      *err = std::string("'") + key + "' must be a string";
      return false;
    }
    *out = j[key].get<std::string>();
    return true;
  };
  std::string match, syntax, action, mode;
  if (!str("match", "", &match) || !str("pattern", "", &r->pattern) ||
      !str("action", "block", &action) ||
      !str("block_mode", dp::block_mode_name(default_mode), &mode))
    return false;
  if (!dp::parse_filter_match(match, &r->match)) {
    *err = "'match' must be number, name, anonymous or any";
    return false;
  }
  const char* def_syntax = r->match == dp::filter_match::name ? "substring" : "exact";
  if (!str("syntax", def_syntax, &syntax)) return false;
  if (!dp::parse_filter_syntax(syntax, &r->syntax)) {
    *err = "'syntax' must be exact, prefix, glob, regex or substring";
    return false;
  }
  if (!dp::parse_filter_action(action, &r->action)) {
    *err = "'action' must be block, allow, record or norecord";
    return false;
  }
  if (!dp::parse_block_mode(mode, &r->mode)) {
    *err = "'block_mode' must be drop, busy or decline";
    return false;
  }
  const bool positioned = j.contains("position") && !j["position"].is_null();
  if (has_position != nullptr) *has_position = positioned;
  if (positioned) {
    if (!j["position"].is_number_integer() || j["position"].get<int64_t>() < 0 ||
        j["position"].get<int64_t>() > 1'000'000'000) {
      *err = "'position' must be an integer from 0 to 1000000000";
      return false;
    }
    r->position = static_cast<uint32_t>(j["position"].get<int64_t>());
  }
  if (r->match == dp::filter_match::anonymous || r->match == dp::filter_match::any)
    r->pattern.clear();
  return true;
}

json rule_json(const stored_filter& f) {
  const dp::filter_rule& r = f.rule;
  const bool patterned = r.match == dp::filter_match::number || r.match == dp::filter_match::name;
  return json{{"id", r.id},
              {"position", r.position},
              {"match", dp::filter_match_name(r.match)},
              {"syntax", patterned ? json(dp::filter_syntax_name(r.syntax)) : json(nullptr)},
              {"pattern", patterned ? json(r.pattern) : json(nullptr)},
              {"action", dp::filter_action_name(r.action)},
              {"block_mode", dp::block_mode_name(r.mode)},
              {"source", f.source},
              {"created_at", f.created_at}};
}

}  // namespace ringbridge::ctl
