// SPDX-License-Identifier: BSD-3-Clause
// The HTTP route table: {method, path pattern, auth, handler} rows, and the one place that
// decides 401, 404 and 405 (with an Allow header) from them.
//
// Owns: matching a request to a route, the bearer-token check, turning a handler's
// exception into a 500. Knows nothing of any resource; handlers (control/src/http/,
// plugins/*/control/*_http.cc) know nothing of civetweb: they get an http_request and
// return an http_response. The table is built before the server starts and only read
// afterwards, so the server's threads share it without a lock.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ringbridge::ctl {

/// One request as a handler sees it. Valid for the handler's call only.
struct http_request {
  std::string method;  ///< GET, PUT, POST, DELETE, PATCH
  std::string path;    ///< as civetweb decoded it, without the query
  std::string query;   ///< raw query string, "" when none
  std::vector<std::pair<std::string, std::string>> params;  ///< the pattern's {captures}

  /// The capture NAME of the route's pattern ("" when it has none of that name).
  std::string_view param(std::string_view name) const;

  /// The query variable NAME, decoded, into *VALUE. Like civetweb's mg_get_var: the length
  /// (≥ 0) when found, -1 when absent, -2 when longer than MAX bytes.
  int query_var(const char* name, size_t max, std::string* value) const;

  /// Reads the body when its Content-Length is at most MAX bytes; nullopt when there is no
  /// Content-Length or it is larger (answer with body_too_large(MAX)).
  std::optional<std::string> body(size_t max) const;

  /// Who asked: the client's address and port ("" in tests), for logs.
  std::string remote;

  /// The connection the body is read from (civetweb's mg_connection; opaque here).
  void* connection = nullptr;
};

/// What a handler answers. Every answer also carries Cache-Control: no-store and
/// X-Content-Type-Options: nosniff.
struct http_response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::string extra_headers;  ///< complete "Name: value\r\n" lines
  /// Set: the answer is this file (BODY unused), served by the server with Range support
  /// (206 for one range, 416 outside the file), of type CONTENT_TYPE.
  std::string file;
  /// Chunk writer for STREAM: false once the client has gone.
  using chunk_writer = std::function<bool(const void* data, size_t len)>;
  /// Set: the answer is a chunked stream (BODY unused): STREAM writes chunks until it
  /// returns (end of the stream) or a write fails (the client went away).
  std::function<void(const chunk_writer&)> stream;
};

/// STATUS with J as compact JSON text (always valid UTF-8) and a newline.
http_response json_response(int status, const nlohmann::json& j);
/// STATUS with {"error": MESSAGE}.
http_response error_response(int status, const std::string& message);
/// An empty answer (204 No Content) of type application/json.
http_response no_content();
/// 413 naming the limit.
http_response body_too_large(size_t max);

/// %XX escapes decoded ('+' stays '+': a phone number may hold one). Any thread.
std::string url_decode(std::string_view s);

/// Parses a JSON request body; false with *ERROR (the 400 answer's text) when it is not
/// JSON, naming the field whose text is not UTF-8 when that is why. Pure; any thread.
bool parse_json_body(std::string_view body, nlohmann::json* j, std::string* error);

/// Who may call a route.
enum class http_auth : uint8_t {
  token,  ///< Authorization: Bearer <[http] token>
  open,   ///< anyone (/metrics and /api/v1/status when made public)
};

using http_handler = std::function<http_response(const http_request&)>;

struct http_route {
  std::string method;  ///< one method per row; a path served for several has several rows
  /// Segments separated by '/': a literal, "{name}" (any one segment, possibly empty) or,
  /// last only, "{name*}" (the rest of the path, slashes included, possibly empty).
  /// When several patterns match a path, the one with the most literal segments wins
  /// (/api/v1/calls/active before /api/v1/calls/{id}).
  std::string pattern;
  http_auth auth = http_auth::token;
  http_handler handler;
};

class http_router {
 public:
  /// TOKEN is the bearer token every http_auth::token route requires (never empty).
  explicit http_router(std::string token) : _token(std::move(token)) {}

  /// Start-up only (before dispatch() is first called).
  void add(http_route r);

  /// Any thread. Finds the route for REQ (filling REQ.params) and runs its handler:
  /// 401 with WWW-Authenticate when the path needs the token and AUTHORIZATION (the
  /// header's value, nullptr when absent) does not carry it — decided before 404/405, so
  /// nothing about the API is visible without the token; 404 when no pattern matches; 405
  /// with Allow when patterns match but none for this method; 500 when the handler throws.
  http_response dispatch(http_request& req, const char* authorization) const;

 private:
  struct compiled {
    http_route route;
    std::vector<std::string> segments;
    int literals = 0;
    bool tail = false;
  };
  static bool match(const compiled& c, const std::vector<std::string_view>& path,
                    std::vector<std::pair<std::string, std::string>>* params);
  bool authorized(const char* authorization) const;

  std::string _token;
  std::vector<compiled> _routes;
};

}  // namespace ringbridge::ctl
