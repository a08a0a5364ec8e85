// SPDX-License-Identifier: BSD-3-Clause
// The notification / export plugin interface (control side only).
//
// A sink receives call events (and, if it asks for them, raw SIP messages) on its own
// thread, behind its own bounded queue (see hub.h): it may block on I/O without delaying
// the control loop, the other sinks or the dataplane. Sinks are built by a factory from a
// validated config section ([notify.<name>]) and register themselves statically.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ringbridge/notify/settings.h"

namespace ringbridge::plugin {

#define RB_EVENT_FOREACH_KIND(_)                                                 \
  _(ringing, 1, "a new call: the INVITE crossed the bridge (caller-ID)")         \
  _(answered, 2, "the call was answered")                                        \
  _(ended, 3, "the call is over: ended, missed, cancelled, failed or timed out") \
  _(blocked, 4, "a filter rule blocked the call")                                \
  _(voicemail, 5, "the call went to the provider's voicemail (blocked with drop)")   \
  _(dtmf, 6, "a DTMF digit was pressed in the call (RFC 4733 or in-band)")

enum class event_kind : uint8_t {
#define RB_EVENT_KIND_ENUM(name, code, help) name = code,
  RB_EVENT_FOREACH_KIND(RB_EVENT_KIND_ENUM)
#undef RB_EVENT_KIND_ENUM
};
const char* event_kind_name(event_kind k);
bool parse_event_kind(std::string_view s, event_kind* out);

/// One call event as sinks see it. `name` is what to show: the phonebook's name for the
/// number (a name the user set wins), else the name the caller sent.
struct call_event {
  event_kind kind = event_kind::ringing;
  bool inbound = true;
  int64_t id = 0;  ///< call log row id
  std::string call_id;
  std::string number;     ///< caller number (normalised), empty when withheld
  std::string name;       ///< caller name to show (phonebook first)
  std::string name_sent;  ///< display name as the caller sent it
  std::string to_number;
  std::string state;  ///< call state name (ringing, answered, ended, missed, ...)
  int status_code = 0;
  double time = 0;  ///< Unix time of the SIP message behind this event (it crossed the bridge)
  double duration_s = 0;
  std::string rule;       ///< blocked: the rule that matched
  std::string digit;      ///< dtmf: the digit ('0'..'9', '*', '#', 'A'..'D')
  std::string digit_source;  ///< dtmf: "rfc4733" or "inband"
  std::string call_json;  ///< the call as GET /api/v1/calls/{id} serves it
};

/// The JSON form shared by the webhook and MQTT sinks:
/// {"event", "time", "rule" (blocked only), "call": <the call as GET /api/v1/calls/{id}>}.
std::string event_json(const call_event& ev);

/// One SIP message as it crossed the bridge (for exports such as HEP).
struct sip_message {
  double time = 0;  ///< Unix time it arrived
  uint8_t ip_version = 4;
  uint8_t transport = 17;  ///< 17 UDP, 6 TCP
  uint8_t side = 0;        ///< ingress side: 0 = A (network), 1 = B (phone)
  bool truncated = false;  ///< cut to the capture size
  uint8_t src[16] = {}, dst[16] = {};
  uint16_t sport = 0, dport = 0;
  std::string call_id;
  std::string data;  ///< the message bytes, start line to end of body
};

/// A notification / export target. Methods run on the sink's own thread, one at a time.
class sink {
 public:
  virtual ~sink() = default;
  /// Delivers one event; false when it could not be delivered (counted as failed).
  virtual bool on_call_event(const call_event& ev) = 0;
  /// Exports one SIP message (only called when wants_sip_messages()).
  virtual bool on_sip_message(const sip_message&) { return true; }
  virtual bool wants_sip_messages() const { return false; }
  virtual bool wants_call_events() const { return true; }
  /// Called once on the sink's thread before the first item (connect, resolve...).
  virtual void open() {}
  /// Called when the queue runs empty and at shutdown.
  virtual void flush() {}
  /// Set when the appliance stops: long waits (retries, backoff, reconnects) end early.
  void request_stop() { _stopping.store(true, std::memory_order_relaxed); }
  bool stopping() const { return _stopping.load(std::memory_order_relaxed); }

 private:
  std::atomic<bool> _stopping{false};
};

/// Builds a sink from its config section. Reads every key it knows through S (which
/// records type and range errors), does no I/O. nullptr when S reports an error.
using sink_create_fn = std::unique_ptr<sink> (*)(settings& s);

struct sink_factory {
  const char* type;  ///< the [notify.<name>] type: "udp", "growl", "webhook", "mqtt", "hep"
  const char* help;
  sink_create_fn create;
  /// Defaults of the common keys for this type.
  std::vector<event_kind> default_events;
  bool default_inbound_only = false;
};

/// Static registration: `RB_REGISTER_SINK(webhook, {...})` in the plugin's .cc file.
bool register_sink(sink_factory f);
const sink_factory* find_sink(std::string_view type);
std::vector<std::string> sink_types();

#define RB_REGISTER_SINK(ident, ...)                              \
  [[maybe_unused]] static const bool rb_sink_registered_##ident = \
      ::ringbridge::plugin::register_sink(__VA_ARGS__)

}  // namespace ringbridge::plugin
