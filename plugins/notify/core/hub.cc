// SPDX-License-Identifier: BSD-3-Clause
// Sink registry, per-sink queues and threads.
#include "ringbridge/notify/hub.h"

#include <algorithm>
#include <chrono>
#include <map>

#include <nlohmann/json.hpp>

#include "ringbridge/common/json_text.h"
#include "ringbridge/common/log.h"
#include "ringbridge/common/utf8.h"

namespace ringbridge::plugin {

// ---- event kinds ------------------------------------------------------------------------

const char* event_kind_name(event_kind k) {
  switch (k) {
#define RB_EVENT_KIND_CASE(name, code, help) \
  case event_kind::name: return #name;
    RB_EVENT_FOREACH_KIND(RB_EVENT_KIND_CASE)
#undef RB_EVENT_KIND_CASE
  }
  return "?";
}

bool parse_event_kind(std::string_view s, event_kind* out) {
#define RB_EVENT_KIND_PARSE(name, code, help) \
  if (s == #name) {                           \
    *out = event_kind::name;                  \
    return true;                              \
  }
  RB_EVENT_FOREACH_KIND(RB_EVENT_KIND_PARSE)
#undef RB_EVENT_KIND_PARSE
  return false;
}

std::string event_json(const call_event& ev) {
  nlohmann::json j{{"event", event_kind_name(ev.kind)}, {"time", ev.time}};
  if (!ev.rule.empty()) j["rule"] = ev.rule;
  if (ev.kind == event_kind::dtmf) j["dtmf"] = {{"digit", ev.digit}, {"source", ev.digit_source}};
  // call_json is ours and valid; should it ever not be, its repaired text is used, and an
  // unparsable one becomes {} rather than nlohmann's "<discarded>" (not JSON at all).
  nlohmann::json call = nlohmann::json::object();
  if (!ev.call_json.empty()) {
    call = nlohmann::json::parse(ev.call_json, nullptr, false);
    if (call.is_discarded())
      call = nlohmann::json::parse(utf8_sanitize(ev.call_json), nullptr, false);
    if (call.is_discarded()) call = nlohmann::json::object();
  }
  j["call"] = std::move(call);
  return json_text(j);
}

// ---- registry ---------------------------------------------------------------------------

namespace {
std::map<std::string, sink_factory, std::less<>>& registry() {
  static std::map<std::string, sink_factory, std::less<>> r;
  return r;
}
}  // namespace

bool register_sink(sink_factory f) {
  registry().emplace(f.type, std::move(f));
  return true;
}

const sink_factory* find_sink(std::string_view type) {
  auto it = registry().find(type);
  return it == registry().end() ? nullptr : &it->second;
}

std::vector<std::string> sink_types() {
  std::vector<std::string> v;
  for (const auto& [k, f] : registry()) v.push_back(k);
  return v;
}

// ---- one sink's queue and thread ----------------------------------------------------------

sink_runner::sink_runner(options o, std::unique_ptr<sink> s)
    : _o(std::move(o)), _sink(std::move(s)) {}

sink_runner::~sink_runner() {
  if (_thread.joinable()) stop(0);
}

void sink_runner::start() {
  _thread = std::thread([this] { run(); });
}

bool sink_runner::wants(const call_event& ev) const {
  if (!_sink->wants_call_events()) return false;
  if ((_o.events & (1u << static_cast<unsigned>(ev.kind))) == 0) return false;
  return ev.inbound || !_o.inbound_only;
}

template <typename T>
bool sink_runner::push(const T& v) {
  {
    std::lock_guard<std::mutex> g(_mu);
    if (_stop || _q.size() >= _o.queue) {
      _dropped.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    _q.emplace_back(v);
  }
  _cv.notify_one();
  return true;
}

bool sink_runner::post(const call_event& ev) {
  return push(ev);
}
bool sink_runner::post(const sip_message& m) {
  return push(m);
}

namespace {
// A sink's step that throws counts as a failed delivery; the sink thread never ends on it.
template <typename F>
bool contained(const std::string& name, F&& f) {
  std::string what;  // a copy: the exception is gone after its handler
  try {
    return f();
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
    what = "an exception that is not a std::exception";
  }
  thread_local log_limiter limit(5);
  uint64_t held = 0;
  if (limit.allow(&held)) {
    if (held)
      RB_LOG_WARN("notify %s: %s; counted as failed (%llu more since the last message)",
                  name.c_str(), what.c_str(), static_cast<unsigned long long>(held));
    else
      RB_LOG_WARN("notify %s: %s; counted as failed", name.c_str(), what.c_str());
  }
  return false;
}
}  // namespace

void sink_runner::run() {
  contained(_o.name, [&] {
    _sink->open();
    return true;
  });
  for (;;) {
    item it;
    {
      std::unique_lock<std::mutex> lk(_mu);
      if (_q.empty()) {
        lk.unlock();
        contained(_o.name, [&] {
          _sink->flush();
          return true;
        });
        lk.lock();
      }
      _cv.wait(lk, [this] { return !_q.empty() || _stop; });
      if (_q.empty()) break;
      if (_sink->stopping()) {  // past the drain deadline: what is left is dropped
        _dropped.fetch_add(_q.size(), std::memory_order_relaxed);
        _q.clear();
        break;
      }
      it = std::move(_q.front());
      _q.pop_front();
    }
    const bool ok = contained(_o.name, [&] {
      if (const auto* ev = std::get_if<call_event>(&it)) return _sink->on_call_event(*ev);
      return _sink->on_sip_message(std::get<sip_message>(it));
    });
    (ok ? _delivered : _failed).fetch_add(1, std::memory_order_relaxed);
  }
  contained(_o.name, [&] {
    _sink->flush();
    return true;
  });
  std::lock_guard<std::mutex> g(_mu);
  _done = true;
  _cv.notify_all();
}

void sink_runner::close() {
  std::lock_guard<std::mutex> g(_mu);
  _stop = true;
  _cv.notify_all();
}

void sink_runner::stop(double drain_s) {
  if (!_thread.joinable()) return;
  std::unique_lock<std::mutex> lk(_mu);
  _stop = true;
  _cv.notify_all();
  if (!_cv.wait_for(lk, std::chrono::duration<double>(drain_s), [this] { return _done; })) {
    _sink->request_stop();
    _cv.notify_all();
  }
  lk.unlock();
  _thread.join();
}

sink_stats sink_runner::stats() const {
  sink_stats s;
  s.name = _o.name;
  s.type = _o.type;
  s.delivered = _delivered.load(std::memory_order_relaxed);
  s.failed = _failed.load(std::memory_order_relaxed);
  s.dropped = _dropped.load(std::memory_order_relaxed);
  std::lock_guard<std::mutex> g(_mu);
  s.queued = _q.size();
  return s;
}

// ---- the hub ----------------------------------------------------------------------------

namespace {
std::unique_ptr<sink_runner> build(const sink_config& cfg, std::string* error) {
  settings s = cfg.values;
  const std::string type = s.get_string("type", cfg.name);
  const sink_factory* f = find_sink(type);
  if (f == nullptr) {
    std::string known;
    for (const auto& t : sink_types()) known += (known.empty() ? "" : ", ") + t;
    s.fail("type", "unknown sink type \"" + type + "\"; compiled-in types: " +
                       (known.empty() ? "none (meson option 'notify')" : known));
    s.finish(error);
    return nullptr;
  }
  sink_runner::options o;
  o.name = cfg.name;
  o.type = type;
  const bool enabled = s.get_bool("enabled", true);
  o.queue = static_cast<size_t>(s.get_int("queue", 256, 1, 1'000'000));
  std::vector<std::string> def_events;
  for (event_kind k : f->default_events) def_events.emplace_back(event_kind_name(k));
  for (const auto& e : s.get_strings("events", def_events)) {
    event_kind k{};
    if (!parse_event_kind(e, &k)) {
      s.fail("events", "unknown event \"" + e +
                           "\"; events are ringing, answered, ended, blocked, voicemail, dtmf");
      break;
    }
    o.events |= 1u << static_cast<unsigned>(k);
  }
  const std::string dirs =
      s.get_choice("directions", f->default_inbound_only ? "inbound" : "both", {"inbound", "both"});
  o.inbound_only = dirs == "inbound";
  std::unique_ptr<sink> made = f->create(s);
  if (!s.finish(error)) return nullptr;
  if (!made) {
    *error = "[" + s.section() + "]: could not be set up";
    return nullptr;
  }
  if (!enabled) return std::unique_ptr<sink_runner>();
  return std::make_unique<sink_runner>(std::move(o), std::move(made));
}
}  // namespace

bool hub::check(const sink_config& cfg, std::string* error) {
  error->clear();
  build(cfg, error);
  return error->empty();
}

std::unique_ptr<hub> hub::create(const std::vector<sink_config>& cfgs, std::string* error) {
  auto h = std::make_unique<hub>();
  for (const auto& c : cfgs) {
    error->clear();
    auto r = build(c, error);
    if (!error->empty()) return nullptr;
    if (!r) continue;  // enabled = false
    h->_want_sip |= r->wants_sip_messages();
    h->_runners.push_back(std::move(r));
  }
  return h;
}

void hub::start() {
  for (auto& r : _runners) r->start();
}

void hub::stop(double drain_s) {
  // All sinks drain at the same time, within one deadline.
  for (auto& r : _runners) r->close();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(drain_s);
  for (auto& r : _runners) {
    const std::chrono::duration<double> left = deadline - std::chrono::steady_clock::now();
    r->stop(std::max(0.0, left.count()));
  }
}

void hub::post(const call_event& ev) {
  for (auto& r : _runners)
    if (r->wants(ev)) r->post(ev);
}

void hub::post(const sip_message& m) {
  for (auto& r : _runners)
    if (r->wants_sip_messages()) r->post(m);
}

std::vector<sink_stats> hub::stats() const {
  std::vector<sink_stats> v;
  for (const auto& r : _runners) v.push_back(r->stats());
  return v;
}

}  // namespace ringbridge::plugin
