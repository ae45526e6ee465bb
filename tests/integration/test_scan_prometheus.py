#!/usr/bin/env python3
"""A real Prometheus server scraping `pycheck serve --scan` on a simulated node.

Usage (as root, after tests/integration/build-roots.sh; needs Debian's
`prometheus` package for /usr/bin/prometheus):
    test_scan_prometheus.py PYCHECK

Simulated containers (tests/integration/sim_node.py: real processes in real
mount/pid namespaces and kubepods/docker cgroups) run the integration roots: the
python:3.11-slim stand-in, a broken variant (no CA certificates), one with apt
lists (security updates known offline), one without Python and a pod sandbox.
`pycheck serve --scan --interval 1s` scans them; Prometheus scrapes it every
second with the example job of packaging/examples/prometheus/prometheus.yml
(honor_labels, relabeling; Debian's Prometheus has no Kubernetes discovery, so
static_configs hand it the labels the pod role would) and loads the example
alerting rules. serve runs as uid 0 with only the DaemonSet example's
capabilities.

Then, for each container, a PromQL query must return exactly the series
`pycheck --pid <its init> --format json` implies: one per check, labelled
namespace/pod/container/check as the node's files name it, with that check's
success and severity, the pending security updates where known, none for the
container without Python, nothing for the sandbox. A stopped container's series
must be gone after the next scans. Every wait polls with a generous deadline;
nothing here judges speed. Prometheus, serve and every container are ended by
PID, and their cgroups and temp dirs removed.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

import yaml

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from sim_node import SimNode  # noqa: E402

PYCHECK = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else "build-static/pycheck"
SOURCE_DIR = os.path.dirname(os.path.dirname(HERE))
EXAMPLES = os.path.join(SOURCE_DIR, "packaging", "examples", "prometheus")
ROOTS_DIR = os.path.join(os.environ.get("PYCHECK_CACHE_DIR", "/var/cache/pycheck"), "roots")
PROMETHEUS = "/usr/bin/prometheus"
WAIT_S = 60  # generous: a busy CI machine; never a speed check
NODE_NAME = "sim-node"
SEVERITY = {"pass": 0, "skip": 0, "warn": 1, "fail": 2, "error": 3}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=5):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except (urllib.error.URLError, ConnectionError, socket.timeout) as e:
        return None, str(e)


def poll(what, predicate, timeout=WAIT_S):
    """predicate() -> (done, detail); the last detail is in the failure."""
    end = time.monotonic() + timeout
    while True:
        done, detail = predicate()
        if done:
            return detail
        if time.monotonic() > end:
            raise AssertionError(f"after {timeout} s, still not {what}: {detail}")
        time.sleep(0.5)


def selector(labels, **more):
    items = {**labels, **more}
    return "{" + ",".join(f'{k}="{v}"' for k, v in sorted(items.items())) + "}"


def daemonset_bounding_set():
    """setpriv's --bounding-set for the capabilities the DaemonSet example adds."""
    path = os.path.join(SOURCE_DIR, "packaging", "examples", "k8s",
                        "pycheck-node-scan-daemonset.yaml")
    with open(path) as f:
        (ds,) = [d for d in yaml.safe_load_all(f) if d and d["kind"] == "DaemonSet"]
    (c,) = ds["spec"]["template"]["spec"]["containers"]
    caps = c["securityContext"]["capabilities"]
    assert caps["drop"] == ["ALL"], caps
    return "-all," + ",".join("+" + cap.lower() for cap in caps["add"])


