#!/usr/bin/python3
"""Integration tests of `pycheck scan` and `pycheck serve --scan` on a simulated
node: real processes in real mount/pid namespaces, in the cgroup paths of
containerd, CRI-O, Docker and Podman, with the node's files laid out as the
runtimes and the kubelet write them (sim_node.py). No Docker, no Kubernetes.

Usage (as root, after tests/integration/build-roots.sh):
    /usr/bin/python3 tests/integration/test_scan.py PYCHECK [unittest options]
PYCHECK_CACHE_DIR tells where the roots are (tests/integration/roots.sh).

The node: a pod sandbox (pause) and its container on containerd's systemd
driver; containerd's cgroupfs driver; CRI-O with its conmon, and a CRI-O sandbox
known only by its exe; Docker (systemd and cgroupfs drivers, and on the v1
hierarchy of a hybrid host); Podman with its
conmon (alone in a mount namespace of its own); a kind-style node nested
in a Docker container; a container with a `kubectl exec` process in it; one with
no Python. Roots: base (python:3.11-slim stand-in), no-libssl (broken), and a
root with no Python. Every state, identity and report is compared with what
was set up and with `pycheck --pid` on the container's init; the same node is
also scanned with --all, as text and Prometheus text, without CAP_SYS_PTRACE,
and from inside a cgroup namespace (relative cgroup paths).

ServeScan: `serve --scan` on a node of two: /report, /metrics, /readyz; a
stopped container's series are gone after the next scan (a real Prometheus
scraping it: test_scan_prometheus.py).
InPrivatePidNamespace: in a pid namespace of their own (PIDs to force, and no
other scanner's reads to count), with a FUSE file whose read never returns
until released: a container killed after discovery whose PID goes to a new
container; a stuck read that must cost its own job slot and no more.

Other simulations may run on the machine at the same time: every assertion is
about this run's containers (pod names carry a random suffix). Deadlines given
to pycheck and waits are generous: nothing here judges speed. Every process,
cgroup, mount and temp dir made is checked gone at the end.
"""
import http.client
import json
import os
import re
import secrets
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from datetime import datetime

import jsonschema
from prometheus_client.parser import text_string_to_metric_families

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from sim_node import HOST_PATH, SimNode, children, has_subdirs, wait_for  # noqa: E402

ROOTS_DIR = os.path.join(os.environ.get("PYCHECK_CACHE_DIR") or "/var/cache/pycheck", "roots")
PYCHECK = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else "build-static/pycheck"
NOW = "2026-12-07"
# Same options for the scan and for `pycheck --pid`, so their reports must agree.
# A per-container deadline far above any real run: a loaded machine must not
# turn a check into "error".
RUN_OPTIONS = ["--now", NOW, "--timeout", "120s"]
SCAN_OPTIONS = RUN_OPTIONS + ["--scan-timeout", "900s", "--jobs", "2"]
# Waiting for things that will happen (a scan to finish): generous, never judged.
PATIENCE = 600
NO_PTRACE = ["setpriv", "--inh-caps", "-sys_ptrace", "--bounding-set", "-sys_ptrace"]
PER_CONTAINER_LABELS = {"namespace", "pod", "container"}
CHECK_SERIES = {"pycheck_container_check_success", "pycheck_container_check_severity"}
# Pod names end in a random suffix, as real ones do: another simulation on this
# machine never shares a label set with this run's containers.
RUN = secrets.token_hex(3)
SEVERITY = {"pass": 0, "skip": 0, "warn": 1, "fail": 2, "error": 3}


def run(argv, **kwargs):
    return subprocess.run(argv, capture_output=True, text=True, timeout=PATIENCE, **kwargs)


def scan(node, *args, wrapper=()):
    """Runs `pycheck scan` on the node; returns (exit code, stdout, stderr)."""
    r = run([*wrapper, PYCHECK, "scan", "--node-root", node.node_root, *SCAN_OPTIONS, *args])
    return r.returncode, r.stdout, r.stderr


def load_schema(*path):
    with open(os.path.join(os.path.dirname(os.path.dirname(HERE)), *path)) as f:
        return json.load(f)


def scan_validator():
    """pycheck.scan/v1 with its reports' \$ref replaced by pycheck.report/v1 itself."""
    scan_schema = load_schema("agent", "scan", "scan.schema.json")
    report_schema = load_schema("agent", "report", "report.schema.json")
    report = scan_schema["properties"]["containers"]["items"]["properties"]["report"]
    assert report["$ref"] == report_schema["$id"]
    del report_schema["$id"], report_schema["$schema"]
    report.clear()
    report.update(report_schema)
    return jsonschema.Draft202012Validator(scan_schema)


