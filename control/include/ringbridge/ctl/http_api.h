// SPDX-License-Identifier: BSD-3-Clause
// The embedded HTTP server (civetweb): REST under /api/v1/ (JSON) and /metrics.
//
// Owns: the server's life (start, stop), its TLS and token set-up, and the api_context
// its handlers share. Routing and auth are http_router's (http_router.h); each resource's
// handlers live with their feature (control/src/http/, plugins/*/control/*_http.cc).
//
// Threads: civetweb's own. Handlers read the call log and phonebook through their own
// SQLite connection (one per server thread, api_context::db()), the dataplane counters
// through bridge::stats(), and the active calls from a copy the control thread publishes.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <prometheus/collectable.h>

#include "ringbridge/ctl/dataplane_stats.h"
#include "ringbridge/ctl/http_router.h"
#include "ringbridge/ctl/metrics.h"
#include "ringbridge/ctl/store.h"
#include "ringbridge/sip/active_calls.h"
#include "ringbridge/sip/call_view.h"

class CivetServer;

namespace ringbridge::plugin {
class hub;
}

namespace ringbridge::ctl {

struct http_settings {
  std::string listen = "127.0.0.1:8080";  ///< host:port; IPv6 as [::1]:8080
  std::string token;                      ///< bearer token (never empty when serving)
  bool public_metrics = false;            ///< /metrics without the token
  bool public_status = false;             ///< /api/v1/status without the token
  unsigned threads = 4;
  /// HTTPS: civetweb's certificate file (private key + certificate in one PEM, made by
  /// write_tls_pem()) and the certificate chain file as configured; both empty = HTTP.
  std::string tls_pem;
  std::string tls_chain;
};

class filter_manager;

/// What the handlers read. Filled in before the server starts; the pointed-to objects
/// outlive the server.
struct api_context {
  const dp::bridge* bridge = nullptr;
  const dp::sip_dataplane* sip = nullptr;  ///< nullptr when SIP inspection is off
  control_counters* counters = nullptr;    ///< read; storage errors of HTTP threads counted
  database_spec database;                  ///< what each server thread's connection opens
  std::string state_dir;
  std::chrono::steady_clock::time_point started;

  filter_manager* filters = nullptr;    ///< nullptr when filtering is off
  const plugin::hub* notify = nullptr;  ///< the sinks (their figures in status)
  /// Features' figures for /metrics beyond the core counters (notify sinks, filter
  /// reloads), collected at scrape time.
  std::vector<std::unique_ptr<prometheus::Collectable>> metric_sources;

  active_calls active;  ///< written by the control thread, read by handlers
  call_fields_fn call_fields;  ///< features' fields of a call's JSON (media); may be empty
  /// Features' resources beyond the core's, sip's and the filters' (media): each adds its
  /// routes to the table before the server starts.
  std::vector<std::function<void(http_router&)>> feature_routes;

  /// The calling server thread's own connection to the database (opened on first use, its
  /// failures counted in counters->storage); nullptr when it cannot be opened (logged).
  store* db();
};

class http_api {
 public:
  /// Starts serving. nullptr with *error naming the listen address when it cannot bind.
  static std::unique_ptr<http_api> start(const http_settings& s, api_context* ctx,
                                         std::string* error);
  ~http_api();  ///< stops the server (waits for its threads)

 private:
  http_api() = default;
  struct handler;
  std::unique_ptr<handler> _handler;  ///< owns the route table
  std::unique_ptr<CivetServer> _server;
};

/// Reads the token from PATH, or creates PATH (mode 0600) with a new random token.
/// False with *error when neither works, and when PATH is readable by group or others
/// (the message names the file and the fix, chmod 600).
bool load_or_create_token(const std::string& path, std::string* token, bool* created,
                          std::string* error);

/// True when LISTEN ("HOST:PORT") binds a loopback address only (127.0.0.0/8, [::1],
/// localhost): nothing outside this host can reach it.
bool listen_is_loopback(const std::string& listen);

/// HTTPS set-up: checks that CERT and KEY ([http] cert, key) are readable PEM files and
/// writes the private key followed by the certificate(s) to OUT (mode 0600, atomically),
/// the one file civetweb's ssl_certificate takes. Also checks that this civetweb was built
/// with TLS. False with *error naming the key, the file and the fix.
bool write_tls_pem(const std::string& cert, const std::string& key, const std::string& out,
                   std::string* error);

}  // namespace ringbridge::ctl