class Daemon:
    """A background process in a session of its own, ended by its PID's group."""

    def __init__(self, argv, log):
        self.log = log
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)

    def stop(self):
        pgid = self.proc.pid  # start_new_session: its group is its own PID
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        try:
            os.killpg(pgid, signal.SIGKILL)  # a check's child left in the group
        except ProcessLookupError:
            pass

    def tail(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()[-3000:]
        except FileNotFoundError:
            return ""


def group_members(pgid):
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    text = f.read()
            except (FileNotFoundError, ProcessLookupError):
                continue
            fields = text[text.rindex(")") + 2:].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                found.append(int(name))
    return found


class ScanPrometheus(unittest.TestCase):
    def setUp(self):
        for name in ("base", "no-ca-certificates", "apt-lists"):
            if not os.path.isfile(os.path.join(ROOTS_DIR, name + ".key")):
                self.fail(f"root {name} is not built in {ROOTS_DIR} (build-roots.sh)")
        self.assertTrue(os.access(PROMETHEUS, os.X_OK), "apt-get install prometheus")
        self.tmp = tempfile.mkdtemp(prefix="pycheck-scan-prom-")
        self.daemons = []
        self.node = SimNode(ROOTS_DIR)
        self.addCleanup(self.cleanup)

    def cleanup(self):
        groups = [d.proc.pid for d in self.daemons]
        for d in reversed(self.daemons):
            d.stop()
        self.node.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
        left = self.node.leftovers()
        for g in groups:  # a killed process may take a moment to be reaped
            try:
                poll(f"group {g} empty", lambda: (not group_members(g), group_members(g)), 15)
            except AssertionError as e:
                left.append(str(e))
        self.assertEqual(left, [], "left behind")

    def start_node(self):
        n = self.node
        web = n.start("web", runtime="containerd", driver="systemd", root="base",
                      namespace="shop", pod="web-6d5f", container="app",
                      image="python:3.11-slim",
                      names=("containerd state", "mountinfo", "/var/log/pods"))
        pause = n.start("web-pause", runtime="containerd", driver="systemd", root="pause",
                        pod_uid=web.pod_uid, namespace="shop", pod="web-6d5f", sandbox=True,
                        names=("containerd state",))
        broken = n.start("broken", runtime="cri-o", driver="cgroupfs", root="no-ca-certificates",
                         namespace="shop", pod="api-7c9", container="api",
                         image="api:1.4", names=("cri-o state",))
        n.conmon(broken)
        apt = n.start("apt", runtime="containerd", driver="cgroupfs", qos="besteffort",
                      root="apt-lists", namespace="batch", pod="report-28f", container="report",
                      names=("/var/log/containers", "/var/log/pods", "mountinfo"))
        worker = n.start("worker", runtime="docker", driver="systemd", root="base",
                         container="worker", image="worker:2", names=("docker config",))
        nopy = n.start("nopy", runtime="containerd", driver="systemd", root="no-python",
                       namespace="shop", pod="tools-1", container="sh",
                       names=("containerd state",))
        for c in (web, pause, broken, apt, worker, nopy):
            n.verify(c)
        return web, pause, broken, apt, worker, nopy

    def expected(self, c):
        """The series `pycheck --pid` implies for container c: {check: (success,
        severity)}, and the pending security updates (None: unknown, no series)."""
        proc = subprocess.run([PYCHECK, "--pid", str(c.pid), "--format", "json",
                               "--timeout", "10s"], capture_output=True, text=True, timeout=60)
        self.assertIn(proc.returncode, (0, 1), proc.stderr)
        report = json.loads(proc.stdout)
        checks = {ch["id"]: (0 if ch["status"] in ("fail", "error") else 1,
                             SEVERITY[ch["status"]]) for ch in report["checks"]}
        pending = None
        for ch in report["checks"]:
            if ch["id"] == "apt.security-updates":
                pending = (ch.get("details") or {}).get("pending_count")
        return checks, pending

    def write_config(self, serve_port):
        """The example's scrape job, kubernetes_sd_configs replaced by what the pod
        role would give for the scanner's pod; a second job adds the target
        labels namespace/pod that many kubernetes-pods configs add."""
        with open(os.path.join(EXAMPLES, "prometheus.yml")) as f:
            example = yaml.safe_load(f)
        (job,) = [j for j in example["scrape_configs"] if j["job_name"] == "pycheck-node-scan"]
        self.assertIs(job["honor_labels"], True)
        del job["kubernetes_sd_configs"]
        meta = {"__meta_kubernetes_pod_label_app_kubernetes_io_name": "pycheck-node-scan",
                "__meta_kubernetes_pod_container_port_name": "metrics",
                "__meta_kubernetes_pod_node_name": NODE_NAME}
        target = f"127.0.0.1:{serve_port}"
        job["static_configs"] = [
            {"targets": [target], "labels": meta},
            # Another port of the same pod: the keep rule must drop it.
            {"targets": [f"127.0.0.1:{free_port()}"],
             "labels": {**meta, "__meta_kubernetes_pod_container_port_name": "debug"}}]
        named = json.loads(json.dumps(job))
        named["job_name"] = "pycheck-node-scan-target-names"
        named["static_configs"] = [{"targets": [target], "labels": {
            **meta, "namespace": "pycheck", "pod": "pycheck-node-scan-x7k2p"}}]
        config = {
            "global": {"scrape_interval": "1s", "scrape_timeout": "1s",
                       "evaluation_interval": "1s"},
            "rule_files": [os.path.join(EXAMPLES, r) for r in example["rule_files"]],
            "scrape_configs": [job, named]}
        path = os.path.join(self.tmp, "prometheus.yml")
        with open(path, "w") as f:
            yaml.safe_dump(config, f)
        return path

    def start_prometheus(self, config):
        port = free_port()
        storage = os.path.join(self.tmp, "tsdb")
        os.makedirs(storage)
        prom = Daemon([PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={storage}",
                       f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
                      os.path.join(self.tmp, "prometheus.log"))
        self.daemons.append(prom)
        base = f"http://127.0.0.1:{port}"
        poll("Prometheus ready", lambda: (http_get(base + "/-/ready")[0] == 200
                                          or self.exited(prom), prom.tail()))
        return base

    def exited(self, daemon):
        if daemon.proc.poll() is not None:
            self.fail(f"{daemon.proc.args[0]} exited {daemon.proc.returncode}: {daemon.tail()}")
        return False

    def query(self, base, promql):
        status, body = http_get(base + "/api/v1/query?" + urllib.parse.urlencode({"query": promql}))
        self.assertEqual(status, 200, body)
        doc = json.loads(body)
        self.assertEqual(doc["status"], "success", body)
        return [(r["metric"], float(r["value"][1])) for r in doc["data"]["result"]]

    def series(self, base, metric, labels, job="pycheck-node-scan"):
        return self.query(base, metric + selector(labels, job=job))

    def test_prometheus_holds_each_containers_series_and_forgets_a_stopped_one(self):
        web, pause, broken, apt, worker, nopy = self.start_node()
        checked = (web, broken, apt, worker)
        expected = {c.key: self.expected(c) for c in checked}
        # The set-up itself: the broken root fails its CA check, the apt-lists
        # root knows its pending updates offline, the stand-in does not.
        self.assertEqual(expected["broken"][0]["tls.ca-certificates"], (0, 2))
        self.assertEqual(expected["web"][0]["tls.ca-certificates"], (1, 0))
        self.assertIsNotNone(expected["apt"][1])
        self.assertIsNone(expected["web"][1])

        # As in the DaemonSet example: uid 0 with only its capabilities, no
        # new privileges. Every container below must be checked with them.
        serve_port = free_port()
        serve = Daemon(["setpriv", "--bounding-set", daemonset_bounding_set(), "--no-new-privs",
                        PYCHECK, "serve", "--scan", "--interval", "1s", "--listen",
                        f"127.0.0.1:{serve_port}", "--node-root", self.node.node_root],
                       os.path.join(self.tmp, "serve.log"))
        self.daemons.append(serve)
        base = self.start_prometheus(self.write_config(serve_port))

        # Both jobs scrape it; the "debug" port was dropped by the keep rule.
        def targets():
            status, body = http_get(base + "/api/v1/targets")
            self.exited(serve)
            if status != 200:
                return False, body
            active = json.loads(body)["data"]["activeTargets"]
            ups = sorted((t["labels"]["job"], t["health"]) for t in active)
            return ups == [("pycheck-node-scan", "up"),
                           ("pycheck-node-scan-target-names", "up")], ups
        poll("both targets up", targets)

        def matches(c):
            checks, pending = expected[c.key]
            labels = c.metric_labels
            want = {ch: v[0] for ch, v in checks.items()}
            got_success = self.series(base, "pycheck_container_check_success", labels)
            got = {m.get("check"): v for m, v in got_success}
            if got != want:
                return False, f"{c.key}: success {got}, want {want}"
            for m, _ in got_success:
                # An empty label is no label in Prometheus (plain Docker: no namespace, pod).
                self.assertEqual(set(m), {"__name__", "check", "job", "instance", "node"}
                                 | {k for k, v in labels.items() if v}, m)
                self.assertEqual(m["node"], NODE_NAME)
            severity = {m["check"]: v for m, v in
                        self.series(base, "pycheck_container_check_severity", labels)}
            if severity != {ch: v[1] for ch, v in checks.items()}:
                return False, f"{c.key}: severity {severity}"
            updates = self.series(base, "pycheck_container_security_updates_pending", labels)
            if [v for _, v in updates] != ([] if pending is None else [pending]):
                return False, f"{c.key}: security updates {updates}, want {pending}"
            python = self.series(base, "pycheck_container_python", labels)
            return [v for _, v in python] == [1], f"{c.key}: python {python}"

        for c in checked:
            with self.subTest(container=c.key, labels=c.metric_labels):
                poll(f"{c.key}'s series as pycheck --pid says", lambda: matches(c))
        self.assertEqual(worker.metric_labels, {"namespace": "", "pod": "", "container": "worker"})

        # No Python: listed as such, no check series. The sandbox: nothing.
        poll("nopy listed without Python", lambda: (
            [v for _, v in self.series(base, "pycheck_container_python",
                                       nopy.metric_labels)] == [0], nopy.metric_labels))
        self.assertEqual(
            self.series(base, "pycheck_container_check_success", nopy.metric_labels), [])
        sandbox = '{__name__=~"pycheck_container_.+",' + selector(pause.metric_labels)[1:]
        self.assertEqual(self.query(base, sandbox), [])
        in_pod = self.query(base, 'pycheck_container_python{pod="web-6d5f"}')
        self.assertEqual({m["container"] for m, _ in in_pod}, {"app"}, in_pod)
        (_, sandboxes), = self.series(base, "pycheck_scan_containers", {"state": "sandbox"})
        self.assertGreaterEqual(sandboxes, 1)  # other simulations may run on this machine too
        (_, ok), = self.series(base, "pycheck_scan_success", {"node": NODE_NAME})
        self.assertEqual(ok, 1)

        # honor_labels: a job whose target carries the scanner pod's own
        # namespace/pod keeps the scanned container's (no exported_*) ...
        def named_job():
            got = self.series(base, "pycheck_container_python", web.metric_labels,
                              job="pycheck-node-scan-target-names")
            return len(got) == 1, got
        (m, _), = poll("the target-names job's series of web", named_job)
        self.assertFalse([k for k in m if k.startswith("exported_")], m)
        # ... even the empty ones of a plain Docker container (measured with
        # Debian's Prometheus 2.42: a label the scrape exposes empty is not
        # filled from the target); only series without such labels at all
        # (the scan gauges) take the target's.
        docker = self.query(base, 'pycheck_container_python{job="pycheck-node-scan-target-names",'
                                  'container="worker"}')
        self.assertEqual([sorted(set(d) & {"namespace", "pod"}) for d, _ in docker], [[]], docker)
        (m, _), = self.series(base, "pycheck_scan_success", {},
                              job="pycheck-node-scan-target-names")
        self.assertEqual((m.get("namespace"), m.get("pod")), ("pycheck", "pycheck-node-scan-x7k2p"))

        # The example alerting rules evaluate without error on these series.
        def rules_ok():
            _, body = http_get(base + "/api/v1/rules")
            rules = [r for g in json.loads(body)["data"]["groups"] for r in g["rules"]]
            return (len(rules) == 6 and all(r["health"] == "ok" for r in rules),
                    [(r["name"], r["health"], r.get("lastError")) for r in rules])
        poll("every example rule evaluated", rules_ok)

        # A stopped container: its series go with the next scan (Prometheus
        # marks series missing from a scrape stale at once); the others stay.
        self.node.stop(broken)
        gone = ('{__name__=~"pycheck_container_.+",job="pycheck-node-scan",'
                'namespace="shop",pod="api-7c9"}')
        poll("broken's series gone", lambda: (self.query(base, gone) == [], self.query(base, gone)))
        for c in (web, apt, worker):
            self.assertTrue(matches(c)[0], matches(c)[1])
        self.exited(serve)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"], verbosity=2)
