#!/usr/bin/python3
"""A misbehaving HTTP server on 127.0.0.1 for pycheck's online checks.

Usage: fault_server.py KEYRING_OUT. Signs its archives' InRelease with a key
made at start (gpg, in a temporary home) and writes that key's public
keyring to KEYRING_OUT for the root under test to trust. Prints "PORT <n>"
once it listens. The first path segment picks the fault, the
rest of the path is whatever the client asks for (an apt archive below
/<fault>/debian-security, a pip index below /<fault>/simple/):

  /blackhole/...  reads the request, never answers (a stalled server)
  /drip/...       200 with a large Content-Length, then one byte per second
  /truncated/...  200 with Content-Length 100000, 20 bytes, then closes
  /status500/...  500 Internal Server Error
  /status503/...  503 Service Unavailable
  /badhash/...    a security archive whose InRelease lists a SHA256 that the
                  served Packages.xz does not have (one byte flipped)
  /goodarchive/... the same archive, consistent: the check can pass on it
The archive (dists/bookworm-security, main, amd64) holds one package, `zlib1g`,
at a version newer than any installed one, so a check that accepted it would
report one pending update.
"""
import hashlib
import lzma
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "http"))
from loopback import serve_on_loopback  # noqa: E402

PACKAGES = (b"Package: zlib1g\nSource: zlib\nVersion: 1:9.9.9-1+deb12u1\nArchitecture: amd64\n"
            b"Maintainer: Test <test@invalid>\nFilename: pool/z/zlib1g.deb\nSize: 1\n"
            b"SHA256: " + b"0" * 64 + b"\nDescription: fixture\n\n")


KEY_TIME, SIGN_TIME = "20251101T000000!", "20251102T000000!"


def gpg(home, *args, data=None):
    return subprocess.run(["gpg", "--homedir", home, "--batch", *args], input=data,
                          capture_output=True, check=True).stdout


def archive(bad_hash, home):
    """{path below the archive root: bytes} for dists/bookworm-security."""
    xz = lzma.compress(PACKAGES, format=lzma.FORMAT_XZ)
    listed = {"main/binary-amd64/Packages.xz": xz, "main/binary-amd64/Packages": PACKAGES}
    release = ["Origin: Debian", "Label: Debian-Security", "Suite: stable-security",
               "Codename: bookworm-security", "Date: Sat, 01 Nov 2025 10:00:00 UTC",
               "Valid-Until: Sat, 01 Nov 2036 10:00:00 UTC", "Architectures: amd64",
               "Components: updates/main", "SHA256:"]
    for name, data in listed.items():
        release.append(f" {hashlib.sha256(data).hexdigest()} {len(data)} {name}")
    text = "\n".join(release) + "\n"
    inrelease = gpg(home, "--faked-system-time", SIGN_TIME, "--digest-algo", "SHA256",
                    "--clearsign", data=text.encode())
    served = dict(listed)
    if bad_hash:  # same size, one byte different: only the hash can tell
        for name in listed:
            data = bytearray(served[name])
            data[len(data) // 2] ^= 0x55
            served[name] = bytes(data)
    suite = "debian-security/dists/bookworm-security/"
    out = {suite + name: data for name, data in served.items()}
    out[suite + "InRelease"] = inrelease
    out[suite + "Release"] = text.encode()
    return out


ARCHIVES = {}


class Faulty(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_body(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        fault, _, rest = self.path.lstrip("/").partition("/")
        rest = rest.split("?")[0]
        try:
            if fault == "blackhole":
                threading.Event().wait()
            elif fault == "drip":
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", "100000")
                self.end_headers()
                self.wfile.flush()
                while True:
                    self.wfile.write(b"<")
                    self.wfile.flush()
                    time.sleep(1)
            elif fault == "truncated":
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", "100000")
                self.end_headers()
                self.wfile.write(b"<!DOCTYPE html><html>")
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
            elif fault.startswith("status"):
                code = int(fault[len("status"):])
                self.send_body(code, f"status {code}\n".encode())
            elif fault in ARCHIVES and rest in ARCHIVES[fault]:
                self.send_body(200, ARCHIVES[fault][rest])
            else:
                self.send_body(404, b"not found\n")
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True


def main():
    home = tempfile.mkdtemp(prefix="fault-server-gnupg-")
    try:
        # Key and signatures dated before the suite's pinned --now (hostile_lib.NOW).
        gpg(home, "--faked-system-time", KEY_TIME, "--passphrase", "", "--quick-gen-key",
            "fault server <fault@invalid>", "ed25519", "sign", "never")
        with open(sys.argv[1], "wb") as f:
            f.write(gpg(home, "--export"))
        ARCHIVES.update({"badhash": archive(True, home), "goodarchive": archive(False, home)})
        subprocess.run(["gpgconf", "--homedir", home, "--kill", "gpg-agent"], check=False)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    serve_on_loopback(Faulty)


if __name__ == "__main__":
    sys.exit(main())
