# SPDX-License-Identifier: BSD-3-Clause
"""Helpers for ringbridge's integration tests: network-namespace topologies, the running
binary (start, counters, clean stop) and pcap files.

Everything a test creates has a unique name and is removed by the context managers here,
also when the test fails: namespaces and links, processes (by PID), /var/run/dpdk/<prefix>.
And because a test killed by its timeout runs no context manager, everything is also
recorded in a registry directory (RB_TEST_REGISTRY, default /run/rbtest) as it is made:
sweep() removes whatever is still listed — conftest.py calls it at the end of a session
and on SIGTERM, tests/run.sh once more on exit (`python3 rbtest.py sweep`).
"""
import contextlib
import os
import re
import secrets
import shutil
import signal
import struct
import subprocess
import tempfile
import time
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
REGISTRY = Path(os.environ.get("RB_TEST_REGISTRY", "/run/rbtest"))
BIN = Path(os.environ.get("RINGBRIDGE_BIN", REPO / "build" / "control" / "ringbridge"))
TOPOLOGY = REPO / "deploy" / "demo-topology.sh"
DPDK_RUN = Path("/var/run/dpdk")


def run(cmd, check=True, timeout=60, **kw):
    """Runs CMD (a list), returns CompletedProcess with text stdout/stderr."""
    return subprocess.run([str(c) for c in cmd], check=check, timeout=timeout,
                          capture_output=True, text=True, **kw)


def in_ns(ns, *cmd):
    return ["ip", "netns", "exec", ns, *map(str, cmd)]


def _register(kind, key, value=""):
    REGISTRY.mkdir(parents=True, exist_ok=True)
    (REGISTRY / f"{kind}-{key}").write_text(str(value))


def _unregister(kind, key):
    (REGISTRY / f"{kind}-{key}").unlink(missing_ok=True)


def register_process(proc):
    """Records a helper process (a broker, a listener) so that sweep() kills it if the test
    that started it is killed. Returns PROC."""
    _register("proc", proc.pid, Path(f"/proc/{proc.pid}/comm").read_text().strip())
    return proc


def unregister_process(proc):
    _unregister("proc", proc.pid)


def dpdk_runtime_dir(prefix):
    """A DPDK tool run with --file-prefix PREFIX (rb_gen, testpmd) leaves this directory
    behind even with --no-shconf: recorded so that sweep() removes it if the test is killed;
    remove_dpdk_runtime_dir() when the tool is done."""
    path = Path("/var/run/dpdk") / prefix
    _register("dir", prefix, path)
    return path


def remove_dpdk_runtime_dir(prefix):
    shutil.rmtree(Path("/var/run/dpdk") / prefix, ignore_errors=True)
    _unregister("dir", prefix)


