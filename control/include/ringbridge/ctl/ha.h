// SPDX-License-Identifier: BSD-3-Clause
// Surviving the death of the process: the state-directory lock, the kernel-bridge
// fallback (fail-to-wire) and the one-shot modes the systemd unit runs around the service.
//
// docs/design/ha.md has the sequence: the service (ExecStart=) adopts or restores what a
// dead run left, takes the wire back from the fallback bridge and forwards; whenever it
// stops, however it stops, `ringbridge --fallback on` (ExecStopPost=, as root) puts the
// interfaces back as they were and, with [ha] fallback = "kernel-bridge", bridges them in
// the kernel until the service is back.
#pragma once

#include <array>
#include <string>

#include "ringbridge/ctl/config.h"
#include "ringbridge/dp/port_spec.h"

namespace ringbridge::ctl {

/// <state_dir>/iface-record: the originals of the interface settings the bridge changes
/// (dp::iface_tuning).
std::string iface_record_path(const config& cfg);

/// The fallback bridge's name: [ha] bridge, or "rbfb-" + side A's interface name cut to the
/// kernel's 15 characters ("" when side A is not a kernel interface).
std::string fallback_bridge_name(const config& cfg, const std::array<dp::port_spec, 2>& ports);

/// Checks that the [ha] settings fit the ports: kernel-bridge needs two kernel interfaces.
/// False with *error naming the key and the fix.
bool check_ha_config(const config& cfg, const std::array<dp::port_spec, 2>& ports,
                     std::string* error);

/// An exclusive lock on <state_dir>/lock for as long as the object lives: one ringbridge per
/// state directory, and the one-shot modes never undo the interface state of a running
/// service. The file holds the holder's pid.
class state_lock {
 public:
  /// Takes the lock without waiting. False with *error naming the running holder.
  bool acquire(const std::string& state_dir, std::string* error);
  ~state_lock();

 private:
  int _fd = -1;
};

/// Creates the kernel bridge NAME over IFACES, or completes one that is half made: STP off,
/// forward delay 0, multicast snooping off, no IPv6 link-local address (the bridge has no
/// address at all, so the host sends nothing on the wire), link-local group frames forwarded
/// as far as the kernel allows, both interfaces enslaved and up. Idempotent. False with
/// *error naming the interface and the fix. Needs CAP_NET_ADMIN.
bool fallback_bridge_up(const std::string& name, const std::array<std::string, 2>& ifaces,
                        std::string* error);

/// Removes the bridge NAME if it is a ringbridge fallback bridge (its alias says so; the
/// interfaces are released and stay up). *removed says whether there was one. A device of
/// that name that is not ringbridge's is an error: it is left alone. Needs CAP_NET_ADMIN.
bool fallback_bridge_down(const std::string& name, bool* removed, std::string* error);

/// The service's steps on the interfaces before DPDK starts: detaches the XDP programs a
/// killed run left (an AF_XDP port could not attach its own), and, when a port is AF_PACKET,
/// removes the fallback bridge: a packet socket beside a live bridge would forward every
/// frame a second time (the sockets open at bridge set-up, right after the EAL). False
/// (logged) when another live ringbridge holds an interface: nothing may be started then,
/// since DPDK's clean-up of a failed AF_XDP port detaches whatever program is attached.
bool release_before_eal(const config& cfg, const std::array<dp::port_spec, 2>& ports);

/// After the workers run: removes the fallback bridge when both ports are AF_XDP. Their XDP
/// program takes every frame before the kernel bridge sees it, so from the moment the
/// sockets are bound the bridge is idle and the handover loses nothing.
void release_after_start(const config& cfg, const std::array<dp::port_spec, 2>& ports);

/// `ringbridge --fallback on`: after any stop of the service (the unit's ExecStopPost=, run
/// as root), puts back the interface settings in the record, detaches the XDP programs a
/// killed run left, then with [ha] fallback = "kernel-bridge" bridges the interfaces in the
/// kernel. `--fallback off`: removes the fallback bridge (the service does this itself when
/// it starts). Returns the exit status.
int run_fallback_mode(const config& cfg, const std::array<dp::port_spec, 2>& ports, bool on);

/// `ringbridge --prepare` (the unit's ExecStartPre=, as root): applies the AF_XDP NAPI
/// tuning, whose sysfs files only root may write, recording the originals, so that the
/// unprivileged service finds it done; the service restores nothing it cannot, and
/// `--fallback on` puts the originals back. Returns the exit status.
int run_prepare_mode(const config& cfg, const std::array<dp::port_spec, 2>& ports);

}  // namespace ringbridge::ctl
