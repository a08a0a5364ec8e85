// SPDX-License-Identifier: BSD-3-Clause
// Filter rules: JSON, validation, SQLite, compilation and publication.
#include "ringbridge/filters/filter_manager.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <sstream>
#include <thread>
#include <unordered_set>

#include "ringbridge/common/log.h"

namespace ringbridge::ctl {

using json = nlohmann::json;

namespace {

// Compiling 100,000 rules takes a CPU for a fraction of a second. It runs on a thread of
// its own at the lowest priority (nice 19), so that everything else on the control CPU —
// the control thread draining the event rings, a co-located traffic source, the kernel's
// own work — goes first; the caller waits for the result.
std::unique_ptr<dp::filter_set> compile_in_background(std::vector<dp::filter_rule> rules,
                                                      const dp::filter_set::options& opt,
                                                      unsigned workers, std::string* err,
                                                      uint32_t* bad_rule) {
  std::unique_ptr<dp::filter_set> set;
  std::thread t([&] {
    setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 19);  // this thread only (Linux)
    set = dp::filter_set::compile(std::move(rules), opt, workers, err, bad_rule);
  });
  t.join();
  return set;
}

api_result error(int status, const std::string& msg) {
  return {status, json{{"error", msg}}};
}

// An import writes this many rules per transaction: the write lock is held for a few
// milliseconds at a time, and the control thread's call log writes get in between.
constexpr size_t k_import_chunk = 5000;
}  // namespace

filter_manager::filter_manager(std::string db_path, dp::filter_slot* slot, unsigned workers,
                               filters_settings settings)
    : _db_path(std::move(db_path)), _slot(slot), _workers(workers), _s(std::move(settings)) {}

bool filter_manager::start(std::string* err) {
  std::lock_guard<std::mutex> g(_mu);
  _db = store::open(_db_path, err);
  if (!_db) return false;
  for (const auto& r : _s.config_rules) {
    if (std::string why = validate(r); !why.empty()) {
      *err = "[filters] rules: rule at position " + std::to_string(r.position) + ": " + why;
      return false;
    }
  }
  if (!_db->begin()) {
    *err = "cannot write the [filters] rules to '" + _db_path + "' (locked or failing)";
    return false;
  }
  _db->filters_delete_source("config");
  for (const auto& r : _s.config_rules) _db->filter_insert(r, "config");
  if (!_db->commit()) {
    *err = "cannot write the [filters] rules to '" + _db_path + "' (locked or failing)";
    return false;
  }
  uint32_t bad = 0;
  return reload_locked(err, &bad);
}

std::string filter_manager::validate(const dp::filter_rule& r) const {
  if (std::string why = dp::check_rule_shape(r); !why.empty()) return why;
  std::string err;
  if (!dp::filter_set::compile({r}, _s.options, 1, &err)) {
    // "rule N: pattern does not compile: ..." → the part after the rule number
    const size_t colon = err.find(": ");
    return colon == std::string::npos ? err : err.substr(colon + 2);
  }
  return "";
}

bool filter_manager::reload_locked(std::string* err, uint32_t* bad_rule) {
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<dp::filter_rule> rules;
  for (auto& f : _db->filters()) rules.push_back(std::move(f.rule));
  const size_t n = rules.size();
  auto set = compile_in_background(std::move(rules), _s.options, _workers, err, bad_rule);
  if (!set) {
    _failures++;
    RB_LOG_WARN("filter rules not reloaded: %s", err->c_str());
    return false;
  }
  _slot->publish(std::move(set));
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  _last_ms.store(ms);
  _rules.store(n);
  _reloads++;
  RB_LOG_INFO("filter rules: %zu published in %.1f ms", n, ms);
  return true;
}