# Every scan's JSON is validated: pycheck.scan/v1, each report pycheck.report/v1.
SCAN_VALIDATOR = scan_validator()


def scan_json(node, *args, wrapper=()):
    rc, out, err = scan(node, "--format", "json", *args, wrapper=wrapper)
    assert rc in (0, 1), f"exit {rc}: {err}"
    doc = json.loads(out)
    SCAN_VALIDATOR.validate(doc)
    assert doc["schema"] == "pycheck.scan/v1" and doc["scanner_ok"], doc.get("scanner_error")
    return rc, doc


def pid_report(pid):
    r = run([PYCHECK, "--pid", str(pid), "--format", "json", *RUN_OPTIONS])
    assert r.returncode in (0, 1), r.stderr
    return json.loads(r.stdout)


def comparable(report):
    """What must agree between two runs on the same container: each check's
    status and summary (durations and start times differ)."""
    return {"status": report["status"], "summary": report["summary"],
            "checks": [(c["id"], c["status"], c["summary"]) for c in report["checks"]]}


def entries_by_id(doc):
    by_id = {}
    for entry in doc["containers"]:
        by_id.setdefault(entry["identity"]["container_id"], []).append(entry)
    return by_id


def start_main_node(node):
    """Every case of the issue on one node. Returns the exec'd and conmon pids."""
    c = {}
    c["pause"] = node.start("pause", runtime="containerd", root="pause", sandbox=True,
                            namespace="shop", pod=f"web-{RUN}", names={"containerd state"})
    shop_pod = c["pause"].pod_uid
    c["web"] = node.start("web", runtime="containerd", driver="systemd", root="base",
                          pod_uid=shop_pod, namespace="shop", pod=f"web-{RUN}", container="web",
                          image="docker.io/library/python:3.11-slim", names={"containerd state"})
    c["worker"] = node.start("worker", runtime="containerd", driver="cgroupfs", qos="besteffort",
                             root="no-libssl", namespace="shop", pod=f"worker-{RUN}",
                             container="worker", names={"mountinfo", "/var/log/pods"})
    c["crio"] = node.start("crio", runtime="cri-o", driver="systemd", root="base",
                           namespace="billing", pod=f"api-{RUN}", container="api",
                           image="registry.example/api:1.2", names={"cri-o state",
                                                                    "/var/log/containers"})
    c["crio-pause"] = node.start("crio-pause", runtime="cri-o", driver="cgroupfs",
                                 root="pause", sandbox=True)
    c["docker"] = node.start("docker", runtime="docker", root="no-libssl", container=f"legacy-app-{RUN}",
                             image="python:3.11-slim-nossl", names={"docker config"})
    c["docker-cgroupfs"] = node.start("docker-cgroupfs", runtime="docker", driver="cgroupfs",
                                      root="base")
    c["podman"] = node.start("podman", runtime="podman", root="base")
    # Docker on the v1 hierarchy of a hybrid host: no container in its "0::" line.
    c["docker-v1"] = node.start("docker-v1", runtime="docker", root="no-libssl", cgroup_v1=True)
    outer = secrets.token_hex(32)
    c["kind"] = node.start(
        "kind", runtime="containerd", root="base", namespace="kube-system", pod=f"agent-{RUN}",
        container="agent", names={"/var/log/containers"},
        # kind: the node is itself a Docker container; the last match is the pod's.
        cgroup=lambda k: (f"/system.slice/docker-{outer}.scope/kubelet.slice/kubelet-kubepods.slice/"
                          f"kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod"
                          f"{k.pod_uid.replace('-', '_')}.slice/cri-containerd-{k.container_id}.scope"))
    c["exec-target"] = node.start("exec-target", runtime="containerd", qos="guaranteed",
                                  root="base", container=f"shell-{RUN}", names={"mountinfo"})
    c["no-python"] = node.start("no-python", runtime="containerd", driver="cgroupfs",
                                root="no-python", namespace="tools", pod=f"sleeper-{RUN}",
                                container="sleeper", image="busybox-like:1",
                                names={"containerd state"})
    # After every container started: its env would make python.path fail.
    exec_pid = node.exec_into(c["exec-target"], {"PATH": "/usr/bin:/bin", "KUBECTL_EXEC": "1"})
    crio_conmon = node.conmon(c["crio"])
    podman_conmon = node.conmon(c["podman"], private_mount_namespace=True)
    for container in c.values():
        node.verify(container)
    return c, {"exec": exec_pid, "nsenter": c["exec-target"].members[-2], "crio-conmon": crio_conmon.pid,
               "podman-conmon": podman_conmon.pid,
               "podman-conmon-mnt": os.readlink(f"/proc/{podman_conmon.pid}/ns/mnt")}


