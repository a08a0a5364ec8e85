# SPDX-License-Identifier: BSD-3-Clause
"""With hugepages reserved and mounted (deploy/hugepages.sh), ringbridge uses them
(--in-memory, no --no-huge warning) and forwards exactly as without them."""
import subprocess
import tempfile
from pathlib import Path

import pytest

from rbtest import REPO, Ringbridge, no_new_dpdk_dirs, read_pcap, run, write_pcap

SYSFS = Path("/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages")


@pytest.fixture
def hugepages():
    """256 x 2 MB pages and a private hugetlbfs mount; both undone afterwards."""
    before = int(SYSFS.read_text())
    mnt = Path(tempfile.mkdtemp(prefix="rbhuge-"))
    try:
        run([REPO / "deploy" / "hugepages.sh", 256, mnt])
        if int(SYSFS.read_text()) < 200:
            pytest.skip("the kernel could not reserve hugepages on this machine")
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=False)
        mnt.rmdir()
        SYSFS.write_text(str(before))


def test_replay_on_hugepages(tmp_path, hugepages):
    frames = [bytes([i % 256]) * (60 + i % 1400) for i in range(3000)]
    write_pcap(tmp_path / "a.pcap", frames)
    write_pcap(tmp_path / "b.pcap", frames[::-1])
    cfg = '[eal]\nhugepages = "require"\n[replay]\nidle_ms = 500\n'
    ports = [f"pcap:{tmp_path}/a.pcap,{tmp_path}/a_out.pcap",
             f"pcap:{tmp_path}/b.pcap,{tmp_path}/b_out.pcap"]
    check = Ringbridge(ports, "--check", config=cfg, workdir=tmp_path)
    r = run(check.args)
    assert "--in-memory" in r.stdout and "--no-huge" not in r.stdout, r.stdout
    rb = Ringbridge(ports, config=cfg, workdir=tmp_path)
    with no_new_dpdk_dirs(), rb:
        rc, final, exit_line = rb.wait(timeout=60)
    assert rc == 0, rb.stderr()
    assert "--no-huge" not in rb.stderr()
    assert read_pcap(tmp_path / "b_out.pcap") == frames
    assert read_pcap(tmp_path / "a_out.pcap") == frames[::-1]
    assert exit_line["mbufs_leaked"] == 0 and exit_line["mbufs_in_use"] == 0
