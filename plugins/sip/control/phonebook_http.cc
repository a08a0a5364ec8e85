// SPDX-License-Identifier: BSD-3-Clause
// The /api/v1/phonebook resource: names the user gives to numbers (they win over names
// callers send).
//
// Owns: the phonebook's REST shape and input checks. May touch: the handler thread's
// connection, through the sip feature's call_store (phonebook rows); nothing else.
#include <nlohmann/json.hpp>

#include "ringbridge/common/json_text.h"
#include "ringbridge/common/utf8.h"
#include "ringbridge/ctl/http_resources.h"
#include "ringbridge/sip/calls_http.h"
#include "ringbridge/ctl/store.h"
#include "ringbridge/sip/call_store.h"
#include "ringbridge/sip/calls.h"

namespace ringbridge::ctl {

using json = nlohmann::json;

namespace {

constexpr size_t k_max_body = 64 * 1024;

bool valid_name(const std::string& n) {
  if (n.empty() || n.size() > 64 || !utf8_valid(n)) return false;
  for (unsigned char c : n)
    if (c < 0x20 || c == 0x7f) return false;
  return true;
}

json entry_json(const std::string& number, const std::string& name, const std::string& source,
                double updated_at) {
  return {{"number", number},
          {"name", name},
          {"source", source},
          {"updated_at", json_time(updated_at)}};
}

// The {number} of the path, decoded and normalised; empty with *ERR set (400) when bad.
std::string path_number(const http_request& req, http_response* err) {
  const std::string raw = url_decode(req.param("number"));
  if (!utf8_valid(raw)) {
    *err = error_response(400, "the number in the path is not valid UTF-8");
    return {};
  }
  std::string number = normalize_number(raw);
  if (number.empty() || number.size() > 64) {
    *err = error_response(400, "the number in the path is empty or too long");
    return {};
  }
  return number;
}

}  // namespace

bool parse_phonebook_body(std::string_view body, std::string* name, std::string* error) {
  json j;
  if (!parse_json_body(body, &j, error)) return false;
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

void add_phonebook_routes(http_router& r, api_context& ctx) {
  const std::string base = "/api/v1/phonebook";
  const std::string entry = base + "/{number*}";
  r.add({"GET", base, http_auth::token, [&ctx](const http_request&) {
           json arr = json::array();
           if (store* s = ctx.db())
             for (const auto& e : call_store(*s).phonebook_list())
               arr.push_back(entry_json(e.number, e.name, e.source, e.updated_at));
           return json_response(200, arr);
         }});
  r.add({"GET", entry, http_auth::token, [&ctx](const http_request& req) {
           http_response err;
           const std::string number = path_number(req, &err);
           if (number.empty()) return err;
           store* s = ctx.db();
           if (s == nullptr) return error_response(503, "the database is not available");
           auto e = call_store(*s).phonebook_get(number);
           if (!e) return error_response(404, "no phonebook entry for " + number);
           return json_response(200, entry_json(e->number, e->name, e->source, e->updated_at));
         }});
  r.add({"DELETE", entry, http_auth::token, [&ctx](const http_request& req) {
           http_response err;
           const std::string number = path_number(req, &err);
           if (number.empty()) return err;
           store* s = ctx.db();
           if (s == nullptr) return error_response(503, "the database is not available");
           if (!call_store(*s).phonebook_delete(number))
             return error_response(404, "no phonebook entry for " + number);
           return no_content();
         }});
  r.add({"PUT", entry, http_auth::token, [&ctx](const http_request& req) {
           http_response err;
           const std::string number = path_number(req, &err);
           if (number.empty()) return err;
           store* s = ctx.db();
           if (s == nullptr) return error_response(503, "the database is not available");
           const auto body = req.body(k_max_body);
           if (!body) return body_too_large(k_max_body);
           std::string name, why;
           if (!parse_phonebook_body(*body, &name, &why)) return error_response(400, why);
           call_store book(*s);
           if (!book.phonebook_set(number, name, "user"))
             return error_response(503, "the phonebook could not be written: " + s->path() +
                                            " is locked or failing (see /api/v1/status storage)");
           auto e = book.phonebook_get(number);
           return json_response(200, entry_json(number, name, "user", e ? e->updated_at : 0));
         }});
}

}  // namespace ringbridge::ctl
