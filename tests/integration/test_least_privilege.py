# SPDX-License-Identifier: BSD-3-Clause
"""Least privilege: ringbridge as deploy/ringbridge.service runs it (service.py: its own
user, exactly the unit's capabilities, no_new_privs, the unit's system-call allow list,
address families, UMask=, read-only /sys) forwards over AF_XDP, and over AF_PACKET with
only CAP_NET_RAW; without a capability it names what is missing. The unit's
systemd-analyze exposure is the figure docs/deploy.md states. The API token file must not be
readable by others; HTTPS works with a self-signed certificate; plain HTTP off loopback
warns."""
import os
import re
import ssl
import stat
import time
import urllib.error
import urllib.request

import pytest

from rbtest import REPO, Api, Ringbridge, Topology, free_port, in_ns, run
from service import UNIT, Service, parse_unit

UNIT_CAPS = parse_unit()["Service"]["AmbientCapabilities"][0].split()
CAP_BITS = {"CAP_NET_ADMIN": 12, "CAP_NET_RAW": 13, "CAP_IPC_LOCK": 14, "CAP_SYS_ADMIN": 21}
TOKEN = "least-privilege-token-0123"


def cap_mask(caps):
    return sum(1 << CAP_BITS[c] for c in caps)


def test_unit_exposure_is_the_documented_figure():
    r = run(["systemd-analyze", "security", "--offline=true", UNIT], check=False)
    m = re.search(r"Overall exposure level for \S+: ([0-9.]+) (\w+)", r.stdout + r.stderr)
    assert m, r.stdout + r.stderr
    level = float(m.group(1))
    assert level <= 2.5 and m.group(2) == "OK", m.group(0)
    doc = (REPO / "docs" / "deploy.md").read_text()
    assert f"{level:.1f} OK" in doc, f"docs/deploy.md does not state the exposure {level:.1f}"
    # The capabilities the unit grants are the ones the service keeps.
    svc = parse_unit()["Service"]
    assert svc["CapabilityBoundingSet"][0].split() == UNIT_CAPS
    assert sorted(UNIT_CAPS) == sorted(CAP_BITS)


@pytest.fixture(scope="module")
def topo():
    with Topology() as t:
        yield t


def config(topo, kind, http_port):
    return (f'[ports]\na = "{kind}:{topo.net_if}"\nb = "{kind}:{topo.phone_if}"\n'
            f'[http]\nlisten = "127.0.0.1:{http_port}"\n[eal]\nhugepages = "off"\n'
            # The NAPI tuning is off by default; on here, where --prepare must apply it.
            '[dataplane]\naf_xdp_tune_napi = true\n')


@pytest.mark.parametrize("kind,caps", [("xdp", None),
                                       ("afpacket", ["CAP_NET_RAW"])])
def test_service_forwards_with_only_its_capabilities(topo, kind, caps):
    napi_before = topo.napi_settings()
    port = free_port()
    with Service(config(topo, kind, port), caps=caps) as svc:
        svc.start()
        st = svc.status()
        assert st["Uid"].split() == [str(svc.uid)] * 4, st["Uid"]
        assert int(st["CapEff"], 16) == cap_mask(caps or UNIT_CAPS), st["CapEff"]
        assert int(st["CapBnd"], 16) == cap_mask(caps or UNIT_CAPS), st["CapBnd"]
        assert st["NoNewPrivs"] == "1" and st["Seccomp"] == "2", st
        deadline = time.time() + 10
        while run(in_ns(topo.net_ns, "ping", "-c1", "-W1", topo.phone_ip),
                  check=False).returncode:
            assert time.time() < deadline, svc.log_text()
        r = run(in_ns(topo.net_ns, "ping", "-c", 20, "-i", "0.05", "-W", 2, topo.phone_ip),
                check=False)
        assert "20 received" in r.stdout, r.stdout + svc.log_text()
        # What it wrote is its own and private (UMask=0077 in a 0750 state directory).
        for name in ("api-token", "ringbridge.db", "lock"):
            s = (svc.state / name).stat()
            assert s.st_uid == svc.uid and stat.S_IMODE(s.st_mode) == 0o600, (name, oct(s.st_mode))
        token = (svc.state / "api-token").read_text().strip()
        status, body = Api(port, token).get("/api/v1/status")
        assert status == 200 and body["ports"]["a"]["rx_pkts"] >= 20, body
        if kind == "xdp":  # applied by --prepare as root, adopted by the service
            assert topo.napi_settings() == [("2", "50000")] * 2, svc.log_text()
        assert "warning" not in svc.log_text(), svc.log_text()
        assert svc.stop() == 0, svc.log_text()
    assert topo.xdp_attached() == [False, False]
    assert topo.napi_settings() == napi_before


