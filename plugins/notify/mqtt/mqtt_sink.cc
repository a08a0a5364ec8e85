// SPDX-License-Identifier: BSD-3-Clause
// The MQTT sink.
#include "mqtt_sink.h"

#include <mosquitto.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "ringbridge/common/json_text.h"
#include "ringbridge/common/log.h"

namespace ringbridge::plugin::mqtt {

std::string ha_discovery_config(const std::string& topic, const std::string& node_id) {
  nlohmann::json j{
      {"name", "Last caller"},
      {"unique_id", node_id + "_last_caller"},
      {"object_id", node_id + "_last_caller"},
      {"state_topic", topic + "/last_call"},
      {"value_template",
       "{{ value_json.call.caller_name if value_json.call.caller_name else "
       "value_json.call.from_number }}"},
      {"json_attributes_topic", topic + "/last_call"},
      {"json_attributes_template", "{{ value_json.call | tojson }}"},
      {"availability_topic", topic + "/status"},
      {"icon", "mdi:phone-incoming"},
      {"device",
       {{"identifiers", {node_id}}, {"name", "ringbridge " + node_id}, {"model", "ringbridge"}}}};
  return json_text(j);
}

namespace {

struct lib_init {
  lib_init() { mosquitto_lib_init(); }
};

struct options {
  std::string host;
  int port = 1883;
  std::string topic, username, password, client_id, ha_prefix, node_id;
  int qos = 1;
  int keepalive_s = 30;
  bool ha_discovery = true;
  int timeout_ms = 2000;
};

class mqtt_sink final : public sink {
 public:
  explicit mqtt_sink(options o) : _o(std::move(o)) {}
  ~mqtt_sink() override {
    if (_m == nullptr) return;
    if (_connected.load()) {
      publish(_o.topic + "/status", "offline", true);
      mosquitto_disconnect(_m);
    }
    mosquitto_loop_stop(_m, true);
    mosquitto_destroy(_m);
  }

  void open() override {
    static lib_init once;
    _m = mosquitto_new(_o.client_id.c_str(), true, this);
    if (_m == nullptr) {
      RB_LOG_WARN("notify mqtt: mosquitto_new failed");
      return;
    }
    if (!_o.username.empty())
      mosquitto_username_pw_set(_m, _o.username.c_str(),
                                _o.password.empty() ? nullptr : _o.password.c_str());
    const std::string status = _o.topic + "/status";
    mosquitto_will_set(_m, status.c_str(), 7, "offline", _o.qos, true);
    mosquitto_connect_callback_set(
        _m, [](mosquitto*, void* self, int rc) { static_cast<mqtt_sink*>(self)->on_connect(rc); });
    mosquitto_disconnect_callback_set(_m, [](mosquitto*, void* self, int) {
      static_cast<mqtt_sink*>(self)->_connected.store(false);
    });
    mosquitto_reconnect_delay_set(_m, 1, 30, true);
    // The library's own thread connects, reconnects and does the socket I/O.
    const int rc = mosquitto_connect_async(_m, _o.host.c_str(), _o.port, _o.keepalive_s);
    if (rc != MOSQ_ERR_SUCCESS)
      RB_LOG_WARN("notify mqtt %s:%d: %s (retrying in the background)", _o.host.c_str(), _o.port,
                  mosquitto_strerror(rc));
    mosquitto_loop_start(_m);
  }

  bool on_call_event(const call_event& ev) override {
    if (_m == nullptr) return false;
    // Just after start the connection may still be on its way: wait for it, briefly.
    for (int waited = 0; !_connected.load() && waited < _o.timeout_ms && !stopping(); waited += 20)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (!_connected.load()) {
      warn("not connected to the broker; event not published");
      return false;
    }
    const std::string payload = event_json(ev);
    bool ok = publish(_o.topic + "/call/" + event_kind_name(ev.kind), payload, false);
    if (ev.inbound && (ev.kind == event_kind::ringing || ev.kind == event_kind::blocked))
      ok &= publish(_o.topic + "/last_call", payload, true);
    return ok;
  }

 private:
  void on_connect(int rc) {
    if (rc != 0) {
      warn(std::string("broker refused the connection: ") + mosquitto_connack_string(rc));
      return;
    }
    _connected.store(true);
    publish(_o.topic + "/status", "online", true);
    if (_o.ha_discovery)
      publish(_o.ha_prefix + "/sensor/" + _o.node_id + "/last_caller/config",
              ha_discovery_config(_o.topic, _o.node_id), true);
  }

  bool publish(const std::string& topic, const std::string& payload, bool retain) {
    const int rc = mosquitto_publish(_m, nullptr, topic.c_str(), static_cast<int>(payload.size()),
                                     payload.data(), _o.qos, retain);
    if (rc != MOSQ_ERR_SUCCESS) warn("publish " + topic + ": " + mosquitto_strerror(rc));
    return rc == MOSQ_ERR_SUCCESS;
  }

  void warn(const std::string& what) {
    if (_warned++ < 5) RB_LOG_WARN("notify mqtt %s:%d: %s", _o.host.c_str(), _o.port, what.c_str());
  }

  options _o;
  mosquitto* _m = nullptr;
  std::atomic<bool> _connected{false};
  std::atomic<unsigned> _warned{0};
};

std::string hostname() {
  char buf[256] = {};
  gethostname(buf, sizeof(buf) - 1);
  std::string s;
  for (char c : std::string(buf)) s += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return s.empty() ? "ringbridge" : s;
}

std::unique_ptr<sink> create(settings& s) {
  options o;
  o.host = s.get_string("host", "127.0.0.1");
  o.port = static_cast<int>(s.get_int("port", 1883, 1, 65535));
  o.topic = s.get_string("topic", "ringbridge");
  if (o.topic.empty() || o.topic.find_first_of("#+") != std::string::npos || o.topic.back() == '/')
    s.fail("topic",
           "must be a plain topic without wildcards or a trailing '/', e.g. \"ringbridge\"");
  o.username = s.get_string("username", "");
  o.password = s.get_string("password", "");
  o.node_id = s.get_string("node_id", hostname());
  o.client_id = s.get_string("client_id", "ringbridge-" + o.node_id);
  o.qos = static_cast<int>(s.get_int("qos", 1, 0, 2));
  o.keepalive_s = static_cast<int>(s.get_int("keepalive_s", 30, 5, 3600));
  o.ha_discovery = s.get_bool("ha_discovery", true);
  o.ha_prefix = s.get_string("ha_prefix", "homeassistant");
  o.timeout_ms = static_cast<int>(s.get_int("timeout_ms", 2000, 0, 60000));
  return std::make_unique<mqtt_sink>(std::move(o));
}

}  // namespace
}  // namespace ringbridge::plugin::mqtt

namespace ringbridge::plugin {
RB_REGISTER_SINK(mqtt, sink_factory{"mqtt",
                                    "MQTT (Home Assistant friendly)",
                                    mqtt::create,
                                    {event_kind::ringing, event_kind::answered, event_kind::ended,
                                     event_kind::blocked, event_kind::voicemail},
                                    false});
}  // namespace ringbridge::plugin
