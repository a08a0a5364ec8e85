// SPDX-License-Identifier: BSD-3-Clause
// Port specifications ("xdp:eth0", "pci:0000:03:00.0", ...) and their DPDK device arguments.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ringbridge::dp {

/// How a bridged port reaches the wire.
enum class port_kind : uint8_t {
  af_xdp,     ///< kernel interface through AF_XDP (net_af_xdp); the default for a bare name
  af_packet,  ///< kernel interface through AF_PACKET (ringbridge's own rings, packet_port.h)
  pci,        ///< a NIC bound to vfio-pci (or another DPDK-capable driver)
  pcap,       ///< offline replay: frames read from one file, written to another (net_pcap)
  null,       ///< net_null: endless 64-byte frames in, everything out discarded (benchmarks)
};

const char* port_kind_name(port_kind kind);

/// One parsed port. Plain value; any thread.
struct port_spec {
  port_kind kind = port_kind::af_xdp;
  std::string text;      ///< as the user wrote it, for messages
  std::string iface;     ///< af_xdp, af_packet
  std::string pci_addr;  ///< pci: normalised "DDDD:BB:DD.F"
  std::string rx_pcap;   ///< pcap: file read
  std::string tx_pcap;   ///< pcap: file written

  bool is_kernel_iface() const { return kind == port_kind::af_xdp || kind == port_kind::af_packet; }
};

/// Parses SPEC: `xdp:IFNAME`, `afpacket:IFNAME`, `pci:DDDD:BB:DD.F`, `pcap:IN,OUT`, `null:`
/// or a bare IFNAME (AF_XDP). Syntax only, nothing on the host is looked at.
/// On failure returns false and sets *error to a message that names SPEC and the fix.
bool parse_port_spec(std::string_view text, port_spec* out, std::string* error);

/// Checks that what SPEC names exists on this host and is usable with QUEUES queues:
/// interface present (and, for AF_XDP, has enough rx queues), PCI device present and
/// bound to a DPDK-capable driver, pcap input readable and output directory writable.
/// Runs before EAL start-up so that a bad port leaves nothing behind.
bool check_port_present(const port_spec& spec, unsigned queues, std::string* error);

/// Frame geometry the ports must carry, derived from the configured MTU.
struct frame_geometry {
  uint32_t max_frame = 1522;       ///< largest L2 frame forwarded (no FCS): mtu + 14 + 2 VLAN tags
  uint32_t mbuf_data_room = 2048;  ///< data room of one mbuf segment (holds max_frame)
};

/// Computes the geometry for MTU (IP MTU, 68..9600).
frame_geometry frame_geometry_for_mtu(uint32_t mtu);

/// The DPDK device name for the port on SIDE ('a' or 'b'): the --vdev name, or the PCI
/// address; rte_eth_dev_get_port_by_name() finds the port by it after EAL start-up.
std::string port_device_name(const port_spec& spec, char side);

/// The EAL argument pair that creates the port: {"--vdev", "net_af_xdp_a,iface=..."} or
/// {"-a", "0000:03:00.0"}; empty for AF_PACKET ports, which the bridge opens itself.
struct eal_port_arg {
  std::string flag;
  std::string value;
};
/// AF_XDP_BUSY_BUDGET is net_af_xdp's busy_budget (0 turns preferred busy polling off).
eal_port_arg port_eal_arg(const port_spec& spec, char side, unsigned queues,
                          uint32_t af_xdp_busy_budget = 64);

}  // namespace ringbridge::dp
