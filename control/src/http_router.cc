// SPDX-License-Identifier: BSD-3-Clause
// Route matching, the token check and the shared answer helpers of the HTTP layer.
//
// Owns: the 401/404/405/413/500 answers and how a request reaches its handler. May touch
// civetweb's request (query variables, the body) on behalf of handlers; nothing else.
#include "ringbridge/ctl/http_router.h"

#include <CivetServer.h>

#include <algorithm>
#include <cstring>

#include "ringbridge/common/json_text.h"
#include "ringbridge/common/utf8.h"

namespace ringbridge::ctl {

using json = nlohmann::json;

namespace {

// "/a/b/" → {"a", "b", ""}; "/" → {""}.
std::vector<std::string_view> split_path(std::string_view p) {
  std::vector<std::string_view> out;
  if (!p.empty() && p.front() == '/') p.remove_prefix(1);
  for (;;) {
    const size_t slash = p.find('/');
    out.push_back(p.substr(0, slash));
    if (slash == std::string_view::npos) break;
    p.remove_prefix(slash + 1);
  }
  return out;
}

bool is_capture(std::string_view seg) {
  return seg.size() >= 2 && seg.front() == '{' && seg.back() == '}';
}

// Constant-time comparison: the time taken does not depend on where they differ.
bool token_equals(std::string_view a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; i++) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0 && !b.empty();
}

}  // namespace

std::string_view http_request::param(std::string_view name) const {
  for (const auto& [k, v] : params)
    if (k == name) return v;
  return {};
}

int http_request::query_var(const char* name, size_t max, std::string* value) const {
  std::string buf(max + 1, '\0');
  const int n = mg_get_var(query.c_str(), query.size(), name, buf.data(), buf.size());
  value->assign(buf.data(), n > 0 ? static_cast<size_t>(n) : 0);
  return n;
}

std::optional<std::string> http_request::body(size_t max) const {
  auto* conn = static_cast<mg_connection*>(connection);
  const mg_request_info* ri = mg_get_request_info(conn);
  if (ri->content_length < 0 || static_cast<size_t>(ri->content_length) > max) return std::nullopt;
  std::string out(static_cast<size_t>(ri->content_length), '\0');
  size_t got = 0;
  while (got < out.size()) {
    const int r = mg_read(conn, out.data() + got, out.size() - got);
    if (r <= 0) break;
    got += static_cast<size_t>(r);
  }
  out.resize(got);
  return out;
}

http_response json_response(int status, const json& j) {
  return {status, json_text(j) + "\n", "application/json", ""};
}

http_response error_response(int status, const std::string& message) {
  return json_response(status, json{{"error", message}});
}

http_response no_content() {
  return {204, "", "application/json", ""};
}

http_response body_too_large(size_t max) {
  return error_response(
      413, "the body must have a Content-Length of at most " + std::to_string(max >> 10) + " KiB");
}

std::string url_decode(std::string_view s) {
  std::string out(s.size() + 1, '\0');
  const int n = mg_url_decode(s.data(), static_cast<int>(s.size()), out.data(),
                              static_cast<int>(out.size()), 0);
  out.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return out;
}

// nlohmann's parser refuses strings that are not UTF-8 with nothing more than "not JSON":
// such a body is looked at again, repaired, to name the field that holds them.
bool parse_json_body(std::string_view body, json* j, std::string* err) {
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

void http_router::add(http_route r) {
  compiled c;
  for (std::string_view seg : split_path(r.pattern)) {
    if (is_capture(seg)) {
      if (seg.size() > 3 && seg[seg.size() - 2] == '*') c.tail = true;
    } else {
      c.literals++;
    }
    c.segments.emplace_back(seg);
  }
  c.route = std::move(r);
  _routes.push_back(std::move(c));
}

bool http_router::match(const compiled& c, const std::vector<std::string_view>& path,
                        std::vector<std::pair<std::string, std::string>>* params) {
  params->clear();
  const size_t fixed = c.segments.size() - (c.tail ? 1 : 0);
  if (c.tail ? path.size() < c.segments.size() : path.size() != c.segments.size()) return false;
  for (size_t i = 0; i < fixed; i++) {
    const std::string& seg = c.segments[i];
    if (is_capture(seg))
      params->emplace_back(seg.substr(1, seg.size() - 2), path[i]);
    else if (seg != path[i])
      return false;
  }
  if (c.tail) {
    const std::string& seg = c.segments.back();
    std::string rest;
    for (size_t i = fixed; i < path.size(); i++) {
      if (i != fixed) rest += '/';
      rest += path[i];
    }
    params->emplace_back(seg.substr(1, seg.size() - 3), std::move(rest));
  }
  return true;
}

bool http_router::authorized(const char* h) const {
  if (h == nullptr || std::strncmp(h, "Bearer ", 7) != 0) return false;
  return token_equals(h + 7, _token);
}

http_response http_router::dispatch(http_request& req, const char* authorization) const {
  const std::vector<std::string_view> path = split_path(req.path);
  // The routes of the most specific pattern(s) that match the path.
  std::vector<const compiled*> found;
  int best = -1;
  std::vector<std::pair<std::string, std::string>> params;
  for (const auto& c : _routes) {
    if (c.literals < best || !match(c, path, &params)) continue;
    if (c.literals > best) found.clear();
    best = c.literals;
    found.push_back(&c);
  }
  const bool open = !found.empty() && std::all_of(found.begin(), found.end(), [](auto* c) {
    return c->route.auth == http_auth::open;
  });
  if (!open && !authorized(authorization)) {
    http_response r = error_response(401, "missing or wrong bearer token");
    r.extra_headers = "WWW-Authenticate: Bearer realm=\"ringbridge\"\r\n";
    return r;
  }
  if (found.empty()) return error_response(404, "no such resource: " + req.path);
  std::string allow;
  for (const compiled* c : found) {
    if (c->route.method != req.method) {
      if (allow.find(c->route.method) == std::string::npos)
        allow += (allow.empty() ? "" : ", ") + c->route.method;
      continue;
    }
    match(*c, path, &req.params);
    try {
      return c->route.handler(req);
    } catch (const std::exception& e) {
      return error_response(500, e.what());
    } catch (...) {
      return error_response(500, "internal error");
    }
  }
  http_response r = error_response(405, req.method + " is not allowed on " + req.path);
  r.extra_headers = "Allow: " + allow + "\r\n";
  return r;
}

}  // namespace ringbridge::ctl
