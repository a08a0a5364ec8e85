# SPDX-License-Identifier: BSD-3-Clause
"""Real protocol peers on loopback for the notification sinks: a GNTP (Growl) server that
checks the password hash, an HTTP server that records webhook POSTs (and fails or hangs on
purpose), UDP and TCP HEP receivers, a raw UDP receiver, and a mosquitto broker."""
import hashlib
import json
import socket
import socketserver
import struct
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from rbtest import free_port, register_process, unregister_process


class _Threaded:
    def start(self):
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class GntpServer(_Threaded):
    """Answers GNTP REGISTER / NOTIFY with -OK when the key hash matches PASSWORD."""

    def __init__(self, password=""):
        self.port = free_port()
        self.password = password
        self.requests = []  # (type, headers dict, key ok)
        self.raw = []       # the bytes of each request as received
        outer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                data = b""
                self.request.settimeout(5)
                while not data.endswith(b"\r\n\r\n"):
                    chunk = self.request.recv(4096)
                    if not chunk:
                        return
                    data += chunk
                    # REGISTER has one blank line per notification type: wait for them all.
                    if data.startswith(b"GNTP/1.0 REGISTER") and data.endswith(b"\r\n\r\n"):
                        n = int(dict(_headers(data)).get("Notifications-Count", "0"))
                        if data.count(b"\r\n\r\n") < n + 1:
                            continue
                outer.raw.append(data)
                text = data.decode("utf-8", "replace")
                info = text.split("\r\n", 1)[0].split(" ")
                kind = info[1]
                ok = outer._key_ok(info[3] if len(info) > 3 else "")
                outer.requests.append((kind, dict(_headers(data)), ok))
                if ok:
                    self.request.sendall(f"GNTP/1.0 -OK NONE\r\nResponse-Action: {kind}\r\n\r\n".encode())
                else:
                    self.request.sendall(b"GNTP/1.0 -ERROR NONE\r\nError-Code: 400\r\n"
                                         b"Error-Description: bad password\r\n\r\n")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True

    def _key_ok(self, key):
        if not self.password:
            return key == ""
        try:
            alg, rest = key.split(":", 1)
            keyhash, salt = rest.split(".", 1)
            h = getattr(hashlib, alg.lower())
            k = h(self.password.encode() + bytes.fromhex(salt)).digest()
            return h(k).hexdigest().upper() == keyhash.upper()
        except (ValueError, AttributeError):
            return False

    def notifies(self):
        return [h for kind, h, ok in self.requests if kind == "NOTIFY" and ok]


def _headers(data):
    for line in data.decode("utf-8", "replace").split("\r\n")[1:]:
        if ": " in line:
            k, v = line.split(": ", 1)
            yield k, v


class WebhookServer(_Threaded):
    """Records POSTed JSON per path. /flaky answers 500 to the first FAILS attempts of each
    event, /hang never answers, anything else answers 204."""

    def __init__(self, fails=2):
        self.port = free_port()
        self.posts = {}     # path -> [json]
        self.bodies = []    # (path, raw body bytes) of every POST, in order
        self.attempts = {}  # (path, call_id, event) -> attempts
        self.auth = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.auth.append((self.path, self.headers.get("Authorization")))
                outer.bodies.append((self.path, body))
                if self.path == "/hang":
                    time.sleep(30)
                    return
                ev = json.loads(body)
                key = (self.path, ev["call"].get("call_id"), ev["event"])
                outer.attempts[key] = outer.attempts.get(key, 0) + 1
                if self.path == "/flaky" and outer.attempts[key] <= fails:
                    self.send_response(500)
                    self.end_headers()
                    return
                outer.posts.setdefault(self.path, []).append(ev)
                self.send_response(204)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"


def hep_decode(pkt):
    """HEPv3 packet → {chunk type: bytes}; raises ValueError when it is not one."""
    if pkt[:4] != b"HEP3":
        raise ValueError("no HEP3 magic")
    total = struct.unpack_from(">H", pkt, 4)[0]
    if total != len(pkt):
        raise ValueError(f"length {total} != {len(pkt)}")
    chunks, off = {}, 6
    while off < total:
        vendor, ctype, clen = struct.unpack_from(">HHH", pkt, off)
        if clen < 6 or off + clen > total:
            raise ValueError("bad chunk")
        chunks[ctype] = pkt[off + 6:off + clen]
        off += clen
    return chunks


class UdpReceiver:
    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.packets = []  # (receive time, bytes)
        self._stop = False

    def start(self):
        self.sock.settimeout(0.2)

        def loop():
            while not self._stop:
                try:
                    data = self.sock.recv(65535)
                except socket.timeout:
                    continue
                except OSError:
                    return
                self.packets.append((time.time(), data))
        self.thread = threading.Thread(target=loop, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self._stop = True
        self.thread.join(timeout=2)
        self.sock.close()


class HepTcpReceiver(_Threaded):
    """Splits the TCP stream into HEP packets by their length field."""

    def __init__(self):
        self.port = free_port()
        self.packets = []
        outer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                buf = b""
                while True:
                    chunk = self.request.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                    while len(buf) >= 6:
                        total = struct.unpack_from(">H", buf, 4)[0]
                        if len(buf) < total:
                            break
                        outer.packets.append(buf[:total])
                        buf = buf[total:]

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True


class Mosquitto:
    """A mosquitto broker on loopback, started and stopped by the test (by PID)."""

    def __init__(self):
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="rbmqtt-"))
        conf = self.dir / "mosquitto.conf"
        conf.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
        self.conf = conf
        self.proc = None

    def start(self):
        self.proc = register_process(subprocess.Popen(["mosquitto", "-c", str(self.conf)],
                                                      stdout=subprocess.DEVNULL,
                                                      stderr=subprocess.DEVNULL))
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise AssertionError("mosquitto did not start")

    def subscribe(self, topic, count=None, timeout=None):
        """mosquitto_sub printing "topic payload" lines; a Popen."""
        cmd = ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(self.port), "-t", topic, "-v"]
        if count:
            cmd += ["-C", str(count)]
        if timeout:
            cmd += ["-W", str(timeout)]
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        if self.proc:
            unregister_process(self.proc)
