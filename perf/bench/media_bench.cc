// SPDX-License-Identifier: BSD-3-Clause
// Microbenchmarks of the media plane (Google Benchmark): the worker's flow table and media
// stage, and the media thread's per-packet audio path.
//
// The flow table holds 1000 calls' flows (4 each: RTP and RTCP both ways), as SDP installs
// them. The stage runs on 32-frame bursts of UDP frames no call owns (the forwarding
// traffic a busy bridge carries beside its calls): with an empty table (one load per
// burst) and with the 1000 calls' flows installed (one lookup per frame). The audio path is
// what the media thread does per RTP packet of a recorded G.711 call, without the pcap
// write: parse_rtp, rtp_source_stats, the A-law decoder, the in-band DTMF detector,
// channel_clock and the stereo window (put, and per 20 ms of both channels an advance and
// a take).
#include <benchmark/benchmark.h>
#include <rte_mbuf.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "ringbridge/dp/eal.h"
#include "ringbridge/dp/stage.h"
#include "ringbridge/media/audio.h"
#include "ringbridge/media/dtmf.h"
#include "ringbridge/media/media_dataplane.h"
#include "ringbridge/media/rtp.h"

namespace ringbridge::dp {
namespace {

constexpr int k_calls = 1000;
constexpr uint16_t k_burst = 32;

flow_key key_for(uint32_t ip, uint16_t port) {
  flow_key k;
  k.addr[0] = static_cast<uint8_t>(ip >> 24);
  k.addr[1] = static_cast<uint8_t>(ip >> 16);
  k.addr[2] = static_cast<uint8_t>(ip >> 8);
  k.addr[3] = static_cast<uint8_t>(ip);
  k.family = 4;
  k.port = port;
  return k;
}

constexpr uint32_t k_caller_ip = 0x0a630001;  // 10.99.0.1
constexpr uint32_t k_callee_ip = 0x0a630002;  // 10.99.0.2

// Call C's flows as perf/harness/calls.py lays them out: RTP on 10000 + 2c (caller) and
// 10000 + 2(N + c) (callee), RTCP on the next port.
void install_calls(flow_table& ft, int calls) {
  for (int c = 0; c < calls; c++) {
    const auto pa = static_cast<uint16_t>(10000 + 2 * c);
    const auto pb = static_cast<uint16_t>(10000 + 2 * (calls + c));
    const auto call = static_cast<uint64_t>(c + 1) * 0x9e3779b97f4a7c15ULL;
    if (!ft.install(key_for(k_caller_ip, pa), call, media_kind::rtp) ||
        !ft.install(key_for(k_caller_ip, pa + 1), call, media_kind::rtcp) ||
        !ft.install(key_for(k_callee_ip, pb), call, media_kind::rtp) ||
        !ft.install(key_for(k_callee_ip, pb + 1), call, media_kind::rtcp))
      std::abort();
  }
}

void BM_flow_lookup_hit(benchmark::State& state) {
  flow_table ft(8192);  // [recording] max_flows' default
  install_calls(ft, k_calls);
  uint8_t addr[4] = {10, 99, 0, 2};
  int c = 0;
  for (auto _ : state) {
    flow_hit h;
    const auto port = static_cast<uint16_t>(10000 + 2 * (k_calls + c));
    benchmark::DoNotOptimize(ft.lookup(addr, 4, port, &h));
    benchmark::DoNotOptimize(h);
    c = c + 1 == k_calls ? 0 : c + 1;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_flow_lookup_hit);

void BM_flow_lookup_miss(benchmark::State& state) {
  flow_table ft(8192);
  install_calls(ft, k_calls);
  uint8_t addr[4] = {10, 99, 0, 2};
  uint16_t port = 1000;  // below every call's ports: never installed
  for (auto _ : state) {
    flow_hit h;
    benchmark::DoNotOptimize(ft.lookup(addr, 4, port, &h));
    port = port == 9999 ? 1000 : port + 1;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_flow_lookup_miss);

rte_mempool* pool() {
  static rte_mempool* mp = rte_pktmbuf_pool_create("media_bench", 1023, 0, 0, 2048, SOCKET_ID_ANY);
  return mp;
}

// A 64-byte frame (60 in the buffer) of UDP 10.99.0.1:10000+i → 10.99.0.2:9, the harness's
// background, with a valid IPv4 header.
void fill_udp(rte_mbuf* m, int i) {
  auto* d = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, 60));
  if (d == nullptr) std::abort();
  std::memset(d, 0, 60);
  const uint8_t head[] = {0x02, 0x52, 0x42, 0, 0, 0x99, 0x02, 0x52, 0x42, 0, 0, 1, 0x08, 0,
                          0x45, 0, 0, 46, 0, 0, 0, 0, 64, 17, 0, 0, 10, 99, 0, 1, 10, 99, 0, 2};
  std::memcpy(d, head, sizeof(head));
  uint32_t sum = 0;
  for (int k = 14; k < 34; k += 2) sum += static_cast<uint32_t>(d[k] << 8 | d[k + 1]);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  d[24] = static_cast<uint8_t>(~sum >> 8);
  d[25] = static_cast<uint8_t>(~sum);
  const int sport = 10000 + i;
  d[34] = static_cast<uint8_t>(sport >> 8);
  d[35] = static_cast<uint8_t>(sport);
  d[37] = 9;
  d[39] = 26;
}

// The media stage on a burst of 32 frames of no call; ARG 0: empty table, else 1000 calls.
void BM_media_stage_untracked_burst(benchmark::State& state) {
  media_dataplane dp(media_dp_config{}, 1);
  if (state.range(0) != 0) install_calls(dp.flows(), k_calls);
  const stage st = dp.stage_for(0);  // as the worker calls it: once per burst
  rte_mbuf* pkts[k_burst];
  if (rte_pktmbuf_alloc_bulk(pool(), pkts, k_burst) != 0) std::abort();
  for (int i = 0; i < k_burst; i++) fill_udp(pkts[i], i);
  verdict v[k_burst];
  for (auto _ : state) {
    frame_burst b;
    b.pkts = pkts;
    b.v = v;
    b.n = k_burst;
    b.pass = frame_burst::all(k_burst);
    st.run(st.ctx, b);
    benchmark::ClobberMemory();
  }
  if (dp.total(media_counter::rtp_mirrored) != 0) std::abort();  // none of them is a call's
  rte_pktmbuf_free_bulk(pkts, k_burst);
  state.SetItemsProcessed(state.iterations() * k_burst);
  state.SetLabel(state.range(0) ? "1000 calls' flows" : "empty table");
}
BENCHMARK(BM_media_stage_untracked_burst)->Arg(0)->Arg(1);

}  // namespace
}  // namespace ringbridge::dp

