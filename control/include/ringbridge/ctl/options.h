// SPDX-License-Identifier: BSD-3-Clause
// What each part of the appliance is built with, derived from the config section it reads.
//
// Owns: the mapping from `config` (ctl/config.h) to the option structs of the parts
// (EAL plan, bridge, SIP stage, filters, HTTP server, call table, call log retention).
// Pure functions of the config: no I/O, no logging, nothing started. May touch only the
// option types of the parts; the appliance (ctl/appliance.h) decides the order of set-up
// and does what has side effects (token file, TLS key file, state directory).
#pragma once

#include <array>
#include <string>

#include "ringbridge/ctl/config.h"
#include "ringbridge/ctl/http_api.h"
#include "ringbridge/ctl/store.h"
#include "ringbridge/dp/bridge.h"
#include "ringbridge/dp/eal.h"
#include "ringbridge/dp/port_spec.h"
#include "ringbridge/filters/filter_dataplane.h"
#include "ringbridge/filters/filter_manager.h"
#include "ringbridge/filters/filter_store.h"
#include "ringbridge/media/media_dataplane.h"
#include "ringbridge/media/media_plane.h"
#include "ringbridge/sip/call_store.h"
#include "ringbridge/sip/calls.h"
#include "ringbridge/sip/sip_setup.h"

namespace ringbridge::ctl {

/// <state_dir>/ringbridge.db: the call log, phonebook and filter rules ([storage]).
std::string db_path(const config& cfg);

/// The database every connection opens: db_path() with the schema parts of the features
/// that keep tables in it (the call log and phonebook, the filter rules).
database_spec database_options(const config& cfg);

/// True when either port is a kernel interface (AF_XDP or AF_PACKET on an interface): the
/// bridge then changes interface settings and records their originals in the state directory.
bool has_kernel_ports(const std::array<dp::port_spec, 2>& ports);

/// The EAL plan's input ([eal], and the [dataplane] sizes it derives memory from) for PORTS,
/// the port specs parsed from [ports].
dp::eal_options eal_options(const config& cfg, const std::array<dp::port_spec, 2>& ports);

/// The worker's SIP stage ([sip], the screening policy and caller identity of [filters]).
/// capture_messages is false: only the notification hub knows whether a sink exports SIP
/// messages.
dp::sip_config sip_options(const config& cfg);

/// The filters' worker half ([filters]: blocked-call lifetime, reply budget).
dp::filter_dp_config filter_dp_options(const config& cfg);

/// The bridge ([dataplane], PORTS and what the EAL PLAN sized). With kernel ports, interface originals are recorded in the state
/// directory (ctl/ha.h iface_record_path()).
dp::bridge_config dataplane_options(const config& cfg, const std::array<dp::port_spec, 2>& ports,
                                    const dp::eal_plan& plan);

/// The control half of [filters]: identity, number format, default block mode, rules.
filters_settings filter_options(const config& cfg);

/// [http] as the server takes it. The token is the configured one ("" = the appliance reads
/// or creates <state_dir>/api-token); TLS files are set by the appliance once written.
http_settings http_options(const config& cfg);

/// The call table ([calls]).
call_limits call_options(const config& cfg);

/// The media plane's worker half ([recording] max_flows, no_record_header).
dp::media_dp_config media_dp_options(const config& cfg);
/// The media thread ([recording]; the spool defaults to <state_dir>/recordings).
media::recording_options recording_options(const config& cfg);
/// Whether the media plane runs: [recording] enabled, with SIP inspection on.
bool media_enabled(const config& cfg);

/// Call log and phonebook retention ([storage]).
storage_limits retention_options(const config& cfg);

}  // namespace ringbridge::ctl
