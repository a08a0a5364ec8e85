# SPDX-License-Identifier: BSD-3-Clause
"""The test topology and the devices under test.

    bridged:  [PREFIX-gen] eth0 ── in0 [PREFIX-dut: the DUT] out0 ── eth0 [PREFIX-sink]
    direct:   [PREFIX-dgen] eth0 ───────────────────────────────── eth0 [PREFIX-dsink]

Everything, the DUT included, lives in namespaces the harness creates and removes; the
root namespace is not touched. The generator and sink use fixed MAC/IP addresses, static
neighbour entries and no IPv6 (no background chatter). Offloads stay as the kernel sets
them: a veth offers checksum offload, so packets sent through a socket (latency probes,
sipp) leave the sender with unfinished checksums, as on any veth/container/VM deployment,
and a DUT must complete them."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from . import frames, parse

# The CPUs this process may run on when the harness starts: what every DUT is given back
# (pin_harness() narrows the harness's own).
ALL_CPUS = frozenset(os.sched_getaffinity(0))


def pin_harness(cpu):
    """Keeps the harness's own processes — this driver and what it starts, rb_latency and
    sipp among them — on CPU (the generator's), off the DUT's CPUs. Unpinned, the scheduler
    put rb_latency's 1000 wake-ups a second on the CPU a poll-mode worker spins on and
    preempted it each time (p99 latency 1-2.5 ms for ringbridge; the kernel bridge leaves
    that CPU idle and did not pay). DUTs get ALL_CPUS back (on_all_cpus)."""
    if cpu not in ALL_CPUS:
        raise SystemExit(f"--gen-cpu {cpu}: not a CPU this process may run on "
                         f"({', '.join(map(str, sorted(ALL_CPUS)))})")
    os.sched_setaffinity(0, {cpu})


def on_all_cpus(*cmd):
    """CMD run on every CPU the harness started with: how DUTs start (ringbridge places its
    lcores from the CPUs it may run on)."""
    return ["taskset", "-c", ",".join(map(str, sorted(ALL_CPUS))), *cmd]


NS_SYSCTLS = ["net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"]


def sh(cmd, check=True, timeout=120, **kw):
    return subprocess.run([str(c) for c in cmd], check=check, timeout=timeout,
                          capture_output=True, text=True, **kw)


def in_ns(ns, *cmd):
    return ["ip", "netns", "exec", ns, *map(str, cmd)]


class Env:
    """A generator namespace and a sink namespace, joined directly or through a DUT
    namespace."""

    def __init__(self, prefix, direct):
        self.direct = direct
        self.gen = f"{prefix}-{'d' if direct else ''}gen"
        self.sink = f"{prefix}-{'d' if direct else ''}sink"
        self.dut = None if direct else f"{prefix}-dut"
        self.namespaces = [self.gen, self.sink] + ([] if direct else [self.dut])

    def up(self):
        self.down()
        for ns in self.namespaces:
            sh(["ip", "netns", "add", ns])
            sh(in_ns(ns, "ip", "link", "set", "lo", "up"))
            for s in NS_SYSCTLS:
                sh(in_ns(ns, "sysctl", "-qw", s))
        if self.direct:
            sh(["ip", "link", "add", "eth0", "netns", self.gen, "type", "veth", "peer", "name",
                "eth0", "netns", self.sink])
        else:
            sh(["ip", "link", "add", "eth0", "netns", self.gen, "type", "veth", "peer", "name",
                "in0", "netns", self.dut])
            sh(["ip", "link", "add", "eth0", "netns", self.sink, "type", "veth", "peer", "name",
                "out0", "netns", self.dut])
            for i in ("in0", "out0"):
                sh(in_ns(self.dut, "ip", "link", "set", i, "promisc", "on", "up"))
        for ns, mac, ip, peer_ip, peer_mac in (
                (self.gen, frames.GEN_MAC, frames.GEN_IP, frames.SINK_IP, frames.SINK_MAC),
                (self.sink, frames.SINK_MAC, frames.SINK_IP, frames.GEN_IP, frames.GEN_MAC)):
            sh(in_ns(ns, "ip", "link", "set", "eth0", "address", mac, "up"))
            sh(in_ns(ns, "ip", "addr", "add", f"{ip}/24", "dev", "eth0"))
            sh(in_ns(ns, "ip", "neigh", "replace", peer_ip, "lladdr", peer_mac, "nud",
                     "permanent", "dev", "eth0"))
        return self

    def down(self):
        for ns in self.namespaces:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)

    def link_stats(self, ns):
        j = json.loads(sh(["ip", "-n", ns, "-s", "-j", "link", "show", "dev", "eth0"]).stdout)
        s = j[0]["stats64"]
        return {"rx": s["rx"]["packets"], "tx": s["tx"]["packets"],
                "rx_dropped": s["rx"]["dropped"], "tx_dropped": s["tx"]["dropped"]}

    def udp_csum_errors(self, ns):
        """UDP datagrams NS dropped for a bad checksum (Udp InCsumErrors, /proc/net/snmp)."""
        lines = [l.split() for l in sh(in_ns(ns, "cat", "/proc/net/snmp")).stdout.splitlines()
                 if l.startswith("Udp:")]
        return int(dict(zip(lines[0][1:], lines[1][1:])).get("InCsumErrors", 0))

    def counters(self):
        return {"gen": self.link_stats(self.gen), "sink": self.link_stats(self.sink)}


class Dut:
    """A device under test: started before its trials, stopped after them. Subclasses
    implement _start/_stop; start/stop keep ctx.live up to date for the exit clean-up."""
    name = "?"
    direct = False
    description = ""
    pmd = None      # the DPDK PMD of a DPDK DUT (ringbridge is compared with testpmd-<pmd>)

    def __init__(self, ctx):
        self.ctx = ctx
        self.env = ctx.direct_env if self.direct else ctx.bridged_env
        self.info = {}

    def start(self):
        self.ctx.live.add(self)
        self._start()

    def stop(self):
        try:
            self._stop()
        finally:
            self.ctx.live.discard(self)

    def _start(self):
        pass

    def _stop(self):
        pass


class DirectDut(Dut):
    name = "direct"
    direct = True
    description = "generator → sink on one veth, no bridge: the box's (and generator's) ceiling"


class KernelBridgeDut(Dut):
    name = "kbridge"
    description = "Linux bridge, no netfilter hooks on bridged frames"
    netfilter = "0"

    def _start(self):
        ns = self.env.dut
        sh(in_ns(ns, "ip", "link", "add", "br0", "type", "bridge"))
        for i in ("in0", "out0"):
            sh(in_ns(ns, "ip", "link", "set", i, "master", "br0"))
        sh(in_ns(ns, "ip", "link", "set", "br0", "up"))
        for f in ("iptables", "ip6tables", "arptables"):
            sh(in_ns(ns, "sysctl", "-qw", f"net.bridge.bridge-nf-call-{f}={self.netfilter}"),
               check=False)
        time.sleep(0.2)

    def _stop(self):
        sh(in_ns(self.env.dut, "ip", "link", "del", "br0"), check=False)


class NfqueueDut(KernelBridgeDut):
    """The seed's design: kernel bridge + iptables NFQUEUE on SIP + a userspace reader."""
    name = "nfqueue"
    description = "kernel bridge + iptables-legacy NFQUEUE (udp/5060) + userspace SIP reader"
    netfilter = "1"

    def _start(self):
        super()._start()
        ns = self.env.dut
        sh(in_ns(ns, "iptables-legacy", "-A", "FORWARD", "-p", "udp", "--dport", "5060",
                 "-j", "NFQUEUE", "--queue-num", "0"))
        self.proc = subprocess.Popen(in_ns(ns, *on_all_cpus(self.ctx.tool("rb_nfq_reader"), 0)),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if "listening" not in line:
            err = self.proc.stderr.read()
            self.proc.kill()
            self.proc.wait()
            self._stop()
            raise RuntimeError("rb_nfq_reader did not start: " + err)

    def _stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=20)
        self.info["reader"] = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
        sh(in_ns(self.env.dut, "iptables-legacy", "-F", "FORWARD"), check=False)
        super()._stop()


class RingbridgeDut(Dut):
    description = "ringbridge, default configuration"

    def __init__(self, ctx, pmd, sip=True, rules=0, workers=1, tune_napi=None, http=None,
                 extra_config=""):
        super().__init__(ctx)
        self.http = http                  # "127.0.0.1:PORT": the API and public /metrics
        self.extra_config = extra_config  # more TOML sections (perf/rbmedia: [recording])
        self.pmd = pmd
        self.sip = sip
        self.rules = rules
        self.workers = workers
        self.tune_napi = tune_napi  # None: the default; True/False: dataplane.af_xdp_tune_napi
        self.name = (f"rb-{pmd}" + ("" if sip else "-nosip") +
                     (f"-rules{rules // 1000}k" if rules else "") +
                     (f"-w{workers}" if workers > 1 else "") +
                     ("" if tune_napi is None else "-tuned" if tune_napi else "-untuned"))
        self.description = (f"ringbridge, {pmd} ports, {workers} worker"
                            f"{'s' if workers > 1 else ''} (--workers {workers}), default "
                            f"configuration (SIP inspection {'on' if sip else 'off'}"
                            + (f", {rules} filter rules, none matching" if rules else "")
                            + ("" if tune_napi is None else
                               f", af_xdp_tune_napi = {'true' if tune_napi else 'false'}") + ")")

    def _start(self):
        self.workdir = Path(tempfile.mkdtemp(prefix="rbperf-rb-"))
        cfg = self.workdir / "ringbridge.toml"
        # The control side as a user runs it (call log in a private state directory), no
        # HTTP server: nothing listens on the machine during a measurement.
        text = (f'[sip]\nenabled = {"true" if self.sip else "false"}\n'
                f'[storage]\nstate_dir = "{self.workdir}/state"\n' +
                ('[http]\nenabled = false\n' if not self.http else
                 f'[http]\nlisten = "{self.http}"\npublic_metrics = true\n') +
                self.extra_config)
        extra = self.ctx.rb_config + "\n" if self.ctx.rb_config else ""
        if self.ctx.rb_config:
            self.info["rb_config"] = self.ctx.rb_config
        if self.tune_napi is not None:
            # One [dataplane] table: into --rb-config's own when it has one.
            tune = f'af_xdp_tune_napi = {"true" if self.tune_napi else "false"}\n'
            if "[dataplane]\n" in extra:
                extra = extra.replace("[dataplane]\n", "[dataplane]\n" + tune, 1)
            else:
                extra += "[dataplane]\n" + tune
        text += extra
        if self.rules:
            # Exact numbers (a hash) plus one rule of each Hyperscan kind, so that every
            # INVITE pays the whole verdict; none matches the generator's callers.
            rules = [f'[[filters.rules]]\nmatch = "number"\npattern = "+1444{i:07d}"\n'
                     for i in range(self.rules - 3)]
            rules.append('[[filters.rules]]\nmatch = "number"\nsyntax = "prefix"\npattern = "+1900"\n')
            rules.append('[[filters.rules]]\nmatch = "number"\nsyntax = "glob"\n'
                         'pattern = "+1555???9999"\n')
            rules.append('[[filters.rules]]\nmatch = "name"\npattern = "telemarketer"\n')
            text += "[filters]\n" + "".join(rules)
        cfg.write_text(text)
        cmd = [self.ctx.ringbridge, "--config", cfg, "--port", f"{self.pmd}:in0", "--port",
               f"{self.pmd}:out0"]
        if self.workers > 1:
            # ringbridge places its lcores itself, from the CPUs it may run on: control on
            # the first, worker w on CPU 1 + w % (n - 1). The harness leaves it all CPUs,
            # so on a 2-CPU box both workers share CPU 1 (and the generator, pinned to CPU
            # 0, shares that CPU with the control thread); _stop() records where they ran.
            cmd += ["--workers", self.workers]
        cmd += self.ctx.ringbridge_args
        self.out = open(self.workdir / "stdout", "w")
        self.err = open(self.workdir / "stderr", "w")
        self.proc = subprocess.Popen(in_ns(self.env.dut, *on_all_cpus(*cmd)), stdout=self.out,
                                     stderr=self.err)
        self.info["command"] = " ".join(map(str, cmd))
        deadline = time.time() + 60
        while "bridging with" not in (self.workdir / "stderr").read_text():
            if self.proc.poll() is not None or time.time() > deadline:
                self.proc.kill()
                self.proc.wait()
                raise RuntimeError("ringbridge did not start:\n" +
                                   (self.workdir / "stderr").read_text())
            time.sleep(0.05)
        time.sleep(0.5)

    def _stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=30)
        self.out.close()
        self.err.close()
        self.info["exit_status"] = rc
        self.info["stats"] = parse.ringbridge_stats((self.workdir / "stdout").read_text())
        sip = self.info["stats"].get("sip") if self.info["stats"] else None
        if sip:
            self.info["sip"] = {k: sip.get(k) for k in ("sip_messages", "sip_events", "ring_full")}
        if self.info["stats"]:
            self.info["worker_cpus"] = [w.get("cpu") for w in self.info["stats"]["workers"]]
        shutil.rmtree(f"/var/run/dpdk/ringbridge-{self.proc.pid}", ignore_errors=True)
        shutil.rmtree(self.workdir, ignore_errors=True)