namespace ringbridge::media {
namespace {

// 50 A-law payloads of 160 bytes: one second of a 440 Hz tone, as perf/harness/calls.py.
std::vector<std::vector<uint8_t>> rtp_packets(uint32_t ssrc, int count) {
  std::vector<std::vector<uint8_t>> out;
  for (int k = 0; k < count; k++) {
    std::vector<uint8_t> p(12 + 160);
    p[0] = 0x80;
    p[1] = 8;
    const auto seq = static_cast<uint16_t>(k);
    const auto ts = static_cast<uint32_t>(k * 160);
    p[2] = static_cast<uint8_t>(seq >> 8);
    p[3] = static_cast<uint8_t>(seq);
    for (int i = 0; i < 4; i++) {
      p[4 + i] = static_cast<uint8_t>(ts >> (24 - 8 * i));
      p[8 + i] = static_cast<uint8_t>(ssrc >> (24 - 8 * i));
    }
    for (int n = 0; n < 160; n++) {
      // A-law of a sine, segment-encoded (G.711).
      int x = static_cast<int>(10000 * std::sin(2 * M_PI * 440 * (k * 160 + n) / 8000.0));
      uint8_t mask = 0xD5;
      if (x < 0) {
        mask = 0x55;
        x = -x - 1;
      }
      int seg = 0;
      for (int v = (x | 0xff) >> 8; v; v >>= 1) seg++;
      p[12 + n] = seg >= 8 ? static_cast<uint8_t>(0x7f ^ mask)
                           : static_cast<uint8_t>(((seg << 4) | ((x >> (seg ? seg + 3 : 4)) & 0x0f)) ^ mask);
    }
    out.push_back(std::move(p));
  }
  return out;
}

// One call's two directions through the media thread's audio path, one packet each per
// iteration pair; the window advances and hands out 20 ms of stereo per two packets.
void BM_audio_path_g711(benchmark::State& state) {
  const int period = 500;  // 10 s of packets, then the stream goes on with new timestamps
  const auto pk0 = rtp_packets(0x10000000, period), pk1 = rtp_packets(0x20000000, period);
  const std::vector<std::vector<uint8_t>>* pk[2] = {&pk0, &pk1};
  rtp_source_stats stats[2];
  decoder dec[2] = {decoder(codec::pcma), decoder(codec::pcma)};
  std::unique_ptr<inband_detector> inband[2] = {std::make_unique<inband_detector>(8000),
                                                std::make_unique<inband_detector>(8000)};
  channel_clock clock[2] = {channel_clock(8000, 8000), channel_clock(8000, 8000)};
  stereo_window window(120 * 8);  // [recording] jitter_ms = 120 at 8000 Hz
  std::vector<int16_t> pcm(160), out;
  std::vector<dtmf_digit> found;
  uint64_t k = 0;
  int64_t late = 0;
  for (auto _ : state) {
    const int ch = static_cast<int>(k & 1);
    const uint64_t n = k >> 1;
    std::vector<uint8_t> p = (*pk[ch])[n % period];  // copy: seq/ts advance across periods
    const auto seq = static_cast<uint16_t>(n);
    const auto ts = static_cast<uint32_t>(n * 160);
    p[2] = static_cast<uint8_t>(seq >> 8);
    p[3] = static_cast<uint8_t>(seq);
    for (int i = 0; i < 4; i++) p[4 + i] = static_cast<uint8_t>(ts >> (24 - 8 * i));
    const double at = 0.02 * static_cast<double>(n);
    rtp_header h;
    if (!parse_rtp(p.data(), p.size(), &h)) std::abort();
    stats[ch].on_packet(h.seq, h.ts, at);
    const size_t got = dec[ch].decode(h.payload, h.payload_len, pcm.data());
    found.clear();
    inband[ch]->feed(pcm.data(), got, at, &found);
    const uint64_t pos = clock[ch].place(h.ssrc, h.ts, at);
    late += static_cast<int64_t>(got - window.put(ch, pos, pcm.data(), got));
    if (ch == 1) {  // the media thread's 20 ms tick: the clock moves, final frames go out
      window.advance(static_cast<uint64_t>(at * 8000));
      out.clear();
      window.take(&out);
      benchmark::DoNotOptimize(out.data());
    }
    k++;
  }
  if (late != 0) state.SetLabel("late samples!");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_audio_path_g711);

// The same path's parts alone, per packet.
void BM_audio_decode_pcma(benchmark::State& state) {
  const auto pk = rtp_packets(1, 50);
  decoder dec(codec::pcma);
  std::vector<int16_t> pcm(160);
  size_t k = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(dec.decode(pk[k % 50].data() + 12, 160, pcm.data()));
    k++;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_audio_decode_pcma);

void BM_audio_inband_dtmf(benchmark::State& state) {
  const auto pk = rtp_packets(1, 50);
  decoder dec(codec::pcma);
  std::vector<std::vector<int16_t>> pcm(50, std::vector<int16_t>(160));
  for (int k = 0; k < 50; k++) dec.decode(pk[k].data() + 12, 160, pcm[k].data());
  inband_detector det(8000);
  std::vector<dtmf_digit> found;
  size_t k = 0;
  for (auto _ : state) {
    found.clear();
    det.feed(pcm[k % 50].data(), 160, 0.02 * static_cast<double>(k), &found);
    k++;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_audio_inband_dtmf);

void BM_rtp_parse_and_stats(benchmark::State& state) {
  auto pk = rtp_packets(1, 1)[0];
  rtp_source_stats stats;
  uint32_t n = 0;
  for (auto _ : state) {
    pk[2] = static_cast<uint8_t>(n >> 8);
    pk[3] = static_cast<uint8_t>(n);
    rtp_header h;
    benchmark::DoNotOptimize(parse_rtp(pk.data(), pk.size(), &h));
    stats.on_packet(static_cast<uint16_t>(n), n * 160, 0.02 * n);
    n++;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_rtp_parse_and_stats);

}  // namespace
}  // namespace ringbridge::media

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  ringbridge::dp::eal_plan plan;
  ringbridge::dp::host_facts h = ringbridge::dp::probe_host();
  plan.file_prefix = "rb-mbench-" + std::to_string(h.pid);
  plan.runtime_dir = h.runtime_base + "/" + plan.file_prefix;
  plan.args = {"media_bench", "--no-huge", "--no-shconf", "-m", "64", "--file-prefix",
               plan.file_prefix, "--no-pci", "--no-telemetry", "--log-level", "warning", "-l",
               std::to_string(h.cpus.back())};
  std::string err;
  if (!ringbridge::dp::eal_start(plan, &err)) {
    std::fprintf(stderr, "%s\n", err.c_str());
    ringbridge::dp::remove_runtime_dir(plan);
    return 1;
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  ringbridge::dp::eal_stop(plan, true);
  return 0;
}
