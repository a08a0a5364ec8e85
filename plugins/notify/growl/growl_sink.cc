// SPDX-License-Identifier: BSD-3-Clause
// The Growl (GNTP) sink.
#include "growl_sink.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>

#include "ringbridge/common/log.h"
#include "ringbridge/common/utf8.h"
#include "ringbridge/notify/net.h"

namespace ringbridge::plugin::gntp {

namespace {
const EVP_MD* digest(const std::string& alg) {
  if (alg == "MD5") return EVP_md5();
  if (alg == "SHA1") return EVP_sha1();
  if (alg == "SHA256") return EVP_sha256();
  if (alg == "SHA512") return EVP_sha512();
  return nullptr;
}

std::vector<uint8_t> hash(const EVP_MD* md, const std::vector<uint8_t>& in) {
  std::vector<uint8_t> out(EVP_MAX_MD_SIZE);
  unsigned n = 0;
  EVP_Digest(in.data(), in.size(), out.data(), &n, md, nullptr);
  out.resize(n);
  return out;
}

std::string hex(const std::vector<uint8_t>& v) {
  static const char k[] = "0123456789ABCDEF";
  std::string s;
  for (uint8_t b : v) {
    s += k[b >> 4];
    s += k[b & 15];
  }
  return s;
}

// Header values are one line of UTF-8 (GNTP's encoding): a caller's display name must
// not add headers, and bytes that are not UTF-8 become U+FFFD.
std::string one_line(const std::string& s) {
  std::string o;
  for (unsigned char c : utf8_sanitize(s))
    o += (c == '\r' || c == '\n' || c < 0x20) ? ' ' : static_cast<char>(c);
  return o;
}

const char* display_name(event_kind k) {
  switch (k) {
    case event_kind::ringing: return "Incoming call";
    case event_kind::answered: return "Call answered";
    case event_kind::ended: return "Call ended";
    case event_kind::blocked: return "Call blocked";
    case event_kind::voicemail: return "Call sent to voicemail";
    case event_kind::dtmf: return "DTMF digit";
  }
  return "Call";
}

std::string info_line(const char* type, const std::string& key) {
  return std::string("GNTP/1.0 ") + type + " NONE" + (key.empty() ? "" : " " + key) + "\r\n";
}
}  // namespace

std::string key_hash(const std::string& algorithm, const std::string& password,
                     const std::vector<uint8_t>& salt) {
  if (password.empty()) return "";
  const EVP_MD* md = digest(algorithm);
  if (md == nullptr) return "";
  std::vector<uint8_t> basis(password.begin(), password.end());
  basis.insert(basis.end(), salt.begin(), salt.end());
  return algorithm + ":" + hex(hash(md, hash(md, basis))) + "." + hex(salt);
}

std::string register_request(const std::string& app, const std::string& key) {
  static const event_kind kinds[] = {event_kind::ringing, event_kind::answered,
                                     event_kind::ended,   event_kind::blocked,
                                     event_kind::voicemail, event_kind::dtmf};
  std::string r = info_line("REGISTER", key);
  r += "Application-Name: " + one_line(app) + "\r\n";
  r += "Notifications-Count: " + std::to_string(std::size(kinds)) + "\r\n\r\n";
  for (event_kind k : kinds) {
    r += std::string("Notification-Name: ") + event_kind_name(k) + "\r\n";
    r += std::string("Notification-Display-Name: ") + display_name(k) + "\r\n";
    r += std::string("Notification-Enabled: ") +
         (k == event_kind::ringing || k == event_kind::blocked ? "True" : "False") + "\r\n\r\n";
  }
  return r;
}

std::string notify_request(const std::string& app, const std::string& key, const call_event& ev,
                           bool sticky) {
  const std::string who =
      !ev.name.empty() ? ev.name : (!ev.number.empty() ? ev.number : std::string("Unknown caller"));
  std::string text = ev.number.empty() ? "number withheld" : ev.number;
  if (!ev.to_number.empty()) text += " -> " + ev.to_number;
  if (ev.kind == event_kind::ended) text += " (" + ev.state + ")";
  std::string r = info_line("NOTIFY", key);
  r += "Application-Name: " + one_line(app) + "\r\n";
  r += std::string("Notification-Name: ") + event_kind_name(ev.kind) + "\r\n";
  r += "Notification-ID: " + one_line(ev.call_id) + "\r\n";
  r += std::string("Notification-Title: ") + display_name(ev.kind) + ": " + one_line(who) + "\r\n";
  r += "Notification-Text: " + one_line(text) + "\r\n";
  r += std::string("Notification-Sticky: ") + (sticky ? "True" : "False") + "\r\n";
  r += "Notification-Coalescing-ID: " + one_line(ev.call_id) + "\r\n\r\n";
  return r;
}

bool parse_response(const std::string& text, int* code, std::string* why) {
  *code = 0;
  if (text.rfind("GNTP/1.0 -OK", 0) == 0) return true;
  if (text.rfind("GNTP/1.0 -ERROR", 0) != 0) {
    *why = "not a GNTP answer: \"" + one_line(text.substr(0, 40)) + "\"";
    return false;
  }
  auto header = [&](const std::string& name) -> std::string {
    const size_t p = text.find("\r\n" + name + ":");
    if (p == std::string::npos) return "";
    const size_t b = text.find_first_not_of(' ', p + name.size() + 3);
    const size_t e = text.find("\r\n", b);
    return b == std::string::npos ? "" : text.substr(b, e - b);
  };
  const std::string c = header("Error-Code");
  *code = c.empty() ? 0 : std::atoi(c.c_str());
  *why = "Growl answered error " + c + ": " + header("Error-Description");
  return false;
}

namespace {

class growl_sink final : public sink {
 public:
  growl_sink(std::string host, uint16_t port, std::string password, std::string alg,
             std::string app, int timeout_ms, bool sticky)
      : _host(std::move(host)),
        _port(port),
        _password(std::move(password)),
        _alg(std::move(alg)),
        _app(std::move(app)),
        _timeout_ms(timeout_ms),
        _sticky(sticky) {}

