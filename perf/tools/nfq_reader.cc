// SPDX-License-Identifier: BSD-3-Clause
// The seed's design, as a perf DUT: a userspace reader behind iptables NFQUEUE on a kernel
// bridge that looks at every SIP packet (finds INVITEs and their From) and accepts it.
//
//   rb_nfq_reader [QUEUE]     runs until SIGINT/SIGTERM, then prints one JSON line
//
// This is what ringbridge replaces; the perf harness measures it side by side.
#include <arpa/inet.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

volatile sig_atomic_t g_stop = 0;
unsigned long g_packets = 0, g_invites = 0, g_with_from = 0;

void on_signal(int) {
  g_stop = 1;
}

// A SIP reader's minimum: the request line and the From header of an INVITE.
void inspect(const unsigned char* p, int len) {
  if (len < static_cast<int>(sizeof(iphdr))) return;
  const auto* ip = reinterpret_cast<const iphdr*>(p);
  const int ihl = ip->ihl * 4;
  if (ip->protocol != IPPROTO_UDP || len < ihl + 8) return;
  const char* sip = reinterpret_cast<const char*>(p + ihl + 8);
  const int n = len - ihl - 8;
  if (n < 7 || std::memcmp(sip, "INVITE ", 7) != 0) return;
  g_invites++;
  for (int i = 0; i + 6 < n; i++) {
    if ((sip[i] == '\n') &&
        (std::strncmp(sip + i + 1, "From:", 5) == 0 || std::strncmp(sip + i + 1, "f:", 2) == 0)) {
      g_with_from++;
      break;
    }
  }
}

int on_packet(nfq_q_handle* qh, nfgenmsg*, nfq_data* nfa, void*) {
  g_packets++;
  uint32_t id = 0;
  if (nfqnl_msg_packet_hdr* ph = nfq_get_msg_packet_hdr(nfa)) id = ntohl(ph->packet_id);
  unsigned char* payload = nullptr;
  int len = nfq_get_payload(nfa, &payload);
  if (len > 0) inspect(payload, len);
  return nfq_set_verdict(qh, id, NF_ACCEPT, 0, nullptr);
}

}  // namespace

int main(int argc, char** argv) {
  const int queue = argc > 1 ? std::atoi(argv[1]) : 0;
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  nfq_handle* h = nfq_open();
  if (h == nullptr) {
    std::fprintf(stderr, "rb_nfq_reader: nfq_open: %s\n", std::strerror(errno));
    return 1;
  }
  nfq_q_handle* qh = nfq_create_queue(h, static_cast<uint16_t>(queue), on_packet, nullptr);
  if (qh == nullptr || nfq_set_mode(qh, NFQNL_COPY_PACKET, 0xffff) < 0) {
    std::fprintf(stderr, "rb_nfq_reader: cannot bind queue %d: %s\n", queue, std::strerror(errno));
    return 1;
  }
  nfq_set_queue_maxlen(qh, 4096);
  nfnl_rcvbufsiz(nfq_nfnlh(h), 8 << 20);
  const int fd = nfq_fd(h);
  timeval tv{0, 200000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  std::printf("{\"listening\": true}\n");
  std::fflush(stdout);
  unsigned long enobufs = 0;
  alignas(8) char buf[65536];
  while (!g_stop) {
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n > 0) {
      nfq_handle_packet(h, buf, static_cast<int>(n));
    } else if (n < 0 && errno == ENOBUFS) {
      enobufs++;  // the kernel dropped queued packets: the reader fell behind
    }
  }
  nfq_destroy_queue(qh);
  nfq_close(h);
  std::printf(
      "{\"packets\": %lu, \"invites\": %lu, \"invites_with_from\": %lu, "
      "\"enobufs\": %lu}\n",
      g_packets, g_invites, g_with_from, enobufs);
  return 0;
}