def test_without_a_capability_it_names_it(topo):
    caps = [c for c in UNIT_CAPS if c != "CAP_SYS_ADMIN"]
    with Service(config(topo, "xdp", free_port()), caps=caps) as svc:
        assert svc.run_foreground() == 2, svc.log_text()
        log = svc.log_text()
        assert re.search(r"missing capability CAP_SYS_ADMIN, needed for libxdp .*port a "
                         rf"\(xdp:{topo.net_if}\), port b \(xdp:{topo.phone_if}\)", log), log
        assert "EAL" not in log and "bridging" not in log, log
    assert topo.xdp_attached() == [False, False]


# --- the API's own protection ---------------------------------------------------------

def null_rb(tmp_path, http):
    (tmp_path / "state").mkdir(exist_ok=True)
    cfg = f'[storage]\nstate_dir = "{tmp_path}/state"\n[http]\n{http}\n'
    return Ringbridge(["null:", "null:"], config=cfg, workdir=tmp_path)


def test_token_file_readable_by_others_is_refused(tmp_path):
    port = free_port()
    rb = null_rb(tmp_path, f'listen = "127.0.0.1:{port}"')
    token = tmp_path / "state" / "api-token"
    token.write_text("t" * 32 + "\n")
    for mode in (0o644, 0o640, 0o604):
        token.chmod(mode)
        r = run(rb.args, check=False)
        assert r.returncode == 2, r.stderr
        assert f"token file '{token}' is readable by group or others (mode {mode:04o})" \
            in r.stderr and f"chmod 600 '{token}'" in r.stderr, r.stderr
    token.chmod(0o600)
    with rb:
        assert Api(port, "t" * 32).get("/api/v1/status")[0] == 200
        assert "plain HTTP" not in rb.stderr()  # loopback: no warning
        assert rb.stop()[0] == 0


def make_cert(tmp_path, name):
    key, cert = tmp_path / f"{name}.key", tmp_path / f"{name}.pem"
    run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", key, "-out", cert, "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"])
    return cert, key


def test_https_with_a_self_signed_certificate(tmp_path):
    cert, key = make_cert(tmp_path, "server")
    other, _ = make_cert(tmp_path, "other")
    port = free_port()
    rb = null_rb(tmp_path, f'listen = "127.0.0.1:{port}"\ntoken = "{TOKEN}"\n'
                           f'cert = "{cert}"\nkey = "{key}"')
    with rb:
        url = f"https://127.0.0.1:{port}/api/v1/status"
        req = urllib.request.Request(url, headers={"Authorization": f"Bearer {TOKEN}"})
        ctx = ssl.create_default_context(cafile=str(cert))
        with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
            assert r.status == 200 and b'"ports"' in r.read()
        # Really this certificate: a client trusting another one refuses the server.
        with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
            urllib.request.urlopen(req, context=ssl.create_default_context(cafile=str(other)),
                                   timeout=10)
        with pytest.raises((urllib.error.URLError, ConnectionError)):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/status", timeout=10)
        pem = tmp_path / "state" / "https.pem"
        assert stat.S_IMODE(pem.stat().st_mode) == 0o600
        assert f"HTTP API on https://127.0.0.1:{port}/" in rb.stderr()
        assert rb.stop()[0] == 0, rb.stderr()


def test_bad_certificate_settings_name_the_key(tmp_path):
    cert, key = make_cert(tmp_path, "server")
    _, other_key = make_cert(tmp_path, "other")
    port = free_port()
    cases = [
        (f'cert = "{tmp_path}/missing.pem"\nkey = "{key}"',
         f"[http] cert = '{tmp_path}/missing.pem': cannot read it: No such file or directory"),
        (f'cert = "{cert}"\nkey = "{cert}"', f"[http] key = '{cert}' is not a PEM file with "
                                             "PRIVATE KEY"),
        (f'cert = "{cert}"', "[http] cert and key go together"),
    ]
    for http, message in cases:
        rb = null_rb(tmp_path, f'listen = "127.0.0.1:{port}"\ntoken = "{TOKEN}"\n{http}')
        r = run(rb.args, check=False)
        assert r.returncode == 2 and message in r.stderr, (http, r.stderr)
    # A key that is not the certificate's: civetweb's own check, reported as such.
    rb = null_rb(tmp_path, f'listen = "127.0.0.1:{port}"\ntoken = "{TOKEN}"\n'
                           f'cert = "{cert}"\nkey = "{other_key}"')
    r = run(rb.args, check=False, timeout=60)
    assert r.returncode != 0 and "key values mismatch" in r.stderr \
        and "check [http] cert and key" in r.stderr, r.stderr


def test_plain_http_off_loopback_warns(tmp_path):
    ns = "rblp" + os.urandom(3).hex()
    run(["ip", "netns", "add", ns])
    try:
        rb = null_rb(tmp_path, f'listen = "0.0.0.0:{free_port()}"\ntoken = "{TOKEN}"')
        rb.args = ["ip", "netns", "exec", ns] + rb.args  # nothing outside can reach it
        with rb:
            assert re.search(r'\[http\] listen = "0.0.0.0:\d+" is reachable from other hosts but '
                             r"serves plain HTTP", rb.stderr()), rb.stderr()
            assert rb.stop()[0] == 0
    finally:
        run(["ip", "netns", "del", ns], check=False)
