# SPDX-License-Identifier: BSD-3-Clause
"""The control side under hostile input and failing storage, through the real binary:
caller names and numbers that are not UTF-8 (the process must not die, and everything it
writes out stays UTF-8), call log and phonebook caps under an INVITE flood, calls left open
by a previous run, a locked database, a full disk (a small tmpfs as the state directory),
and a bulk import of 100,000 numbers (twice) while calls go on."""
import json
import socket
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest

from peers import UdpReceiver, WebhookServer
from rbtest import (Api, Ringbridge, call_log, free_port, metric, no_new_dpdk_dirs, read_pcap,
                    run, sip_appliance, sip_config, sipp_calls, write_pcap)
from test_sip_pcap import dialog, merge, udp_frames

TOKEN = "test-token-0123456789"


def wait_until(pred, timeout=15, step=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


def callerid_strings(dgram):
    """The strings of a 7651 caller-ID datagram (docs/notify.md), as raw bytes."""
    assert dgram[:4] == b"RBCI", dgram[:8]
    count, off, out = dgram[18], 20, []
    for _ in range(count):
        n = dgram[off]
        out.append(dgram[off + 1:off + 1 + n])
        off += 1 + n
    return out


def hostile(call_id, name=b"Name", user=b"+15550000000", to_user=b"+15551230000",
            outcome="answered"):
    """A dialog whose caller display name, caller user part, callee and Call-ID are the
    given raw bytes (placeholders are swapped after the text is built)."""
    msgs = dialog("@@CID@@", caller='"@@NAME@@" <sip:@@USER@@@provider.example>',
                  callee="<sip:@@TO@@@adapter.example>", outcome=outcome)
    out = []
    for side, payload in msgs:
        for k, v in ((b"@@CID@@", call_id), (b"@@NAME@@", name), (b"@@USER@@", user),
                     (b"@@TO@@", to_user)):
            payload = payload.replace(k, v)
        out.append((side, payload))
    return out


# A genuine name the worker cuts at 48 bytes in the middle of a character: "X" and CJK
# characters of 3 bytes each (1 + 3k never lands on 48).
CJK_NAME = "X" + "张伟李娜王芳刘洋陈静杨帆赵磊黄敏周杰吴婷" * 2


def test_names_that_are_not_utf8_never_stop_the_process(tmp_path):
    """One INVITE with a display name or number that is not UTF-8 used to abort the process
    (std::terminate on the control thread) when a sink was configured, and made
    /api/v1/calls answer 500. Now: exit 0, every call logged, every output valid UTF-8."""
    calls = [
        (b"ff-name@x", dict(name=b"\xff")),
        (b"pct-user@x", dict(user=b"%FF15550000002")),
        (b"raw-user@x", dict(user=b"\xfe\xfe5550000003", to_user=b"%C3%2815551230000")),
        (b"cjk@x", dict(name=CJK_NAME.encode(), user=b"+15550000004")),
        (b"bad-\xc3\x28-cid@x", dict(name=b"Ok \xe2\x82 Cut", user=b"+15550000005")),
        (b"overlong@x", dict(name=b"\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80", user=b"+15550000006")),
    ]
    frames = merge(*[udp_frames(hostile(cid, **kw)) for cid, kw in calls])
    state = tmp_path / "state"
    state.mkdir()
    write_pcap(tmp_path / "a.pcap", frames["a"])
    write_pcap(tmp_path / "b.pcap", frames["b"])
    udp, hooks = UdpReceiver().start(), WebhookServer(fails=0).start()
    port = free_port()
    cfg = (f'[storage]\nstate_dir = "{state}"\n'
           f'[http]\nlisten = "127.0.0.1:{port}"\ntoken = "{TOKEN}"\n'
           '[dataplane]\nburst = 1\n[replay]\nidle_ms = 3000\n'
           f'[notify.udp]\ntargets = ["127.0.0.1:{udp.port}"]\n'
           f'[notify.webhook]\nurls = ["{hooks.url("/calls")}"]\n')
    rb = Ringbridge([f"pcap:{tmp_path}/a.pcap,{tmp_path}/a_out.pcap",
                     f"pcap:{tmp_path}/b.pcap,{tmp_path}/b_out.pcap"], config=cfg,
                    workdir=tmp_path)
    api = Api(port, TOKEN)
    try:
        with no_new_dpdk_dirs(), rb:
            # While the replay idles out, the API serves the calls: 200, strict UTF-8 JSON
            # (Api.request decodes the body as UTF-8 and raises on a bad byte).
            assert wait_until(lambda: len(call_log(state)) == len(calls) and
                              all(r["state"] == "ended" for r in call_log(state)), 10), \
                rb.stderr()
            st, listed = api.get("/api/v1/calls")
            assert st == 200, listed
            st, active = api.get("/api/v1/calls/active")
            assert st == 200, active
            st, one = api.get(f"/api/v1/calls/{listed[0]['id']}")
            assert st == 200, one
            st, pb = api.get("/api/v1/phonebook")
            assert st == 200, pb
            rc, final, _ = rb.wait(timeout=30)
        assert rc == 0, rb.stderr()
    finally:
        udp.stop()
        hooks.stop()
    # Forwarding is untouched by any of it.
    assert read_pcap(tmp_path / "b_out.pcap") == frames["a"]
    assert read_pcap(tmp_path / "a_out.pcap") == frames["b"]
    assert len(listed) == len(calls)
    by_cid = {c["call_id"]: c for c in listed}
    assert by_cid["ff-name@x"]["from_name"] == "\ufffd"
    assert "\ufffd" in by_cid["pct-user@x"]["from_number"]
    assert "\ufffd" in by_cid["raw-user@x"]["from_number"]
    assert "\ufffd" in by_cid["raw-user@x"]["to_number"]
    assert "bad-\ufffd(-cid@x" in by_cid, sorted(by_cid)
    assert by_cid["bad-\ufffd(-cid@x"]["from_name"] == "Ok \ufffd Cut"
    assert set(by_cid["overlong@x"]["from_name"]) == {"\ufffd"}
    # The name cut by the worker ends on a character boundary: a prefix of what was sent,
    # no replacement character at the end.
    cjk = by_cid["cjk@x"]["from_name"]
    assert len(cjk) >= 10 and CJK_NAME.startswith(cjk), cjk
    # The call log in SQLite holds the same valid text (the CLI sqlite3 would show it).
    rows = call_log(state)
    for r in rows:
        for k in ("call_id", "from_number", "from_name", "caller_name", "to_number"):
            assert isinstance(r[k], str)
    con = sqlite3.connect(f"file:{state}/ringbridge.db?mode=ro", uri=True)
    con.text_factory = bytes
    for row in con.execute("SELECT call_id, from_number, from_name, caller_name, to_number "
                           "FROM calls UNION ALL SELECT number, name, '', '', '' FROM phonebook"):
        for v in row:
            v.decode("utf-8")  # strict
    con.close()
    # The sinks got every event, as valid UTF-8.
    dgrams = [d for _, d in udp.packets]
    assert len(dgrams) == len(calls), len(dgrams)
    for d in dgrams:
        for s in callerid_strings(d):
            s.decode("utf-8")
    posted = [b for path, b in hooks.bodies if path == "/calls"]
    assert len(posted) >= 3 * len(calls)  # ringing, answered, ended
    for body in posted:
        ev = json.loads(body.decode("utf-8"))
        assert ev["call"]["call_id"] in by_cid
    assert "terminate" not in rb.stderr()




def raw_datagram(strings, event=1):
    """A 7651 datagram built by hand, strings as raw bytes (anyone on the LAN can send one)."""
    head = b"RBCI" + bytes([1, event, 0, 0]) + (1_700_000_000_000_000).to_bytes(8, "big")
    head += (0).to_bytes(2, "big") + bytes([len(strings), 0])
    return head + b"".join(bytes([len(s)]) + s for s in strings)


@pytest.mark.parametrize("mode", ["--json", "text"])
def test_notify_decoder_prints_valid_utf8_whatever_arrives(mode):
    from rbtest import BIN
    notify_bin = BIN.parent.parent / "plugins" / "ringbridge-notify"
    port = free_port()
    args = [str(notify_bin), "--listen", f"127.0.0.1:{port}", "--count", "2", "--timeout", "10"]
    if mode == "--json":
        args.append("--json")
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert b"listening" in p.stderr.readline()  # bound: datagrams will be received
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for d in (raw_datagram([b"\xff\xfe", b"+1555\xc3", b"\xe4\xb8", b"\x1b[2J", b"c\xff"]),
                  raw_datagram([b"Ok", b"+1555"])):
            s.sendto(d, ("127.0.0.1", port))
            time.sleep(0.05)
        s.close()
        out, err = p.communicate(timeout=15)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 0, err
    text = out.decode("utf-8")  # strict: raises on a byte that is not UTF-8
    lines = text.splitlines()
    assert len(lines) == 2, text
    assert "\x1b" not in text
    if mode == "--json":
        first = json.loads(lines[0])
        assert first["name"] == "\ufffd\ufffd" and first["call_id"] == "c\ufffd"
