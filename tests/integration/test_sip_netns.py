# SPDX-License-Identifier: BSD-3-Clause
"""Real SIP through the running binary: sipp UAC in the network namespace calls sipp UAS
in the phone namespace across ringbridge (AF_XDP). The call log, the REST API, the
phonebook and /metrics are checked from the outside, as a user would."""
import signal
import time

import pytest

from rbtest import Api, Ringbridge, free_port, metric, sip_appliance, sipp_calls, sip_config

TOKEN = "test-token-0123456789"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    work = tmp_path_factory.mktemp("sip")
    state = work / "state"
    state.mkdir()
    port = free_port()
    with sip_appliance(work, sip_config(state, port, TOKEN), port, TOKEN) as rb:
        rb.state = state
        yield rb


def uac(env, calls, rate, caller="+1555", name="Caller", duration_ms=200):
    return sipp_calls(env, calls, rate, caller, name, duration_ms)


def wait_for_calls(api, count, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        st, calls = api.get("/api/v1/calls?limit=1000")
        if st == 200 and len(calls) >= count and all(c["state"] != "ringing" for c in calls):
            return calls
        time.sleep(0.3)
    return api.get("/api/v1/calls?limit=1000")[1]


def test_200_calls_at_20_per_second_are_all_logged(env):
    r = uac(env, 200, 20)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]  # 0 failed sipp calls
    calls = wait_for_calls(env.api, 200)
    assert len(calls) == 200
    numbers = {c["from_number"] for c in calls}
    assert numbers == {f"+1555{i}" for i in range(1, 201)}
    for c in calls:
        assert c["direction"] == "inbound"
        assert c["state"] == "ended", c
        assert c["status_code"] == 200
        assert c["from_name"] == "Caller"
        assert c["to_number"] == "service"
        assert c["answered_at"] and c["ended_at"] and c["duration_s"] > 0.1
    ids = [c["id"] for c in calls]
    assert ids == sorted(ids, reverse=True), "newest first"
    st, text = env.api.get("/metrics")
    assert st == 200
    assert metric(text, "ringbridge_ring_full_total") == 0
    assert metric(text, "ringbridge_sip_requests_total", method="INVITE") >= 200
    assert metric(text, "ringbridge_sip_requests_total", method="BYE") >= 200
    assert metric(text, "ringbridge_calls_total", direction="inbound", state="ended") == 200
    assert metric(text, "ringbridge_sip_responses_total", status_class="2xx") >= 400
    assert metric(text, "ringbridge_port_drops_total", port="a", reason="tx_refused") == 0


def test_api_queries(env):
    st, calls = env.api.get("/api/v1/calls?limit=5")
    assert st == 200 and len(calls) == 5
    st, only = env.api.get("/api/v1/calls?number=%2B155542")
    assert st == 200 and [c["from_number"] for c in only] == ["+155542"]
    st, one = env.api.get(f"/api/v1/calls/{only[0]['id']}")
    assert st == 200 and one["call_id"] == only[0]["call_id"]
    assert set(one) >= {"id", "call_id", "direction", "from_number", "from_name", "caller_name",
                        "to_number", "state", "status_code", "started_at", "answered_at",
                        "ended_at", "duration_s"}
    assert env.api.get("/api/v1/calls/999999")[0] == 404
    assert env.api.get("/api/v1/calls/abc")[0] == 404
    assert env.api.get("/api/v1/calls?limit=0")[0] == 400
    assert env.api.get("/api/v1/calls?limit=x")[0] == 400
    st, active = env.api.get("/api/v1/calls/active")
    assert st == 200 and active == []
    st, status = env.api.get("/api/v1/status")
    assert st == 200
    assert status["calls"]["logged"] >= 200
    assert status["sip"]["ring_full"] == 0
    assert status["ports"]["a"]["rx_pkts"] > 0
    assert env.api.get("/api/v1/nope")[0] == 404
    assert env.api.request("POST", "/api/v1/calls")[0] == 405


def test_phonebook_name_wins_in_the_next_call(env):
    # The number's name as sent was auto-filed...
    st, entry = env.api.get("/api/v1/phonebook/%2B15551")
    assert st == 200 and entry["name"] == "Caller" and entry["source"] == "auto"
    # ...the user names it, and the next call from it shows the user's name.
    st, put = env.api.request("PUT", "/api/v1/phonebook/+15551", {"name": "Mom"})
    assert st == 200 and put == {**put, "number": "+15551", "name": "Mom", "source": "user"}
    r = uac(env, 1, 1, caller="+1555", name="SPAM LIKELY")
    assert r.returncode == 0, r.stdout[-2000:]
    calls = wait_for_calls(env.api, 201)
    newest = calls[0]
    assert newest["from_number"] == "+15551"
    assert newest["from_name"] == "SPAM LIKELY"
    assert newest["caller_name"] == "Mom"
    st, book = env.api.get("/api/v1/phonebook")
    assert {"number": "+15551", "name": "Mom", "source": "user"}.items() <= \
        next(e for e in book if e["number"] == "+15551").items()
    assert env.api.request("PUT", "/api/v1/phonebook/+15551", {"nom": "x"})[0] == 400
    assert env.api.request("PUT", "/api/v1/phonebook/+15551", {"name": ""})[0] == 400
    assert env.api.request("PUT", "/api/v1/phonebook/+15551", {"name": "a\nb"})[0] == 400
    assert env.api.request("DELETE", "/api/v1/phonebook/+15559999")[0] == 404
    assert env.api.request("DELETE", "/api/v1/phonebook/+15551")[0] == 204
    assert env.api.get("/api/v1/phonebook/+15551")[0] == 404


@pytest.mark.parametrize("path", ["/api/v1/calls", "/api/v1/calls/active", "/api/v1/status",
                                  "/api/v1/phonebook", "/metrics"])
def test_everything_needs_the_token_by_default(env, path):
    assert env.api.get(path, token=False)[0] == 401
    assert env.api.get(path, token="wrong-token-0123456789")[0] == 401
    assert env.api.get(path, token=TOKEN + "x")[0] == 401
    assert env.api.get(path)[0] == 200


def test_mutations_need_the_token(env):
    st, _ = env.api.request("PUT", "/api/v1/phonebook/+15550000000", {"name": "X"}, token=False)
    assert st == 401
    st, _ = env.api.request("DELETE", "/api/v1/phonebook/+15550000000", token="nope-nope-nope-nope")
    assert st == 401
    assert env.api.get("/api/v1/phonebook/+15550000000")[0] == 404


def test_calls_survive_a_restart(env, tmp_path):
    """Stop (SIGTERM), then a second instance on the same state directory serves the log."""
    rc, final, exit_line = env.stop(signal.SIGTERM)
    assert rc == 0, env.stderr()
    assert final["sip"]["ring_full"] == 0
    port = free_port()
    cfg = sip_config(env.state, port, TOKEN, extra="public_metrics = true\npublic_status = true\n")
    rb2 = Ringbridge(env.topo.ports("xdp"), config=cfg, workdir=tmp_path)
    with rb2:
        api = Api(port, TOKEN)
        st, calls = api.get("/api/v1/calls?limit=1000")
        assert st == 200 and len(calls) == 201
        # Opened by config: metrics and status without a token; the rest still closed.
        assert api.get("/metrics", token=False)[0] == 200
        assert api.get("/api/v1/status", token=False)[0] == 200
        assert api.get("/api/v1/calls", token=False)[0] == 401
        rc2, _, _ = rb2.stop()
        assert rc2 == 0
