"""Network faults and stalls for the online checks (apt.security-updates and
pip.version with --online), end to end through the static binary."""
import os
import shutil
import socket
import subprocess

from hostile_lib import HERE, SOURCE_DIR, Server, expect

ONLINE = ("apt.security-updates", "pip.version")
SOURCES = "/etc/apt/sources.list.d/debian.sources"
KEYRING = "/usr/share/keyrings/fault-server.gpg"  # the fault server's signing key, in the root
BAD_HOST = "pycheck-hostile.invalid"  # RFC 2606: never resolves


def point_at(root, apt_uri, index_url):
    """The image's apt sources with the security suite at `apt_uri`, signed by the fault
    server's key; pip's index at `index_url`."""
    if SERVERS:  # else no run reaches the signature (DNS fails first)
        with open(SERVERS[0].keyring, "rb") as f:
            root.write(KEYRING, f.read())
    root.write(SOURCES, "Types: deb\nURIs: http://deb.debian.org/debian\n"
               "Suites: bookworm bookworm-updates\nComponents: main\n\n"
               f"Types: deb\nURIs: {apt_uri}\nSuites: bookworm-security\nComponents: main\n"
               f"Signed-By: {KEYRING}\n")
    root.env[b"PIP_INDEX_URL"] = index_url.encode()


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once it is closed


class Servers:
    """The fault server and a TLS server with a self-signed certificate (tests/http)."""

    def __init__(self, s):
        self.keyring = os.path.join(s.work.sub("fault-server"), "keyring.gpg")
        self.faults = Server([os.path.join(HERE, "fault_server.py"), self.keyring])
        tls_dir = s.work.sub("tls")
        key, cert = os.path.join(tls_dir, "key.pem"), os.path.join(tls_dir, "cert.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", cert], check=True, capture_output=True)
        self.tls = Server([os.path.join(SOURCE_DIR, "tests/http/test_server.py"), "origin",
                           "--tls", cert, key])

    def stop(self):
        self.faults.stop()
        self.tls.stop()


SERVERS = []


def servers(s):
    if not SERVERS:
        SERVERS.append(Servers(s))
        s.work.cleanups.append(SERVERS[0].stop)
    return SERVERS[0]


def fault_urls(srv, fault):
    """(apt URI, pip index URL) for a fault."""
    if fault == "refused":
        port = closed_port()
        return f"http://127.0.0.1:{port}/debian-security", f"http://127.0.0.1:{port}/simple/"
    if fault == "dns":
        return f"http://{BAD_HOST}/debian-security", f"http://{BAD_HOST}/simple/"
    if fault == "tls":
        return srv.tls.url("/debian-security", "https"), srv.tls.url("/simple/", "https")
    return (srv.faults.url(f"/{fault}/debian-security"), srv.faults.url(f"/{fault}/simple/"))


def control_online(s):
    """The same online runs against a consistent archive: the errors below come from the faults."""
    srv = servers(s)
    root = s.work.root("net-control")
    point_at(root, srv.faults.url("/goodarchive/debian-security"),
             srv.faults.url("/status404/simple/"))
    r = s.run(root, "--online", "--check", "apt.security-updates", "--check", "pip.version")
    expect(r, {"apt.security-updates": {"warn"}})
    pending = [p["package"] for p in r.check("apt.security-updates")["details"]["pending"]]
    assert pending == ["zlib1g"], pending
    s.note(f"goodarchive: apt warn, pending {pending}")


def net_fault(fault, timeout="3s", expect_timed_out=False):
    def case(s):
        srv = servers(s)
        root = s.work.root(f"net-{fault}")
        apt_uri, index_url = fault_urls(srv, fault)
        point_at(root, apt_uri, index_url)
        r = s.run(root, "--online", timeout=timeout)
        expect(r, {i: {"error"} for i in ONLINE})
        for i in ONLINE:
            summary = r.check(i)["summary"]
            if expect_timed_out:
                assert "timed out" in summary or "deadline" in summary or "Timeout" in summary, (
                    f"{i}: {summary}")
        s.note(" | ".join(f"{i}: {r.check(i)['summary'][:110]}" for i in ONLINE))
    return case


def dns_in_chroot_without_resolv_conf(s):
    """pycheck inside the root (chroot), which has no resolv.conf: what c-ares does then."""
    root = s.work.root("net-chroot-dns")
    point_at(root, f"http://{BAD_HOST}/debian-security", f"http://{BAD_HOST}/simple/")
    root.remove("/etc/resolv.conf")
    shutil.copy2(s.binary, root.path("/pycheck"))
    env = root.env_file()
    shutil.copy2(env, root.path("/pycheck.env"))
    r = s.run("/", "--online", env_file="/pycheck.env", wrap=["chroot", root.dir],
              binary="/pycheck")
    expect(r, {i: {"error"} for i in ONLINE})
    s.note(" | ".join(f"{i}: {r.check(i)['summary'][:110]}" for i in ONLINE))


def stalls(fault, runs=8, timeout_ms=500):
    """The network stalls: a run still ends at --timeout, the online checks `error`."""
    def case(s):
        srv = servers(s)
        root = s.work.root(f"stall-{fault}")
        point_at(root, *fault_urls(srv, fault))
        over = s.overshoot.setdefault(f"network {fault}", [])
        for _ in range(runs):
            r = s.run(root, "--online", timeout=f"{timeout_ms}ms")
            over.append(r.wall - r.timeout_s)
            expect(r, {i: {"error"} for i in ONLINE})
        s.note(" | ".join(f"{i}: {r.check(i)['summary'][:90]}" for i in ONLINE))
    return case


CASES = [
    ("online control: good archive", control_online),
    ("online: connection refused", net_fault("refused")),
    ("online: DNS failure (.invalid)", net_fault("dns")),
    ("online: DNS, chroot, no resolv.conf", dns_in_chroot_without_resolv_conf),
    ("online: TLS self-signed", net_fault("tls")),
    ("online: HTTP 500", net_fault("status500")),
    ("online: HTTP 503", net_fault("status503")),
    ("online: truncated body", net_fault("truncated")),
    ("online: apt hash mismatch", net_fault("badhash")),
    ("online: slow drip", net_fault("drip", "2s", expect_timed_out=True)),
    ("stall: server never answers", stalls("blackhole")),
    ("stall: one byte per second", stalls("drip")),
]
