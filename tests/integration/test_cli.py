# SPDX-License-Identifier: BSD-3-Clause
"""The binary's command line and its failure modes: every bad input gets a message naming
it and a non-zero exit, and leaves nothing behind (no /var/run/dpdk litter, links as they
were)."""
import re
import subprocess
from pathlib import Path

import pytest

from rbtest import BIN, Ringbridge, Topology, hermetic, no_new_dpdk_dirs, run


def rb(*args, **kw):
    return run([BIN, *args], check=False, **kw)


def test_help_lists_every_option_and_port_form():
    r = rb("--help")
    assert r.returncode == 0
    for s in ("--config", "--port", "--workers", "--check", "--version", "xdp:IFNAME",
              "afpacket:IFNAME", "pci:0000:03:00.0", "pcap:IN.pcap,OUT.pcap", "SIGUSR1"):
        assert s in r.stdout, s


def test_version_names_dpdk():
    r = rb("--version")
    assert r.returncode == 0
    assert re.match(r"ringbridge \d+\.\d+\.\d+ \(git \S+\), built with DPDK 22\.11", r.stdout), r.stdout


def test_version_names_the_commit_built():
    # The revision is read at build time (meson vcs_tag), not when the build directory was
    # configured: a build directory rebuilt after a commit names that commit.
    src = Path(__file__).resolve().parents[2]
    head = subprocess.run(["git", "-C", str(src), "rev-parse", "HEAD"], capture_output=True,
                          text=True)
    if head.returncode != 0:
        pytest.skip("the source tree is not a git checkout")
    rev = re.search(r"\(git (\S+)\)", rb("--version").stdout).group(1)
    # git describe: HASH, or TAG-N-gHASH once the tree has tags; "-dirty" when modified.
    short = re.fullmatch(r"(?:.*-g)?([0-9a-f]{7,})(?:-dirty)?", rev)
    assert short and head.stdout.strip().startswith(short.group(1)), (rev, head.stdout)


@pytest.mark.parametrize("args, expect", [
    (["--bogus"], "unknown option '--bogus'"),
    (["--workers", "zero"], "--workers 'zero'"),
    (["--port", "xdp:lo"], "--port given once"),
    ([], "two ports are needed"),
    (["--port", "tap:x", "--port", "xdp:lo"], "unknown port kind 'tap'"),
    (["--port", "xdp:rbnosuch9", "--port", "xdp:lo"], "network interface 'rbnosuch9' does not exist"),
    (["--port", "afpacket:lo", "--port", "afpacket:rbnosuch9"], "side b: port 'afpacket:rbnosuch9'"),
    (["--port", "pci:0000:ee:1f.7", "--port", "xdp:lo"], "no PCI device 0000:ee:1f.7"),
    (["--port", "pci:1234", "--port", "xdp:lo"], "is not a PCI address"),
    (["--port", "pcap:/nonexistent.pcap,/tmp/o.pcap", "--port", "xdp:lo"], "cannot read input file"),
    (["--port", "xdp:lo", "--port", "afpacket:lo"], "same device"),
    (["--config", "/nonexistent/rb.toml"], "cannot read config file '/nonexistent/rb.toml'"),
])
def test_bad_command_lines_are_rejected_with_the_culprit_named(args, expect):
    with no_new_dpdk_dirs():
        r = rb(*args)
    assert r.returncode == 2, r.stderr
    assert expect in r.stderr, r.stderr
    assert "ringbridge: error:" in r.stderr


@pytest.mark.parametrize("text, expect", [
    ("[dataplane]\nworkrs = 2\n", "rb.toml:2:1: unknown key 'dataplane.workrs'"),
    ("[dataplane]\nmtu = 99999\n", "dataplane.mtu: must be between 68 and 9600"),
    ("[ports]\na = \"xdp:lo\"\n", "two ports are needed"),
    ("[eal]\nhugepages = \"maybe\"\n", "eal.hugepages"),
    ("not toml at all", "rb.toml:1:"),
])
def test_bad_config_files_name_the_key(tmp_path, text, expect):
    cfg = tmp_path / "rb.toml"
    cfg.write_text(text)
    with no_new_dpdk_dirs():
        r = rb("--config", cfg)
    assert r.returncode == 2
    assert expect in r.stderr, r.stderr


def test_check_prints_the_eal_plan_without_starting(tmp_path):
    cfg = tmp_path / "rb.toml"
    cfg.write_text('[ports]\na = "afpacket:lo"\nb = "null:"\n[eal]\nhugepages = "off"\n')
    with no_new_dpdk_dirs():
        r = rb("--config", cfg, "--check")
    assert r.returncode == 0, r.stderr
    assert "config: ok" in r.stdout
    assert "--no-huge" in r.stdout and "--no-shconf" in r.stdout
    assert "net_af_packet" not in r.stdout  # AF_PACKET ports are ringbridge's own
    assert "--vdev net_null_b" in r.stdout
    assert "--vdev net_null_b" in r.stdout


