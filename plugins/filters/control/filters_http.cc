// SPDX-License-Identifier: BSD-3-Clause
// The filters resource: JSON in, filter_manager's domain results out as status codes and
// JSON; and the manager's /metrics figures.
//
// Owns: the mapping filter_outcome → HTTP status, request body limits, the import query
// (action, block_mode). May touch: filter_manager (its public operations), the handler
// thread's connection, through the sip feature's call_store (to find the call to block);
// nothing else.
#include "ringbridge/filters/filters_http.h"

#include <prometheus/metric_family.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "ringbridge/ctl/store.h"
#include "ringbridge/filters/filter_manager.h"
#include "ringbridge/filters/rule_json.h"
#include "ringbridge/sip/call_store.h"

namespace ringbridge::ctl {

using json = nlohmann::json;

namespace {

constexpr size_t k_max_body = 64 * 1024;
constexpr size_t k_max_import = 32u << 20;

int status_of(filter_outcome o) {
  switch (o) {
    case filter_outcome::ok: return 200;
    case filter_outcome::created: return 201;
    case filter_outcome::deleted: return 204;
    case filter_outcome::not_found: return 404;
    case filter_outcome::invalid: return 400;
    case filter_outcome::unavailable: return 503;
    case filter_outcome::failed: return 500;
  }
  return 500;
}

http_response rule_answer(const filter_result<stored_filter>& r) {
  if (status_of(r.outcome) >= 400) return error_response(status_of(r.outcome), r.message);
  return json_response(status_of(r.outcome), rule_json(r.value));
}

http_response filters_off() {
  return error_response(
      503, "call filtering is off ([filters] enabled = false or [sip] enabled = false)");
}

// A positive decimal id from the path; 0 when it is not one.
int64_t path_id(const http_request& req) {
  const std::string id(req.param("id"));
  char* end = nullptr;
  const long long n = std::strtoll(id.c_str(), &end, 10);
  return id.empty() || *end != '\0' || n <= 0 ? 0 : n;
}

// A rule from a JSON body: false with *ERR set (413 or 400).
bool rule_body(const http_request& req, const filter_manager& fm, dp::filter_rule* rule,
               bool* has_position, http_response* err) {
  const auto body = req.body(k_max_body);
  if (!body) {
    *err = body_too_large(k_max_body);
    return false;
  }
  json j;
  std::string why;
  if (!parse_json_body(*body, &j, &why) ||
      !parse_rule_json(j, fm.default_mode(), rule, &why, has_position)) {
    *err = error_response(400, why);
    return false;
  }
  return true;
}

// The handler H, or 503 while filtering is off.
template <typename H>
http_handler when_on(api_context& ctx, H h) {
  return [&ctx, h](const http_request& req) {
    if (ctx.filters == nullptr) return filters_off();
    return h(*ctx.filters, req);
  };
}

class filter_collectable : public prometheus::Collectable {
 public:
  explicit filter_collectable(const filter_manager& fm) : _fm(fm) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    using prometheus::MetricType;
    const auto f = _fm.get_stats();
    auto one = [](const char* name, const char* help, MetricType type, double v) {
      prometheus::ClientMetric m;
      if (type == MetricType::Counter)
        m.counter.value = v;
      else
        m.gauge.value = v;
      return prometheus::MetricFamily{name, help, type, {m}};
    };
    return {one("ringbridge_filter_rules", "Filter rules in the published set", MetricType::Gauge,
                static_cast<double>(f.rules)),
            one("ringbridge_filter_reloads_total", "Filter sets compiled and published",
                MetricType::Counter, static_cast<double>(f.reloads)),
            one("ringbridge_filter_reload_failures_total",
                "Filter reloads refused (a rule did not compile)", MetricType::Counter,
                static_cast<double>(f.reload_failures)),
            one("ringbridge_filter_last_reload_seconds",
                "How long the last reload took (compile + publish)", MetricType::Gauge,
                f.last_reload_ms / 1000)};
  }

 private:
  const filter_manager& _fm;
};

}  // namespace

void add_filters_routes(http_router& r, api_context& ctx) {
  const std::string base = "/api/v1/filters";
  r.add({"GET", base, http_auth::token, when_on(ctx, [](filter_manager& fm, const http_request&) {
           json arr = json::array();
           for (const auto& f : fm.list()) arr.push_back(rule_json(f));
           return json_response(200, arr);
         })});
  r.add({"POST", base, http_auth::token,
         when_on(ctx, [](filter_manager& fm, const http_request& req) {
           dp::filter_rule rule;
           bool positioned = false;
           http_response err;
           if (!rule_body(req, fm, &rule, &positioned, &err)) return err;
           return rule_answer(fm.create(std::move(rule), positioned));
         })});
  r.add({"POST", base + "/import", http_auth::token,
         when_on(ctx, [](filter_manager& fm, const http_request& req) {
           const auto body = req.body(k_max_import);
           if (!body) return body_too_large(k_max_import);
           std::string action, mode;
           req.query_var("action", 31, &action);
           req.query_var("block_mode", 31, &mode);
           const auto res = fm.import(*body, action, mode);
           const import_summary& d = res.value;
           switch (res.outcome) {
             case filter_outcome::ok:
               return json_response(200, json{{"imported", d.imported},
                                              {"unchanged", d.unchanged},
                                              {"skipped", d.skipped},
                                              {"rules", d.rules},
                                              {"reload_ms", d.reload_ms}});
             case filter_outcome::unavailable:  // how far it got, so the user can judge
               return json_response(503, json{{"error", res.message},
                                              {"imported", d.imported},
                                              {"unchanged", d.unchanged},
                                              {"skipped", d.skipped}});
             default: return error_response(status_of(res.outcome), res.message);
           }
         })});
  const std::string one = base + "/{id}";
  r.add(
      {"GET", one, http_auth::token, when_on(ctx, [](filter_manager& fm, const http_request& req) {
         const int64_t id = path_id(req);
         if (id == 0) return error_response(404, "no filter rule " + std::string(req.param("id")));
         return rule_answer(fm.get(id));
       })});
  r.add(
      {"PUT", one, http_auth::token, when_on(ctx, [](filter_manager& fm, const http_request& req) {
         const int64_t id = path_id(req);
         if (id == 0) return error_response(404, "no filter rule " + std::string(req.param("id")));
         dp::filter_rule rule;
         bool positioned = false;
         http_response err;
         if (!rule_body(req, fm, &rule, &positioned, &err)) return err;
         return rule_answer(fm.update(id, std::move(rule), positioned));
       })});
  r.add({"DELETE", one, http_auth::token,
         when_on(ctx, [](filter_manager& fm, const http_request& req) {
           const int64_t id = path_id(req);
           if (id == 0)
             return error_response(404, "no filter rule " + std::string(req.param("id")));
           if (fm.remove(id) == filter_outcome::not_found)
             return error_response(404, "no filter rule " + std::to_string(id));
           return no_content();
         })});
  r.add({"POST", "/api/v1/calls/{id}/block", http_auth::token,
         when_on(ctx, [&ctx](filter_manager& fm, const http_request& req) {
           const int64_t id = path_id(req);
           store* s = ctx.db();
           auto c = (id == 0 || s == nullptr) ? std::nullopt : call_store(*s).call(id);
           if (!c) return error_response(404, "no call " + std::string(req.param("id")));
           return rule_answer(fm.block_call(*c));
         })});
}

std::unique_ptr<prometheus::Collectable> filter_metrics(const filter_manager& fm) {
  return std::make_unique<filter_collectable>(fm);
}

}  // namespace ringbridge::ctl
