// SPDX-License-Identifier: BSD-3-Clause
// The HTTP server: civetweb set-up (listen, threads, TLS), the bearer token file, and the
// bridge from civetweb's callbacks to the route table.
//
// Owns: the server's lifetime and the per-thread SQLite connection of its handlers. May
// touch: the route table (built once here, from http/routes.cc); no resource's logic.
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
#include <mutex>
#include <random>
#include <sstream>

#include "http/routes.h"
#include "ringbridge/common/log.h"
#include "ringbridge/ctl/http_router.h"
#include "ringbridge/ctl/store.h"

namespace ringbridge::ctl {

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

store* api_context::db() {
  thread_local std::unique_ptr<store> s;  // one connection per server thread
  if (!s) {
    std::string err;
    s = store::open(database, &err);
    if (!s) RB_LOG_WARN("HTTP: %s", err.c_str());
    if (s && counters) s->set_stats(&counters->storage);
  }
  return s.get();
}

// civetweb's side: every request goes through the route table.
struct http_api::handler : public CivetHandler {
  explicit handler(std::string token) : router(std::move(token)) {}

  http_router router;

  bool handle(mg_connection* conn, const char* method) {
    const mg_request_info* ri = mg_get_request_info(conn);
    http_request req;
    req.method = method;
    req.path = ri->local_uri ? ri->local_uri : "/";
    req.query = ri->query_string ? ri->query_string : "";
    req.connection = conn;
    req.remote = std::string(ri->remote_addr) + ":" + std::to_string(ri->remote_port);
    const http_response r = router.dispatch(req, mg_get_header(conn, "Authorization"));
    if (!r.file.empty()) {  // civetweb answers Range requests (206 / 416) for files
      const std::string headers = "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n" +
                                  r.extra_headers;
      mg_send_mime_file2(conn, r.file.c_str(), r.content_type.c_str(), headers.c_str());
      return true;
    }
    if (r.stream) {
      mg_printf(conn,
                "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nTransfer-Encoding: chunked\r\n"
                "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n%s\r\n",
                r.status, mg_get_response_code_text(conn, r.status), r.content_type.c_str(),
                r.extra_headers.c_str());
      r.stream([conn](const void* data, size_t len) {
        return mg_send_chunk(conn, static_cast<const char*>(data), static_cast<unsigned>(len)) > 0;
      });
      mg_send_chunk(conn, "", 0);
      return true;
    }
    mg_printf(conn,
              "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
              "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n%s\r\n",
              r.status, mg_get_response_code_text(conn, r.status), r.content_type.c_str(),
              r.body.size(), r.extra_headers.c_str());
    mg_write(conn, r.body.data(), r.body.size());
    return true;
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
  api->_handler = std::make_unique<handler>(s.token);
  add_api_routes(api->_handler->router, *ctx, s);
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
