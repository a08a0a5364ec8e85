// SPDX-License-Identifier: BSD-3-Clause
// rb_gen: a paced packet generator on DPDK (AF_XDP on a veth), faster than tcpreplay's
// one send() per frame, for the perf harness.
//
//   rb_gen EAL-ARGS -- PCAP [--unique]
//
// Loads the frames of PCAP, then serves requests on stdin, one per line:
//   RATE COUNT [even|poisson]
//                     send COUNT frames (cycling through the file) at RATE frames/s
//                     (0 = as fast as possible) in bursts of RATE/100000 frames (at least
//                     1, at most 16). even (the default): one burst every 10 us, evenly
//                     spaced. poisson: the gaps between bursts are exponentially
//                     distributed with the same mean (a Poisson process of bursts, fixed
//                     seed): the same average rate, with the clumps and lulls of many
//                     independent senders.
//   quit
// and answers each request with tcpreplay's summary lines, which the harness parses:
//   Actual: N packets (B bytes) sent in S seconds
//   Rated: X Bps, Y Mbps, Z pps
// A frame counts as sent once the port accepted it; when the port keeps refusing, the
// generator waits (the achieved rate then shows it could not keep up).
//
// --unique: every frame sent is a new one. In each template frame, every run of 16 '@'
// becomes the frame's sequence number in hex and every run of 10 '#' a pseudo-random
// 10-digit number derived from it — e.g. a Call-ID and a caller number, for an INVITE
// flood where each INVITE is a new call from a spoofed caller. (Give such templates a UDP
// checksum of 0: IPv4 allows it, and the bytes change after the checksum was computed.)
#include <pcap/pcap.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "ringbridge/dp/mbuf_pool.h"

namespace {

constexpr uint16_t k_burst = 16;

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "rb_gen: %s\n", msg.c_str());
  rte_eal_cleanup();
  std::exit(1);
}

// Offsets of the runs of N copies of C in F.
std::vector<size_t> markers(const std::string& f, char c, size_t n) {
  std::vector<size_t> out;
  const std::string run(n, c);
  for (size_t at = f.find(run); at != std::string::npos; at = f.find(run, at + n))
    out.push_back(at);
  return out;
}

// Writes the unique parts of frame number SEQ into P (a copy of template F).
void stamp(char* p, const std::vector<size_t>& hex_at, const std::vector<size_t>& dec_at,
           uint64_t seq) {
  static const char k_hex[] = "0123456789abcdef";
  for (size_t at : hex_at)
    for (int i = 15; i >= 0; i--)
      p[at + static_cast<size_t>(15 - i)] = k_hex[(seq >> (4 * i)) & 15];
  uint64_t v = (seq * 2654435761ull + 0x9e3779b97f4a7c15ull) % 10000000000ull;
  for (size_t at : dec_at)
    for (int i = 9; i >= 0; i--, v /= 10)
      p[at + static_cast<size_t>(i)] = static_cast<char>('0' + v % 10);
}

std::vector<std::string> load_pcap(const char* path) {
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_open_offline(path, err);
  if (p == nullptr) die(std::string("cannot open ") + path + ": " + err);
  std::vector<std::string> frames;
  pcap_pkthdr* h;
  const u_char* data;
  while (pcap_next_ex(p, &h, &data) == 1)
    frames.emplace_back(reinterpret_cast<const char*>(data), h->caplen);
  pcap_close(p);
  if (frames.empty()) die(std::string(path) + " holds no frames");
  return frames;
}

}  // namespace