  bool on_call_event(const call_event& ev) override {
    std::string why;
    if (!_registered && !(_registered = request(register_request(_app, key()), &why))) {
      warn("register: " + why);
      return false;
    }
    int code = request_code(notify_request(_app, key(), ev, _sticky), &why);
    if (code == 401 || code == 402) {  // Growl forgot us (restarted): register again
      _registered = request(register_request(_app, key()), &why);
      code = _registered ? request_code(notify_request(_app, key(), ev, _sticky), &why) : -1;
    }
    if (code != 0) warn("notify: " + why);
    return code == 0;
  }

 private:
  std::string key() {
    if (_password.empty()) return "";
    std::vector<uint8_t> salt(16);
    RAND_bytes(salt.data(), static_cast<int>(salt.size()));
    return key_hash(_alg, _password, salt);
  }
  bool request(const std::string& req, std::string* why) { return request_code(req, why) == 0; }
  // 0 on -OK, the GNTP error code on -ERROR, -1 when there was no answer.
  int request_code(const std::string& req, std::string* why) {
    if (!_resolved && !(_resolved = net::resolve(_host, _port, SOCK_STREAM, &_ep, why))) return -1;
    const int fd = net::tcp_connect(_ep, _timeout_ms, why);
    if (fd < 0) {
      _resolved = false;
      return -1;
    }
    net::fd_guard g(fd);
    std::string answer;
    if (!net::send_all(fd, req.data(), req.size(), _timeout_ms, why) ||
        !net::recv_until(fd, "\r\n\r\n", 16384, _timeout_ms, &answer, why))
      return -1;
    int code = 0;
    if (parse_response(answer, &code, why)) return 0;
    return code != 0 ? code : -1;
  }
  void warn(const std::string& what) {
    if (_warned++ < 5) RB_LOG_WARN("notify growl %s:%u: %s", _host.c_str(), _port, what.c_str());
  }

  std::string _host;
  uint16_t _port;
  std::string _password, _alg, _app;
  int _timeout_ms;
  bool _sticky;
  net::endpoint _ep;
  bool _resolved = false, _registered = false;
  unsigned _warned = 0;
};

std::unique_ptr<sink> create(settings& s) {
  std::string host = s.get_string("host", "");
  if (host.empty()) s.fail("host", "set the Growl host, e.g. host = \"192.168.1.20\"");
  const auto port = static_cast<uint16_t>(s.get_int("port", 23053, 1, 65535));
  std::string password = s.get_string("password", "");
  std::string alg = s.get_choice("hash", "SHA256", {"MD5", "SHA1", "SHA256", "SHA512"});
  std::string app = s.get_string("app_name", "ringbridge");
  const int timeout = static_cast<int>(s.get_int("timeout_ms", 2000, 50, 60000));
  const bool sticky = s.get_bool("sticky", false);
  return std::make_unique<growl_sink>(host, port, password, alg, app, timeout, sticky);
}

}  // namespace
}  // namespace ringbridge::plugin::gntp

namespace ringbridge::plugin {
RB_REGISTER_SINK(growl, sink_factory{"growl",
                                     "Growl notifications (GNTP over TCP 23053)",
                                     gntp::create,
                                     {event_kind::ringing, event_kind::blocked},
                                     true});
}  // namespace ringbridge::plugin
