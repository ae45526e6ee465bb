#!/usr/bin/env python3
"""Local package index ("simple" API) for pycheck's pip.version tests.

Listens on 127.0.0.1 only, on a free port, and prints "PORT <n>" on stdout once
it accepts connections. It never connects anywhere.

Each first path segment is an index root; `<root>/pip/` is pip's project page:
  /json/pip/       PEP 691 JSON; 406 unless Accept asks for
                   application/vnd.pypi.simple.v1+json
  /html/pip/       PEP 503 HTML (text/html), whatever Accept says
  /status404/pip/  404            /status500/pip/  500
  /garbage/pip/    "JSON" that does not parse
  /notpep691/pip/  valid JSON without a "files" array
  /empty/pip/      HTML with no pip release
  /slow/pip/       waits 10 s before answering
Releases listed: 24.0, 25.0, 25.0.1, 26.2.1 (each wheel and sdist), 26.3
(yanked), 26.5b1 (pre-release), 26.4 (Requires-Python >=3.12), plus a file of
another project.
"""

import html
import json
import sys
import time
from http.server import BaseHTTPRequestHandler

from loopback import serve_on_loopback

RELEASES = [  # (version, yanked, requires_python)
    ("24.0", False, ">=3.7"),
    ("25.0", False, ">=3.8"),
    ("25.0.1", False, ">=3.8"),
    ("26.2.1", False, ">=3.9"),
    ("26.3", "broke installs on 3.9", ">=3.9"),
    ("26.5b1", False, ">=3.9"),
    ("26.4", False, ">=3.12"),
]


def files():
    out = []
    for version, yanked, requires in RELEASES:
        for name in (f"pip-{version}-py3-none-any.whl", f"pip-{version}.tar.gz"):
            out.append({"filename": name, "url": f"../../files/{name}", "hashes": {},
                        "requires-python": requires, "yanked": yanked})
    out.append({"filename": "setuptools-99.0.tar.gz", "url": "../../files/s.tar.gz",
                "hashes": {}, "yanked": False})
    return out


def html_page(listed):
    rows = []
    for f in listed:
        attrs = f'href="{f["url"]}#sha256=00"'
        if f.get("requires-python"):
            attrs += f' data-requires-python="{html.escape(f["requires-python"])}"'
        if f["yanked"]:
            attrs += (" data-yanked" if f["yanked"] is True
                      else f' data-yanked="{html.escape(f["yanked"])}"')
        rows.append(f"    <A {attrs}>{f['filename']}</a><br/>")
    return ("<!DOCTYPE html>\n<html><head><title>Links for pip</title></head>\n<body>\n"
            "<h1>Links for pip</h1>\n" + "\n".join(rows) + "\n</body></html>\n").encode()


class Index(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_body(self, status, body, content_type):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        parts = self.path.split("?")[0].strip("/").split("/")
        if len(parts) != 2 or parts[1] != "pip" or not self.path.endswith("/"):
            self.send_body(404, b"not found\n", "text/plain")
            return
        root = parts[0]
        accept = self.headers.get("Accept", "")
        if root == "json":
            if "application/vnd.pypi.simple.v1+json" not in accept:
                self.send_body(406, b"ask for JSON\n", "text/plain")
                return
            body = json.dumps({"meta": {"api-version": "1.1"}, "name": "pip",
                               "files": files()}).encode()
            self.send_body(200, body, "application/vnd.pypi.simple.v1+json")
        elif root == "html":
            self.send_body(200, html_page(files()), "text/html; charset=utf-8")
        elif root.startswith("status"):
            code = int(root[len("status"):])
            self.send_body(code, f"status {code}\n".encode(), "text/plain")
        elif root == "garbage":
            self.send_body(200, b'{"files": [ {"filename": ', "application/vnd.pypi.simple.v1+json")
        elif root == "notpep691":
            self.send_body(200, b'{"projects": []}', "application/vnd.pypi.simple.v1+json")
        elif root == "empty":
            self.send_body(200, html_page([f for f in files() if "setuptools" in f["filename"]]),
                           "text/html")
        elif root == "slow":
            time.sleep(10)
            self.send_body(200, html_page(files()), "text/html")
        else:
            self.send_body(404, b"no such index\n", "text/plain")


def main():
    serve_on_loopback(Index)


if __name__ == "__main__":
    sys.exit(main())