bool parse_rule_json(const json& j, dp::block_mode default_mode, dp::filter_rule* r,
                     std::string* err) {
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
  if (j.contains("position") && !j["position"].is_null()) {
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

json filter_manager::rule_json(const stored_filter& f) {
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

api_result filter_manager::list() {
  std::lock_guard<std::mutex> g(_mu);
  json arr = json::array();
  for (const auto& f : _db->filters()) arr.push_back(rule_json(f));
  return {200, arr};
}

api_result filter_manager::get(int64_t id) {
  std::lock_guard<std::mutex> g(_mu);
  auto f = _db->filter(id);
  if (!f) return error(404, "no filter rule " + std::to_string(id));
  return {200, rule_json(*f)};
}

api_result filter_manager::create(const json& body, const std::string& source) {
  dp::filter_rule r;
  std::string why;
  if (!parse_rule_json(body, _s.default_mode, &r, &why)) return error(400, why);
  if (std::string v = validate(r); !v.empty()) return error(400, "the rule is not valid: " + v);
  std::lock_guard<std::mutex> g(_mu);
  if (!body.contains("position") || body["position"].is_null())
    r.position = _db->filter_max_position() + 10;
  const int64_t id = _db->filter_insert(r, source);
  if (id == 0) return error(500, "the rule could not be stored");
  uint32_t bad = 0;
  if (!reload_locked(&why, &bad)) {
    _db->filter_delete(id);
    return error(400, why);
  }
  return {201, rule_json(*_db->filter(id))};
}

api_result filter_manager::update(int64_t id, const json& body) {
  dp::filter_rule r;
  std::string why;
  if (!parse_rule_json(body, _s.default_mode, &r, &why)) return error(400, why);
  r.id = static_cast<uint32_t>(id);
  if (std::string v = validate(r); !v.empty())
    return error(400, "rule " + std::to_string(id) + " is not valid: " + v);
  std::lock_guard<std::mutex> g(_mu);
  auto old = _db->filter(id);
  if (!old) return error(404, "no filter rule " + std::to_string(id));
  if (!body.contains("position") || body["position"].is_null()) r.position = old->rule.position;
  _db->filter_update(r);
  uint32_t bad = 0;
  if (!reload_locked(&why, &bad)) {
    _db->filter_update(old->rule);
    return error(400, why);
  }
  return {200, rule_json(*_db->filter(id))};
}

api_result filter_manager::remove(int64_t id) {
  std::lock_guard<std::mutex> g(_mu);
  if (!_db->filter_delete(id)) return error(404, "no filter rule " + std::to_string(id));
  std::string why;
  uint32_t bad = 0;
  reload_locked(&why, &bad);
  return {204, nullptr};
}

api_result filter_manager::import(const std::string& text, const std::string& action,
                                  const std::string& mode) {
  dp::filter_rule proto;
  proto.match = dp::filter_match::number;
  proto.syntax = dp::filter_syntax::exact;
  if (!dp::parse_filter_action(action.empty() ? "block" : action, &proto.action))
    return error(400, "'action' must be block, allow, record or norecord");
  if (!dp::parse_block_mode(mode.empty() ? dp::block_mode_name(_s.default_mode) : mode,
                            &proto.mode))
    return error(400, "'block_mode' must be drop, busy or decline");
  std::vector<std::string> numbers;
  std::istringstream in(text);
  std::string line;
  size_t lineno = 0, skipped = 0;
  while (std::getline(in, line)) {
    lineno++;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::string number = line.substr(0, line.find_first_of(",;\t"));
    while (!number.empty() && (number.front() == ' ' || number.front() == '"')) number.erase(0, 1);
    while (!number.empty() && (number.back() == ' ' || number.back() == '"')) number.pop_back();
    if (number.empty() || number[0] == '#') continue;
    const bool numeric = number.find_first_of("0123456789") != std::string::npos &&
                         number.find_first_not_of("+0123456789 -().") == std::string::npos;
    if (!numeric) {
      if (lineno == 1) continue;  // a CSV header ("number,name")
      skipped++;
      continue;
    }
    numbers.push_back(number);
  }
  if (numbers.empty()) return error(400, "no numbers found (one per line, or CSV number,name)");
  std::lock_guard<std::mutex> g(_mu);
  // Idempotent: a number already imported as an exact rule with this action stays as it
  // is, and so does a number given twice.
  std::unordered_set<std::string> have;
  for (auto& p : _db->filter_exact_numbers("import", proto.action)) have.insert(std::move(p));
  std::vector<const std::string*> fresh;
  size_t unchanged = 0;
  for (const auto& n : numbers) {
    if (have.insert(n).second)
      fresh.push_back(&n);
    else
      unchanged++;
  }
  const uint32_t pos = _db->filter_max_position() + 10;  // one block of equal priority
  size_t imported = 0;
  std::string failure;
  for (size_t i = 0; i < fresh.size() && failure.empty(); i += k_import_chunk) {
    if (i != 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));  // others' turn
    if (!_db->begin()) {
      failure = "the database is locked or failing";
      break;
    }
    const size_t end = std::min(fresh.size(), i + k_import_chunk);
    for (size_t k = i; k < end; k++) {
      proto.pattern = *fresh[k];
      proto.position = pos;
      if (_db->filter_insert(proto, "import") == 0) {
        failure = "a rule could not be written";
        break;
      }
    }
    if (!failure.empty()) {
      _db->rollback();
      break;
    }
    if (!_db->commit()) {
      failure = "the transaction could not be committed";
      break;
    }
    imported = end;
  }
  std::string why;
  uint32_t bad = 0;
  const bool reloaded = reload_locked(&why, &bad);  // what was stored, even after a failure
  if (!failure.empty())
    return {503, json{{"error", failure + " after " + std::to_string(imported) + " of " +
                                    std::to_string(fresh.size()) +
                                    " new numbers; importing the same list again adds the rest"},
                      {"imported", imported},
                      {"unchanged", unchanged},
                      {"skipped", skipped}}};
  if (!reloaded) return error(400, why);
  return {200, json{{"imported", imported},
                    {"unchanged", unchanged},
                    {"skipped", skipped},
                    {"rules", _rules.load()},
                    {"reload_ms", _last_ms.load()}}};
}

api_result filter_manager::block_call(const call_record& call) {
  if (call.from_number.empty())
    return error(400, "call " + std::to_string(call.id) +
                          " has no caller number; add an 'anonymous' rule to block such calls");
  // First in line: "block this caller" must win over any earlier allow rule.
  json body{{"match", "number"},
            {"syntax", "exact"},
            {"pattern", call.from_number},
            {"action", "block"},
            {"position", 0}};
  return create(body, "call");
}

void filter_manager::set_storage_stats(storage_stats* stats) {
  std::lock_guard<std::mutex> g(_mu);
  if (_db) _db->set_stats(stats);
}

filter_manager::stats filter_manager::get_stats() const {
  stats s;
  s.rules = _rules.load();
  s.reloads = _reloads.load();
  s.reload_failures = _failures.load();
  s.last_reload_ms = _last_ms.load();
  return s;
}

}  // namespace ringbridge::ctl