class ScanOfSimulatedNode(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.node = SimNode(ROOTS_DIR)
        try:
            cls.c, cls.extra = start_main_node(cls.node)
            cls.rc, cls.doc = scan_json(cls.node)
            cls.by_id = entries_by_id(cls.doc)
        except BaseException:
            cls.node.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.node.close()
        left = cls.node.leftovers()
        assert not left, f"left behind: {left}"

    def entry(self, key, doc=None):
        entries = (entries_by_id(doc) if doc else self.by_id).get(self.c[key].container_id, [])
        self.assertEqual(len(entries), 1, f"{key}: listed {len(entries)} times")
        return entries[0]

    def test_identity_as_set_up(self):
        for key, c in self.c.items():
            with self.subTest(container=key):
                identity = self.entry(key)["identity"]
                expected = c.expected_identity
                if c.sandbox:  # a sandbox is named by its pod; only what the cgroup says is asserted
                    expected = {k: expected[k] for k in ("runtime", "container_id", "pod_uid",
                                                         "cgroup", "mount_namespace")}
                else:
                    self.assertEqual(sorted(identity["names_from"]), c.names_from)
                self.assertEqual({k: identity.get(k) for k in expected}, expected)

    def test_states_as_set_up(self):
        for key, c in self.c.items():
            with self.subTest(container=key):
                entry = self.entry(key)
                want = "sandbox" if c.sandbox else "checked" if c.python else "no-python"
                self.assertEqual(entry["state"], want, entry.get("reason"))
                if want != "checked":
                    self.assertTrue(entry["reason"])
                    self.assertNotIn("report", entry)
        self.assertEqual(self.rc, 1)  # no-libssl fails

    def test_conmon_and_exec_never_representatives(self):
        pids = {e["identity"]["pid"] for e in self.doc["containers"]}
        for what in ("exec", "nsenter", "crio-conmon", "podman-conmon"):
            self.assertNotIn(self.extra[what], pids, what)
        namespaces = {e["identity"]["mount_namespace"] for e in self.doc["containers"]}
        self.assertNotIn(self.extra["podman-conmon-mnt"], namespaces)

    def test_reports_equal_pycheck_pid(self):
        for key, c in self.c.items():
            entry = self.entry(key)
            if entry["state"] != "checked":
                continue
            with self.subTest(container=key):
                report = entry["report"]
                self.assertEqual(report["schema"], pid_report(c.pid)["schema"])
                self.assertEqual(comparable(report), comparable(pid_report(c.pid)))
                self.assertEqual(entry["verdict"], report["status"])
                self.assertEqual(entry["failing_checks"],
                                 [k["id"] for k in report["checks"] if k["status"] in ("fail", "error")])
        # The roots' verdicts, so a scan that checked the wrong root cannot pass.
        for key, broken in (("web", False), ("worker", True), ("docker", True), ("kind", False)):
            self.assertEqual("python.shared-libraries" in self.entry(key)["failing_checks"], broken, key)

    def test_order_by_start_time(self):
        listed = [e["identity"]["container_id"] for e in self.doc["containers"]]
        ours = sorted(self.c.values(), key=lambda c: (c.starttime(), c.pid))
        self.assertEqual([i for i in listed if i in {c.container_id for c in ours}],
                         [c.container_id for c in ours])

    def test_totals_count_the_list(self):
        totals, entries = self.doc["totals"], self.doc["containers"]
        states = [e["state"] for e in entries]
        self.assertEqual(totals["containers"], len(entries))
        for state, field in (("checked", "checked"), ("no-python", "no_python"),
                             ("sandbox", "sandboxes"), ("denied", "denied"), ("stale", "stale"),
                             ("unsupported", "unsupported"), ("not-checked", "not_checked"),
                             ("vanished", "vanished")):
            if field not in totals and state == "vanished":
                continue  # not in the contract's first draft; counted when present
            self.assertEqual(totals[field], states.count(state), state)
        self.assertEqual(totals["failing"], sum(1 for e in entries if e.get("failing_checks")))
        self.assertEqual(self.doc["options"]["jobs"], 2)
        self.assertFalse(self.doc["options"]["all"])

    def test_all_checks_the_container_without_python(self):
        rc, doc = scan_json(self.node, "--all")
        self.assertTrue(doc["options"]["all"])
        entry = self.entry("no-python", doc)
        self.assertEqual(entry["state"], "checked")
        self.assertEqual(comparable(entry["report"]), comparable(pid_report(self.c["no-python"].pid)))
        self.assertEqual(self.entry("pause", doc)["state"], "sandbox")  # --all is not about sandboxes

    def test_text(self):
        rc, out, err = scan(self.node, "--format", "text", "--no-color")
        self.assertEqual(rc, 1, err)
        lines = out.splitlines()
        m = re.match(r"pycheck scan: (PASS|FAIL|ERROR) — (\d+) containers?: (.*)$", lines[0])
        self.assertTrue(m, lines[0])
        self.assertEqual(m.group(1), "FAIL")
        counts = {}  # "checked", "without Python", "sandboxes", ...: a count of 0 may be left out
        for part in m.group(3).split(", "):
            n, what = re.match(r"(\d+) (.*?)(?: \(\d+ failing\))?$", part).groups()
            counts["sandboxes" if what == "sandbox" else what] = int(n)
        rows = [re.match(r"\s+(\S+)\s+(.*?)\s+(containerd|cri-o|docker|podman|unknown) "
                         r"([0-9a-f]{12})(.*)$", line) for line in lines[1:]]
        rows = [r for r in rows if r]
        # The first line counts the lines that follow (other simulations may share the node).
        self.assertEqual(int(m.group(2)), len(rows))
        words = [r.group(1) for r in rows]
        self.assertEqual(counts.get("sandboxes", 0), words.count("SANDBOX"))
        self.assertEqual(counts.get("without Python", 0), words.count("NO-PYTHON"))
        self.assertEqual(counts.get("denied", 0), words.count("DENIED"))
        for key, c in self.c.items():
            with self.subTest(container=key):
                mine = [r for r in rows if r.group(4) == c.container_id[:12]]
                self.assertEqual(len(mine), 1, mine)
                word, name, runtime, _, remark = mine[0].groups()
                self.assertEqual(runtime, c.runtime)
                entry = self.entry(key)
                if c.sandbox:
                    self.assertEqual(word, "SANDBOX")
                    continue
                self.assertEqual(word, entry["verdict"].upper() if "report" in entry
                                 else entry["state"].upper())
                want = ("/".join(x for x in (c.namespace, c.pod, c.container) if x) if c.pod
                        else c.container or c.container_id[:12])
                self.assertEqual(name, want)
                for failing in entry.get("failing_checks", []):
                    self.assertIn(failing, remark)

    def test_prometheus(self):
        rc, out, err = scan(self.node, "--format", "prometheus")
        self.assertEqual(rc, 1, err)
        self.check_prometheus(out, self.c.values(), self.doc)

    def check_prometheus(self, text, containers, doc):
        samples = [s for family in text_string_to_metric_families(text) for s in family.samples]
        per_container = [s for s in samples if s.name.startswith("pycheck_container_")]
        for s in per_container:
            want = PER_CONTAINER_LABELS | ({"check"} if s.name in CHECK_SERIES else set())
            self.assertEqual(set(s.labels), want, s)
        by_id = entries_by_id(doc)
        for c in containers:
            with self.subTest(container=c.key):
                mine = [s for s in per_container
                        if {k: s.labels[k] for k in PER_CONTAINER_LABELS} == c.metric_labels]
                entry = by_id[c.container_id][0]
                if entry["state"] not in ("checked", "no-python", "stale"):
                    self.assertEqual(mine, [], "sandboxes and denied containers have no series")
                    continue
                python = [s.value for s in mine if s.name == "pycheck_container_python"]
                self.assertEqual(python, [1.0 if entry["state"] != "no-python" else 0.0])
                checks = {s.labels["check"]: s.value for s in mine
                          if s.name == "pycheck_container_check_success"}
                severity = {s.labels["check"]: s.value for s in mine
                            if s.name == "pycheck_container_check_severity"}
                report = entry.get("report", {"checks": []})
                self.assertEqual(checks, {k["id"]: float(k["status"] in ("pass", "warn", "skip"))
                                          for k in report["checks"]})
                self.assertEqual(severity, {k["id"]: float(SEVERITY[k["status"]])
                                            for k in report["checks"]})
        gauges = {(s.name, s.labels.get("state")): s.value for s in samples
                  if s.name == "pycheck_scan_containers"}
        # At least this node's own (other simulations may come and go between two scans).
        states = [by_id[c.container_id][0]["state"] for c in containers]
        for state, label in (("sandbox", "sandbox"), ("checked", "checked"),
                             ("no-python", "no_python")):
            self.assertGreaterEqual(gauges[("pycheck_scan_containers", label)], states.count(state))
        names = {s.name for s in samples}
        for name in ("pycheck_scan_processes_vanished", "pycheck_scan_processes_denied",
                     "pycheck_scan_duration_seconds", "pycheck_scan_last_timestamp_seconds",
                     "pycheck_scan_success", "pycheck_build_info"):
            self.assertIn(name, names)

    def test_without_cap_sys_ptrace_every_container_is_denied(self):
        rc, doc = scan_json(self.node, wrapper=NO_PTRACE)
        self.assertEqual(rc, 1)
        by_id = entries_by_id(doc)
        for key, c in self.c.items():
            with self.subTest(container=key):
                entries = by_id.get(c.container_id, [])
                self.assertEqual(len(entries), 1, "never dropped silently")
                # A sandbox known from the runtime's state stays a sandbox.
                allowed = {"denied", "sandbox"} if c.sandbox else {"denied"}
                self.assertIn(entries[0]["state"], allowed)
                self.assertNotIn("report", entries[0])
                if entries[0]["state"] == "denied":
                    self.assertTrue(entries[0]["reason"])
        self.assertEqual(doc["totals"]["checked"], 0)
        self.assertGreaterEqual(doc["totals"]["denied"], len(self.c) - 2)

    def test_out_of_descriptors_is_a_scanner_error_not_processes_that_exited(self):
        # The scan holds a descriptor of every container process while it groups
        # them: with room for a few only, the others cannot be read. The scan
        # did not work then; counting them as exited would hide containers.
        members = sum(len(c.members) for c in self.c.values())
        self.assertGreater(members, 12)
        rc, out, err = scan(self.node, "--format", "json", wrapper=["prlimit", "--nofile=16:16"])
        self.assertEqual(rc, 1, err)
        doc = json.loads(out)
        SCAN_VALIDATOR.validate(doc)
        self.assertFalse(doc["scanner_ok"])
        self.assertIn("could not read", doc["scanner_error"])
        self.assertIn("Too many open files", doc["scanner_error"])

    def test_relative_cgroup_paths_under_a_cgroup_namespace(self):
        # The scanner in a cgroup two levels down, made its namespace's root: every
        # path it reads starts with /../..
        procs = os.path.join(self.node.make_cgroup(f"/pycheck-scan-test-{secrets.token_hex(4)}/scanner"),
                             "cgroup.procs")
        rc, doc = scan_json(self.node, wrapper=["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"',
                                                procs, "unshare", "--cgroup"])
        for key, c in self.c.items():
            with self.subTest(container=key):
                identity = self.entry(key, doc)["identity"]
                # The scanner moved down in v2 only: v1 paths stay as they were.
                want = dict(self.entry(key)["identity"],
                            cgroup=c.cgroup if c.cgroup_v1 else "/../.." + c.cgroup)
                self.assertEqual(identity, want)

    def test_usage_errors(self):
        for extra in (["--root", "/"], ["--pid", "1"], ["--env-file", "/dev/null"]):
            with self.subTest(option=extra[0]):
                rc, out, err = scan(self.node, *extra)
                self.assertEqual(rc, 2, err)

    def test_output_file(self):
        out = os.path.join(self.node.tmp, "scan.json")
        rc, stdout, err = scan(self.node, "--format", "json", "--output", out)
        self.assertEqual(rc, 1, err)
        with open(out) as f:
            doc = json.load(f)
        self.assertEqual({e["identity"]["container_id"] for e in doc["containers"]} >=
                         {c.container_id for c in self.c.values()}, True)


class Server:
    """`pycheck serve --scan` on a free loopback port (read from its log line)."""

    def __init__(self, node, *args):
        self.proc = subprocess.Popen([PYCHECK, "serve", "--scan", "--listen", "127.0.0.1:0",
                                      "--node-root", node.node_root, *RUN_OPTIONS,
                                      "--scan-timeout", "900s", "--jobs", "2", *args],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.lines, self.port = [], None
        listening = threading.Event()

        def drain():
            for line in self.proc.stderr:
                self.lines.append(line.rstrip("\n"))
                m = re.search(r"listening on http://\S*:(\d+) ", line)
                if m:
                    self.port = int(m.group(1))
                    listening.set()
            listening.set()
        threading.Thread(target=drain, daemon=True).start()
        if not listening.wait(PATIENCE) or self.port is None:
            self.stop()
            raise AssertionError("pycheck serve --scan did not start: " + "\n".join(self.lines))

    def get(self, path):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=PATIENCE)
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            return resp.status, resp.read().decode()
        finally:
            conn.close()

    def report_after(self, after):
        """The first /report of a scan that started after `after` (epoch seconds)."""
        def newer():
            status, body = self.get("/report")
            if status != 200:
                return None
            doc = json.loads(body)
            started = datetime.fromisoformat(doc["started_at"].replace("Z", "+00:00")).timestamp()
            return doc if started > after else None
        return wait_for("a scan that started after " + str(after), newer, timeout=PATIENCE)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=PATIENCE)
        self.proc.stderr.close()


