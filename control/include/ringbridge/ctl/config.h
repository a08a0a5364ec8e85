// SPDX-License-Identifier: BSD-3-Clause
// ringbridge's TOML configuration: typed, validated structs with the built-in defaults.
//
// Owned by the control core: the one schema of the config file, a section per part and per
// feature (unknown keys are errors). ctl/options.h turns sections into each part's options.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ringbridge/dp/bridge.h"
#include "ringbridge/dp/eal.h"
#include "ringbridge/filters/filter.h"
#include "ringbridge/notify/hub.h"

namespace ringbridge::ctl {

/// The whole configuration. Default-constructed, it is the embedded default that the
/// appliance runs with when no file is given (ports still have to come from the CLI).
struct config {
  struct ports_section {
    std::string a;  ///< side A: network / provider side (port spec)
    std::string b;  ///< side B: phone / PBX side
  } ports;

  struct dataplane_section {
    unsigned workers = 1;
    uint32_t mtu = 1500;
    uint16_t burst = 32;
    uint16_t rx_desc = 2048;
    uint16_t tx_desc = 1024;
    uint32_t tx_flush_us = 100;
    uint16_t tx_retries = 8;
    uint32_t mbufs = 0;                 ///< 0 = automatic
    uint32_t af_xdp_busy_budget = 64;   ///< net_af_xdp busy_budget; 0 = no busy polling
    bool af_xdp_tune_napi = false;      ///< set/restore napi_defer_hard_irqs, gro_flush_timeout
    uint32_t af_xdp_gro_flush_us = 50;  ///< gro_flush_timeout while tuned
    /// "auto" (on for virtual interfaces), "on", "off"
    dp::csum_mode complete_checksums = dp::csum_mode::automatic;
  } dataplane;

  struct eal_section {
    dp::hugepage_mode hugepages = dp::hugepage_mode::automatic;
    uint32_t memory_mb = 0;
    std::string file_prefix;
    std::string log_level = "notice";
  } eal;

  struct replay_section {
    uint32_t idle_ms = 500;  ///< all-pcap ports: stop once rx has been idle this long
  } replay;

  struct stats_section {
    uint32_t interval_s = 0;  ///< print stats every N seconds; 0 = on SIGUSR1 and at exit
  } stats;

  struct debug_section {
    uint32_t control_stall_ms = 0;  ///< SIGUSR2 stalls the control thread this long; 0 = off
  } debug;

  struct log_section {
    std::string level = "notice";
  } log;

  struct sip_section {
    bool enabled = true;  ///< inspect SIP; off = a plain bridge
    std::vector<uint16_t> hint_ports = {5060, 5061, 10000};
    uint32_t tcp_streams = 256;
    uint32_t tcp_idle_s = 900;
    uint32_t reassembly_slots = 64;
    uint32_t reassembly_max_bytes = 16384;
    uint32_t reassembly_timeout_s = 60;
  } sip;

  struct storage_section {
    std::string state_dir = "/var/lib/ringbridge";
    uint64_t max_calls = 100000;          ///< call log rows kept (oldest deleted first)
    uint32_t max_call_age_days = 365;     ///< calls older than this are deleted; 0 = keep
    uint64_t phonebook_auto_max = 10000;  ///< automatic phonebook rows (least recently
                                          ///< updated deleted first; user rows never)
  } storage;

  struct http_section {
    bool enabled = true;
    std::string listen = "127.0.0.1:8080";
    std::string token;  ///< empty: generated into <state_dir>/api-token at first start
    bool public_metrics = false;
    bool public_status = false;
    std::string cert;  ///< PEM certificate (chain) for HTTPS; with key, or neither
    std::string key;   ///< PEM private key for HTTPS
  } http;

  /// What happens to the wire while ringbridge is down (control/include/ringbridge/ctl/ha.h,
  /// docs/design/ha.md).
  struct ha_section {
    enum class fallback_kind : uint8_t {
      none,           ///< the link is down until ringbridge is back
      kernel_bridge,  ///< `ringbridge --fallback on` bridges the two interfaces in the kernel
    };
    fallback_kind fallback = fallback_kind::none;
    std::string bridge;  ///< fallback bridge name; "" = "rbfb-" + side A's interface
  } ha;

  /// The media plane (plugins/media): RTP flows, recordings, quality, DTMF, live audio.
  struct recording_section {
    bool enabled = true;        ///< follow the calls' media at all (off: no media stage)
    bool record_all = true;     ///< default = "all" | "none"
    std::string spool;          ///< "" = <state_dir>/recordings
    uint64_t max_bytes = 0;     ///< spool quota; 0 = none
    uint32_t max_days = 0;      ///< 0 = keep
    uint32_t jitter_ms = 120;
    uint32_t idle_s = 60;
    uint32_t max_calls = 2048;
    uint32_t max_flows = 8192;
    std::string no_record_header = "X-No-Record";
    bool rtp_heuristics = false;  ///< also follow RTP whose SIP was not seen
  } recording;

  struct calls_section {
    uint32_t max_active = 4096;
    uint32_t ringing_timeout_s = 300;
    uint32_t answered_timeout_s = 86400;
  } calls;

  struct filters_section {
    bool enabled = true;  ///< the filter step in the workers (rules come from REST and here)
    std::vector<dp::identity_source> identity = {
        dp::identity_source::pai, dp::identity_source::rpid, dp::identity_source::from};
    dp::number_format numbers;
    bool drop_unparsable_invites = false;
    dp::block_mode default_block_mode = dp::block_mode::drop;
    uint32_t blocked_ttl_s = 32;
    uint32_t reply_rate = 50;   ///< 486/603/200 replies a second, per worker; 0 = none
    uint32_t reply_burst = 100;
    std::vector<dp::filter_rule> rules;  ///< [[filters.rules]]
  } filters;

  /// [notify.<name>] sections: one notification / export sink each (plugins/), checked
  /// by the sink's factory when the file is parsed.
  std::vector<plugin::sink_config> notify;
};

/// Parses TOML TEXT into *OUT (starting from the defaults). SOURCE names the text in
/// messages (a file path). Unknown sections and keys, wrong types and out-of-range values
/// are errors: false, with *error as "SOURCE:LINE:COL: KEY: what is wrong; the fix".
bool parse_config(std::string_view text, std::string_view source, config* out, std::string* error);

/// Reads and parses the file at PATH.
bool load_config_file(const std::string& path, config* out, std::string* error);

/// Checks rules that span keys (after CLI overrides are applied).
bool validate_config(const config& cfg, std::string* error);

}  // namespace ringbridge::ctl
