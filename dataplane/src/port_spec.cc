// SPDX-License-Identifier: BSD-3-Clause
// Parsing port specifications and turning them into DPDK EAL device arguments.
#include "ringbridge/dp/port_spec.h"

#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace ringbridge::dp {

namespace {

constexpr const char* k_forms =
    "use xdp:IFNAME, afpacket:IFNAME, pci:0000:03:00.0, pcap:IN.pcap,OUT.pcap, null: "
    "or a bare interface name";

// Linux's dev_valid_name(): 1..15 bytes, not "." or "..", no '/', ':' or whitespace.
bool valid_iface_name(std::string_view name, std::string* why) {
  if (name.empty()) {
    *why = "the interface name is empty";
    return false;
  }
  if (name.size() >= IFNAMSIZ) {
    *why = "interface names are at most 15 characters";
    return false;
  }
  if (name == "." || name == "..") {
    *why = "'.' and '..' are not interface names";
    return false;
  }
  for (char c : name) {
    if (c == '/' || c == ':' || c == ',' || c == '=' ||
        std::isspace(static_cast<unsigned char>(c)) ||
        !std::isprint(static_cast<unsigned char>(c))) {
      *why = "interface names cannot contain '/', ':', ',', '=' or whitespace";
      return false;
    }
  }
  return true;
}

bool parse_hex(std::string_view s, size_t digits, unsigned* out) {
  if (s.size() != digits) return false;
  unsigned v = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9')
      d = c - '0';
    else if (c >= 'a' && c <= 'f')
      d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      d = c - 'A' + 10;
    else
      return false;
    v = v * 16 + static_cast<unsigned>(d);
  }
  *out = v;
  return true;
}

// "DDDD:BB:DD.F" or "BB:DD.F" → normalised lower-case "dddd:bb:dd.f".
bool parse_pci_addr(std::string_view s, std::string* out) {
  unsigned domain = 0, bus, dev, fn;
  size_t colon2 = s.rfind(':');
  if (colon2 == std::string_view::npos) return false;
  std::string_view head = s.substr(0, colon2);
  std::string_view tail = s.substr(colon2 + 1);  // DD.F
  size_t colon1 = head.find(':');
  if (colon1 != std::string_view::npos) {
    if (!parse_hex(head.substr(0, colon1), 4, &domain)) return false;
    head = head.substr(colon1 + 1);
  }
  if (!parse_hex(head, 2, &bus)) return false;
  size_t dot = tail.find('.');
  if (dot == std::string_view::npos) return false;
  if (!parse_hex(tail.substr(0, dot), 2, &dev) || dev > 0x1f) return false;
  if (!parse_hex(tail.substr(dot + 1), 1, &fn) || fn > 7) return false;
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%04x:%02x:%02x.%x", domain, bus, dev, fn);
  *out = buf;
  return true;
}

bool valid_pcap_path(std::string_view p, std::string* why) {
  if (p.empty()) {
    *why = "a pcap file name is empty";
    return false;
  }
  // DPDK's kvargs split device arguments on ',' and '='; such paths cannot be passed.
  if (p.find_first_of(",=") != std::string_view::npos) {
    *why = "pcap file names cannot contain ',' or '='";
    return false;
  }
  return true;
}

std::string dir_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// The queues net_af_xdp can use: the interface's combined channels, or 1 when it reports
// none (veth, for one, reports separate rx/tx channels only). Same rule as the PMD's.
unsigned af_xdp_queues(const std::string& iface) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return 1;
  ethtool_channels ch{};
  ch.cmd = ETHTOOL_GCHANNELS;
  ifreq ifr{};
  std::snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", iface.c_str());
  ifr.ifr_data = reinterpret_cast<char*>(&ch);
  int rc = ioctl(fd, SIOCETHTOOL, &ifr);
  close(fd);
  if (rc != 0 || ch.max_combined == 0) return 1;
  return ch.combined_count;
}

uint32_t round_up(uint32_t v, uint32_t to) {
  return (v + to - 1) / to * to;
}

}  // namespace

const char* port_kind_name(port_kind kind) {
  switch (kind) {
    case port_kind::af_xdp: return "af_xdp";
    case port_kind::af_packet: return "af_packet";
    case port_kind::pci: return "pci";
    case port_kind::pcap: return "pcap";
    case port_kind::null: return "null";
  }
  return "?";
}

bool parse_port_spec(std::string_view text, port_spec* out, std::string* error) {
  port_spec spec;
  spec.text = std::string(text);
  std::string why;
  auto fail = [&](const std::string& msg) {
    *error = "port '" + spec.text + "': " + msg;
    return false;
  };

  size_t colon = text.find(':');
  std::string_view kind =
      colon == std::string_view::npos ? std::string_view{} : text.substr(0, colon);
  std::string_view rest = colon == std::string_view::npos ? text : text.substr(colon + 1);

  if (colon == std::string_view::npos || kind == "xdp" || kind == "afpacket") {
    spec.kind = kind == "afpacket" ? port_kind::af_packet : port_kind::af_xdp;
    if (!valid_iface_name(rest, &why)) return fail(why + "; " + k_forms);
    spec.iface = std::string(rest);
  } else if (kind == "pci") {
    spec.kind = port_kind::pci;
    if (!parse_pci_addr(rest, &spec.pci_addr))
      return fail("'" + std::string(rest) +
                  "' is not a PCI address; write it as DDDD:BB:DD.F, e.g. pci:0000:03:00.0 "
                  "(dpdk-devbind.py --status lists them)");
  } else if (kind == "pcap") {
    size_t comma = rest.find(',');
    if (comma == std::string_view::npos)
      return fail("a pcap port needs an input and an output file: pcap:IN.pcap,OUT.pcap");
    std::string_view in = rest.substr(0, comma), outp = rest.substr(comma + 1);
    if (!valid_pcap_path(in, &why) || !valid_pcap_path(outp, &why))
      return fail(why + "; write pcap:IN.pcap,OUT.pcap");
    spec.kind = port_kind::pcap;
    spec.rx_pcap = std::string(in);
    spec.tx_pcap = std::string(outp);
    if (spec.rx_pcap == spec.tx_pcap) return fail("input and output are the same file");
  } else if (kind == "null") {
    if (!rest.empty()) return fail("null: takes no argument");
    spec.kind = port_kind::null;
  } else {
    return fail("unknown port kind '" + std::string(kind) + "'; " + k_forms);
  }
  *out = std::move(spec);
  return true;
}

