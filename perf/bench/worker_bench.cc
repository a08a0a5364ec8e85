// SPDX-License-Identifier: BSD-3-Clause
// Microbenchmarks of the worker's hot path (Google Benchmark) on DPDK net_ring ports.
//
// Frames circulate: the benchmark puts a burst on port a's rx ring, poll_once() forwards it
// to port b's tx ring, the benchmark moves it back. What is timed is poll_once() plus two
// bulk ring operations per burst, per frame.
#include <benchmark/benchmark.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "ringbridge/dp/bridge.h"
#include "ringbridge/dp/eal.h"
#include "ringbridge/filters/filter.h"
#include "ringbridge/filters/filter_dataplane.h"
#include "ringbridge/dp/packet.h"
#include "ringbridge/sip/sip_setup.h"
#include "sip_stage.h"
#include "worker_fastpath.h"

namespace ringbridge::dp {
namespace {

struct ring_ports {
  rte_ring* rx[2];
  rte_ring* tx[2];
  uint16_t port[2];
};

rte_mempool* pool() {
  static rte_mempool* mp = rte_pktmbuf_pool_create("bench", 4095, 0, 0, 2048, SOCKET_ID_ANY);
  return mp;
}

ring_ports make_ports(const char* tag) {
  ring_ports rp{};
  for (int s = 0; s < 2; s++) {
    std::string base = std::string(tag) + (s == 0 ? "a" : "b");
    rp.rx[s] =
        rte_ring_create((base + "rx").c_str(), 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    rp.tx[s] =
        rte_ring_create((base + "tx").c_str(), 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    rp.port[s] = static_cast<uint16_t>(
        rte_eth_from_rings(base.c_str(), &rp.rx[s], 1, &rp.tx[s], 1, SOCKET_ID_ANY));
    rte_eth_conf conf{};
    if (rte_eth_dev_configure(rp.port[s], 1, 1, &conf) != 0 ||
        rte_eth_rx_queue_setup(rp.port[s], 0, 1024, SOCKET_ID_ANY, nullptr, pool()) != 0 ||
        rte_eth_tx_queue_setup(rp.port[s], 0, 1024, SOCKET_ID_ANY, nullptr) != 0 ||
        rte_eth_dev_start(rp.port[s]) != 0)
      std::abort();
  }
  return rp;
}

/// Forwarding of BURST-frame bursts a → b through poll_once(), flushed on every full burst.
void BM_poll_once_forward(benchmark::State& state) {
  static ring_ports rp = make_ports("bf");
  rte_mempool* mp = pool();
  const auto burst = static_cast<uint16_t>(state.range(0));
  std::vector<rte_mbuf*> frames(burst);
  rte_pktmbuf_alloc_bulk(mp, frames.data(), burst);
  for (auto* m : frames) rte_pktmbuf_append(m, 60);

  worker_counters counters;
  std::atomic<bool> running{true};
  worker_ctx w;
  w.port = {rp.port[0], rp.port[1]};
  w.burst = burst;
  w.flush_tsc = UINT64_MAX;  // only full bursts leave: measures the steady state
  w.counters = &counters;
  w.running = &running;
  worker_state st(w);
  for (auto _ : state) {
    rte_ring_enqueue_bulk(rp.rx[0], reinterpret_cast<void* const*>(frames.data()), burst, nullptr);
    poll_once(w, st);
    rte_ring_dequeue_bulk(rp.tx[1], reinterpret_cast<void**>(frames.data()), burst, nullptr);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * burst);
  rte_pktmbuf_free_bulk(frames.data(), burst);
  if (counters.dir[0].rx_pkts.get() != counters.dir[0].tx_pkts.get())
    state.SkipWithError("frames lost");
}
BENCHMARK(BM_poll_once_forward)->Arg(1)->Arg(8)->Arg(32)->Arg(64);

/// An empty poll: what an idle worker spends per iteration.
void BM_poll_once_idle(benchmark::State& state) {
  static ring_ports rp = make_ports("bi");
  worker_counters counters;
  std::atomic<bool> running{true};
  worker_ctx w;
  w.port = {rp.port[0], rp.port[1]};
  w.counters = &counters;
  w.running = &running;
  worker_state st(w);
  for (auto _ : state) benchmark::DoNotOptimize(poll_once(w, st));
}
BENCHMARK(BM_poll_once_idle);

/// The single-writer counter update done once per burst.
void BM_counter_add(benchmark::State& state) {
  counter c;
  for (auto _ : state) {
    c.add(32);
    benchmark::ClobberMemory();
  }
  benchmark::DoNotOptimize(c.get());
}
BENCHMARK(BM_counter_add);

// --- SIP inspection ----------------------------------------------------------------------

std::string frame_with_payload(uint16_t port, const std::string& payload) {
  std::string f(14 + 20 + 8, '\0');
  f[12] = 0x08;  // IPv4
  auto* ip = reinterpret_cast<uint8_t*>(f.data() + 14);
  const size_t ip_len = 20 + 8 + payload.size();
  ip[0] = 0x45;
  ip[2] = static_cast<uint8_t>(ip_len >> 8);
  ip[3] = static_cast<uint8_t>(ip_len);
  ip[8] = 64;
  ip[9] = 17;
  auto* udp = ip + 20;
  udp[0] = static_cast<uint8_t>(port >> 8);
  udp[1] = static_cast<uint8_t>(port);
  udp[2] = static_cast<uint8_t>(port >> 8);
  udp[3] = static_cast<uint8_t>(port);
  udp[4] = static_cast<uint8_t>((8 + payload.size()) >> 8);
  udp[5] = static_cast<uint8_t>(8 + payload.size());
  return f + payload;
}

const std::string k_invite =
    "INVITE sip:+15551230000@pbx.example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\r\n"
    "Max-Forwards: 70\r\n"
    "From: \"Alice Caller\" <sip:+15557654321@example.net>;tag=1928301774\r\n"
    "To: <sip:+15551230000@pbx.example.com>\r\n"
    "Call-ID: a84b4c76e66710@192.0.2.10\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Contact: <sip:alice@192.0.2.10:5060>\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 110\r\n\r\n"
    "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n"
    "m=audio 49170 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n";

struct sip_bench_env {
  std::unique_ptr<sip_database> db;
  sip_worker sw;
  sip_counters sc;
  sip_bench_env() {
    std::string err;
    db = sip_database::compile(&err);
    sw.init(*db, sip_config{}, rte_get_tsc_hz(), sc, &err);
  }
};

}  // namespace

sip_bench_env& sip_env() {
  static sip_bench_env env;
  return env;
}

namespace {

rte_mbuf* mbuf_of(const std::string& bytes) {
  rte_mbuf* m = rte_pktmbuf_alloc(pool());
  std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(bytes.size())), bytes.data(),
              bytes.size());
  return m;
}

/// What a non-SIP frame costs: headers + the 10-byte probe (an RTP packet, port 20000).
void BM_inspect_rtp(benchmark::State& state) {
  auto& env = sip_env();
  std::string rtp(172, '\0');
  rtp[0] = static_cast<char>(0x80);
  rte_mbuf* m = mbuf_of(frame_with_payload(20000, rtp));
  for (auto _ : state) sip_inspect(env.sw, env.sc, m, 0, 0, 1);
  rte_pktmbuf_free(m);
}
BENCHMARK(BM_inspect_rtp);

/// A non-SIP payload on a hint port: the probe is skipped, Hyperscan says no.
void BM_inspect_not_sip_on_5060(benchmark::State& state) {
  auto& env = sip_env();
  rte_mbuf* m = mbuf_of(frame_with_payload(5060, std::string(160, 'x')));
  for (auto _ : state) sip_inspect(env.sw, env.sc, m, 0, 0, 1);
  rte_pktmbuf_free(m);
}
BENCHMARK(BM_inspect_not_sip_on_5060);

/// The SIP message PAYLOAD (UDP/5060) arriving on SIDE, inspected over and over, the event
/// taken off the ring each time as the control thread would; returns the last event taken.
sip_event inspect_message(benchmark::State& state, const std::string& payload, int side) {
  auto& env = sip_env();
  rte_mbuf* m = mbuf_of(frame_with_payload(5060, payload));
  sip_event ev;
  for (auto _ : state) {
    sip_inspect(env.sw, env.sc, m, side, 0, 1);
    env.sw.ring->pop(ev);
  }
  rte_pktmbuf_free(m);
  return ev;
}

/// A whole INVITE: headers, Hyperscan, parse, event, ring push (and the control's pop).
void BM_inspect_invite(benchmark::State& state) {
  inspect_message(state, k_invite, 0);
  if (sip_env().sc[sip_counter::sip_events].get() == 0)
    state.SkipWithError("INVITE not recognised");
}
BENCHMARK(BM_inspect_invite);

// --- Filters ------------------------------------------------------------------------------

/// N rules: N - 3 exact numbers, a prefix, a glob and a name substring (none matching the
/// benchmark's caller, so every rule kind is looked at).
std::vector<filter_rule> bench_rules(size_t n) {
  std::vector<filter_rule> rules;
  for (size_t i = 0; i + 3 < n; i++) {
    filter_rule r;
    r.id = static_cast<uint32_t>(i + 1);
    r.position = r.id;
    r.pattern = "+1444" + std::to_string(1000000 + i);
    rules.push_back(r);
  }
  filter_rule p;
  p.id = 1000001;
  p.position = p.id;
  p.syntax = filter_syntax::prefix;
  p.pattern = "+1900";
  rules.push_back(p);
  p.id++;
  p.syntax = filter_syntax::glob;
  p.pattern = "+1555???9999";
  rules.push_back(p);
  p.id++;
  p.match = filter_match::name;
  p.syntax = filter_syntax::substring;
  p.pattern = "telemarketer";
  rules.push_back(p);
  return rules;
}

/// The filters' verdict as the appliance installs it: SIP's request hook.
void hook_filters(sip_worker& sw, filter_dataplane& fd) {
  sw.on_request = {[](void* ctx, const sip_request& r, event_verdict* ev) {
                     return filter_request(*static_cast<filter_worker*>(ctx), r, ev);
                   },
                   &fd.worker(0)};
}

/// The verdict on a parsed INVITE: caller identity (PAI/RPID/From, normalised) and the
/// first matching rule among N (exact hash + Hyperscan).
void BM_filter_verdict(benchmark::State& state) {
  std::string err;
  auto fs = filter_set::compile(bench_rules(static_cast<size_t>(state.range(0))), {}, 1, &err);
  if (!fs) return state.SkipWithError(err.c_str());
  sip::message m;
  sip::parse(k_invite.data(), k_invite.size(), true, &m);
  for (auto _ : state) {
    const caller_id who = identify_caller(m, identity_options{}.order.data(), 3, number_format{});
    benchmark::DoNotOptimize(fs->evaluate(who, 0));
  }
}
BENCHMARK(BM_filter_verdict)->Arg(10)->Arg(100000);

/// Compiling N rules into a filter set (what a reload costs before the pointer swap).
void BM_filter_compile(benchmark::State& state) {
  const auto rules = bench_rules(static_cast<size_t>(state.range(0)));
  std::string err;
  for (auto _ : state) benchmark::DoNotOptimize(filter_set::compile(rules, {}, 1, &err));
}
BENCHMARK(BM_filter_compile)->Arg(10)->Arg(100000)->Unit(benchmark::kMillisecond)->Iterations(3);

/// A whole INVITE through inspection with the filter step on and N rules published.
void BM_inspect_invite_filtered(benchmark::State& state) {
  std::string err;
  auto db = sip_database::compile(&err);
  sip_worker sw;
  sip_counters sc;
  sw.init(*db, sip_config{}, rte_get_tsc_hz(), sc, &err);
  qsbr_domain rcu(1);
  filter_dataplane fd(filter_dp_config{}, 1, pool(), rcu, rte_get_tsc_hz());
  fd.slot().publish(
      filter_set::compile(bench_rules(static_cast<size_t>(state.range(0))), {}, 1, &err));
  hook_filters(sw, fd);
  rte_mbuf* m = mbuf_of(frame_with_payload(5060, k_invite));
  sip_event ev;
  for (auto _ : state) {
    sip_inspect(sw, sc, m, 0, 0, 1);
    sw.ring->pop(ev);
  }
  rte_pktmbuf_free(m);
}
BENCHMARK(BM_inspect_invite_filtered)->Arg(10)->Arg(100000);

/// The harness's 413-byte INVITE (perf/harness/frames.py, what perf/rbcallgrind counts)
/// through inspection with the filter step on and no rules: ringbridge's default.
void BM_inspect_invite_413(benchmark::State& state) {
  std::string err;
  auto db = sip_database::compile(&err);
  sip_worker sw;
  sip_counters sc;
  sw.init(*db, sip_config{}, rte_get_tsc_hz(), sc, &err);
  qsbr_domain rcu(1);
  filter_dataplane fd(filter_dp_config{}, 1, pool(), rcu, rte_get_tsc_hz());
  fd.slot().publish(filter_set::compile({}, {}, 1, &err));
  hook_filters(sw, fd);
  const std::string invite =
      "INVITE sip:+15551230000@10.99.0.2 SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 10.99.0.1:5060;branch=z9hG4bK00000007\r\n"
      "From: \"Caller 7\" <sip:+15550000007@10.99.0.1>;tag=7\r\n"
      "To: <sip:+15551230000@10.99.0.2>\r\n"
      "Call-ID: 00000007@10.99.0.1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n"
      "Content-Length: 0\r\nX-Pad: " +
      std::string(88, 'p') + "\r\n\r\n";
  rte_mbuf* m = mbuf_of(frame_with_payload(5060, invite));
  sip_event ev;
  for (auto _ : state) {
    sip_inspect(sw, sc, m, 0, 0, 1);
    sw.ring->pop(ev);
  }
  rte_pktmbuf_free(m);
  if (sc[sip_counter::verdict_none].get() == 0) state.SkipWithError("INVITE not screened");
}
BENCHMARK(BM_inspect_invite_413);

/// BM_inspect_invite's INVITE as a provider sends it, with a named P-Asserted-Identity: the
/// caller's number and name come from there, and From is not read in the worker.
void BM_inspect_invite_pai(benchmark::State& state) {
  std::string invite = k_invite;
  invite.insert(invite.find("Call-ID:"),
                "P-Asserted-Identity: \"Alice Caller\" <sip:+15557654321@carrier.example>\r\n");
  invite.replace(invite.find("Call-ID: "), 9, "Call-ID: pai-");  // not BM_inspect_invite's call
  const auto& invites = sip_env().sc.requests[static_cast<size_t>(sip::method::invite)];
  const uint64_t before = invites.get();
  inspect_message(state, invite, 0);
  // (Which header the caller came from: tests/unit/dataplane/filter_test.cc.)
  if (invites.get() == before) state.SkipWithError("INVITE not recognised");
}
BENCHMARK(BM_inspect_invite_pai);

/// The 200 OK that answers BM_inspect_invite's INVITE (To with a tag, an SDP body): one of
/// the messages of a call that is not an initial INVITE, for which no caller is identified
/// and From is not read in the worker.
void BM_inspect_response(benchmark::State& state) {
  auto& env = sip_env();
  const std::string ok =
      "SIP/2.0 200 OK\r\n"
      "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\r\n"
      "From: \"Alice Caller\" <sip:+15557654321@example.net>;tag=1928301774\r\n"
      "To: <sip:+15551230000@pbx.example.com>;tag=a6c85cf\r\n"
      "Call-ID: a84b4c76e66710@192.0.2.10\r\n"
      "CSeq: 314159 INVITE\r\n"
      "Contact: <sip:+15551230000@192.0.2.20:5060>\r\n"
      "Content-Type: application/sdp\r\n"
      "Content-Length: 110\r\n\r\n"
      "v=0\r\no=- 2 2 IN IP4 192.0.2.20\r\ns=-\r\nc=IN IP4 192.0.2.20\r\nt=0 0\r\n"
      "m=audio 40000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n";
  const uint64_t before = env.sc.responses[1].get();
  inspect_message(state, ok, 1);
  if (env.sc.responses[1].get() == before) state.SkipWithError("200 OK not recognised");
}
BENCHMARK(BM_inspect_response);

/// The parser alone on the INVITE of BM_inspect_invite.
void BM_parse_invite(benchmark::State& state) {
  sip::message m;
  for (auto _ : state) {
    benchmark::DoNotOptimize(sip::parse(k_invite.data(), k_invite.size(), true, &m));
  }
}
BENCHMARK(BM_parse_invite);

/// Frame headers alone (Ethernet/IPv4/UDP).
void BM_parse_l4(benchmark::State& state) {
  const std::string f = frame_with_payload(20000, std::string(18, '\0'));
  l4_info li;
  for (auto _ : state)
    benchmark::DoNotOptimize(
        parse_l4(reinterpret_cast<const uint8_t*>(f.data()), static_cast<uint32_t>(f.size()), &li));
}
BENCHMARK(BM_parse_l4);

/// The ring hand-off: one event pushed by the worker and popped by control.
void BM_event_ring_handoff(benchmark::State& state) {
  auto ring = std::make_unique<event_ring>();
  sip_event ev, out;
  ev.call_id.assign("abc@host");
  for (auto _ : state) {
    ring->push(ev);
    ring->pop(out);
  }
  benchmark::DoNotOptimize(out);
}
BENCHMARK(BM_event_ring_handoff);

}  // namespace
}  // namespace ringbridge::dp

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  ringbridge::dp::eal_plan plan;
  ringbridge::dp::host_facts h = ringbridge::dp::probe_host();
  plan.file_prefix = "rb-bench-" + std::to_string(h.pid);
  plan.runtime_dir = h.runtime_base + "/" + plan.file_prefix;
  plan.args = {"worker_bench",
               "--no-huge",
               "--no-shconf",
               "-m",
               "128",
               "--file-prefix",
               plan.file_prefix,
               "--no-pci",
               "--no-telemetry",
               "--log-level",
               "warning",
               "-l",
               std::to_string(h.cpus.back())};
  std::string err;
  if (!ringbridge::dp::eal_start(plan, &err)) {
    std::fprintf(stderr, "%s\n", err.c_str());
    ringbridge::dp::remove_runtime_dir(plan);
    return 1;
  }
  ringbridge::dp::sip_env();  // compile Hyperscan before anything is timed
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  ringbridge::dp::eal_stop(plan, true);
  return 0;
}