class ServeScan(unittest.TestCase):
    def test_serve_scan_report_metrics_and_vanished_series(self):
        with SimNode(ROOTS_DIR) as node:
            good = node.start("good", runtime="containerd", root="base", namespace="shop",
                              pod=f"serve-web-{RUN}", container="web", names={"containerd state"})
            bad = node.start("bad", runtime="cri-o", root="no-libssl", namespace="shop",
                             pod=f"serve-worker-{RUN}", container="worker", names={"cri-o state"})
            server = Server(node, "--interval", "1s")
            try:
                self.assertEqual(server.get("/livez")[0], 200)
                doc = server.report_after(0)
                by_id = entries_by_id(doc)
                for c in (good, bad):
                    self.assertEqual(by_id[c.container_id][0]["state"], "checked")
                    self.assertEqual(comparable(by_id[c.container_id][0]["report"]),
                                     comparable(pid_report(c.pid)))
                self.assertEqual(server.get("/readyz")[0], 200)
                status, metrics = server.get("/metrics")
                self.assertEqual(status, 200)
                ScanOfSimulatedNode.check_prometheus(self, metrics, [good, bad],
                                                     server.report_after(0))

                node.stop(bad)
                stopped = time.time()
                doc = server.report_after(stopped)
                self.assertNotIn(bad.container_id, entries_by_id(doc))
                self.assertIn(good.container_id, entries_by_id(doc))
                status, metrics = server.get("/metrics")
                labels = [s.labels for f in text_string_to_metric_families(metrics)
                          for s in f.samples if s.name.startswith("pycheck_container_")]
                gone = [lb for lb in labels if lb["pod"] == bad.pod]
                self.assertEqual(gone, [], "series of a stopped container")
                self.assertTrue(any(lb["pod"] == good.pod for lb in labels))
                # A real Prometheus scraping it: tests/integration/test_scan_prometheus.py.
            finally:
                server.stop()
            self.assertEqual(server.proc.returncode, 0, "\n".join(server.lines))
        self.assertEqual(node.leftovers(), [])


