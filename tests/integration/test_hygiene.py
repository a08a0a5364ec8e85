# SPDX-License-Identifier: BSD-3-Clause
"""A test killed by its timeout must not leave namespaces, links, processes or DPDK
runtime directories behind: a victim test (namespaces, ringbridge, a process inside a
namespace) is killed with SIGTERM — what meson's timeout sends — and with SIGKILL followed
by the sweep tests/run.sh runs on exit."""
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from rbtest import BIN, DPDK_RUN, run

HERE = Path(__file__).parent

VICTIM = textwrap.dedent('''
    import subprocess, time
    from pathlib import Path
    from rbtest import Ringbridge, Topology, in_ns

    def test_victim(tmp_path):
        with Topology() as t:
            rb = Ringbridge(t.ports("afpacket"), workdir=tmp_path)
            with rb:
                subprocess.Popen(in_ns(t.net_ns, "sleep", "600"))
                Path("{ready}").write_text(f"{{t.name}} {{rb.proc.pid}}")
                time.sleep(600)
''')


def leftovers(name, pid):
    out = []
    netns = run(["ip", "netns", "list"]).stdout
    out += [ns for ns in (f"{name}-net", f"{name}-phone") if ns in netns]
    links = run(["ip", "-br", "link"]).stdout
    out += [i for i in (f"{name}-net0", f"{name}-ph0") if i in links]
    try:
        if Path(f"/proc/{pid}/exe").resolve(strict=True).name == BIN.name:
            out.append(f"ringbridge {pid}")
    except (FileNotFoundError, ProcessLookupError):
        pass
    if (DPDK_RUN / f"ringbridge-{pid}").exists():
        out.append(str(DPDK_RUN / f"ringbridge-{pid}"))
    sleepers = run(["pgrep", "-f", "^sleep 600$"], check=False).stdout.split()
    out += [f"sleep {p}" for p in sleepers if p not in SLEEPERS_BEFORE]
    return out


SLEEPERS_BEFORE = set()


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGKILL"])
def test_a_killed_test_leaves_nothing_behind(tmp_path, sig):
    SLEEPERS_BEFORE.update(run(["pgrep", "-f", "^sleep 600$"], check=False).stdout.split())
    ready = tmp_path / "ready"
    victim = tmp_path / "test_victim.py"
    victim.write_text(VICTIM.format(ready=ready))
    env = dict(os.environ, RB_TEST_REGISTRY=str(tmp_path / "registry"),
               PYTHONPATH=str(HERE), PYTHONDONTWRITEBYTECODE="1")
    p = subprocess.Popen([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "-p", "conftest", str(victim)], env=env, cwd=tmp_path,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 60
        while not ready.exists():
            assert p.poll() is None and time.time() < deadline, p.stdout.read() if p.poll() else ""
            time.sleep(0.2)
        name, pid = ready.read_text().split()
        assert leftovers(name, pid), "the victim set nothing up"
        p.send_signal(getattr(signal, sig))
        out, _ = p.communicate(timeout=60)
        if sig == "SIGKILL":
            # Nothing in the victim could run: the sweep that tests/run.sh does on exit.
            r = run([sys.executable, HERE / "rbtest.py", "sweep"], env=env)
            assert f"topology {name}" in r.stdout and f"process {pid}" in r.stdout, r.stdout
        assert leftovers(name, pid) == [], out
        assert list((tmp_path / "registry").iterdir()) == []
    finally:
        if p.poll() is None:
            p.kill()
        run([sys.executable, HERE / "rbtest.py", "sweep"], env=env, check=False)
