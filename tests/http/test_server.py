#!/usr/bin/env python3
"""Local HTTP(S) server and HTTP proxy for pycheck's HttpClient tests.

Listens on 127.0.0.1 only, on a free port, and prints "PORT <n>" on stdout once
it accepts connections. It never connects anywhere but 127.0.0.1.

  test_server.py origin [--tls CERT KEY]   the origin server (routes below)
  test_server.py proxy                     a forward proxy: answers absolute-form
                                           requests itself ("via-proxy <target>")
                                           and tunnels CONNECT to 127.0.0.1 only

Origin routes:
  /ok                       200, a short text body
  /status/<code>            that status
  /headers                  200, the request headers as JSON
  /drip?bytes=N&interval=S  headers at once, then one body byte every S seconds
  /big?bytes=N              N bytes with Content-Length
  /big-unsized?bytes=N      N bytes, no Content-Length (ends at close)
  /etag                     200 with ETag "v1" and Last-Modified; 304 when
                            If-None-Match matches
  /redirect?to=URL          302 to URL
  /stats                    JSON counters: requests, conditional, not_modified
Proxy routes (origin-form): /stats -> JSON counters: forwarded, connects
"""

import json
import select
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler

from loopback import serve_on_loopback
from urllib.parse import parse_qs, urlsplit

STATS = {"requests": 0, "conditional": 0, "not_modified": 0, "forwarded": 0, "connects": 0}
STATS_LOCK = threading.Lock()
BODY_OK = b"hello from the pycheck test server\n"


def count(name):
    with STATS_LOCK:
        STATS[name] += 1


class Quiet(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep test output clean
        pass

    def send_body(self, status, body, content_type="text/plain", extra=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def stats(self):
        with STATS_LOCK:
            body = json.dumps(STATS).encode()
        self.send_body(200, body, "application/json")


class Origin(Quiet):
    def do_GET(self):
        count("requests")
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        path = url.path
        try:
            if path == "/ok":
                self.send_body(200, BODY_OK)
            elif path.startswith("/status/"):
                code = int(path.rsplit("/", 1)[1])
                self.send_body(code, f"status {code}\n".encode())
            elif path == "/headers":
                self.send_body(200, json.dumps(dict(self.headers.items())).encode(),
                               "application/json")
            elif path == "/drip":
                size = int(query.get("bytes", "100"))
                interval = float(query.get("interval", "0.1"))
                self.send_response(200)
                self.send_header("Content-Length", str(size))
                self.end_headers()
                self.wfile.flush()
                for _ in range(size):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(interval)
            elif path in ("/big", "/big-unsized"):
                size = int(query.get("bytes", "0"))
                self.send_response(200)
                if path == "/big":
                    self.send_header("Content-Length", str(size))
                else:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                chunk = b"y" * 65536
                left = size
                while left > 0:
                    self.wfile.write(chunk[:min(left, len(chunk))])
                    left -= min(left, len(chunk))
            elif path == "/etag":
                validators = {"ETag": '"v1"', "Last-Modified": "Wed, 21 Oct 2015 07:28:00 GMT"}
                sent = self.headers.get("If-None-Match")
                if sent is not None or self.headers.get("If-Modified-Since") is not None:
                    count("conditional")
                if sent == '"v1"':
                    count("not_modified")
                    self.send_response(304)
                    for name, value in validators.items():
                        self.send_header(name, value)
                    self.end_headers()
                else:
                    self.send_body(200, b"versioned body v1\n", "text/plain", validators)
            elif path == "/redirect":
                self.send_response(302)
                self.send_header("Location", query["to"])
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif path == "/stats":
                self.stats()
            else:
                self.send_body(404, b"no such route\n")
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True


class Proxy(Quiet):
    def do_GET(self):
        if self.path.startswith("/"):  # origin-form: a request to the proxy itself
            self.stats() if self.path == "/stats" else self.send_body(404, b"proxy: no route\n")
            return
        count("forwarded")
        self.send_body(200, f"via-proxy {self.path}\n".encode())

    def do_CONNECT(self):
        host, _, port = self.path.rpartition(":")
        if host not in ("127.0.0.1", "localhost"):
            self.send_body(403, b"this test proxy only tunnels to 127.0.0.1\n")
            return
        count("connects")
        try:
            upstream = socket.create_connection(("127.0.0.1", int(port)), timeout=10)
        except OSError:
            self.send_body(502, b"cannot connect upstream\n")
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        client = self.connection
        sockets = [client, upstream]
        try:
            while True:
                readable, _, _ = select.select(sockets, [], [], 10)
                if not readable:
                    break
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (upstream if sock is client else client).sendall(data)
        except OSError:
            pass
        finally:
            upstream.close()
            self.close_connection = True


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "origin"
    handler = {"origin": Origin, "proxy": Proxy}[mode]
    wrap = None
    if len(sys.argv) >= 5 and sys.argv[2] == "--tls":
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(sys.argv[3], sys.argv[4])
        # The handshake runs in the handler thread, so a client that stalls or
        # rejects the certificate cannot block the accept loop.
        def wrap(sock):
            return context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
    serve_on_loopback(handler, wrap)


if __name__ == "__main__":
    main()
