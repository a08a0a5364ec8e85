# SPDX-License-Identifier: BSD-3-Clause
"""deploy/ringbridge.service, run the way systemd would run it, on a machine without systemd.

The unit file is parsed, not copied: ExecStartPre=/ExecStart=/ExecStopPost= are run as
written (with the binary and config paths mapped to the test's), "+" lines as root, the
service itself as an unprivileged user with the unit's AmbientCapabilities= and
CapabilityBoundingSet=, NoNewPrivileges=, UMask=, Environment=, MemoryDenyWriteExecute=,
SystemCallFilter= (expanded by systemd-analyze), RestrictAddressFamilies= and
ProtectKernelTunables= (a read-only /sys). Restart=always with RestartSec= is a supervisor
thread. Not emulated: the mount sandbox beyond /sys (ProtectSystem=, PrivateTmp=, ...).

ExecStartPre=+.../hugepages.sh is skipped: it would reserve hugepages on the host, and the
tests run with --no-huge.
"""
import os
import pwd
import re
import shlex
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from rbtest import BIN, REPO, run

UNIT = REPO / "deploy" / "ringbridge.service"
SANDBOX = Path(__file__).with_name("sandbox.py")
UNIT_BIN = "/usr/local/bin/ringbridge"
UNIT_CONFIG = "/etc/ringbridge/ringbridge.toml"
UNIT_RUNTIME = "/run/ringbridge"


def parse_unit(path=UNIT):
    """{section: {key: [values in order]}}; comments and blank lines skipped."""
    out, section = {}, None
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = out.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        section.setdefault(key, []).append(value)
    return out


def expand_syscalls(tokens):
    """A SystemCallFilter= allow list with its @groups expanded by systemd-analyze."""
    names, seen = set(), set()

    def expand(tok):
        if not tok.startswith("@"):
            names.add(tok)
            return
        if tok in seen:
            return
        seen.add(tok)
        listing = run(["systemd-analyze", "syscall-filter", tok]).stdout.splitlines()
        for line in listing[1:]:
            item = line.strip()
            if item and not item.startswith("#"):
                expand(item)

    for t in tokens:
        expand(t)
    return sorted(names)


def unused_uid():
    """A uid/gid pair no account uses: the service's own user, like the unit's."""
    used = {p.pw_uid for p in pwd.getpwall()}
    return next(u for u in range(60000, 61000) if u not in used)


def caps_arg(caps):
    """CAP_NET_RAW CAP_NET_ADMIN -> "-all,+net_raw,+net_admin" (setpriv syntax)."""
    return ",".join(["-all"] + ["+" + c.lower().removeprefix("cap_") for c in caps])