bool check_port_present(const port_spec& spec, unsigned queues, std::string* error) {
  auto fail = [&](const std::string& msg) {
    *error = "port '" + spec.text + "': " + msg;
    return false;
  };
  switch (spec.kind) {
    case port_kind::af_xdp:
    case port_kind::af_packet: {
      if (if_nametoindex(spec.iface.c_str()) == 0)
        return fail("network interface '" + spec.iface +
                    "' does not exist (see `ip link show`; interfaces inside another network "
                    "namespace are not visible here)");
      if (spec.kind == port_kind::af_xdp) {
        unsigned nq = af_xdp_queues(spec.iface);
        if (nq < queues)
          return fail("interface '" + spec.iface + "' offers AF_XDP " + std::to_string(nq) +
                      " queue(s) (combined channels) but " + std::to_string(queues) +
                      " workers need one each; lower --workers, raise the channels with "
                      "`ethtool -L " +
                      spec.iface + " combined " + std::to_string(queues) + "`, or use afpacket:" +
                      spec.iface + " (a veth has no combined channels, so AF_XDP sees one queue)");
      }
      return true;
    }
    case port_kind::pci: {
      std::string dev = "/sys/bus/pci/devices/" + spec.pci_addr;
      struct stat st {};
      if (stat(dev.c_str(), &st) != 0)
        return fail("no PCI device " + spec.pci_addr + " on this machine (`lspci -D` lists them)");
      char link[PATH_MAX];
      ssize_t n = readlink((dev + "/driver").c_str(), link, sizeof(link) - 1);
      std::string driver = "(none)";
      if (n > 0) {
        link[n] = '\0';
        driver = std::string(link).substr(std::string(link).rfind('/') + 1);
      }
      static const char* k_ok[] = {"vfio-pci", "uio_pci_generic", "igb_uio", "mlx5_core",
                                   "mlx4_core"};
      if (std::find_if(std::begin(k_ok), std::end(k_ok),
                       [&](const char* d) { return driver == d; }) == std::end(k_ok))
        return fail("PCI device " + spec.pci_addr + " is bound to driver " + driver +
                    ", not to a DPDK-capable one; bind it with `dpdk-devbind.py -b vfio-pci " +
                    spec.pci_addr + "`");
      return true;
    }
    case port_kind::pcap: {
      struct stat st {};
      if (stat(spec.rx_pcap.c_str(), &st) != 0 || !S_ISREG(st.st_mode) ||
          access(spec.rx_pcap.c_str(), R_OK) != 0)
        return fail("cannot read input file '" + spec.rx_pcap + "'");
      std::string dir = dir_of(spec.tx_pcap);
      if (access(dir.c_str(), W_OK) != 0)
        return fail("cannot write output file '" + spec.tx_pcap + "': directory '" + dir +
                    "' is missing or not writable");
      if (queues > 1) return fail("a pcap port has one queue; use --workers 1");
      return true;
    }
    case port_kind::null: return true;
  }
  return fail("unknown port kind");
}

frame_geometry frame_geometry_for_mtu(uint32_t mtu) {
  frame_geometry g;
  g.max_frame = mtu + 14 + 8;  // Ethernet header + up to two VLAN tags (QinQ)
  // One mbuf segment holds a whole frame on AF_PACKET ports (packet_port.h), so for jumbo
  // MTUs the data room grows with the frame (128 bytes: room the ring slot needs in front).
  if (g.max_frame + 128 > 2048) {
    g.mbuf_data_room = round_up(g.max_frame + 128, 16);
  }
  return g;
}

std::string port_device_name(const port_spec& spec, char side) {
  std::string s(1, side);
  switch (spec.kind) {
    case port_kind::af_xdp: return "net_af_xdp_" + s;
    case port_kind::af_packet: return "rb_af_packet_" + s;  // ringbridge's own, not a DPDK device
    case port_kind::pcap: return "net_pcap_" + s;
    case port_kind::null: return "net_null_" + s;
    case port_kind::pci: return spec.pci_addr;
  }
  return {};
}

eal_port_arg port_eal_arg(const port_spec& spec, char side, unsigned queues,
                          uint32_t af_xdp_busy_budget) {
  std::string name = port_device_name(spec, side);
  std::string q = std::to_string(queues);
  switch (spec.kind) {
    case port_kind::af_xdp:
      return {"--vdev", name + ",iface=" + spec.iface + ",start_queue=0,queue_count=" + q +
                            ",busy_budget=" + std::to_string(af_xdp_busy_budget)};
    case port_kind::af_packet: return {};  // packet_port.h: opened by the bridge, not by EAL
    case port_kind::pcap:
      return {"--vdev", name + ",rx_pcap=" + spec.rx_pcap + ",tx_pcap=" + spec.tx_pcap};
    case port_kind::null: return {"--vdev", name};
    case port_kind::pci: return {"-a", spec.pci_addr};
  }
  return {};
}

}  // namespace ringbridge::dp
