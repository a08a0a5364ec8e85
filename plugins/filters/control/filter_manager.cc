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

template <typename T = stored_filter>
filter_result<T> refuse(filter_outcome o, std::string msg) {
  return {o, std::move(msg), T{}};
}

// An import writes this many rules per transaction: the write lock is held for a few
// milliseconds at a time, and the control thread's call log writes get in between.
constexpr size_t k_import_chunk = 5000;
}  // namespace

filter_manager::filter_manager(database_spec database, dp::filter_slot* slot, unsigned workers,
                               filters_settings settings)
    : _database(std::move(database)), _slot(slot), _workers(workers), _s(std::move(settings)) {}

bool filter_manager::start(std::string* err) {
  std::lock_guard<std::mutex> g(_mu);
  _db = store::open(_database, err);
  if (!_db) return false;
  _table = std::make_unique<filter_store>(*_db);
  for (const auto& r : _s.config_rules) {
    if (std::string why = validate(r); !why.empty()) {
      *err = "[filters] rules: rule at position " + std::to_string(r.position) + ": " + why;
      return false;
    }
  }
  if (!_db->begin()) {
    *err = "cannot write the [filters] rules to '" + _database.path + "' (locked or failing)";
    return false;
  }
  _table->filters_delete_source("config");
  for (const auto& r : _s.config_rules) _table->filter_insert(r, "config");
  if (!_db->commit()) {
    *err = "cannot write the [filters] rules to '" + _database.path + "' (locked or failing)";
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
  for (auto& f : _table->filters()) rules.push_back(std::move(f.rule));
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

std::vector<stored_filter> filter_manager::list() {
  std::lock_guard<std::mutex> g(_mu);
  return _table->filters();
}

filter_result<stored_filter> filter_manager::get(int64_t id) {
  std::lock_guard<std::mutex> g(_mu);
  auto f = _table->filter(id);
  if (!f) return refuse(filter_outcome::not_found, "no filter rule " + std::to_string(id));
  return {filter_outcome::ok, {}, std::move(*f)};
}

filter_result<stored_filter> filter_manager::create(dp::filter_rule r, bool has_position,
                                                    const std::string& source) {
  if (std::string v = validate(r); !v.empty())
    return refuse(filter_outcome::invalid, "the rule is not valid: " + v);
  std::lock_guard<std::mutex> g(_mu);
  if (!has_position) r.position = _table->filter_max_position() + 10;
  const int64_t id = _table->filter_insert(r, source);
  if (id == 0) return refuse(filter_outcome::failed, "the rule could not be stored");
  std::string why;
  uint32_t bad = 0;
  if (!reload_locked(&why, &bad)) {
    _table->filter_delete(id);
    return refuse(filter_outcome::invalid, why);
  }
  return {filter_outcome::created, {}, *_table->filter(id)};
}

filter_result<stored_filter> filter_manager::update(int64_t id, dp::filter_rule r,
                                                    bool has_position) {
  r.id = static_cast<uint32_t>(id);
  if (std::string v = validate(r); !v.empty())
    return refuse(filter_outcome::invalid, "rule " + std::to_string(id) + " is not valid: " + v);
  std::lock_guard<std::mutex> g(_mu);
  auto old = _table->filter(id);
  if (!old) return refuse(filter_outcome::not_found, "no filter rule " + std::to_string(id));
  if (!has_position) r.position = old->rule.position;
  _table->filter_update(r);
  std::string why;
  uint32_t bad = 0;
  if (!reload_locked(&why, &bad)) {
    _table->filter_update(old->rule);
    return refuse(filter_outcome::invalid, why);
  }
  return {filter_outcome::ok, {}, *_table->filter(id)};
}

filter_outcome filter_manager::remove(int64_t id) {
  std::lock_guard<std::mutex> g(_mu);
  if (!_table->filter_delete(id)) return filter_outcome::not_found;
  std::string why;
  uint32_t bad = 0;
  reload_locked(&why, &bad);
  return filter_outcome::deleted;
}

filter_result<import_summary> filter_manager::import(const std::string& text,
                                                     const std::string& action,
                                                     const std::string& mode) {
  using summary = import_summary;
  dp::filter_rule proto;
  proto.match = dp::filter_match::number;
  proto.syntax = dp::filter_syntax::exact;
  if (!dp::parse_filter_action(action.empty() ? "block" : action, &proto.action))
    return refuse<summary>(filter_outcome::invalid,
                           "'action' must be block, allow, record or norecord");
  if (!dp::parse_block_mode(mode.empty() ? dp::block_mode_name(_s.default_mode) : mode,
                            &proto.mode))
    return refuse<summary>(filter_outcome::invalid, "'block_mode' must be drop, busy or decline");
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
  if (numbers.empty())
    return refuse<summary>(filter_outcome::invalid,
                           "no numbers found (one per line, or CSV number,name)");
  std::lock_guard<std::mutex> g(_mu);
  // Idempotent: a number already imported as an exact rule with this action stays as it
  // is, and so does a number given twice.
  std::unordered_set<std::string> have;
  for (auto& p : _table->filter_exact_numbers("import", proto.action)) have.insert(std::move(p));
  std::vector<const std::string*> fresh;
  size_t unchanged = 0;
  for (const auto& n : numbers) {
    if (have.insert(n).second)
      fresh.push_back(&n);
    else
      unchanged++;
  }
  const uint32_t pos = _table->filter_max_position() + 10;  // one block of equal priority
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
      if (_table->filter_insert(proto, "import") == 0) {
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
  summary done;
  done.imported = imported;
  done.unchanged = unchanged;
  done.skipped = skipped;
  if (!failure.empty())
    return {filter_outcome::unavailable,
            failure + " after " + std::to_string(imported) + " of " + std::to_string(fresh.size()) +
                " new numbers; importing the same list again adds the rest",
            done};
  if (!reloaded) return refuse<summary>(filter_outcome::invalid, why);
  done.rules = _rules.load();
  done.reload_ms = _last_ms.load();
  return {filter_outcome::ok, {}, done};
}

filter_result<stored_filter> filter_manager::block_call(const call_record& call) {
  if (call.from_number.empty())
    return refuse(filter_outcome::invalid,
                  "call " + std::to_string(call.id) +
                      " has no caller number; add an 'anonymous' rule to block such calls");
  // First in line: "block this caller" must win over any earlier allow rule. The mode is
  // the default one, as for a rule posted without block_mode.
  dp::filter_rule r;
  r.match = dp::filter_match::number;
  r.syntax = dp::filter_syntax::exact;
  r.pattern = call.from_number;
  r.action = dp::filter_action::block;
  r.mode = _s.default_mode;
  r.position = 0;
  return create(std::move(r), true, "call");
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
