// SPDX-License-Identifier: BSD-3-Clause
// REST handlers, bearer-token auth and /metrics over civetweb.
#include "ringbridge/ctl/http_api.h"

#include <CivetServer.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "ringbridge/common/json_text.h"
#include "ringbridge/common/log.h"
#include "ringbridge/common/utf8.h"
#include "ringbridge/ctl/store.h"
#include "ringbridge/filters/filter_manager.h"
#include "ringbridge_build_info.h"

namespace ringbridge::ctl {

using json = nlohmann::json;

namespace {

constexpr size_t k_max_body = 64 * 1024;

json iso_time(double t) {
  if (t <= 0) return nullptr;
  const auto secs = static_cast<time_t>(t);
  const int ms = static_cast<int>((t - static_cast<double>(secs)) * 1000);
  tm utc{};
  gmtime_r(&secs, &utc);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, ms);
  return buf;
}

json call_to_json(const call_record& c) {
  return json{{"id", c.id},
              {"call_id", c.call_id},
              {"direction", direction_name(c.direction)},
              {"from_number", c.from_number},
              {"from_name", c.from_name},
              {"caller_name", c.caller_name},
              {"to_number", c.to_number},
              {"state", call_state_name(c.state)},
              {"status_code", c.status_code},
              {"started_at", iso_time(c.started_at)},
              {"answered_at", iso_time(c.answered_at)},
              {"ended_at", iso_time(c.ended_at)},
              {"duration_s", c.duration_s()},
              {"rule_id", c.rule_id != 0 ? json(c.rule_id) : json(nullptr)},
              {"block_mode", c.block_mode.empty() ? json(nullptr) : json(c.block_mode)},
              {"end_reason", c.end_reason.empty() ? json(nullptr) : json(c.end_reason)}};
}

void reply(mg_connection* conn, int status, const std::string& body,
           const char* type = "application/json", const char* extra = "") {
  mg_printf(conn,
            "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
            "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n%s\r\n",
            status, mg_get_response_code_text(conn, status), type, body.size(), extra);
  mg_write(conn, body.data(), body.size());
}

void reply_json(mg_connection* conn, int status, const json& j) {
  reply(conn, status, json_text(j) + "\n");
}

void reply_error(mg_connection* conn, int status, const std::string& msg) {
  reply_json(conn, status, json{{"error", msg}});
}

// Constant-time comparison: the time taken does not depend on where they differ.
bool token_equals(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; i++) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0 && !b.empty();
}

std::string url_decode(const std::string& s) {
  std::string out(s.size() + 1, '\0');
  const int n = mg_url_decode(s.data(), static_cast<int>(s.size()), out.data(),
                              static_cast<int>(out.size()), 0);
  out.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return out;
}

bool valid_name(const std::string& n) {
  if (n.empty() || n.size() > 64 || !utf8_valid(n)) return false;
  for (unsigned char c : n)
    if (c < 0x20 || c == 0x7f) return false;
  return true;
}

// Parses a JSON request body. nlohmann's parser refuses strings that are not UTF-8 with
// nothing more than "not JSON": such a body is looked at again, repaired, to name the
// field that holds them.
bool parse_body(const std::string& body, json* j, std::string* err) {
  *j = json::parse(body, nullptr, false);
  if (!j->is_discarded()) return true;
  if (utf8_valid(body)) {
    *err = "the body is not valid JSON";
    return false;
  }
  *err = "the body is not valid UTF-8";
  const json repaired = json::parse(utf8_sanitize(body), nullptr, false);
  if (repaired.is_object())
    for (const auto& [k, v] : repaired.items())
      if (k.find("\xEF\xBF\xBD") != std::string::npos ||
          (v.is_string() &&
           v.get_ref<const std::string&>().find("\xEF\xBF\xBD") != std::string::npos)) {
        *err = "'" + k + "' is not valid UTF-8 text";
        break;
      }
  return false;
}

}  // namespace

bool parse_phonebook_body(std::string_view body, std::string* name, std::string* error) {
  json j;
  if (!parse_body(std::string(body), &j, error)) return false;
  if (!j.is_object() || !j.contains("name") || !j["name"].is_string()) {
    *error = "expected a JSON object like {\"name\": \"Mom\"}";
    return false;
  }
  *name = j["name"].get<std::string>();
  if (!valid_name(*name)) {
    *error = "name must be 1 to 64 bytes of UTF-8 text without control characters";
    return false;
  }
  return true;
}