def kill_namespace_processes(ns):
    """Every process still running inside namespace NS (sipp, receivers, ...), by PID."""
    r = run(["ip", "netns", "pids", ns], check=False)
    for pid in r.stdout.split():
        try:
            os.kill(int(pid), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass


def sweep():
    """Removes what a killed test left behind, as listed in the registry: ringbridge
    processes (by PID, if still ringbridge) and their DPDK runtime directories, every
    process in the test's namespaces, the namespaces and links. Returns what it removed."""
    removed = []
    if not REGISTRY.exists():
        return removed
    for entry in sorted(REGISTRY.iterdir()):
        kind, _, key = entry.name.partition("-")
        if kind == "pid":
            pid = int(key)
            try:
                if Path(f"/proc/{pid}/exe").resolve(strict=True).name == BIN.name:
                    os.kill(pid, signal.SIGKILL)
                    removed.append(f"process {pid}")
            except (FileNotFoundError, ProcessLookupError, PermissionError):
                pass
            runtime = entry.read_text()
            if runtime and Path(runtime).exists():
                shutil.rmtree(runtime, ignore_errors=True)
                removed.append(runtime)
        elif kind == "proc":
            pid = int(key)
            try:
                if Path(f"/proc/{pid}/comm").read_text().strip() == entry.read_text():
                    os.kill(pid, signal.SIGKILL)
                    removed.append(f"process {pid} ({entry.read_text()})")
            except (FileNotFoundError, ProcessLookupError):
                pass
        elif kind == "dir":
            path = Path(entry.read_text())
            if path.parent == Path("/var/run/dpdk") and path.exists():
                shutil.rmtree(path, ignore_errors=True)
                removed.append(str(path))
        elif kind == "topo":
            for ns in (f"{key}-net", f"{key}-phone"):
                kill_namespace_processes(ns)
            if key in run(["ip", "netns", "list"], check=False).stdout:
                removed.append(f"topology {key}")
            run([TOPOLOGY, "down", key], check=False)
        entry.unlink(missing_ok=True)
    return removed


class Topology:
    """Two namespaces (net side, phone side) whose veths meet only in ringbridge.

    Made by deploy/demo-topology.sh, so the demo and the tests share one definition.
    """

    def __init__(self, queues=1, subnet="10.77.0", subnet6="fd77"):
        self.name = "rbt" + secrets.token_hex(3)  # 9 characters, unique per test run
        self.queues = queues
        self.subnet = subnet
        self.net_ns = f"{self.name}-net"
        self.phone_ns = f"{self.name}-phone"
        self.net_if = f"{self.name}-net0"
        self.phone_if = f"{self.name}-ph0"
        self.net_ip = f"{subnet}.1"
        self.phone_ip = f"{subnet}.2"
        self.net_ip6 = f"{subnet6}::1"
        self.phone_ip6 = f"{subnet6}::2"
        self._subnet6 = subnet6

    def __enter__(self):
        _register("topo", self.name)
        run([TOPOLOGY, "up", self.name, "--queues", self.queues, "--subnet", self.subnet,
             "--subnet6", self._subnet6])
        return self

    def __exit__(self, *exc):
        for ns in (self.net_ns, self.phone_ns):  # what tests started in them (sipp, ...)
            kill_namespace_processes(ns)
        run([TOPOLOGY, "down", self.name], check=False)
        _unregister("topo", self.name)
        for ns in (self.net_ns, self.phone_ns):
            assert ns not in run(["ip", "netns", "list"]).stdout, f"{ns} was not removed"

    def ports(self, kind):
        return [f"{kind}:{self.net_if}", f"{kind}:{self.phone_if}"]

    def wait_for_path(self, timeout=10):
        """Pings side B from side A until it answers (the first frames can race the port's
        start, e.g. the XDP program attach)."""
        deadline = time.time() + timeout
        while run(in_ns(self.net_ns, "ping", "-c1", "-W1", self.phone_ip), check=False).returncode:
            assert time.time() < deadline, "no path through the bridge"

    def link_flags(self):
        """Kernel flags of the two root-side ends (IFF_PROMISC = 0x100)."""
        return [int(Path(f"/sys/class/net/{i}/flags").read_text(), 16)
                for i in (self.net_if, self.phone_if)]

    def napi_settings(self):
        """(napi_defer_hard_irqs, gro_flush_timeout) of the two root-side ends."""
        return [tuple(Path(f"/sys/class/net/{i}/{a}").read_text().strip()
                      for a in ("napi_defer_hard_irqs", "gro_flush_timeout"))
                for i in (self.net_if, self.phone_if)]

    def xdp_attached(self):
        return [" xdp" in run(["ip", "link", "show", i]).stdout
                for i in (self.net_if, self.phone_if)]


def parse_stats(text):
    """Parses the logfmt 'stats:' blocks and the 'exit:' line ringbridge prints.

    Returns a list of blocks, each {"ports": {"a": {...}, "b": {...}}, "workers": [...],
    "mbufs": {...}}, and the exit dict (or None)."""
    blocks, exit_line = [], None
    for line in text.splitlines():
        kind, _, rest = line.partition(": ")
        if kind not in ("stats", "exit"):
            continue
        kv = {}
        for tok in rest.split():
            k, _, v = tok.partition("=")
            kv[k] = int(v) if re.fullmatch(r"-?\d+", v) else v
        if kind == "exit":
            exit_line = kv
        elif "uptime_s" in kv:
            blocks.append({"ports": {}, "workers": [], "mbufs": {}, "sip": {}})
        elif "port" in kv:
            blocks[-1]["ports"][kv["port"]] = kv
        elif "worker" in kv:
            blocks[-1]["workers"].append(kv)
        elif "sip" in kv:
            blocks[-1]["sip"] = kv
        elif "mbufs_in_use" in kv:
            blocks[-1]["mbufs"] = kv
    return blocks, exit_line


def hermetic(config, workdir):
    """CONFIG plus what keeps a test to itself: the call log in WORKDIR, no HTTP listener
    (unless the test configures them)."""
    if "[storage]" not in config:
        (Path(workdir) / "state").mkdir(exist_ok=True)
        config += f'\n[storage]\nstate_dir = "{workdir}/state"\n'
    if "[http]" not in config:
        config += "\n[http]\nenabled = false\n"
    return config


class Ringbridge:
    """The ringbridge binary running as a child process, with its stdout/stderr in files."""

    def __init__(self, ports, *args, config=None, workdir=None):
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="rbtest-"))
        self.args = [str(BIN)]
        if config is not False:
            config = hermetic(config or "", self.workdir)
            cfg = self.workdir / "ringbridge.toml"
            cfg.write_text(config)
            self.args += ["--config", str(cfg)]
        for p in ports:
            self.args += ["--port", p]
        self.args += list(map(str, args))
        self.proc = None
        self.returncode = None
        # The HTTP listener starts after the workers ("bridging with"): a test that talks to
        # the API as soon as start() returns waits for its line too.
        self.http = False
        if config is not False:
            try:
                self.http = tomllib.loads(config).get("http", {}).get("enabled", True) is True
            except tomllib.TOMLDecodeError:  # tests of bad configs: the binary refuses them
                pass

    @property
    def runtime_dir(self):
        return DPDK_RUN / f"ringbridge-{self.proc.pid}"

    def start(self, ready_timeout=30):
        self.out = open(self.workdir / "stdout", "w+")
        self.err = open(self.workdir / "stderr", "w+")
        self.proc = subprocess.Popen(self.args, stdout=self.out, stderr=self.err)
        _register("pid", self.proc.pid, self.runtime_dir)
        deadline = time.time() + ready_timeout
        while time.time() < deadline:
            err = self.stderr()
            if "bridging with" in err and (not self.http or "HTTP API on" in err):
                return self
            if self.proc.poll() is not None:
                raise AssertionError(f"ringbridge exited with {self.proc.returncode}:\n"
                                     f"{self.stderr()}")
            time.sleep(0.05)
        raise AssertionError(f"ringbridge not ready after {ready_timeout}s:\n{self.stderr()}")

    def stdout(self):
        return (self.workdir / "stdout").read_text()

    def stderr(self):
        return (self.workdir / "stderr").read_text()

    def stats(self, timeout=5):
        """Asks for the counters (SIGUSR1) and returns the newest block."""
        before = len(parse_stats(self.stdout())[0])
        self.proc.send_signal(signal.SIGUSR1)
        deadline = time.time() + timeout
        while time.time() < deadline:
            blocks, _ = parse_stats(self.stdout())
            if len(blocks) > before and blocks[-1]["mbufs"]:
                return blocks[-1]
            time.sleep(0.05)
        raise AssertionError("no stats after SIGUSR1:\n" + self.stderr())

    def wait(self, timeout=60):
        """Waits for exit (e.g. pcap replay), returns (returncode, final stats, exit line)."""
        self.returncode = self.proc.wait(timeout=timeout)
        _unregister("pid", self.proc.pid)
        blocks, exit_line = parse_stats(self.stdout())
        return self.returncode, (blocks[-1] if blocks else None), exit_line

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.wait(timeout)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.kill()

    def kill(self):
        """Last-resort clean-up: the process (by PID) and its DPDK runtime directory."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        shutil.rmtree(self.runtime_dir, ignore_errors=True)
        _unregister("pid", self.proc.pid)


def assert_counters_balance(block):
    """rx = forwarded + drops on each port, and what one port forwarded the other sent (plus
    the SIP responses the bridge sent itself out of it)."""
    for side, peer in (("a", "b"), ("b", "a")):
        p, q = block["ports"][side], block["ports"][peer]
        drops = sum(v for k, v in p.items() if k.startswith("drop_"))
        assert p["drops"] == drops, p
        assert p["rx_pkts"] == p["forwarded"] + p["drops"], p
        assert p["forwarded"] + q.get("injected", 0) == q["tx_pkts"], (p, q)


# --- pcap files (classic libpcap format, microsecond timestamps, Ethernet) -------------

def write_pcap(path, frames, snaplen=65535, times_us=None):
    """A classic Ethernet pcap of FRAMES, 1 ms apart or at TIMES_US (microseconds from the
    first; replayers such as sipp's play_pcap_audio keep that pacing)."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, 1))
        t = 1_700_000_000
        for i, fr in enumerate(frames):
            us = times_us[i] if times_us is not None else i * 1000
            f.write(struct.pack("<IIII", t + us // 1_000_000, us % 1_000_000, len(fr), len(fr)))
            f.write(fr)


def read_pcap(path):
    """Returns the frames (bytes) of a pcap file, in order."""
    data = Path(path).read_bytes()
    magic = struct.unpack_from("<I", data)[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        end = "<"
    elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
        end = ">"
    else:
        raise ValueError(f"{path}: not a pcap file")
    off, frames = 24, []
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack_from(end + "IIII", data, off)
        off += 16
        frames.append(data[off:off + incl])
        off += incl
    return frames


def _ours(pid):
    """Is PID this process or one of its descendants (alive)?"""
    me = os.getpid()
    while pid > 1:
        if pid == me:
            return True
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except (FileNotFoundError, ProcessLookupError):
            return False
        pid = int(stat.rsplit(")", 1)[1].split()[1])
    return False


@contextlib.contextmanager
def no_new_dpdk_dirs():
    """Asserts that the block leaves nothing new under /var/run/dpdk. A directory of another
    live ringbridge not started by this test (a second test run on the machine) is not
    this test's doing and is ignored."""
    before = set(os.listdir(DPDK_RUN)) if DPDK_RUN.exists() else set()
    yield
    after = set(os.listdir(DPDK_RUN)) if DPDK_RUN.exists() else set()
    left = []
    for d in sorted(after - before):
        pid = d.rsplit("-", 1)[-1]
        if pid.isdigit() and Path(f"/proc/{pid}").exists() and not _ours(int(pid)):
            continue
        left.append(d)
    assert not left, f"left behind in {DPDK_RUN}: {left}"


# --- the REST API -----------------------------------------------------------------------

def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Api:
    """A client of ringbridge's REST API on loopback."""

    def __init__(self, port, token):
        self.base = f"http://127.0.0.1:{port}"
        self.token = token

    def request(self, method, path, body=None, token=True, raw=None, content_type=None):
        """Returns (status, parsed JSON or text). BODY is sent as JSON, RAW as it is."""
        import json as _json
        import urllib.error
        import urllib.request
        headers = {}
        if token:
            headers["Authorization"] = f"Bearer {self.token if token is True else token}"
        data = None
        if body is not None:
            data = _json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if raw is not None:
            data = raw
            headers["Content-Type"] = content_type or "application/octet-stream"
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                raw, status, ctype = r.read().decode(), r.status, r.headers.get("Content-Type", "")
        except urllib.error.HTTPError as e:
            raw, status, ctype = e.read().decode(), e.code, e.headers.get("Content-Type", "")
        if "json" in ctype and raw.strip():
            return status, _json.loads(raw)
        return status, raw

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def fetch(self, path, headers=None, token=True):
        """GET PATH as bytes: (status, response headers, body)."""
        import urllib.error
        import urllib.request
        h = dict(headers or {})
        if token:
            h["Authorization"] = f"Bearer {self.token}"
        req = urllib.request.Request(self.base + path, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()


SIPP_UAC = Path(__file__).with_name("sipp") / "uac_caller.xml"


@contextlib.contextmanager
def sip_appliance(work, config, http_port, token, uas_args=()):
    """ringbridge (AF_XDP) between fresh namespaces, a sipp UAS answering on the phone side;
    yields the Ringbridge with .topo and .api. Everything is torn down on the way out."""
    with Topology() as topo:
        rb = Ringbridge(topo.ports("xdp"), config=config, workdir=work)
        with rb:
            deadline = time.time() + 10
            while run(in_ns(topo.net_ns, "ping", "-c1", "-W1", topo.phone_ip),
                      check=False).returncode:
                assert time.time() < deadline, rb.stderr()
            uas = subprocess.Popen(in_ns(topo.phone_ns, "sipp", "-sn", "uas", "-i", topo.phone_ip,
                                         "-p", 5060, "-nostdin", *uas_args), cwd=work,
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
            rb.topo, rb.api = topo, Api(http_port, token)
            try:
                yield rb
            finally:
                uas.kill()
                uas.wait(timeout=10)


@contextlib.contextmanager
def sip_env(work, token="test-token-0123456789", extra=""):
    """sip_appliance with sip_config (plus EXTRA), its state directory WORK/state and an
    HTTP port of its own; yields the Ringbridge with .topo, .api and .state."""
    state = Path(work) / "state"
    state.mkdir()
    port = free_port()
    with sip_appliance(work, sip_config(state, port, token, extra), port, token) as rb:
        rb.state = state
        yield rb


def sipp_calls(rb, calls, rate, caller="+1555", name="Caller", duration_ms=200, timeout_s=120,
               scenario=SIPP_UAC):
    """CALLS sipp calls (uac_caller.xml) from the net side to the phone side's UAS; the
    caller numbers are CALLER followed by the call number (1, 2, ...)."""
    t = rb.topo
    return run(in_ns(t.net_ns, "sipp", f"{t.phone_ip}:5060", "-sf", scenario, "-i", t.net_ip,
                     "-p", 5070, "-m", calls, "-r", rate, "-d", duration_ms, "-nostdin",
                     "-key", "caller", caller, "-key", "name", name, "-timeout", f"{timeout_s}s",
                     "-timeout_error"), check=False, timeout=timeout_s + 60, cwd=rb.workdir)


def sip_config(state_dir, http_port, token="test-token-0123456789", extra=""):
    return (f'[storage]\nstate_dir = "{state_dir}"\n'
            f'[http]\nlisten = "127.0.0.1:{http_port}"\ntoken = "{token}"\n{extra}')


def call_log(state_dir):
    """The call log rows straight from the SQLite file, oldest first, as dicts."""
    import sqlite3
    con = sqlite3.connect(f"file:{state_dir}/ringbridge.db?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    rows = [dict(r) for r in con.execute("SELECT * FROM calls ORDER BY id")]
    con.close()
    return rows


def rss_kb(pid):
    """Resident memory of process PID, in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


def metric(text, name, **labels):
    """The value of one Prometheus sample in TEXT (0 when absent)."""
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        if key == name or key == f"{name}{{{want}}}":
            return float(value)
    return 0.0


if __name__ == "__main__":
    import sys
    if sys.argv[1:] != ["sweep"]:
        sys.exit("usage: rbtest.py sweep   (remove what killed tests left behind)")
    for what in sweep():
        print(f"rbtest sweep: removed {what}")