def test_a_port_the_pmd_rejects_fails_after_eal_start_and_cleans_up(tmp_path):
    """The input is not a pcap file: DPDK's pcap PMD refuses it during EAL start-up."""
    bad = tmp_path / "garbage.pcap"
    bad.write_bytes(b"this is not a pcap file" * 10)
    (tmp_path / "b.pcap").write_bytes(bytes.fromhex("d4c3b2a1020004000000000000000000ffff000001000000"))
    cfg = tmp_path / "rb.toml"
    cfg.write_text(hermetic("", tmp_path))
    with no_new_dpdk_dirs():
        r = rb("--config", cfg, "--port", f"pcap:{bad},{tmp_path}/a_out.pcap",
               "--port", f"pcap:{tmp_path}/b.pcap,{tmp_path}/b_out.pcap")
    assert r.returncode == 1, r.stderr
    assert "ringbridge: error:" in r.stderr
    assert "net_pcap_a" in r.stderr or "EAL" in r.stderr, r.stderr


def test_a_missing_interface_leaves_the_other_link_untouched():
    with Topology() as topo:
        before = topo.link_flags()
        with no_new_dpdk_dirs():
            r = rb("--port", f"xdp:{topo.net_if}", "--port", "xdp:rbnosuch9")
        assert r.returncode == 2
        assert "'rbnosuch9' does not exist" in r.stderr
        assert topo.link_flags() == before
        assert topo.xdp_attached() == [False, False]


def test_sigint_also_stops_cleanly(tmp_path):
    with Topology() as topo:
        rb_ = Ringbridge(topo.ports("afpacket"), workdir=tmp_path)
        with no_new_dpdk_dirs(), rb_:
            import signal
            rc, final, exit_line = rb_.stop(signal.SIGINT)
        assert rc == 0
        assert exit_line == {"mbufs_in_use": 0, "mbufs_pmd_held": 0, "mbufs_leaked": 0, "status": 0}


def test_a_state_dir_that_cannot_be_created_is_named(tmp_path):
    cfg = tmp_path / "rb.toml"
    cfg.write_text('[storage]\nstate_dir = "/nonexistent/ringbridge-state"\n')
    with no_new_dpdk_dirs():
        r = rb("--config", cfg, "--port", "null:", "--port", "afpacket:lo")
    assert r.returncode == 2
    assert "[storage] state_dir '/nonexistent/ringbridge-state'" in r.stderr, r.stderr


def test_an_http_port_in_use_fails_cleanly_and_says_which(tmp_path):
    import socket
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    port = busy.getsockname()[1]
    (tmp_path / "state").mkdir()
    cfg = tmp_path / "rb.toml"
    cfg.write_text(f'[storage]\nstate_dir = "{tmp_path}/state"\n'
                   f'[http]\nlisten = "127.0.0.1:{port}"\ntoken = "0123456789abcdef0123"\n')
    (tmp_path / "in.pcap").write_bytes(bytes.fromhex("d4c3b2a1020004000000000000000000ffff000001000000"))
    try:
        with no_new_dpdk_dirs():
            r = rb("--config", cfg, "--port", f"pcap:{tmp_path}/in.pcap,{tmp_path}/o1.pcap",
                   "--port", f"pcap:{tmp_path}/in.pcap,{tmp_path}/o2.pcap")
    finally:
        busy.close()
    assert r.returncode == 1, r.stderr
    assert f'[http] listen = "127.0.0.1:{port}"' in r.stderr, r.stderr


def test_the_api_token_is_generated_once_with_private_permissions(tmp_path):
    import stat
    (tmp_path / "in.pcap").write_bytes(bytes.fromhex("d4c3b2a1020004000000000000000000ffff000001000000"))
    from rbtest import free_port
    cfg = (f'[storage]\nstate_dir = "{tmp_path}/state"\n'
           f'[http]\nlisten = "127.0.0.1:{free_port()}"\n[replay]\nidle_ms = 100\n')
    ports = [f"pcap:{tmp_path}/in.pcap,{tmp_path}/o1.pcap", f"pcap:{tmp_path}/in.pcap,{tmp_path}/o2.pcap"]
    tokens = []
    for _ in range(2):
        r = Ringbridge(ports, config=cfg, workdir=tmp_path)
        with r:
            rc, _, _ = r.wait(timeout=60)
        assert rc == 0, r.stderr()
        token_file = tmp_path / "state" / "api-token"
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        tokens.append(token_file.read_text().strip())
        assert str(token_file) in r.stderr()
    assert tokens[0] == tokens[1] and len(tokens[0]) >= 32