std::string call_json(const call_record& c) {
  return json_text(call_to_json(c));
}

bool load_or_create_token(const std::string& path, std::string* token, bool* created,
                          std::string* error) {
  *created = false;
  if (const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC); fd >= 0) {
    // The token opens the API (call log, phonebook, filters): only its owner may read it.
    struct stat st {};
    const bool stat_ok = ::fstat(fd, &st) == 0;
    char buf[256];
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    ::close(fd);
    if (stat_ok && (st.st_mode & 077) != 0) {
      char mode[8];
      std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
      *error = "token file '" + path + "' is readable by group or others (mode " + mode +
               "): anyone who can read it can use the API; fix: chmod 600 '" + path + "'";
      return false;
    }
    token->assign(buf, n > 0 ? static_cast<size_t>(n) : 0);
    token->resize(std::min(token->size(), token->find('\n')));
    while (!token->empty() && (token->back() == '\r' || token->back() == ' ')) token->pop_back();
    if (token->size() >= 16) return true;
    *error = "token file '" + path + "' holds no token of at least 16 characters";
    return false;
  } else if (errno != ENOENT) {
    *error = "cannot read token file '" + path + "': " + std::strerror(errno);
    return false;
  }
  std::random_device rd;  // the kernel's CSPRNG (getrandom)
  static const char k_hex[] = "0123456789abcdef";
  token->clear();
  for (int i = 0; i < 16; i++) {
    const unsigned v = rd();
    for (int k = 0; k < 4; k++) *token += k_hex[(v >> (k * 4)) & 15];
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) {
    *error = "cannot create token file '" + path + "': " + std::strerror(errno);
    return false;
  }
  const std::string line = *token + "\n";
  const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  ::close(fd);
  if (!ok) {
    *error = "cannot write token file '" + path + "'";
    return false;
  }
  *created = true;
  return true;
}

bool listen_is_loopback(const std::string& listen) {
  std::string host = listen.substr(0, listen.rfind(':'));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

namespace {

bool read_pem(const char* key_name, const std::string& path, const char* must_have,
              std::string* out, std::string* error) {
  std::ifstream f(path);
  if (!f) {
    *error = std::string("[http] ") + key_name + " = '" + path +
             "': cannot read it: " + std::strerror(errno) +
             "; give the path of a PEM file the service user can read";
    return false;
  }
  std::stringstream ss;
  ss << f.rdbuf();
  *out = ss.str();
  if (out->find("-----BEGIN ") == std::string::npos || out->find(must_have) == std::string::npos) {
    *error = std::string("[http] ") + key_name + " = '" + path + "' is not a PEM file with " +
             must_have + "; make one with e.g. `openssl req -x509 -newkey rsa:2048 -nodes ...`";
    return false;
  }
  if (!out->empty() && out->back() != '\n') *out += '\n';
  return true;
}

// civetweb's own messages (TLS set-up errors among them): relayed at info level; the
// first few of a start explain why it failed.
std::mutex g_civet_log_mu;
std::string g_civet_start_errors;

int relay_civet_log(const mg_connection*, const char* message) {
  RB_LOG_INFO("http: %s", message);
  std::lock_guard<std::mutex> lock(g_civet_log_mu);
  if (g_civet_start_errors.size() < 512)
    g_civet_start_errors += (g_civet_start_errors.empty() ? "" : "; ") + std::string(message);
  return 1;  // handled: civetweb prints nothing itself
}

}  // namespace

// control/tls_compat: OpenSSL 3 support for civetweb 1.15 (it must be loaded before
// civetweb loads OpenSSL).
extern "C" int ringbridge_tls_compat(void);

bool write_tls_pem(const std::string& cert, const std::string& key, const std::string& out,
                   std::string* error) {
  if (ringbridge_tls_compat() != 1 || mg_check_feature(MG_FEATURES_TLS) == 0) {
    *error =
        "[http] cert and key are set, but this civetweb library was built without TLS; "
        "install Debian's libcivetweb1 (built with OpenSSL) or leave them out";
    return false;
  }
  // civetweb loads OpenSSL now. It must be the first attempt in the process: a failed one
  // is counted as done, and the server would then start and crash on the first connection.
  if ((mg_init_library(MG_FEATURES_TLS) & MG_FEATURES_TLS) == 0) {
    *error =
        "[http] cert and key are set, but civetweb cannot load OpenSSL (it opens libssl.so "
        "and libcrypto.so by those names: install libssl-dev), or leave them out";
    return false;
  }
  std::string cert_pem, key_pem;
  if (!read_pem("cert", cert, "CERTIFICATE-----", &cert_pem, error) ||
      !read_pem("key", key, "PRIVATE KEY-----", &key_pem, error))
    return false;
  const std::string tmp = out + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    *error = "cannot write " + tmp + ": " + std::strerror(errno);
    return false;
  }
  const std::string pem = key_pem + cert_pem;
  bool ok = ::write(fd, pem.data(), pem.size()) == static_cast<ssize_t>(pem.size());
  ok = ::fsync(fd) == 0 && ok;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), out.c_str()) != 0) {
    *error = "cannot write " + out + ": " + std::strerror(errno);
    ::unlink(tmp.c_str());
    return false;
  }
  return true;
}

