// SPDX-License-Identifier: BSD-3-Clause
// The calls resource: the call log newest first, one call by id, the calls in progress.
//
// Owns: the query parameters (limit, number) and their checks. May touch, read only: the
// handler thread's connection, through call_store (call rows) and the published active calls. A
// call's JSON shape is call_view's; "block this caller" (POST .../block) is the filters resource's.
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "ringbridge/common/utf8.h"
#include "ringbridge/ctl/store.h"
#include "ringbridge/sip/call_store.h"
#include "ringbridge/sip/call_view.h"
#include "ringbridge/sip/calls_http.h"

namespace ringbridge::ctl {

using json = nlohmann::json;

namespace {

http_response list_calls(api_context& ctx, const http_request& req) {
  std::string v;
  int limit = 50;
  if (req.query_var("limit", 127, &v) > 0) {
    char* end = nullptr;
    const long n = std::strtol(v.c_str(), &end, 10);
    if (*end != '\0' || n < 1 || n > 1000)
      return error_response(400, "limit must be a number from 1 to 1000");
    limit = static_cast<int>(n);
  }
  std::string number;
  const int n = req.query_var("number", 127, &v);
  if (n == -2) return error_response(400, "number is too long");
  if (n > 0 && !utf8_valid(v)) return error_response(400, "number is not valid UTF-8");
  if (n > 0) number = normalize_number(v);
  json arr = json::array();
  if (store* s = ctx.db())
    for (const auto& c : call_store(*s).calls(limit, number)) arr.push_back(call_to_json(c, ctx.call_fields));
  return json_response(200, arr);
}

}  // namespace

void add_calls_routes(http_router& r, api_context& ctx) {
  r.add({"GET", "/api/v1/calls", http_auth::token,
         [&ctx](const http_request& req) { return list_calls(ctx, req); }});
  r.add({"GET", "/api/v1/calls/active", http_auth::token, [&ctx](const http_request&) {
           json arr = json::array();
           for (const auto& c : ctx.active.copy()) arr.push_back(call_to_json(c, ctx.call_fields));
           return json_response(200, arr);
         }});
  r.add({"GET", "/api/v1/calls/{id}", http_auth::token, [&ctx](const http_request& req) {
           const std::string id(req.param("id"));
           char* end = nullptr;
           const long long n = std::strtoll(id.c_str(), &end, 10);
           if (id.empty() || *end != '\0' || n <= 0) return error_response(404, "no call " + id);
           store* s = ctx.db();
           auto c = s ? call_store(*s).call(n) : std::nullopt;
           if (!c) return error_response(404, "no call " + id);
           return json_response(200, call_to_json(*c, ctx.call_fields));
         }});
}

}  // namespace ringbridge::ctl