def descends_from(tid, ancestor):
    """Whether thread `tid` belongs to `ancestor` or to a process it started
    (pycheck runs a container's checks in a worker process)."""
    pid = tid
    while pid > 1:
        if pid == ancestor:
            return True
        with open(f"/proc/{pid}/status") as f:
            status = dict(line.split(":\t", 1) for line in f.read().splitlines() if ":\t" in line)
        pid = int(status["PPid"]) if int(status["Tgid"]) == pid else int(status["Tgid"])
    return False


class FuseFiles:
    """sim_node's reported files, each a copy of base's os-release: a read of
    stuck-* never gets an answer, every read from this pid namespace is told."""

    def __init__(self, node, names):
        self.dir = tempfile.mkdtemp(prefix="pycheck-fuse-")
        node.tmp_dirs.append(self.dir)
        node.mounts.append(self.dir)
        self.proc = subprocess.Popen([sys.executable, os.path.join(HERE, "sim_node.py"),
                                      "reported-files", self.dir,
                                      os.path.join(ROOTS_DIR, "base/etc/os-release"), *names],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, bufsize=0)
        node._hold(self.proc, self.proc.pid)
        self.pending, self.lines = b"", []
        self.wait_line(lambda line: line == "MOUNTED", self.proc)

    def path(self, name):
        return os.path.join(self.dir, name)

    def wait_line(self, match, watched):
        """The first line that matches, while `watched` runs (no deadline but PATIENCE)."""
        deadline = time.monotonic() + PATIENCE
        while True:
            for k, line in enumerate(self.lines):
                if match(line):
                    return self.lines.pop(k)
            if watched.poll() is not None or self.proc.poll() is not None \
                    or time.monotonic() > deadline:
                said = watched.stderr.read() if watched.poll() is not None else "(still running)"
                raise AssertionError(f"awaited line not seen (got {self.lines}); {watched.args[0]}"
                                     f" exit {watched.returncode}: {said}")
            if select.select([self.proc.stdout], [], [], 0.1)[0]:
                self.pending += os.read(self.proc.stdout.fileno(), 4096)
                *done, self.pending = self.pending.split(b"\n")
                self.lines += [line.decode() for line in done]

    def wait_read(self, name, scanner):
        """Waits for a read of `name` from this pid namespace. A stuck read must
        be the scanner's (or its worker process's): the reader is still there."""
        line = self.wait_line(lambda line: line.startswith(f"READ {name} "), scanner)
        if name.startswith("stuck-"):
            assert descends_from(int(line.split()[2]), scanner.pid), (line, scanner.pid)

    def release(self):
        """The stuck reads get their answer."""
        self.proc.stdin.close()

    def close(self):
        self.proc.kill()
        self.proc.wait()
        subprocess.run(["umount", "-l", self.dir], capture_output=True)