struct http_api::handler : public CivetHandler {
  http_settings settings;
  api_context* ctx = nullptr;

  store* db() {
    thread_local std::unique_ptr<store> s;  // one connection per server thread
    if (!s) {
      std::string err;
      s = store::open(ctx->db_path, &err);
      if (!s) RB_LOG_WARN("HTTP: %s", err.c_str());
      if (s && ctx->counters) s->set_stats(&ctx->counters->storage);
    }
    return s.get();
  }

  bool authorized(mg_connection* conn) {
    const char* h = mg_get_header(conn, "Authorization");
    if (h == nullptr || std::strncmp(h, "Bearer ", 7) != 0) return false;
    return token_equals(h + 7, settings.token);
  }

  bool handle(mg_connection* conn, const std::string& method) {
    const mg_request_info* ri = mg_get_request_info(conn);
    const std::string path = ri->local_uri ? ri->local_uri : "/";
    const std::string query = ri->query_string ? ri->query_string : "";
    const bool is_public = (path == "/metrics" && settings.public_metrics) ||
                           (path == "/api/v1/status" && settings.public_status);
    if (!is_public && !authorized(conn)) {
      reply(conn, 401, json_text(json{{"error", "missing or wrong bearer token"}}) + "\n",
            "application/json", "WWW-Authenticate: Bearer realm=\"ringbridge\"\r\n");
      return true;
    }
    try {
      route(conn, method, path, query);
    } catch (const std::exception& e) {
      reply_error(conn, 500, e.what());
    } catch (...) {
      reply_error(conn, 500, "internal error");
    }
    return true;
  }

