// SPDX-License-Identifier: BSD-3-Clause
// The HTTP route table: which route a path reaches, and the 401/404/405/500 answers it
// decides on its own (the contract of docs/api.md, without a server).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "ringbridge/ctl/http_router.h"

using namespace ringbridge::ctl;

namespace {

const char* const k_token = "0123456789abcdef0123";
const std::string k_bearer = std::string("Bearer ") + k_token;

// Each route answers with its own name and its captures.
http_handler named(std::string name) {
  return [name](const http_request& req) {
    nlohmann::json j{{"route", name}};
    for (const auto& [k, v] : req.params) j[k] = v;
    return json_response(200, j);
  };
}

http_router table() {
  http_router r(k_token);
  r.add({"GET", "/metrics", http_auth::open, named("metrics")});
  r.add({"GET", "/api/v1/calls", http_auth::token, named("calls")});
  r.add({"GET", "/api/v1/calls/active", http_auth::token, named("active")});
  r.add({"GET", "/api/v1/calls/{id}", http_auth::token, named("call")});
  r.add({"POST", "/api/v1/calls/{id}/block", http_auth::token, named("block")});
  r.add({"GET", "/api/v1/filters/{id}", http_auth::token, named("rule")});
  r.add({"PUT", "/api/v1/filters/{id}", http_auth::token, named("rule")});
  r.add({"DELETE", "/api/v1/filters/{id}", http_auth::token, named("rule")});
  r.add({"POST", "/api/v1/filters/import", http_auth::token, named("import")});
  r.add({"GET", "/api/v1/phonebook/{number*}", http_auth::token, named("entry")});
  r.add({"GET", "/boom", http_auth::token,
         [](const http_request&) -> http_response { throw std::runtime_error("kaput"); }});
  return r;
}

http_response call(const http_router& r, const std::string& method, const std::string& path,
                   const char* auth = k_bearer.c_str()) {
  http_request req;
  req.method = method;
  req.path = path;
  return r.dispatch(req, auth);
}

nlohmann::json body(const http_response& r) {
  return nlohmann::json::parse(r.body);
}

}  // namespace

TEST(http_router, token_is_checked_before_the_path_is_looked_up) {
  const http_router r = table();
  for (const char* bad : {static_cast<const char*>(nullptr), "Bearer wrong", k_token,
                          "Bearer 0123456789abcdef012", "bearer 0123456789abcdef0123"}) {
    for (const char* path : {"/api/v1/calls", "/nowhere"}) {
      const http_response a = call(r, "GET", path, bad);
      EXPECT_EQ(a.status, 401) << path << " with " << (bad ? bad : "(none)");
      EXPECT_NE(a.extra_headers.find("WWW-Authenticate: Bearer"), std::string::npos);
      EXPECT_EQ(body(a)["error"], "missing or wrong bearer token");
    }
  }
  const http_response missing = call(r, "GET", "/nowhere");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(body(missing)["error"], "no such resource: /nowhere");
}

TEST(http_router, an_open_route_needs_no_token_for_any_method) {
  const http_router r = table();
  EXPECT_EQ(call(r, "GET", "/metrics", nullptr).status, 200);
  // As before the route table: a public path is public whatever the method, so a wrong
  // method gets 405, not 401.
  EXPECT_EQ(call(r, "POST", "/metrics", nullptr).status, 405);
  EXPECT_EQ(call(r, "GET", "/metrics/", nullptr).status, 401);  // another path
}

TEST(http_router, the_most_literal_pattern_wins_and_captures_are_filled) {
  const http_router r = table();
  EXPECT_EQ(body(call(r, "GET", "/api/v1/calls/active"))["route"], "active");
  const auto one = body(call(r, "GET", "/api/v1/calls/42"));
  EXPECT_EQ(one["route"], "call");
  EXPECT_EQ(one["id"], "42");
  EXPECT_EQ(body(call(r, "GET", "/api/v1/calls/"))["id"], "");  // the handler says 404
  EXPECT_EQ(body(call(r, "POST", "/api/v1/calls/7/block"))["id"], "7");
  EXPECT_EQ(call(r, "GET", "/api/v1/calls/7/x").status, 404);
  const auto entry = body(call(r, "GET", "/api/v1/phonebook/+1/555"));
  EXPECT_EQ(entry["route"], "entry");
  EXPECT_EQ(entry["number"], "+1/555");
  EXPECT_EQ(body(call(r, "GET", "/api/v1/phonebook/"))["number"], "");
  EXPECT_EQ(call(r, "GET", "/api/v1/phonebook").status, 404);
}

TEST(http_router, a_wrong_method_gets_405_with_the_table_s_allow) {
  const http_router r = table();
  const http_response a = call(r, "POST", "/api/v1/filters/3");
  EXPECT_EQ(a.status, 405);
  EXPECT_EQ(a.extra_headers, "Allow: GET, PUT, DELETE\r\n");
  EXPECT_EQ(body(a)["error"], "POST is not allowed on /api/v1/filters/3");
  // /import is its own resource: only POST, although {id} would take GET.
  const http_response b = call(r, "GET", "/api/v1/filters/import");
  EXPECT_EQ(b.status, 405);
  EXPECT_EQ(b.extra_headers, "Allow: POST\r\n");
  EXPECT_EQ(call(r, "GET", "/api/v1/calls/7/block").status, 405);
  EXPECT_EQ(call(r, "POST", "/api/v1/calls").status, 405);
}

TEST(http_router, a_handler_that_throws_answers_500_with_its_message) {
  const http_router r = table();
  const http_response a = call(r, "GET", "/boom");
  EXPECT_EQ(a.status, 500);
  EXPECT_EQ(body(a)["error"], "kaput");
}

TEST(http_router, json_bodies_name_the_field_that_is_not_utf8) {
  nlohmann::json j;
  std::string why;
  EXPECT_TRUE(parse_json_body(R"({"name": "Mom"})", &j, &why));
  EXPECT_FALSE(parse_json_body("{", &j, &why));
  EXPECT_EQ(why, "the body is not valid JSON");
  EXPECT_FALSE(parse_json_body("{\"name\": \"\xff\"}", &j, &why));
  EXPECT_EQ(why, "'name' is not valid UTF-8 text");
  EXPECT_EQ(url_decode("+1%20555%2"), "+1 555%2");
}
