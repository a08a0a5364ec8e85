// SPDX-License-Identifier: BSD-3-Clause
// TOML parsing (toml++) into config structs, with key-by-key validation.
#include "ringbridge/ctl/config.h"

#include <toml++/toml.h>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <vector>

#include "ringbridge/common/log.h"
#include "ringbridge/filters/rule_json.h"

namespace ringbridge::ctl {

namespace {

struct key_rule {
  const char* name;
  // Applies the node to the config; returns an error text ("" when fine).
  std::function<std::string(const toml::node&, config&)> apply;
};

std::string type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    default: return "a date/time";
  }
}

template <typename T>
key_rule int_key(const char* name, int64_t lo, int64_t hi, T& (*field)(config&)) {
  return {name, [=](const toml::node& n, config& c) -> std::string {
            auto v = n.value_exact<int64_t>();
            if (!v)
              return "expected an integer between " + std::to_string(lo) + " and " +
                     std::to_string(hi) + ", got " + type_name(n);
            if (*v < lo || *v > hi)
              return "must be between " + std::to_string(lo) + " and " + std::to_string(hi) +
                     ", got " + std::to_string(*v);
            field(c) = static_cast<T>(*v);
            return "";
          }};
}

key_rule bool_key(const char* name, bool& (*field)(config&)) {
  return {name, [=](const toml::node& n, config& c) -> std::string {
            auto v = n.value_exact<bool>();
            if (!v) return "expected true or false, got " + type_name(n);
            field(c) = *v;
            return "";
          }};
}

key_rule port_list_key(const char* name, std::vector<uint16_t>& (*field)(config&)) {
  return {name, [=](const toml::node& n, config& c) -> std::string {
            const toml::array* arr = n.as_array();
            if (arr == nullptr) return "expected an array of port numbers, got " + type_name(n);
            std::vector<uint16_t> ports;
            for (const auto& item : *arr) {
              auto v = item.value_exact<int64_t>();
              if (!v || *v < 1 || *v > 65535) return "every entry must be a port from 1 to 65535";
              ports.push_back(static_cast<uint16_t>(*v));
            }
            if (ports.size() > 64) return "at most 64 ports";
            field(c) = ports;
            return "";
          }};
}

key_rule str_key(const char* name, std::function<std::string(const std::string&, config&)> set) {
  return {name, [=](const toml::node& n, config& c) -> std::string {
            auto v = n.value_exact<std::string>();
            if (!v) return "expected a string, got " + type_name(n);
            return set(*v, c);
          }};
}

key_rule str_list_key(const char* name,
                      std::function<std::string(const std::vector<std::string>&, config&)> set) {
  return {name, [=](const toml::node& n, config& c) -> std::string {
            const toml::array* arr = n.as_array();
            if (arr == nullptr) return "expected an array of strings, got " + type_name(n);
            std::vector<std::string> v;
            for (const auto& item : *arr) {
              auto s = item.value_exact<std::string>();
              if (!s) return "every entry must be a string";
              v.push_back(*s);
            }
            return set(v, c);
          }};
}

// [[filters.rules]]: one table per rule, fields as in the REST API.
key_rule rules_key() {
  return {"rules", [](const toml::node& n, config& c) -> std::string {
            const toml::array* arr = n.as_array();
            if (arr == nullptr)
              return "expected rules as [[filters.rules]] tables, got " + type_name(n);
            std::vector<dp::filter_rule> rules;
            for (size_t i = 0; i < arr->size(); i++) {
              const toml::table* t = (*arr)[i].as_table();
              const std::string at = "rule " + std::to_string(i + 1) + ": ";
              if (t == nullptr) return at + "expected a table";
              nlohmann::json j = nlohmann::json::object();
              for (const auto& [k, v] : *t) {
                if (auto s = v.value_exact<std::string>())
                  j[std::string(k.str())] = *s;
                else if (auto iv = v.value_exact<int64_t>())
                  j[std::string(k.str())] = *iv;
                else
                  return at + std::string(k.str()) + ": expected a string or an integer";
              }
              dp::filter_rule r;
              std::string why;
              if (!parse_rule_json(j, c.filters.default_block_mode, &r, &why)) return at + why;
              if (!j.contains("position")) r.position = static_cast<uint32_t>((i + 1) * 10);
              if (std::string bad = dp::check_rule_shape(r); !bad.empty()) return at + bad;
              std::string err;
              if (!dp::filter_set::compile({r}, {}, 1, &err)) {
                const size_t colon = err.find(": ");
                return at + (colon == std::string::npos ? err : err.substr(colon + 2));
              }
              rules.push_back(std::move(r));
            }
            c.filters.rules = std::move(rules);
            return "";
          }};
}