  void route(mg_connection* conn, const std::string& method, const std::string& path,
             const std::string& query) {
    const std::string calls = "/api/v1/calls";
    const std::string pb = "/api/v1/phonebook";
    auto get_only = [&]() {
      if (method == "GET") return true;
      reply_error(conn, 405, method + " is not allowed on " + path);
      return false;
    };
    if (path == "/metrics") {
      if (!get_only()) return;
      const double up =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - ctx->started).count();
      reply(conn, 200, render_metrics(collect_stats(*ctx->bridge, ctx->sip), *ctx->counters, up),
            "text/plain; version=0.0.4; charset=utf-8");
    } else if (path == "/api/v1/status") {
      if (get_only()) reply_json(conn, 200, status());
    } else if (path == calls) {
      if (get_only()) list_calls(conn, query);
    } else if (path == calls + "/active") {
      if (!get_only()) return;
      json arr = json::array();
      std::lock_guard<std::mutex> g(ctx->mu);
      for (const auto& c : ctx->active) arr.push_back(call_to_json(c));
      reply_json(conn, 200, arr);
    } else if (path == "/api/v1/filters" || path.rfind("/api/v1/filters/", 0) == 0) {
      filters_route(conn, method, path, query);
    } else if (path.rfind(calls + "/", 0) == 0 && path.size() > 6 &&
               path.compare(path.size() - 6, 6, "/block") == 0) {
      if (method != "POST") return reply_error(conn, 405, method + " is not allowed on " + path);
      if (ctx->filters == nullptr) return filters_off(conn);
      const std::string id = path.substr(calls.size() + 1, path.size() - calls.size() - 7);
      char* end = nullptr;
      const long long n = std::strtoll(id.c_str(), &end, 10);
      store* s = db();
      auto c = (id.empty() || *end != '\0' || n <= 0 || !s) ? std::nullopt : s->call(n);
      if (!c) return reply_error(conn, 404, "no call " + id);
      const api_result r = ctx->filters->block_call(*c);
      reply_json(conn, r.status, r.body);
    } else if (path.rfind(calls + "/", 0) == 0) {
      if (!get_only()) return;
      const std::string id = path.substr(calls.size() + 1);
      char* end = nullptr;
      const long long n = std::strtoll(id.c_str(), &end, 10);
      if (id.empty() || *end != '\0' || n <= 0) return reply_error(conn, 404, "no call " + id);
      store* s = db();
      auto c = s ? s->call(n) : std::nullopt;
      if (!c) return reply_error(conn, 404, "no call " + id);
      reply_json(conn, 200, call_to_json(*c));
    } else if (path == pb) {
      if (!get_only()) return;
      json arr = json::array();
      if (store* s = db())
        for (const auto& e : s->phonebook_list())
          arr.push_back({{"number", e.number},
                         {"name", e.name},
                         {"source", e.source},
                         {"updated_at", iso_time(e.updated_at)}});
      reply_json(conn, 200, arr);
    } else if (path.rfind(pb + "/", 0) == 0) {
      const std::string raw = url_decode(path.substr(pb.size() + 1));
      if (!utf8_valid(raw))
        return reply_error(conn, 400, "the number in the path is not valid UTF-8");
      phonebook_entry_route(conn, method, normalize_number(raw));
    } else {
      reply_error(conn, 404, "no such resource: " + path);
    }
  }

  json status() {
    const dataplane_stats st = collect_stats(*ctx->bridge, ctx->sip);
    json ports = json::object();
    for (const auto& p : st.ports) {
      json drops = json::object();
      for (size_t r = 0; r < dp::k_drop_reasons; r++)
        drops[dp::drop_reason_name(static_cast<dp::drop_reason>(r))] = p.drops[r];
      json frames = json::object();
      for (size_t k = 0; k < dp::k_port_counters; k++)
        frames[dp::port_counter_name(static_cast<dp::port_counter>(k))] = p.counts[k];
      ports[p.name] = {{"spec", p.spec},
                       {"rx_pkts", p.rx_pkts},
                       {"rx_bytes", p.rx_bytes},
                       {"tx_pkts", p.tx_pkts},
                       {"tx_bytes", p.tx_bytes},
                       {"forwarded", p.forwarded},
                       {"injected", p.injected},
                       {"drops", drops},
                       {"frames", frames},
                       {"complete_checksums", p.complete_checksums},
                       {"nic_imissed", p.nic_imissed},
                       {"link_up", p.link_up},
                       {"link_changes", p.link_changes}};
    }
    json sip = json::object();
    for (size_t k = 0; k < dp::k_sip_counters; k++)
      sip[dp::sip_counter_name(static_cast<dp::sip_counter>(k))] = st.sip.c[k];
    json unscreened = json::object();
    for (size_t r = 0; r < dp::k_unscreened_reasons; r++)
      unscreened[dp::unscreened_reason_name(static_cast<dp::unscreened_reason>(r))] =
          st.sip.unscreened[r];
    sip["unscreened"] = unscreened;
    size_t active;
    {
      std::lock_guard<std::mutex> g(ctx->mu);
      active = ctx->active.size();
    }
    store* s = db();
    return json{
        {"version", RINGBRIDGE_VERSION},
        {"uptime_s",
         std::chrono::duration<double>(std::chrono::steady_clock::now() - ctx->started).count()},
        {"ports", ports},
        {"workers", st.workers.size()},
        {"sip", sip},
        {"calls", {{"active", active}, {"logged", s ? s->call_count() : 0}}},
        {"storage", storage_status(s)},
        {"notify", notify_status()},
        {"state_dir", ctx->state_dir}};
  }

  json storage_status(store* s) {
    if (ctx->counters == nullptr) return json::object();
    const storage_stats& st = ctx->counters->storage;
    const bool degraded = st.degraded.load();
    return json{{"state", degraded ? "degraded" : "ok"},
                {"pending", st.pending.load()},
                {"pending_dropped", st.pending_dropped.load()},
                {"errors", st.errors_total()},
                {"last_error", st.last_error().empty() ? json(nullptr) : json(st.last_error())},
                {"pruned_calls", st.pruned_calls.load()},
                {"pruned_phonebook", st.pruned_phonebook.load()},
                {"interrupted_calls_closed", st.interrupted.load()},
                {"journal_mode", s ? json(s->journal_mode()) : json(nullptr)}};
  }

  json notify_status() {
    json out = json::object();
    const plugin::hub* h = ctx->counters ? ctx->counters->notify : nullptr;
    if (h == nullptr) return out;
    for (const auto& s : h->stats())
      out[s.name] = {{"type", s.type},
                     {"delivered", s.delivered},
                     {"failed", s.failed},
                     {"dropped", s.dropped},
                     {"queued", s.queued}};
    return out;
  }

  void filters_off(mg_connection* conn) {
    reply_error(conn, 503,
                "call filtering is off ([filters] enabled = false or [sip] enabled = false)");
  }

  // Reads the request body (at most MAX bytes); false after replying 413.
  bool read_body(mg_connection* conn, size_t max, std::string* body) {
    const mg_request_info* ri = mg_get_request_info(conn);
    if (ri->content_length < 0 || static_cast<size_t>(ri->content_length) > max) {
      reply_error(
          conn, 413,
          "the body must have a Content-Length of at most " + std::to_string(max >> 10) + " KiB");
      return false;
    }
    body->assign(static_cast<size_t>(ri->content_length), '\0');
    size_t got = 0;
    while (got < body->size()) {
      const int r = mg_read(conn, body->data() + got, body->size() - got);
      if (r <= 0) break;
      got += static_cast<size_t>(r);
    }
    body->resize(got);
    return true;
  }

  void filters_route(mg_connection* conn, const std::string& method, const std::string& path,
                     const std::string& query) {
    filter_manager* fm = ctx->filters;
    if (fm == nullptr) return filters_off(conn);
    const std::string base = "/api/v1/filters";
    auto send = [&](const api_result& r) {
      if (r.status == 204) return reply(conn, 204, "", "application/json");
      reply_json(conn, r.status, r.body);
    };
    auto json_body = [&](json* j) {
      std::string body;
      if (!read_body(conn, k_max_body, &body)) return false;
      std::string why;
      if (parse_body(body, j, &why)) return true;
      reply_error(conn, 400, why);
      return false;
    };
    if (path == base) {
      if (method == "GET") return send(fm->list());
      if (method != "POST") return reply_error(conn, 405, method + " is not allowed on " + path);
      json j;
      if (json_body(&j)) send(fm->create(j));
      return;
    }
    if (path == base + "/import") {
      if (method != "POST") return reply_error(conn, 405, method + " is not allowed on " + path);
      std::string body;
      if (!read_body(conn, 32u << 20, &body)) return;
      char action[32] = "", mode[32] = "";
      mg_get_var(query.c_str(), query.size(), "action", action, sizeof(action));
      mg_get_var(query.c_str(), query.size(), "block_mode", mode, sizeof(mode));
      return send(fm->import(body, action, mode));
    }
    const std::string id = path.substr(base.size() + 1);
    char* end = nullptr;
    const long long n = std::strtoll(id.c_str(), &end, 10);
    if (id.empty() || *end != '\0' || n <= 0) return reply_error(conn, 404, "no filter rule " + id);
    if (method == "GET") return send(fm->get(n));
    if (method == "DELETE") return send(fm->remove(n));
    if (method != "PUT") return reply_error(conn, 405, method + " is not allowed on " + path);
    json j;
    if (json_body(&j)) send(fm->update(n, j));
  }

  void list_calls(mg_connection* conn, const std::string& query) {
    char buf[128];
    int limit = 50;
    if (mg_get_var(query.c_str(), query.size(), "limit", buf, sizeof(buf)) > 0) {
      char* end = nullptr;
      const long v = std::strtol(buf, &end, 10);
      if (*end != '\0' || v < 1 || v > 1000)
        return reply_error(conn, 400, "limit must be a number from 1 to 1000");
      limit = static_cast<int>(v);
    }
    std::string number;
    const int n = mg_get_var(query.c_str(), query.size(), "number", buf, sizeof(buf));
    if (n == -2) return reply_error(conn, 400, "number is too long");
    if (n > 0 && !utf8_valid(buf)) return reply_error(conn, 400, "number is not valid UTF-8");
    if (n > 0) number = normalize_number(buf);
    json arr = json::array();
    if (store* s = db())
      for (const auto& c : s->calls(limit, number)) arr.push_back(call_to_json(c));
    reply_json(conn, 200, arr);
  }

  void phonebook_entry_route(mg_connection* conn, const std::string& method,
                             const std::string& number) {
    if (number.empty() || number.size() > 64)
      return reply_error(conn, 400, "the number in the path is empty or too long");
    store* s = db();
    if (s == nullptr) return reply_error(conn, 503, "the database is not available");
    if (method == "GET") {
      auto e = s->phonebook_get(number);
      if (!e) return reply_error(conn, 404, "no phonebook entry for " + number);
      return reply_json(conn, 200,
                        {{"number", e->number},
                         {"name", e->name},
                         {"source", e->source},
                         {"updated_at", iso_time(e->updated_at)}});
    }
    if (method == "DELETE") {
      if (!s->phonebook_delete(number))
        return reply_error(conn, 404, "no phonebook entry for " + number);
      return reply(conn, 204, "", "application/json");
    }
    if (method != "PUT") return reply_error(conn, 405, method + " is not allowed here");
    std::string body;
    if (!read_body(conn, k_max_body, &body)) return;
    std::string name, why;
    if (!parse_phonebook_body(body, &name, &why)) return reply_error(conn, 400, why);
    if (!s->phonebook_set(number, name, "user"))
      return reply_error(conn, 503,
                         "the phonebook could not be written: " + s->path() +
                             " is locked or failing (see /api/v1/status storage)");
    auto e = s->phonebook_get(number);
    reply_json(conn, 200,
               {{"number", number},
                {"name", name},
                {"source", "user"},
                {"updated_at", iso_time(e ? e->updated_at : 0)}});
  }

  bool handleGet(CivetServer*, mg_connection* c) override { return handle(c, "GET"); }
  bool handlePut(CivetServer*, mg_connection* c) override { return handle(c, "PUT"); }
  bool handleDelete(CivetServer*, mg_connection* c) override { return handle(c, "DELETE"); }
  bool handlePost(CivetServer*, mg_connection* c) override { return handle(c, "POST"); }
  bool handlePatch(CivetServer*, mg_connection* c) override { return handle(c, "PATCH"); }
};