int main(int argc, char** argv) {
  int n = rte_eal_init(argc, argv);
  if (n < 0) die(std::string("EAL: ") + rte_strerror(rte_errno));
  argc -= n;
  argv += n;
  if (argc < 2) die("usage: rb_gen EAL-ARGS -- PCAP [--unique]");
  const auto frames = load_pcap(argv[1]);
  const bool unique = argc > 2 && std::strcmp(argv[2], "--unique") == 0;
  std::vector<std::vector<size_t>> hex_at, dec_at;
  for (const auto& f : frames) {
    hex_at.push_back(unique ? markers(f, '@', 16) : std::vector<size_t>{});
    dec_at.push_back(unique ? markers(f, '#', 10) : std::vector<size_t>{});
  }
  uint64_t seq = 0;
  if (rte_eth_dev_count_avail() < 1) die("no port (give --vdev net_af_xdp0,iface=...)");

  // Packed, as net_af_xdp's UMEM needs (ringbridge/dp/mbuf_pool.h).
  std::string pool_error;
  rte_mempool* mp = ringbridge::dp::create_mbuf_pool("gen", 8191, 256, RTE_MBUF_DEFAULT_BUF_SIZE,
                                                     static_cast<int>(rte_socket_id()), true,
                                                     &pool_error);
  if (mp == nullptr) die("mempool: " + pool_error);
  if (!ringbridge::dp::pool_fits_af_xdp_umem(mp, &pool_error)) die("mempool: " + pool_error);
  const uint16_t port = 0;
  rte_eth_conf conf{};
  if (rte_eth_dev_configure(port, 1, 1, &conf) != 0 ||
      rte_eth_rx_queue_setup(port, 0, 1024, rte_socket_id(), nullptr, mp) != 0 ||
      rte_eth_tx_queue_setup(port, 0, 2048, rte_socket_id(), nullptr) != 0 ||
      rte_eth_dev_start(port) != 0)
    die("cannot set up the port");

  const uint64_t hz = rte_get_tsc_hz();
  std::printf("ready %zu frames\n", frames.size());
  std::fflush(stdout);
  std::string line;
  size_t next_frame = 0;
  rte_mbuf* rx[64];
  while (std::getline(std::cin, line)) {
    if (line == "quit") break;
    double rate = 0;
    unsigned long long count = 0;
    char pacing[16] = "even";
    int fields = std::sscanf(line.c_str(), "%lf %llu %15s", &rate, &count, pacing);
    const bool poisson = std::strcmp(pacing, "poisson") == 0;
    if (fields < 2 || (!poisson && std::strcmp(pacing, "even") != 0)) {
      std::printf("error: expected 'RATE COUNT [even|poisson]'\n");
      std::fflush(stdout);
      continue;
    }
    uint64_t sent = 0, bytes = 0;
    // Bursts small enough to keep the spacing even: about one every 10 us.
    const uint16_t pace_burst =
        rate > 0 ? static_cast<uint16_t>(std::clamp(rate / 100000.0, 1.0, double(k_burst)))
                 : k_burst;
    // Poisson: each burst's due time is the previous one's plus an exponential gap with
    // the mean of the even spacing. The gaps are drawn up front (same seed every request,
    // so trials are comparable) and scaled so that they add up to exactly COUNT / RATE:
    // the random sum of a few thousand gaps would otherwise miss the asked rate by more
    // than the harness's 2 % tolerance, and a trial would fail for the dice, not the DUT.
    std::vector<double> gaps;
    if (poisson && rate > 0) {
      std::mt19937_64 rng(12345);
      std::exponential_distribution<double> exp1(1.0);
      gaps.resize((count + pace_burst - 1) / pace_burst);
      double sum = 0;
      for (double& g : gaps) sum += g = exp1(rng);
      const double scale = static_cast<double>(count) / rate * static_cast<double>(hz) / sum;
      for (double& g : gaps) g *= scale;
    }
    size_t burst_no = 0;
    double poisson_due = 0;  // ticks after t0
    const uint64_t t0 = rte_rdtsc();
    while (sent < count) {
      if (rate > 0) {  // even: frame i leaves at t0 + i / rate
        const uint64_t due =
            poisson ? t0 + static_cast<uint64_t>(poisson_due)
                    : t0 + static_cast<uint64_t>(static_cast<double>(sent) * hz / rate);
        while (rte_rdtsc() < due) {
        }
      }
      uint16_t want = static_cast<uint16_t>(std::min<uint64_t>(pace_burst, count - sent));
      rte_mbuf* burst[k_burst];
      if (rte_pktmbuf_alloc_bulk(mp, burst, want) != 0) continue;
      uint64_t burst_bytes = 0;
      for (uint16_t i = 0; i < want; i++) {
        const std::string& f = frames[next_frame];
        char* p = rte_pktmbuf_append(burst[i], static_cast<uint16_t>(f.size()));
        std::memcpy(p, f.data(), f.size());
        if (unique) stamp(p, hex_at[next_frame], dec_at[next_frame], seq++);
        next_frame = (next_frame + 1) % frames.size();
        burst_bytes += f.size();
      }
      uint16_t done = 0;
      while (done < want) done += rte_eth_tx_burst(port, 0, burst + done, want - done);
      sent += want;
      bytes += burst_bytes;
      if (!gaps.empty()) poisson_due += gaps[std::min(burst_no++, gaps.size() - 1)];
      const uint16_t got = rte_eth_rx_burst(port, 0, rx, 64);  // nothing is expected; drop it
      if (got) rte_pktmbuf_free_bulk(rx, got);
    }
    const double secs = static_cast<double>(rte_rdtsc() - t0) / static_cast<double>(hz);
    std::printf("Actual: %llu packets (%llu bytes) sent in %.6f seconds\n",
                static_cast<unsigned long long>(sent), static_cast<unsigned long long>(bytes),
                secs);
    std::printf("Rated: %.1f Bps, %.2f Mbps, %.2f pps\n", static_cast<double>(bytes) / secs,
                static_cast<double>(bytes) * 8 / secs / 1e6, static_cast<double>(sent) / secs);
    std::fflush(stdout);
  }
  rte_eth_dev_stop(port);
  rte_eth_dev_close(port);
  rte_eal_cleanup();
  return 0;
}