class Service:
    """One ringbridge service: config, state and runtime directories owned by its user.

    CAPS overrides the unit's capability set (to show what happens without one)."""

    def __init__(self, config_text, caps=None, unit=UNIT):
        self.unit = parse_unit(unit)["Service"]
        self.uid = unused_uid()
        self.dir = Path(tempfile.mkdtemp(prefix="rbsvc-"))
        os.chmod(self.dir, 0o755)
        self.state = self.dir / "state"
        self.runtime = self.dir / "run"
        for d, mode in ((self.state, 0o750), (self.runtime, 0o750)):  # StateDirectoryMode=
            d.mkdir()
            os.chown(d, self.uid, self.uid)
            os.chmod(d, mode)
        self.config = self.dir / "ringbridge.toml"
        self.config.write_text(f'[storage]\nstate_dir = "{self.state}"\n' + config_text)
        os.chmod(self.config, 0o644)
        self.caps = caps if caps is not None else self.unit["AmbientCapabilities"][0].split()
        self.log = self.dir / "service.log"
        self.proc = None
        self.events = []  # (monotonic time, what) for the loss-window report
        self._stopping = False
        self._thread = None
        syscalls = self.dir / "syscalls"
        syscalls.write_text("\n".join(expand_syscalls(self.unit["SystemCallFilter"][0].split())))
        self._syscalls = syscalls

    # --- the unit's command lines -------------------------------------------------------

    def commands(self, key):
        """[(privileged, argv)] of ExecStartPre=/ExecStart=/ExecStopPost=, paths mapped."""
        out = []
        for value in self.unit.get(key, []):
            privileged = value.startswith("+")
            argv = shlex.split(value.lstrip("+-@!"))
            if argv[0].endswith("/hugepages.sh"):
                continue  # see the module docstring
            argv = [str(BIN) if a == UNIT_BIN else str(self.config) if a == UNIT_CONFIG else a
                    for a in argv]
            out.append((privileged, argv))
        return out

    def _sandboxed(self, argv):
        u = self.unit
        env = ["env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"]
        for e in u.get("Environment", []):
            env.append(e.replace(UNIT_RUNTIME, str(self.runtime)))
        caps = caps_arg(self.caps)
        inner = ["setpriv", f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups",
                 f"--inh-caps={caps}", f"--ambient-caps={caps}", f"--bounding-set={caps}"]
        if u.get("NoNewPrivileges", ["no"])[0] == "yes":
            inner.append("--no-new-privs")
        inner += env + ["/usr/bin/python3", str(SANDBOX)]
        if "UMask" in u:
            inner += ["--umask", u["UMask"][0]]
        if u.get("MemoryDenyWriteExecute", ["no"])[0] == "yes":
            inner.append("--mdwe")
        inner += ["--syscalls", str(self._syscalls)]
        if "RestrictAddressFamilies" in u:
            inner += ["--families", ",".join(u["RestrictAddressFamilies"][0].split())]
        inner += ["--"] + argv
        if u.get("ProtectKernelTunables", ["no"])[0] != "yes":
            return inner
        # A private mount namespace whose /sys is read-only, as ProtectKernelTunables= makes it.
        return ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                'mount --bind /sys /sys && mount -o remount,bind,ro /sys && exec "$@"', "sh",
                *inner]

    def run_step(self, key):
        """Runs the one-shot commands of KEY (ExecStartPre=, ExecStopPost=) in order."""
        for privileged, argv in self.commands(key):
            cmd = argv if privileged else self._sandboxed(argv)
            with open(self.log, "a") as log:
                log.write(f"--- {key}: {' '.join(argv)}\n")
                log.flush()
                rc = subprocess.run(cmd, stdout=log, stderr=log, timeout=60).returncode
            self.events.append((time.monotonic(), f"{key} rc={rc}"))
            if rc != 0:
                raise AssertionError(f"{key} {argv} exited {rc}:\n{self.log_text()}")

    # --- life cycle ---------------------------------------------------------------------

    def log_text(self):
        return self.log.read_text() if self.log.exists() else ""

    def starts(self):
        return self.log_text().count("bridging with")

    def start(self, ready_timeout=30, supervise=False):
        """ExecStartPre=, then ExecStart= in the sandbox; returns once it forwards."""
        self._start_once(ready_timeout)
        if supervise:
            self._thread = threading.Thread(target=self._supervise, daemon=True)
            self._thread.start()
        return self

    def _start_once(self, ready_timeout):
        before = self.starts()
        self.run_step("ExecStartPre")
        (_, argv), = self.commands("ExecStart")
        with open(self.log, "a") as log:
            log.write(f"--- ExecStart: {' '.join(argv)}\n")
            log.flush()
            self.proc = subprocess.Popen(self._sandboxed(argv), stdout=log, stderr=log)
        self.events.append((time.monotonic(), "ExecStart"))
        deadline = time.time() + ready_timeout
        while self.starts() == before:
            if self.proc.poll() is not None:
                raise AssertionError(f"service exited {self.proc.returncode}:\n{self.log_text()}")
            assert time.time() < deadline, "service not ready:\n" + self.log_text()
            time.sleep(0.02)
        self.events.append((time.monotonic(), "forwarding"))

    def run_foreground(self, timeout=60):
        """ExecStart= alone, in the sandbox, to its exit (a start that must fail)."""
        (_, argv), = self.commands("ExecStart")
        with open(self.log, "a") as log:
            log.write(f"--- ExecStart: {' '.join(argv)}\n")
            log.flush()
            return subprocess.run(self._sandboxed(argv), stdout=log, stderr=log,
                                  timeout=timeout).returncode

    def _supervise(self):
        """Restart=always, RestartSec=: what systemd does when the main process exits."""
        restart_sec = float(self.unit["RestartSec"][0])
        while True:
            rc = self.proc.wait()
            self.events.append((time.monotonic(), f"exited rc={rc}"))
            self.run_step("ExecStopPost")
            if self._stopping:
                return
            time.sleep(restart_sec)
            if self._stopping:
                return
            self._start_once(30)

    def kill(self, sig=signal.SIGKILL):
        self.events.append((time.monotonic(), f"signal {sig}"))
        os.kill(self.proc.pid, sig)

    def stop(self, timeout=30):
        """`systemctl stop`: SIGTERM (KillSignal=), wait, ExecStopPost=. Returns the rc."""
        self._stopping = True
        if self.proc.poll() is None:
            self.kill(signal.Signals[self.unit["KillSignal"][0]])
        rc = self.proc.wait(timeout=timeout)
        if self._thread is not None:
            self._thread.join(timeout=timeout)
        else:
            self.events.append((time.monotonic(), f"exited rc={rc}"))
            self.run_step("ExecStopPost")
        return rc

    def cleanup(self):
        """Last resort, also on failure: the process by PID, the fallback bridge, files."""
        self._stopping = True
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        if self._thread is not None:
            self._thread.join(timeout=30)
        subprocess.run([str(BIN), "--config", str(self.config), "--fallback", "on"],
                       capture_output=True, timeout=30)
        subprocess.run([str(BIN), "--config", str(self.config), "--fallback", "off"],
                       capture_output=True, timeout=30)
        subprocess.run(["rm", "-rf", str(self.dir)], check=False)

    def status(self):
        """/proc/PID/status of the service as a dict (Uid, CapEff, NoNewPrivs, Seccomp...)."""
        text = Path(f"/proc/{self.proc.pid}/status").read_text()
        return dict(re.findall(r"^(\w+):\s*(.*)$", text, re.M))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()