std::unique_ptr<http_api> http_api::start(const http_settings& s, api_context* ctx,
                                          std::string* error) {
  if (s.token.size() < 16) {
    *error = "[http] token must be at least 16 characters";
    return nullptr;
  }
  std::unique_ptr<http_api> api(new http_api());
  api->_handler = std::make_unique<handler>();
  api->_handler->settings = s;
  api->_handler->ctx = ctx;
  const bool tls = !s.tls_pem.empty();
  std::vector<std::string> opts = {"listening_ports",
                                   s.listen + (tls ? "s" : ""),
                                   "num_threads",
                                   std::to_string(s.threads),
                                   "enable_directory_listing",
                                   "no",
                                   "request_timeout_ms",
                                   "10000"};
  if (tls) {
    // TLS 1.2 and newer (civetweb's protocol version 4).
    opts.insert(opts.end(), {"ssl_certificate", s.tls_pem, "ssl_certificate_chain", s.tls_chain,
                             "ssl_protocol_version", "4"});
  }
  CivetCallbacks callbacks;
  callbacks.log_message = relay_civet_log;
  {
    std::lock_guard<std::mutex> lock(g_civet_log_mu);
    g_civet_start_errors.clear();
  }
  try {
    api->_server = std::make_unique<CivetServer>(opts, &callbacks);
  } catch (const CivetException& e) {
    std::string why;
    {
      std::lock_guard<std::mutex> lock(g_civet_log_mu);
      why = g_civet_start_errors.empty() ? e.what() : g_civet_start_errors;
    }
    *error = std::string("cannot serve ") + (tls ? "HTTPS" : "HTTP") + " on [http] listen = \"" +
             s.listen + "\" (" + why + ")" +
             (tls ? "; check [http] cert and key (a matching certificate and private key)"
                  : "; is the port in use, or the address not on this host?");
    return nullptr;
  }
  api->_server->addHandler("/", api->_handler.get());
  return api;
}

http_api::~http_api() {
  if (_server) _server->close();
}

}  // namespace ringbridge::ctl
