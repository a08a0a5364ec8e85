// SPDX-License-Identifier: BSD-3-Clause
// A plugin's config section ([notify.<name>]) as typed values, independent of the config
// file's syntax. Getters record which keys a plugin knows and the first error, so a
// misspelt key or a wrong value is reported with its place and the fix.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace ringbridge::plugin {

class settings {
 public:
  using value = std::variant<bool, int64_t, double, std::string, std::vector<std::string>>;

  /// SECTION is the dotted name shown in messages, e.g. "notify.office".
  explicit settings(std::string section) : _section(std::move(section)) {}

  /// Adds a key; WHERE is its place in the config file ("ringbridge.toml:12:1").
  void set(const std::string& key, value v, std::string where = {});
  /// A value the config file could not express as one of the types above.
  void set_invalid(const std::string& key, std::string what, std::string where = {});

  std::string get_string(const std::string& key, const std::string& def);
  int64_t get_int(const std::string& key, int64_t def, int64_t lo, int64_t hi);
  double get_double(const std::string& key, double def, double lo, double hi);
  bool get_bool(const std::string& key, bool def);
  std::vector<std::string> get_strings(const std::string& key, std::vector<std::string> def);
  /// A string that must be one of CHOICES.
  std::string get_choice(const std::string& key, const std::string& def,
                         const std::vector<std::string>& choices);
  bool has(const std::string& key) const { return _values.count(key) != 0; }

  /// Records an error about KEY (for checks a getter cannot make).
  void fail(const std::string& key, const std::string& why);

  /// After the plugin has read its keys: false with *error naming the first bad or unknown key.
  bool finish(std::string* error);
  bool ok() const { return _error.empty(); }
  const std::string& section() const { return _section; }

 private:
  struct entry {
    value v;
    std::string where;
    std::string invalid;  ///< non-empty: the config held something unusable here
  };
  const entry* find(const std::string& key);

  std::string _section;
  std::map<std::string, entry> _values;
  std::vector<std::string> _known;
  std::string _error;
};

/// "host:port" or "[v6addr]:port". False when it is not of that form.
bool split_host_port(const std::string& s, std::string* host, uint16_t* port);

}  // namespace ringbridge::plugin
