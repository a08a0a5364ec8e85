// SPDX-License-Identifier: BSD-3-Clause
// The webhook sink.
#include "webhook_sink.h"

#include <curl/curl.h>

#include <chrono>
#include <thread>

#include "ringbridge/common/log.h"

namespace ringbridge::plugin::webhook {

bool retryable(long status) {
  return status == 0 || status == 429 || status >= 500;
}

namespace {

size_t discard(char*, size_t size, size_t n, void*) {
  return size * n;
}

struct curl_global {
  curl_global() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

class webhook_sink final : public sink {
 public:
  webhook_sink(std::vector<std::string> urls, long timeout_ms, int retries, long backoff_ms,
               std::string token, bool verify_tls)
      : _urls(std::move(urls)),
        _timeout_ms(timeout_ms),
        _retries(retries),
        _backoff_ms(backoff_ms),
        _verify(verify_tls) {
    static curl_global once;
    _headers = curl_slist_append(_headers, "Content-Type: application/json");
    _headers = curl_slist_append(_headers, "User-Agent: ringbridge-webhook");
    if (!token.empty())
      _headers = curl_slist_append(_headers, ("Authorization: Bearer " + token).c_str());
    for (size_t i = 0; i < _urls.size(); i++) _handles.push_back(nullptr);
  }
  ~webhook_sink() override {
    for (CURL* h : _handles)
      if (h) curl_easy_cleanup(h);
    curl_slist_free_all(_headers);
  }

  bool on_call_event(const call_event& ev) override {
    const std::string payload = event_json(ev);
    bool all = true;
    for (size_t i = 0; i < _urls.size(); i++) all &= post(i, payload);
    return all;
  }

 private:
  bool post(size_t i, const std::string& payload) {
    long backoff = _backoff_ms;
    for (int attempt = 0;; attempt++) {
      CURL* h = handle(i);
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload.c_str());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(payload.size()));
      const CURLcode rc = curl_easy_perform(h);
      long status = 0;
      if (rc == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
      if (rc == CURLE_OK && status >= 200 && status < 300) return true;
      const std::string what =
          rc != CURLE_OK ? curl_easy_strerror(rc) : "HTTP " + std::to_string(status);
      if (!retryable(status) || attempt >= _retries || stopping()) {
        warn(_urls[i] + ": " + what +
             (attempt ? " after " + std::to_string(attempt + 1) + " attempts" : ""));
        return false;
      }
      // Exponential backoff, in slices so that a stopping appliance is not held up.
      for (long slept = 0; slept < backoff && !stopping(); slept += 50)
        std::this_thread::sleep_for(std::chrono::milliseconds(std::min(50L, backoff - slept)));
      backoff = std::min(backoff * 2, 30000L);
    }
  }

  CURL* handle(size_t i) {
    if (_handles[i] != nullptr) return _handles[i];
    CURL* h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, _urls[i].c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, _headers);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, _timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, _timeout_ms);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, _verify ? 1L : 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, _verify ? 2L : 0L);
    _handles[i] = h;
    return h;
  }

  void warn(const std::string& what) {
    if (_warned++ < 10) RB_LOG_WARN("notify webhook %s", what.c_str());
  }

  std::vector<std::string> _urls;
  long _timeout_ms;
  int _retries;
  long _backoff_ms;
  bool _verify;
  curl_slist* _headers = nullptr;
  std::vector<CURL*> _handles;
  unsigned _warned = 0;
};

std::unique_ptr<sink> create(settings& s) {
  std::vector<std::string> urls = s.get_strings("urls", {});
  if (urls.empty())
    s.fail("urls",
           "give at least one URL, e.g. urls = [\"http://hass.local:8123/api/webhook/calls\"]");
  for (const auto& u : urls)
    if (u.rfind("http://", 0) != 0 && u.rfind("https://", 0) != 0)
      s.fail("urls", "\"" + u + "\" is not an http:// or https:// URL");
  const long timeout = s.get_int("timeout_ms", 3000, 50, 120000);
  const int retries = static_cast<int>(s.get_int("retries", 3, 0, 20));
  const long backoff = s.get_int("backoff_ms", 250, 0, 60000);
  std::string token = s.get_string("token", "");
  const bool verify = s.get_bool("verify_tls", true);
  return std::make_unique<webhook_sink>(urls, timeout, retries, backoff, token, verify);
}

}  // namespace
}  // namespace ringbridge::plugin::webhook

namespace ringbridge::plugin {
RB_REGISTER_SINK(webhook,
                 sink_factory{"webhook",
                              "HTTP POST of JSON call events",
                              webhook::create,
                              {event_kind::ringing, event_kind::answered, event_kind::ended,
                               event_kind::blocked, event_kind::voicemail},
                              false});
}  // namespace ringbridge::plugin
