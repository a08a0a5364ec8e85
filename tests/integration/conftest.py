# SPDX-License-Identifier: BSD-3-Clause
"""pytest set-up for the integration tests: they need root (network namespaces, DPDK) and
the built binary."""
import os
import signal
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from rbtest import BIN, sweep  # noqa: E402


def _terminated(signum, frame):
    # meson's test timeout (and CI's) sends SIGTERM: unwind like Ctrl-C so that every
    # context manager and finally block runs, then sweep whatever is still registered.
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_sessionstart(session):
    if os.geteuid() != 0:
        pytest.exit("integration tests need root (network namespaces, DPDK): run tests/run.sh "
                    "as root", returncode=2)
    if not BIN.exists():
        pytest.exit(f"{BIN} is missing: build first (ninja -C build) or set RINGBRIDGE_BIN",
                    returncode=2)
    signal.signal(signal.SIGTERM, _terminated)


def pytest_sessionfinish(session, exitstatus):
    for what in sweep():
        print(f"\nconftest: removed {what} left behind by an interrupted test", file=sys.stderr)