def start_scan(node, jobs):
    scanner = subprocess.Popen([PYCHECK, "scan", "--node-root", node.node_root, "--format", "json",
                                *RUN_OPTIONS, "--scan-timeout", "900s", "--jobs", str(jobs)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    node._hold(scanner, scanner.pid)
    return scanner


def finish_scan(scanner, result):
    out, err = scanner.communicate(timeout=PATIENCE)
    result["scan_exit"], result["scan_stderr"] = scanner.returncode, err
    result["scan"] = json.loads(out) if out else None


def pid_reuse_scenario(result, node):
    """A container A is discovered, killed while the scan is held in another
    container's check, and its PID given to a new container B with another
    root (ns_last_pid: this runs in a pid namespace of its own)."""
    fuse = FuseFiles(node, ["stuck-blocker"])
    try:
        # First in the scan's order, and its check blocks in a read of os-release.
        blocker = node.start("blocker", runtime="containerd", root="base",
                             extra_binds={"/etc/os-release": fuse.path("stuck-blocker")})
        a = node.start("a", runtime="containerd", root="base", names={"containerd state"},
                       namespace="reuse", pod="a-0", container="a")
        scanner = start_scan(node, jobs=1)
        # The scan reads the blocker: discovery is over, A is not checked yet.
        fuse.wait_read("stuck-blocker", scanner)
        # The blocker goes away during its own check (stale); A before its check.
        node.stop(blocker)
        pid = a.pid
        node.stop(a)
        b = node.start("b", runtime="containerd", root="no-libssl", names={"containerd state"},
                       namespace="reuse", pod="b-0", container="b", reuse_pid=pid)
        result["blocker"] = {"id": blocker.container_id}
        result["a"] = {"id": a.container_id, "pid": pid}
        result["b"] = {"id": b.container_id, "pid": b.pid}
        fuse.release()  # the blocked read is answered; the scan goes on
        finish_scan(scanner, result)
    finally:
        fuse.close()


def stuck_slot_scenario(result, node):
    """One container's check stuck in a read holds one of the two jobs' slots;
    the three others are all checked meanwhile, through the other slot."""
    names = ["stuck-blocker", "c1", "c2", "c3"]
    fuse = FuseFiles(node, names)
    try:
        started = {name: node.start(name, runtime="containerd", root="base",
                                    extra_binds={"/etc/os-release": fuse.path(name)})
                   for name in names}
        scanner = start_scan(node, jobs=2)
        fuse.wait_read("stuck-blocker", scanner)
        for name in names[1:]:  # each answered while the blocker's read is not
            fuse.wait_read(name, scanner)
        result["ids"] = {name: c.container_id for name, c in started.items()}
        fuse.release()
        finish_scan(scanner, result)
    finally:
        fuse.close()


SCENARIOS = {"--pid-reuse-scenario": pid_reuse_scenario,
             "--stuck-slot-scenario": stuck_slot_scenario}


def run_scenario(flag):
    """Runs a scenario inside this pid namespace (the caller made it); prints
    what happened, the scan and what was left, as JSON."""
    result = {}
    with SimNode(ROOTS_DIR) as node:
        SCENARIOS[flag](result, node)
        result["cgroups"] = list(node.cgroups)
    result["leftovers"] = node.leftovers()
    print(json.dumps(result))


class InPrivatePidNamespace(unittest.TestCase):
    """Scenarios that run in a pid namespace of their own, with their own /proc:
    PIDs are theirs to force, and only their own scanner's reads hold a file."""

    def scenario(self, flag):
        # --kill-child=SIGTERM: should unshare be killed, the scenario still cleans up
        # (SimNode's SIGTERM handler), which SIGKILL would not let it do.
        p = subprocess.Popen(["unshare", "--pid", "--fork", "--mount", "--mount-proc",
                              "--kill-child=SIGTERM", sys.executable, os.path.abspath(__file__),
                              PYCHECK, flag],
                             env=dict(os.environ, PYCHECK_CACHE_DIR=os.path.dirname(ROOTS_DIR)),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            # Longer than any wait inside, which fails first and says why.
            out, err = p.communicate(timeout=3 * PATIENCE)
        except subprocess.TimeoutExpired:
            # unshare --fork ignores SIGTERM: the scenario itself gets it.
            for child in children(p.pid):
                os.kill(child, signal.SIGTERM)
            out, err = p.communicate()
        self.assertEqual(p.returncode, 0, err)
        result = json.loads(out.splitlines()[-1])
        self.assertEqual(result["leftovers"], [])
        self.assertFalse([cg for cg in result["cgroups"] if os.path.isdir(cg)
                          and not has_subdirs(cg)])
        self.assertIsNotNone(result["scan"], result["scan_stderr"])
        return result

    def test_stuck_read_costs_its_own_slot_and_no_more(self):
        result = self.scenario("--stuck-slot-scenario")
        by_id = entries_by_id(result["scan"])
        for name in ("stuck-blocker", "c1", "c2", "c3"):
            entry = by_id[result["ids"][name]][0]
            self.assertEqual(entry["state"], "checked", name)
            self.assertEqual(entry["failing_checks"], [], name)

    def test_container_killed_after_discovery_keeps_its_identity(self):
        result = self.scenario("--pid-reuse-scenario")
        a, b, doc = result["a"], result["b"], result["scan"]
        self.assertEqual(b["pid"], a["pid"], "the PID was not reused: the case did not happen")
        by_id = entries_by_id(doc)
        self.assertNotIn(b["id"], by_id, "B started after discovery")
        entries = by_id.get(a["id"], [])
        self.assertEqual(len(entries), 1, "A was discovered: it must be accounted for")
        self.assertIn(entries[0]["state"], ("vanished", "stale"))
        if "report" in entries[0]:
            # A's root (base), never B's (no-libssl: python.shared-libraries fails).
            self.assertNotIn("python.shared-libraries", entries[0]["failing_checks"])
        # The blocker exited while its check waited in the read: stale, its report kept.
        blocker = by_id[result["blocker"]["id"]][0]
        self.assertEqual(blocker["state"], "stale", blocker.get("reason"))
        self.assertEqual(blocker["report"]["status"], blocker["verdict"])


if __name__ == "__main__":
    if sys.argv[2:3] and sys.argv[2] in SCENARIOS:
        run_scenario(sys.argv[2])
        sys.exit(0)
    if os.geteuid() != 0:
        sys.exit("test_scan.py: run as root (namespaces, cgroups, /proc of every process)")
    # A missing tool fails the run; no test skips itself.
    for tool in ("unshare", "nsenter", "setpriv", "umount", "ldd"):
        if not any(os.access(os.path.join(d, tool), os.X_OK)
                   for d in os.environ.get("PATH", HOST_PATH).split(":") + ["/usr/bin"]):
            sys.exit(f"test_scan.py: {tool} is missing (tests/install-deps.sh)")
    import fusepy  # noqa: F401  (python3-fusepy: the FUSE file of the PID-reuse test)
    if not os.path.exists(PYCHECK):
        sys.exit(f"test_scan.py: no pycheck at {PYCHECK}")
    unittest.main(argv=[sys.argv[0], *sys.argv[2:]], verbosity=2)