#define RB_INT(key, T, lo, hi, path) int_key<T>(key, lo, hi, [](config& c) -> T& { return c.path; })

const std::map<std::string, std::vector<key_rule>>& schema() {
  static const std::map<std::string, std::vector<key_rule>> s = {
      {"ports",
       {
           str_key("a",
                   [](const std::string& v, config& c) {
                     c.ports.a = v;
                     return std::string();
                   }),
           str_key("b",
                   [](const std::string& v, config& c) {
                     c.ports.b = v;
                     return std::string();
                   }),
       }},
      {"dataplane",
       {
           RB_INT("workers", unsigned, 1, 64, dataplane.workers),
           RB_INT("mtu", uint32_t, 68, 9600, dataplane.mtu),
           RB_INT("burst", uint16_t, 1, 64, dataplane.burst),
           RB_INT("rx_desc", uint16_t, 64, 16384, dataplane.rx_desc),
           RB_INT("tx_desc", uint16_t, 64, 16384, dataplane.tx_desc),
           RB_INT("tx_flush_us", uint32_t, 0, 100000, dataplane.tx_flush_us),
           RB_INT("tx_retries", uint16_t, 0, 1000, dataplane.tx_retries),
           RB_INT("mbufs", uint32_t, 0, 16777215, dataplane.mbufs),
           RB_INT("af_xdp_busy_budget", uint32_t, 0, 1024, dataplane.af_xdp_busy_budget),
           bool_key("af_xdp_tune_napi",
                    [](config& c) -> bool& { return c.dataplane.af_xdp_tune_napi; }),
           RB_INT("af_xdp_gro_flush_us", uint32_t, 1, 10000, dataplane.af_xdp_gro_flush_us),
           str_key("complete_checksums",
                   [](const std::string& v, config& c) -> std::string {
                     if (v == "auto")
                       c.dataplane.complete_checksums = dp::csum_mode::automatic;
                     else if (v == "on")
                       c.dataplane.complete_checksums = dp::csum_mode::on;
                     else if (v == "off")
                       c.dataplane.complete_checksums = dp::csum_mode::off;
                     else
                       return "must be \"auto\" (on for virtual interfaces), \"on\" or "
                              "\"off\", got \"" +
                              v + "\"";
                     return "";
                   }),
       }},
      {"eal",
       {
           str_key("hugepages",
                   [](const std::string& v, config& c) -> std::string {
                     if (v == "auto")
                       c.eal.hugepages = dp::hugepage_mode::automatic;
                     else if (v == "require")
                       c.eal.hugepages = dp::hugepage_mode::require;
                     else if (v == "off")
                       c.eal.hugepages = dp::hugepage_mode::off;
                     else
                       return "must be \"auto\", \"require\" or \"off\", got \"" + v + "\"";
                     return "";
                   }),
           RB_INT("memory_mb", uint32_t, 0, 1048576, eal.memory_mb),
           str_key("file_prefix",
                   [](const std::string& v, config& c) -> std::string {
                     if (v.find_first_of("/ \t") != std::string::npos)
                       return "must not contain '/' or whitespace";
                     c.eal.file_prefix = v;
                     return "";
                   }),
           str_key("log_level",
                   [](const std::string& v, config& c) -> std::string {
                     static const char* k[] = {"emergency", "alert",  "critical", "error",
                                               "warning",   "notice", "info",     "debug"};
                     for (const char* l : k)
                       if (v == l) {
                         c.eal.log_level = v;
                         return "";
                       }
                     return "must be one of emergency, alert, critical, error, warning, "
                            "notice, info, debug; got \"" +
                            v + "\"";
                   }),
       }},
      {"replay", {RB_INT("idle_ms", uint32_t, 10, 600000, replay.idle_ms)}},
      {"sip",
       {
           bool_key("enabled", [](config& c) -> bool& { return c.sip.enabled; }),
           port_list_key("hint_ports",
                         [](config& c) -> std::vector<uint16_t>& { return c.sip.hint_ports; }),
           RB_INT("tcp_streams", uint32_t, 16, 65536, sip.tcp_streams),
           RB_INT("tcp_idle_s", uint32_t, 10, 86400, sip.tcp_idle_s),
           RB_INT("reassembly_slots", uint32_t, 8, 65536, sip.reassembly_slots),
           RB_INT("reassembly_max_bytes", uint32_t, 1500, 65535, sip.reassembly_max_bytes),
           RB_INT("reassembly_timeout_s", uint32_t, 1, 300, sip.reassembly_timeout_s),
       }},
      {"storage",
       {
           str_key("state_dir",
                   [](const std::string& v, config& c) -> std::string {
                     if (v.empty() || v[0] != '/') return "must be an absolute path";
                     c.storage.state_dir = v;
                     return "";
                   }),
           RB_INT("max_calls", uint64_t, 100, 100000000, storage.max_calls),
           RB_INT("max_call_age_days", uint32_t, 0, 36500, storage.max_call_age_days),
           RB_INT("phonebook_auto_max", uint64_t, 100, 10000000, storage.phonebook_auto_max),
       }},
      {"http",
       {
           bool_key("enabled", [](config& c) -> bool& { return c.http.enabled; }),
           str_key("listen",
                   [](const std::string& v, config& c) -> std::string {
                     const size_t colon = v.rfind(':');
                     if (colon == std::string::npos || colon == 0 || colon + 1 == v.size())
                       return "must be HOST:PORT, e.g. \"127.0.0.1:8080\" or \"[::1]:8080\"";
                     const std::string port = v.substr(colon + 1);
                     if (port.find_first_not_of("0123456789") != std::string::npos ||
                         port.size() > 5 || std::stoi(port) < 1 || std::stoi(port) > 65535)
                       return "the port in \"" + v + "\" must be 1 to 65535";
                     c.http.listen = v;
                     return "";
                   }),
           str_key("token",
                   [](const std::string& v, config& c) -> std::string {
                     if (v.size() < 16)
                       return "must be at least 16 characters (or leave it out: a random "
                              "token is generated into <state_dir>/api-token)";
                     for (unsigned char ch : v)
                       if (ch <= 0x20 || ch >= 0x7f)
                         return "must be printable ASCII without spaces";
                     c.http.token = v;
                     return "";
                   }),
           bool_key("public_metrics", [](config& c) -> bool& { return c.http.public_metrics; }),
           bool_key("public_status", [](config& c) -> bool& { return c.http.public_status; }),
           // HTTPS (item: least privilege): PEM files, read at start.
           str_key("cert",
                   [](const std::string& v, config& c) -> std::string {
                     if (v.empty()) return "must name a PEM certificate file (or leave it out)";
                     c.http.cert = v;
                     return "";
                   }),
           str_key("key",
                   [](const std::string& v, config& c) -> std::string {
                     if (v.empty()) return "must name a PEM private key file (or leave it out)";
                     c.http.key = v;
                     return "";
                   }),
       }},
      // Surviving the death of the process: the fail-to-wire fallback (ctl/ha.h).
      {"ha",
       {
           str_key("fallback",
                   [](const std::string& v, config& c) -> std::string {
                     using k = config::ha_section::fallback_kind;
                     if (v == "none")
                       c.ha.fallback = k::none;
                     else if (v == "kernel-bridge")
                       c.ha.fallback = k::kernel_bridge;
                     else
                       return "must be \"none\" or \"kernel-bridge\", got \"" + v + "\"";
                     return "";
                   }),
           str_key("bridge",
                   [](const std::string& v, config& c) -> std::string {
                     // "" = derived from side A's interface (ctl/ha.h).
                     bool ok = v.size() <= 15 && v != "." && v != "..";
                     for (unsigned char ch : v)
                       ok = ok && (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.');
                     if (!ok)
                       return "must be an interface name: 1 to 15 characters of "
                              "[A-Za-z0-9._-], e.g. \"rbfb0\" (or \"\" for the default)";
                     c.ha.bridge = v;
                     return "";
                   }),
       }},
      {"filters",
       {
           bool_key("enabled", [](config& c) -> bool& { return c.filters.enabled; }),
           str_list_key("identity",
                        [](const std::vector<std::string>& v, config& c) -> std::string {
                          std::vector<dp::identity_source> out;
                          for (const auto& s : v) {
                            if (s == "pai")
                              out.push_back(dp::identity_source::pai);
                            else if (s == "rpid")
                              out.push_back(dp::identity_source::rpid);
                            else if (s == "from")
                              out.push_back(dp::identity_source::from);
                            else
                              return "entries must be \"pai\", \"rpid\" or \"from\"; got \"" + s +
                                     "\"";
                          }
                          if (out.empty()) return "name at least one of pai, rpid, from";
                          c.filters.identity = out;
                          return "";
                        }),
           str_list_key("intl_prefixes",
                        [](const std::vector<std::string>& v, config& c) -> std::string {
                          for (const auto& p : v)
                            if (p.empty() || p.find_first_not_of("0123456789") != std::string::npos)
                              return "entries must be digits, e.g. [\"00\", \"011\"]";
                          c.filters.numbers.intl_prefixes = v;
                          return "";
                        }),
           str_key("country_code",
                   [](const std::string& v, config& c) -> std::string {
                     if (v.find_first_not_of("0123456789") != std::string::npos || v.size() > 4)
                       return "must be 1 to 4 digits without '+', e.g. \"1\" or \"49\"";
                     c.filters.numbers.country_code = v;
                     return "";
                   }),
           str_key("trunk_prefix",
                   [](const std::string& v, config& c) -> std::string {
                     if (v.find_first_not_of("0123456789") != std::string::npos || v.size() > 3)
                       return "must be up to 3 digits, e.g. \"0\" (or \"1\" in North America)";
                     c.filters.numbers.trunk_prefix = v;
                     return "";
                   }),
           RB_INT("min_national_digits", uint8_t, 1, 20, filters.numbers.min_national_digits),
           str_key("on_unparsable",
                   [](const std::string& v, config& c) -> std::string {
                     if (v != "forward" && v != "drop")
                       return "must be \"forward\" or \"drop\", got \"" + v + "\"";
                     c.filters.drop_unparsable_invites = v == "drop";
                     return "";
                   }),
           str_key("default_block_mode",
                   [](const std::string& v, config& c) -> std::string {
                     if (!dp::parse_block_mode(v, &c.filters.default_block_mode))
                       return "must be \"drop\", \"busy\" or \"decline\", got \"" + v + "\"";
                     return "";
                   }),
           RB_INT("blocked_ttl_s", uint32_t, 1, 3600, filters.blocked_ttl_s),
           RB_INT("reply_rate", uint32_t, 0, 100000, filters.reply_rate),
           RB_INT("reply_burst", uint32_t, 1, 100000, filters.reply_burst),
           rules_key(),
       }},
      {"recording",
       {
           bool_key("enabled", [](config& c) -> bool& { return c.recording.enabled; }),
           str_key("default",
                   [](const std::string& v, config& c) -> std::string {
                     if (v != "all" && v != "none")
                       return "must be \"all\" (record every call) or \"none\" (only calls a "
                              "record rule or POST /api/v1/calls/{id}/recording asks for), got \"" +
                              v + "\"";
                     c.recording.record_all = v == "all";
                     return "";
                   }),
           str_key("spool",
                   [](const std::string& v, config& c) -> std::string {
                     if (!v.empty() && v[0] != '/')
                       return "must be an absolute path (or \"\" for <state_dir>/recordings)";
                     c.recording.spool = v;
                     return "";
                   }),
           RB_INT("max_bytes", uint64_t, 0, uint64_t{1} << 50, recording.max_bytes),
           RB_INT("max_days", uint32_t, 0, 36500, recording.max_days),
           RB_INT("jitter_ms", uint32_t, 20, 1000, recording.jitter_ms),
           RB_INT("idle_s", uint32_t, 5, 86400, recording.idle_s),
           RB_INT("max_calls", uint32_t, 16, 100000, recording.max_calls),
           RB_INT("max_flows", uint32_t, 64, 1000000, recording.max_flows),
           bool_key("rtp_heuristics",
                    [](config& c) -> bool& { return c.recording.rtp_heuristics; }),
           str_key("no_record_header",
                   [](const std::string& v, config& c) -> std::string {
                     if (v.size() > 64 || v.find_first_of(" \t:\r\n") != std::string::npos)
                       return "must be a header name (no spaces or ':', at most 64 characters), "
                              "or \"\" for none";
                     c.recording.no_record_header = v;
                     return "";
                   }),
       }},
      {"calls",
       {
           RB_INT("max_active", uint32_t, 16, 1000000, calls.max_active),
           RB_INT("ringing_timeout_s", uint32_t, 10, 86400, calls.ringing_timeout_s),
           RB_INT("answered_timeout_s", uint32_t, 60, 604800, calls.answered_timeout_s),
       }},
      {"stats", {RB_INT("interval_s", uint32_t, 0, 86400, stats.interval_s)}},
      {"debug", {RB_INT("control_stall_ms", uint32_t, 0, 600000, debug.control_stall_ms)}},
      {"log",
       {
           str_key("level",
                   [](const std::string& v, config& c) -> std::string {
                     log_level l;
                     if (!parse_log_level(v.c_str(), &l))
                       return "must be error, warning, notice, info or debug; got \"" + v + "\"";
                     c.log.level = v;
                     return "";
                   }),
       }},
  };
  return s;
}

std::string where(std::string_view source, const toml::source_region& r) {
  std::ostringstream o;
  o << source << ":" << r.begin.line << ":" << r.begin.column;
  return o.str();
}

std::string known_list(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

// A [notify.<name>] table as plugin settings (the sink's factory validates the keys).
bool parse_notify(const toml::table& tbl, std::string_view source, config* c, std::string* error) {
  for (const auto& [k, node] : tbl) {
    const std::string name(k.str());
    const toml::table* sect = node.as_table();
    if (sect == nullptr) {
      *error = where(source, k.source()) + ": notify." + name + ": expected a table ([notify." +
               name + "] with type = \"udp\", ...), got " + type_name(node);
      return false;
    }
    plugin::sink_config sc{name, plugin::settings("notify." + name)};
    for (const auto& [key, v] : *sect) {
      const std::string kn(key.str());
      const std::string at = where(source, v.source());
      if (auto b = v.value_exact<bool>())
        sc.values.set(kn, *b, at);
      else if (auto i = v.value_exact<int64_t>())
        sc.values.set(kn, *i, at);
      else if (auto d = v.value_exact<double>())
        sc.values.set(kn, *d, at);
      else if (auto str = v.value_exact<std::string>())
        sc.values.set(kn, *str, at);
      else if (const toml::array* arr = v.as_array()) {
        std::vector<std::string> items;
        bool strings = true;
        for (const auto& item : *arr) {
          auto is = item.value_exact<std::string>();
          if (!is)
            strings = false;
          else
            items.push_back(*is);
        }
        if (strings)
          sc.values.set(kn, items, at);
        else
          sc.values.set_invalid(kn, "expected an array of strings", at);
      } else {
        sc.values.set_invalid(kn, "unexpected " + type_name(v), at);
      }
    }
    std::string why;
    if (!plugin::hub::check(sc, &why)) {
      *error = why;
      return false;
    }
    for (const auto& other : c->notify)
      if (other.name == name) {
        *error = where(source, k.source()) + ": [notify." + name + "] appears twice";
        return false;
      }
    c->notify.push_back(std::move(sc));
  }
  return true;
}

}  // namespace

bool parse_config(std::string_view text, std::string_view source, config* out, std::string* error) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    *error = where(source, e.source()) + ": " + std::string(e.description());
    return false;
  }
  config c = *out;
  const auto& sch = schema();
  std::vector<std::string> sections;
  for (const auto& [name, rules] : sch) sections.push_back(name);
  sections.push_back("notify.<name>");

  for (const auto& [key, node] : root) {
    const std::string section(key.str());
    if (section == "notify" && node.as_table() != nullptr) {
      if (!parse_notify(*node.as_table(), source, &c, error)) return false;
      continue;
    }
    auto it = sch.find(section);
    if (it == sch.end()) {
      *error = where(source, key.source()) + ": unknown section '" + section +
               "'; known sections: " + known_list(sections);
      return false;
    }
    const toml::table* tbl = node.as_table();
    if (tbl == nullptr) {
      *error = where(source, key.source()) + ": '" + section + "' must be a table ([" + section +
               "]), got " + type_name(node);
      return false;
    }
    for (const auto& [k, v] : *tbl) {
      const std::string name(k.str());
      const key_rule* rule = nullptr;
      std::vector<std::string> known;
      for (const auto& r : it->second) {
        known.push_back(r.name);
        if (name == r.name) rule = &r;
      }
      if (rule == nullptr) {
        *error = where(source, k.source()) + ": unknown key '" + section + "." + name +
                 "'; known keys in [" + section + "]: " + known_list(known);
        return false;
      }
      std::string why = rule->apply(v, c);
      if (!why.empty()) {
        *error = where(source, v.source()) + ": " + section + "." + name + ": " + why;
        return false;
      }
    }
  }
  *out = std::move(c);
  return true;
}

bool load_config_file(const std::string& path, config* out, std::string* error) {
  std::ifstream f(path);
  if (!f) {
    *error = "cannot read config file '" + path + "': " + std::strerror(errno);
    return false;
  }
  std::stringstream ss;
  ss << f.rdbuf();
  return parse_config(ss.str(), path, out, error);
}

bool validate_config(const config& cfg, std::string* error) {
  if (cfg.ports.a.empty() || cfg.ports.b.empty()) {
    *error =
        "two ports are needed: give --port twice (side A, then side B) or set "
        "[ports] a and b in the config file";
    return false;
  }
  if (cfg.http.cert.empty() != cfg.http.key.empty()) {
    *error =
        "[http] cert and key go together: set both (PEM certificate and private key) for "
        "HTTPS, or neither for plain HTTP";
    return false;
  }
  if (cfg.dataplane.rx_desc & (cfg.dataplane.rx_desc - 1) ||
      cfg.dataplane.tx_desc & (cfg.dataplane.tx_desc - 1)) {
    *error = "dataplane.rx_desc and dataplane.tx_desc must be powers of two";
    return false;
  }
  return true;
}

}  // namespace ringbridge::ctl
