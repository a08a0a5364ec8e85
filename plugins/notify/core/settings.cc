// SPDX-License-Identifier: BSD-3-Clause
// Typed access to a plugin's config section, with errors that name the key.
#include "ringbridge/notify/settings.h"

#include <algorithm>

namespace ringbridge::plugin {

namespace {
std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}
const char* type_of(const settings::value& v) {
  switch (v.index()) {
    case 0: return "a boolean";
    case 1: return "an integer";
    case 2: return "a number";
    case 3: return "a string";
    default: return "an array of strings";
  }
}
}  // namespace

void settings::set(const std::string& key, value v, std::string where) {
  _values[key] = entry{std::move(v), std::move(where), {}};
}

void settings::set_invalid(const std::string& key, std::string what, std::string where) {
  _values[key] = entry{false, std::move(where), std::move(what)};
}

const settings::entry* settings::find(const std::string& key) {
  if (std::find(_known.begin(), _known.end(), key) == _known.end()) _known.push_back(key);
  auto it = _values.find(key);
  if (it == _values.end()) return nullptr;
  if (!it->second.invalid.empty()) {
    fail(key, it->second.invalid);
    return nullptr;
  }
  return &it->second;
}

void settings::fail(const std::string& key, const std::string& why) {
  if (!_error.empty()) return;
  auto it = _values.find(key);
  const std::string where =
      it != _values.end() && !it->second.where.empty() ? it->second.where + ": " : std::string();
  _error = where + _section + "." + key + ": " + why;
}

std::string settings::get_string(const std::string& key, const std::string& def) {
  const entry* e = find(key);
  if (e == nullptr) return def;
  if (const auto* s = std::get_if<std::string>(&e->v)) return *s;
  fail(key, std::string("expected a string, got ") + type_of(e->v));
  return def;
}

int64_t settings::get_int(const std::string& key, int64_t def, int64_t lo, int64_t hi) {
  const entry* e = find(key);
  if (e == nullptr) return def;
  const auto* i = std::get_if<int64_t>(&e->v);
  if (i == nullptr || *i < lo || *i > hi) {
    fail(key, "expected an integer between " + std::to_string(lo) + " and " + std::to_string(hi) +
                  (i ? ", got " + std::to_string(*i) : std::string(", got ") + type_of(e->v)));
    return def;
  }
  return *i;
}

double settings::get_double(const std::string& key, double def, double lo, double hi) {
  const entry* e = find(key);
  if (e == nullptr) return def;
  double v = 0;
  if (const auto* d = std::get_if<double>(&e->v))
    v = *d;
  else if (const auto* i = std::get_if<int64_t>(&e->v))
    v = static_cast<double>(*i);
  else {
    fail(key, std::string("expected a number, got ") + type_of(e->v));
    return def;
  }
  if (v < lo || v > hi) {
    fail(key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    return def;
  }
  return v;
}

bool settings::get_bool(const std::string& key, bool def) {
  const entry* e = find(key);
  if (e == nullptr) return def;
  if (const auto* b = std::get_if<bool>(&e->v)) return *b;
  fail(key, std::string("expected true or false, got ") + type_of(e->v));
  return def;
}

std::vector<std::string> settings::get_strings(const std::string& key,
                                               std::vector<std::string> def) {
  const entry* e = find(key);
  if (e == nullptr) return def;
  if (const auto* v = std::get_if<std::vector<std::string>>(&e->v)) return *v;
  if (const auto* s = std::get_if<std::string>(&e->v)) return {*s};
  fail(key, std::string("expected an array of strings, got ") + type_of(e->v));
  return def;
}

std::string settings::get_choice(const std::string& key, const std::string& def,
                                 const std::vector<std::string>& choices) {
  std::string v = get_string(key, def);
  if (std::find(choices.begin(), choices.end(), v) == choices.end()) {
    fail(key, "must be one of " + joined(choices) + "; got \"" + v + "\"");
    return def;
  }
  return v;
}

bool settings::finish(std::string* error) {
  if (_error.empty()) {
    for (const auto& [k, e] : _values) {
      if (std::find(_known.begin(), _known.end(), k) != _known.end()) continue;
      std::vector<std::string> known = _known;
      std::sort(known.begin(), known.end());
      _error = (e.where.empty() ? "" : e.where + ": ") + "unknown key '" + _section + "." + k +
               "'; known keys in [" + _section + "]: " + joined(known);
      break;
    }
  }
  if (_error.empty()) return true;
  *error = _error;
  return false;
}

bool split_host_port(const std::string& s, std::string* host, uint16_t* port) {
  std::string h, p;
  if (!s.empty() && s[0] == '[') {
    const size_t close = s.find(']');
    if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':') return false;
    h = s.substr(1, close - 1);
    p = s.substr(close + 2);
  } else {
    const size_t colon = s.rfind(':');
    if (colon == std::string::npos || s.find(':') != colon) return false;
    h = s.substr(0, colon);
    p = s.substr(colon + 1);
  }
  if (h.empty() || p.empty() || p.size() > 5 ||
      !std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  const int v = std::stoi(p);
  if (v < 1 || v > 65535) return false;
  *host = h;
  *port = static_cast<uint16_t>(v);
  return true;
}

}  // namespace ringbridge::plugin