class TestpmdDut(Dut):
    """dpdk-testpmd io forwarding on the same PMD and interface tuning as ringbridge: the
    'no features' ceiling that shows ringbridge's own overhead."""

    def __init__(self, ctx, pmd, tune_napi=False):
        super().__init__(ctx)
        self.pmd = pmd
        # Untuned by default, as ringbridge's default (dataplane.af_xdp_tune_napi = false).
        self.tune_napi = tune_napi and pmd == "xdp"
        self.name = f"testpmd-{pmd}" + ("-tuned" if self.tune_napi else "")
        self.description = (f"dpdk-testpmd io-forward, {pmd} ports, 1 forwarding core"
                            + (", NAPI deferred to busy polling (napi_defer_hard_irqs 2, "
                               "gro_flush_timeout 50 µs)" if self.tune_napi else
                               ", the interfaces' NAPI as the kernel sets it"))
        self.saved = {}

    def _sysfs(self, iface, attr, value=None):
        path = f"/sys/class/net/{iface}/{attr}"
        if value is None:
            return sh(in_ns(self.env.dut, "cat", path)).stdout.strip()
        sh(in_ns(self.env.dut, "sh", "-c", f"echo {value} > {path}"))

    def _start(self):
        ns = self.env.dut
        self.prefix = f"rbperf-tp-{os.getpid()}"
        if self.tune_napi:
            for i in ("in0", "out0"):
                for attr, v in (("napi_defer_hard_irqs", 2), ("gro_flush_timeout", 50000)):
                    self.saved[(i, attr)] = self._sysfs(i, attr)
                    self._sysfs(i, attr, v)
        if self.pmd == "xdp":
            vdevs = ["--vdev", "net_af_xdp0,iface=in0", "--vdev", "net_af_xdp1,iface=out0"]
        else:
            vdevs = ["--vdev", "net_af_packet0,iface=in0", "--vdev", "net_af_packet1,iface=out0"]
        cmd = ["dpdk-testpmd", "--no-huge", "--no-shconf", "-m", "1024", "--file-prefix",
               self.prefix, "-l", "0,1", "--no-pci", "--log-level", "warning", *vdevs, "--",
               "--forward-mode=io", "--auto-start", "--stats-period", "1000", "--rxd", "1024",
               "--txd", "1024", "--burst", "32", "--total-num-mbufs", "32768"]
        self.info["command"] = " ".join(cmd)
        self.workdir = Path(tempfile.mkdtemp(prefix="rbperf-tp-"))
        self.out = open(self.workdir / "out", "w")
        self.proc = subprocess.Popen(in_ns(ns, *on_all_cpus(*cmd)), stdout=self.out,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.time() + 30
        while "io packet forwarding" not in (self.workdir / "out").read_text():
            if self.proc.poll() is not None or time.time() > deadline:
                self.proc.kill()
                self.proc.wait()
                self._stop()
                raise RuntimeError("testpmd did not start:\n" + (self.workdir / "out").read_text())
            time.sleep(0.05)
        time.sleep(0.5)

    def _stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.out.close()
        for (i, attr), v in self.saved.items():
            self._sysfs(i, attr, v)
        shutil.rmtree(f"/var/run/dpdk/{self.prefix}", ignore_errors=True)
        shutil.rmtree(self.workdir, ignore_errors=True)


def make_duts(ctx, names):
    table = {
        "direct": lambda: DirectDut(ctx),
        "kbridge": lambda: KernelBridgeDut(ctx),
        "rb-xdp": lambda: RingbridgeDut(ctx, "xdp"),
        "rb-afpacket": lambda: RingbridgeDut(ctx, "afpacket"),
        "rb-afpacket-w2": lambda: RingbridgeDut(ctx, "afpacket", workers=2),
        "rb-xdp-nosip": lambda: RingbridgeDut(ctx, "xdp", sip=False),
        "rb-xdp-tuned": lambda: RingbridgeDut(ctx, "xdp", tune_napi=True),
        "rb-xdp-untuned": lambda: RingbridgeDut(ctx, "xdp", tune_napi=False),
        "testpmd-xdp-tuned": lambda: TestpmdDut(ctx, "xdp", tune_napi=True),
        "rb-xdp-rules100k": lambda: RingbridgeDut(ctx, "xdp", rules=100000),
        "testpmd-xdp": lambda: TestpmdDut(ctx, "xdp"),
        "testpmd-afpacket": lambda: TestpmdDut(ctx, "afpacket"),
        "nfqueue": lambda: NfqueueDut(ctx),
    }
    unknown = [n for n in names if n not in table]
    if unknown:
        raise SystemExit(f"rbperf: unknown DUT(s) {', '.join(unknown)}; known: {', '.join(table)}")
    return [table[n]() for n in names]
