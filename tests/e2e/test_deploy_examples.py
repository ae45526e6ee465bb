#!/usr/bin/env python3
"""Tests of the deployment examples in packaging/examples/.

Usage: test_deploy_examples.py PYCHECK_BINARY SOURCE_DIR

There is no Docker engine and no Kubernetes here, so each example is checked as
far as this machine allows: the Kubernetes manifests are parsed (python3-yaml)
and the fields that decide whether the probes work are compared with each
other (probe timeouts against pycheck's deadline, probe ports against serve's
--listen, scrape annotations, shareProcessNamespace and SYS_PTRACE for the
sidecar); the Dockerfile's HEALTHCHECK is parsed the same way. Then every
pycheck command line in the examples runs for real, with only the binary's
path (and, for serve, the port number) replaced: the one-shot probes on a
fixture root, serve answering /livez, /readyz and /metrics, and the sidecar's
shell script finding a process by its command line, serving its
/proc/PID/root, and exiting when that process goes away.

The node-scan DaemonSet is cross-checked the same way (hostPID, exactly the
capabilities it needs, the read-only /var/log where --node-root points) and its
`pycheck serve --scan` argv runs for real on this machine's /proc with the
manifest's capability set; the Prometheus examples go through promtool (check
config, check rules, and unit tests of the alerts' 1 h thresholds).
"""
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

import yaml
from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_e2e import PYCHECK, SOURCE_DIR, FixtureRoot  # noqa: E402

EXAMPLES = os.path.join(SOURCE_DIR, "packaging", "examples")
K8S = os.path.join(EXAMPLES, "k8s")
DOCKERFILE = os.path.join(EXAMPLES, "Dockerfile.python-slim")
IMAGE_PYCHECK = "/usr/local/bin/pycheck"  # where the example image puts the binary
DEFAULT_DEADLINE_MS = 800  # pycheck's --timeout default (agent/cli/run_timeout.h) ...
ONLINE_DEFAULT_DEADLINE_MS = 10000  # ... and with --online

# The fields Kubernetes knows in the objects the examples use: a typo (e.g.
# `timeoutSecond`) is silently dropped by a lenient client, so list them.
PROBE_KEYS = {"exec", "httpGet", "tcpSocket", "grpc", "initialDelaySeconds", "periodSeconds",
              "timeoutSeconds", "successThreshold", "failureThreshold",
              "terminationGracePeriodSeconds"}
CONTAINER_KEYS = {"name", "image", "command", "args", "env", "envFrom", "ports", "readinessProbe",
                  "livenessProbe", "startupProbe", "resources", "securityContext", "volumeMounts",
                  "workingDir", "imagePullPolicy", "lifecycle"}
SECURITY_KEYS = {"runAsUser", "runAsGroup", "runAsNonRoot", "allowPrivilegeEscalation",
                 "readOnlyRootFilesystem", "capabilities", "privileged", "seccompProfile",
                 "appArmorProfile", "seLinuxOptions"}
POD_SPEC_KEYS = {"containers", "initContainers", "shareProcessNamespace", "volumes",
                 "securityContext", "serviceAccountName", "terminationGracePeriodSeconds",
                 "hostPID", "tolerations", "automountServiceAccountToken"}
DAEMONSET = "pycheck-node-scan-daemonset.yaml"
PROMETHEUS = os.path.join(EXAMPLES, "prometheus")


def duration_ms(text):
    """'800ms', '2s', '1m' -> milliseconds (the forms pycheck and Docker accept here)."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m|h)", text)
    if not m:
        raise ValueError(f"not a duration: {text!r}")
    return float(m.group(1)) * {"ms": 1, "s": 1000, "m": 60000, "h": 3600000}[m.group(2)]


def pycheck_deadline_ms(argv):
    """The deadline a pycheck command line asks for: --timeout, else the default
    (which is longer with --online)."""
    for i, arg in enumerate(argv):
        if arg == "--timeout":
            return duration_ms(argv[i + 1])
        if arg.startswith("--timeout="):
            return duration_ms(arg.split("=", 1)[1])
    return ONLINE_DEFAULT_DEADLINE_MS if "--online" in argv else DEFAULT_DEADLINE_MS


def listen_port(argv):
    i = argv.index("--listen")
    return int(argv[i + 1].rsplit(":", 1)[1])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=2):
    """(status, body) for a GET; (None, error) when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8")
    except (urllib.error.URLError, ConnectionError, socket.timeout) as e:
        return None, str(e)


def wait_for(url, want, deadline_s):
    end = time.monotonic() + deadline_s
    last = (None, "")
    while time.monotonic() < end:
        last = http_get(url)
        if last[0] in want:
            return last
        time.sleep(0.2)
    raise AssertionError(f"{url}: wanted {want}, last answer {last}")


def load_manifest(name):
    with open(os.path.join(K8S, name)) as f:
        docs = [d for d in yaml.safe_load_all(f) if d is not None]
    assert len(docs) == 1, name
    return docs[0]


def load_all(name):
    with open(os.path.join(K8S, name)) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def containers(doc):
    return {c["name"]: c for c in doc["spec"]["template"]["spec"]["containers"]}


def parse_dockerfile(path):
    """Instructions as (KEYWORD, text), continuation lines joined, comments dropped."""
    instructions, current = [], ""
    with open(path) as f:
        for raw in f:
            line = raw.rstrip("\n")
            if not current and (not line.strip() or line.lstrip().startswith("#")):
                continue
            if line.endswith("\\"):
                current += line[:-1] + " "
                continue
            current += line
            keyword, _, rest = current.strip().partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
            current = ""
    return instructions


def parse_healthcheck(rest):
    """'--interval=30s ... CMD ["a", "b"]' -> ({option: value}, argv)."""
    options, tokens = {}, rest.split()
    while tokens and tokens[0].startswith("--"):
        key, _, value = tokens.pop(0)[2:].partition("=")
        options[key] = value
    assert tokens and tokens[0] == "CMD", rest
    form = " ".join(tokens[1:])
    argv = json.loads(form)  # exec form: a JSON array, or this raises
    assert isinstance(argv, list) and all(isinstance(a, str) for a in argv), form
    return options, argv


class Server:
    """A background process whose HTTP endpoints the test reads; always stopped."""

    def __init__(self, argv, **kwargs):
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     start_new_session=True, **kwargs)

    def output(self):
        return self.proc.stdout.read().decode("utf-8", "replace") if self.proc.stdout else ""

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # a child left behind (serve under sh)
        except ProcessLookupError:
            pass
        if self.proc.stdout:
            self.proc.stdout.close()


class DeployExamples(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="pycheck-e2e-deploy-")
        self.root = FixtureRoot(self.tmp)
        self.root.official_image()

    def tearDown(self):
        subprocess.run(["rm", "-rf", self.tmp], check=False)

    def on_fixture(self, argv):
        """The example's pycheck argv with the built binary, on the fixture root."""
        self.assertEqual(argv[0], IMAGE_PYCHECK)
        return [PYCHECK, *argv[1:], "--root", self.root.dir, "--env-file", self.root.env_file()]

    def run_probe(self, argv, limit_s):
        """Runs a one-shot probe command line as the kubelet or Docker would."""
        start = time.monotonic()
        proc = subprocess.run(self.on_fixture(argv), capture_output=True, text=True,
                              timeout=limit_s)
        took = time.monotonic() - start
        self.assertIn(proc.returncode, (0, 1), proc.stderr)  # 2 would be a usage error
        self.assertLess(took, limit_s)
        return proc

    # --- every manifest ---------------------------------------------------

    def test_manifests_are_deployments_with_known_fields(self):
        names = sorted(f for f in os.listdir(K8S) if f.endswith(".yaml"))
        self.assertEqual(names, ["deployment-exec-probe.yaml", "deployment-serve.yaml",
                                 DAEMONSET, "sidecar-pid.yaml"])
        for name in names:
            docs = load_all(name)
            doc = docs[-1]
            kind = "DaemonSet" if name == DAEMONSET else "Deployment"
            self.assertEqual((doc["apiVersion"], doc["kind"]), ("apps/v1", kind), name)
            self.assertEqual([d["kind"] for d in docs[:-1]],
                             ["Namespace"] if name == DAEMONSET else [], name)
            labels = doc["spec"]["template"]["metadata"]["labels"]
            for k, v in doc["spec"]["selector"]["matchLabels"].items():
                self.assertEqual(labels.get(k), v, f"{name}: selector does not match the pod")
            spec = doc["spec"]["template"]["spec"]
            self.assertLessEqual(set(spec), POD_SPEC_KEYS, name)
            for c in spec["containers"]:
                self.assertLessEqual(set(c), CONTAINER_KEYS, f"{name}: {c['name']}")
                self.assertLessEqual(set(c.get("securityContext", {})), SECURITY_KEYS, name)
                self.assertIsInstance(c.get("command", []), list, "exec form only")
                for kind in ("readinessProbe", "livenessProbe", "startupProbe"):
                    probe = c.get(kind)
                    if probe is None:
                        continue
                    self.assertLessEqual(set(probe), PROBE_KEYS, f"{name}: {c['name']} {kind}")
                    command = probe.get("exec", {}).get("command", [])
                    if command[:1] == [IMAGE_PYCHECK]:
                        # A broken image is not fixed by a restart: pycheck's
                        # verdict belongs in readiness, never in liveness.
                        self.assertEqual(kind, "readinessProbe", f"{name}: {c['name']}")

    # --- (a) exec probe ---------------------------------------------------

    def test_exec_probe_deadline_fits_the_probe_timeout_and_the_argv_runs(self):
        app = containers(load_manifest("deployment-exec-probe.yaml"))["app"]
        probe = app["readinessProbe"]
        argv = probe["exec"]["command"]
        self.assertIsInstance(argv, list)
        self.assertEqual(argv[0], IMAGE_PYCHECK)
        deadline = pycheck_deadline_ms(argv)
        timeout_s = probe.get("timeoutSeconds", 1)  # Kubernetes' default is 1
        self.assertGreater(timeout_s * 1000, deadline, "the kubelet would kill pycheck first")
        self.assertGreaterEqual(probe.get("periodSeconds", 10), timeout_s)
        self.assertNotIn("livenessProbe", app)
        proc = self.run_probe(argv, timeout_s)
        self.assertEqual(proc.returncode, 0, proc.stdout)
        self.assertTrue(proc.stdout.startswith("pycheck: PASS"), proc.stdout)
        self.root.remove("/etc/ssl/certs")
        self.root.drop_package("ca-certificates")
        proc = self.run_probe(argv, timeout_s)
        self.assertEqual(proc.returncode, 1, proc.stdout)

    # --- (b) serve next to the app ------------------------------------------

    def serve_pod(self, name):
        doc = load_manifest(name)
        cs = containers(doc)
        annotations = doc["spec"]["template"]["metadata"].get("annotations", {})
        return doc, cs, annotations

    def check_serve_wiring(self, cs, annotations, port):
        self.assertEqual(annotations.get("prometheus.io/scrape"), "true")
        self.assertEqual(annotations.get("prometheus.io/port"), str(port))
        self.assertEqual(annotations.get("prometheus.io/path"), "/metrics")
        self.assertIn(port, [p["containerPort"] for p in cs["pycheck"].get("ports", [])])
        probes = [(c["name"], kind, c[kind]) for c in cs.values()
                  for kind in ("readinessProbe", "livenessProbe") if kind in c]
        self.assertIn(("app", "readinessProbe"), [(n, k) for n, k, _ in probes])
        self.assertIn(("pycheck", "livenessProbe"), [(n, k) for n, k, _ in probes])
        for cname, kind, probe in probes:
            self.assertIn("httpGet", probe, f"{cname} {kind}")
            self.assertEqual(probe["httpGet"]["port"], port, f"{cname} {kind}")
            want = "/livez" if kind == "livenessProbe" else "/readyz"
            self.assertEqual(probe["httpGet"]["path"], want, f"{cname} {kind}")
        # Liveness only restarts pycheck's own container, never the app.
        self.assertNotIn("livenessProbe", cs["app"])

    def test_serve_deployment_wiring_and_the_argv_serves(self):
        _, cs, annotations = self.serve_pod("deployment-serve.yaml")
        argv = cs["pycheck"]["command"]
        self.assertEqual(argv[:2], [IMAGE_PYCHECK, "serve"])
        listen = argv[argv.index("--listen") + 1]
        self.assertTrue(listen.startswith(":") or listen.startswith("[::]"),
                        f"{listen}: the kubelet connects to the pod IP, not to loopback")
        port = listen_port(argv)
        self.check_serve_wiring(cs, annotations, port)
        self.assertEqual(cs["pycheck"]["image"], cs["app"]["image"],
                         "the pycheck container judges the app's image only if it runs it")
        self.assertEqual(cs["pycheck"].get("env"), cs["app"].get("env"),
                         "pycheck judges its own env: it must be the app's")

        local = free_port()
        served = [a.replace(f":{port}", f":{local}") if a == listen else a for a in argv]
        server = Server(self.on_fixture(served))
        try:
            base = f"http://127.0.0.1:{local}"
            wait_for(base + "/livez", {200}, 10)
            wait_for(base + "/report", {200}, 20)  # 503 until the first run completes
            status, body = http_get(base + "/readyz?verbose")
            self.assertEqual(status, 200, body)
            status, metrics = http_get(base + "/metrics")
            self.assertEqual(status, 200)
            names = {f.name for f in text_string_to_metric_families(metrics)}
            self.assertIn("pycheck_check_success", names)
            self.assertIn("pycheck_python_info", names)
        finally:
            server.stop()

    # --- (c) sidecar with --pid -------------------------------------------

    def test_sidecar_pid_wiring(self):
        doc, cs, annotations = self.serve_pod("sidecar-pid.yaml")
        self.assertIs(doc["spec"]["template"]["spec"].get("shareProcessNamespace"), True)
        caps = cs["pycheck"]["securityContext"]["capabilities"]
        self.assertIn("SYS_PTRACE", caps.get("add", []))
        self.assertEqual(caps.get("drop"), ["ALL"])
        self.assertEqual(cs["pycheck"]["securityContext"].get("runAsUser"), 0,
                         "added capabilities are not effective for a non-root user")
        env = {e["name"]: e["value"] for e in cs["pycheck"]["env"]}
        self.assertEqual(env["APP_CMDLINE"], " ".join(cs["app"]["command"]))
        script = cs["pycheck"]["command"][2]
        serve_line = next(line for line in script.splitlines() if "pycheck serve" in line)
        argv = shlex.split(serve_line.rstrip("&"))
        self.assertEqual(argv[:2], [IMAGE_PYCHECK, "serve"])
        self.assertIn("--pid", argv)
        self.check_serve_wiring(cs, annotations, listen_port(argv))

    def sidecar_script(self, port):
        cs = containers(load_manifest("sidecar-pid.yaml"))
        self.assertEqual(cs["pycheck"]["command"][:2], ["/bin/sh", "-c"])
        script = cs["pycheck"]["command"][2]
        self.assertIn(f"{IMAGE_PYCHECK} serve", script)
        self.assertIn("--listen :8079", script)
        return script.replace(f"{IMAGE_PYCHECK} serve", f"{PYCHECK} serve").replace(
            "--listen :8079", f"--listen 127.0.0.1:{port}")

    def start_app(self):
        """A stand-in for the app container's process, with a unique command line."""
        argv = ["sleep", f"{os.getpid()}.{int(time.time() * 1000) % 100000}"]
        return subprocess.Popen(argv), " ".join(argv)

    def test_sidecar_script_finds_the_app_serves_its_root_and_exits_when_it_goes(self):
        port = free_port()
        app, cmdline = self.start_app()
        sidecar = Server(["/bin/sh", "-c", self.sidecar_script(port)],
                         env={**os.environ, "APP_CMDLINE": cmdline})
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for(base + "/livez", {200}, 15)
            status, body = wait_for(base + "/report", {200}, 30)
            self.assertEqual(json.loads(body)["root"], f"/proc/{app.pid}/root")
            app.kill()
            app.wait()
            # The script notices within its 5 s poll and exits 1 so the kubelet
            # restarts it; the serve process goes with it.
            self.assertEqual(sidecar.proc.wait(timeout=15), 1)
            out = sidecar.output()
            self.assertIn(f"through PID {app.pid}", out)
            self.assertIn("is gone", out)
            self.assertIsNone(http_get(base + "/livez", timeout=1)[0])
        finally:
            app.kill()
            app.wait()
            sidecar.stop()

    def test_sidecar_script_waits_for_the_app_and_stops_on_sigterm(self):
        port = free_port()
        cmdline = f"sleep {os.getpid()}.{int(time.time() * 1000) % 100000}7"
        sidecar = Server(["/bin/sh", "-c", self.sidecar_script(port)],
                         env={**os.environ, "APP_CMDLINE": cmdline})
        app = None
        try:
            time.sleep(1.5)
            self.assertIsNone(sidecar.proc.poll(), "it must wait for the app, not give up")
            self.assertIsNone(http_get(f"http://127.0.0.1:{port}/livez", timeout=1)[0])
            app = subprocess.Popen(cmdline.split())
            wait_for(f"http://127.0.0.1:{port}/livez", {200}, 15)
            os.kill(sidecar.proc.pid, signal.SIGTERM)  # what the kubelet sends
            self.assertEqual(sidecar.proc.wait(timeout=15), 0)
            self.assertIsNone(http_get(f"http://127.0.0.1:{port}/livez", timeout=1)[0])
        finally:
            if app:
                app.kill()
                app.wait()
            sidecar.stop()

    # --- (d) node-wide scan as a DaemonSet ---------------------------------

    def daemonset(self):
        namespace, ds = load_all(DAEMONSET)
        (c,) = ds["spec"]["template"]["spec"]["containers"]
        return namespace, ds, c

    def test_daemonset_privileges_are_exactly_what_the_scan_needs(self):
        namespace, ds, c = self.daemonset()
        # Pod Security "baseline" rejects hostPID, these capabilities and hostPath.
        self.assertEqual(namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"],
                         "privileged")
        self.assertEqual(ds["metadata"]["namespace"], namespace["metadata"]["name"])
        spec = ds["spec"]["template"]["spec"]
        self.assertIs(spec.get("hostPID"), True, "the scanner must see every process")
        self.assertNotIn("hostNetwork", spec)
        self.assertIs(spec.get("automountServiceAccountToken"), False,
                      "names come from the node's files, not from the API server")
        # One pod on every node, tainted or not.
        self.assertIn({"operator": "Exists"}, spec.get("tolerations", []))
        sc = c["securityContext"]
        self.assertEqual(sc.get("runAsUser"), 0,
                         "added capabilities are not effective for a non-root user")
        self.assertIs(sc.get("readOnlyRootFilesystem"), True)
        self.assertIs(sc.get("allowPrivilegeEscalation"), False)
        self.assertNotIn("privileged", sc)
        self.assertEqual(sc["capabilities"].get("drop"), ["ALL"])
        self.assertEqual(sorted(sc["capabilities"].get("add", [])),
                         ["DAC_READ_SEARCH", "SYS_PTRACE"])
        self.assertEqual(sc.get("appArmorProfile"), {"type": "Unconfined"})
        self.assertEqual(sc.get("seccompProfile"), {"type": "RuntimeDefault"})
        for kind in ("requests", "limits"):
            self.assertIn("memory", c["resources"][kind], kind)
            self.assertIn("cpu", c["resources"][kind], kind)

    def scan_argv(self, c):
        argv = c["command"]
        self.assertEqual(argv[:3], [IMAGE_PYCHECK, "serve", "--scan"])
        for option in ("--root", "--pid", "--env-file", "--format", "--output"):
            self.assertNotIn(option, argv, "a usage error with serve --scan")
        return argv

    def test_daemonset_wiring(self):
        _, ds, c = self.daemonset()
        labels = ds["spec"]["template"]["metadata"]["labels"]
        for k, v in ds["spec"]["selector"]["matchLabels"].items():
            self.assertEqual(labels.get(k), v)
        argv = self.scan_argv(c)
        listen = argv[argv.index("--listen") + 1]
        self.assertTrue(listen.startswith(":"), "Prometheus connects to the pod IP")
        port = listen_port(argv)
        self.assertEqual([(p["name"], p["containerPort"]) for p in c["ports"]], [("metrics", port)])
        for kind, path in (("livenessProbe", "/livez"), ("readinessProbe", "/readyz")):
            self.assertEqual(c[kind]["httpGet"], {"path": path, "port": port}, kind)
        # The node's /var/log, read-only, where --node-root looks for it.
        node_root = argv[argv.index("--node-root") + 1]
        volumes = {v["name"]: v for v in ds["spec"]["template"]["spec"]["volumes"]}
        mounts = c["volumeMounts"]
        self.assertTrue(all(m.get("readOnly") is True for m in mounts),
                        "nothing on the host is written")
        (log,) = [m for m in mounts if volumes[m["name"]]["hostPath"]["path"] == "/var/log"]
        self.assertEqual(log["mountPath"], os.path.join(node_root, "var/log"))
        for m in mounts:
            host_path = volumes[m["name"]]["hostPath"]["path"]
            self.assertEqual(m["mountPath"], node_root + host_path, "--node-root mirrors the host")
        # --interval and --jobs parse.
        self.assertGreater(duration_ms(argv[argv.index("--interval") + 1]), 0)
        self.assertGreater(int(argv[argv.index("--jobs") + 1]), 0)

    def prometheus_job(self):
        with open(os.path.join(PROMETHEUS, "prometheus.yml")) as f:
            config = yaml.safe_load(f)
        (job,) = [j for j in config["scrape_configs"] if j["job_name"] == "pycheck-node-scan"]
        return config, job

    def test_prometheus_scrape_job_selects_the_daemonset_pods(self):
        namespace, ds, c = self.daemonset()
        _, job = self.prometheus_job()
        self.assertIs(job.get("honor_labels"), True)
        (sd,) = job["kubernetes_sd_configs"]
        self.assertEqual(set(sd), {"role", "namespaces"})
        self.assertEqual(sd["role"], "pod")
        self.assertEqual(sd["namespaces"], {"names": [namespace["metadata"]["name"]]})
        # The keep rules match the DaemonSet's pod label and port name, and
        # only those: a sibling port or another app is dropped.
        pod_labels = ds["spec"]["template"]["metadata"]["labels"]
        meta = {"__meta_kubernetes_pod_container_port_name": c["ports"][0]["name"]}
        for k, v in pod_labels.items():
            meta["__meta_kubernetes_pod_label_" + re.sub(r"[^a-zA-Z0-9_]", "_", k)] = v
        keeps = [r for r in job["relabel_configs"] if r.get("action") == "keep"]
        self.assertEqual(len(keeps), 2)
        for rule in keeps:
            value = ";".join(meta.get(label, "") for label in rule["source_labels"])
            self.assertRegex(value, "^(?:" + rule["regex"] + ")$", rule)
            self.assertNotRegex(value + "x", "^(?:" + rule["regex"] + ")$", rule)
        # No target label would overwrite the scanned containers' names.
        targets = {r.get("target_label") for r in job["relabel_configs"]}
        self.assertFalse(targets & {"namespace", "pod", "container", "check"}, targets)

    def test_stale_scan_alert_leaves_room_for_the_daemonsets_scans(self):
        _, _, c = self.daemonset()
        argv = self.scan_argv(c)
        interval_s = duration_ms(argv[argv.index("--interval") + 1]) / 1000
        scan_timeout_s = 60  # the contract's default; the manifest sets none
        self.assertNotIn("--scan-timeout", argv)
        with open(os.path.join(PROMETHEUS, "pycheck-alerts.yml")) as f:
            rules = {r["alert"]: r for g in yaml.safe_load(f)["groups"] for r in g["rules"]}
        m = re.fullmatch(r"time\(\) - pycheck_scan_last_timestamp_seconds > (\d+)",
                         rules["PycheckScanStale"]["expr"])
        self.assertIsNotNone(m, rules["PycheckScanStale"]["expr"])
        # A scan may start an interval after the last one and take its whole
        # deadline: only several of those in a row are "not scanning".
        self.assertGreaterEqual(int(m.group(1)), 3 * (interval_s + scan_timeout_s))
        for name in ("PycheckContainerCheckFailing", "PycheckContainerSecurityUpdatesPending"):
            self.assertEqual(rules[name]["for"], "1h", name)

    def promtool(self, *args):
        proc = subprocess.run(["promtool", *args], capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        return proc.stdout

    def test_prometheus_config_and_rules_pass_promtool(self):
        out = self.promtool("check", "rules", os.path.join(PROMETHEUS, "pycheck-alerts.yml"))
        self.assertIn("SUCCESS: 6 rules found", out)
        # Debian builds Prometheus without Kubernetes discovery, so promtool
        # rejects kubernetes_sd_configs (its fields are checked above): check a
        # copy whose job discovers the same pod's labels from static_configs.
        config, job = self.prometheus_job()
        del job["kubernetes_sd_configs"]
        job["static_configs"] = [{"targets": ["10.0.0.1:8079"], "labels": {
            "__meta_kubernetes_pod_label_app_kubernetes_io_name": "pycheck-node-scan",
            "__meta_kubernetes_pod_container_port_name": "metrics",
            "__meta_kubernetes_pod_node_name": "node-1"}}]
        config["rule_files"] = [os.path.join(PROMETHEUS, r) for r in config["rule_files"]]
        path = os.path.join(self.tmp, "prometheus.yml")
        with open(path, "w") as f:
            yaml.safe_dump(config, f)
        out = self.promtool("check", "config", path)
        self.assertIn("SUCCESS: 6 rules found", out)

    def test_alerting_rules_fire_after_an_hour_and_not_before(self):
        """promtool's rule unit tests: 1-minute samples, the alerts as Prometheus
        would evaluate them."""
        c = 'namespace="shop",pod="web-7d4",container="app",node="node-1",job="pycheck-node-scan"'
        ok = {"namespace": "shop", "pod": "web-7d4", "container": "app", "node": "node-1"}
        scanner = 'node="node-1",job="pycheck-node-scan",instance="10.0.0.1:8079"'
        tests = {"rule_files": [os.path.join(PROMETHEUS, "pycheck-alerts.yml")],
                 "evaluation_interval": "1m", "tests": []}

        def case(series, alert, times):
            tests["tests"].append({
                "interval": "1m",
                "input_series": [{"series": s, "values": v} for s, v in series],
                "alert_rule_test": [{"eval_time": t, "alertname": alert, "exp_alerts": exp}
                                    for t, exp in times]})

        failing = {"exp_labels": {**ok, "check": "tls.ca-certificates", "severity": "warning"},
                   "exp_annotations": {
                       "summary": "shop/web-7d4/app fails pycheck's tls.ca-certificates",
                       "description": "pycheck's check tls.ca-certificates has failed in "
                       "container app of pod shop/web-7d4 on node node-1 for over an hour. "
                       "Why and how to fix it: `pycheck explain tls.ca-certificates`; the "
                       "findings are in the scanner's /report."}}
        # Failing from 0m: pending for 59m, firing at 61m. A passing check and
        # one that failed for half an hour never fire. The scanner pod is
        # replaced at 30m (new instance): the hour goes on.
        ca = f'{c},check="tls.ca-certificates"'
        case([(f'pycheck_container_check_success{{{ca},instance="a:8079"}}', "0x30"),
              (f'pycheck_container_check_success{{{ca},instance="b:8079"}}', "_x30 0x40"),
              (f'pycheck_container_check_success{{{c},check="locale",instance="a:8079"}}', "1x70"),
              (f'pycheck_container_check_success{{{c},check="python.runs",instance="a:8079"}}',
               "0x30 1x40")],
             "PycheckContainerCheckFailing", [("59m", []), ("61m", [failing]), ("70m", [failing])])
        case([(f'pycheck_container_security_updates_pending{{{c},instance="a:8079"}}', "3x70"),
              (f'pycheck_container_security_updates_pending{{{c.replace("web-7d4", "api-1")},'
               'instance="a:8079"}', "0x70")],
             "PycheckContainerSecurityUpdatesPending",
             [("59m", []), ("61m", [{"exp_labels": {**ok, "severity": "warning"},
                                     "exp_annotations": {
                 "summary": "shop/web-7d4/app: 3 security updates pending",
                 "description": "Container app of pod shop/web-7d4 has had 3 pending security "
                 "updates for over an hour: rebuild its image on an updated base."}}])])
        # Scans complete every minute until 10m, then stop: stale after 20m,
        # alert after 5 more minutes.
        case([(f"pycheck_scan_last_timestamp_seconds{{{scanner}}}", "0+60x10 600x30")],
             "PycheckScanStale",
             [("10m", []), ("24m", []), ("26m", [{"exp_labels": {
                 "node": "node-1", "job": "pycheck-node-scan", "instance": "10.0.0.1:8079",
                 "severity": "warning"}, "exp_annotations": {
                 "summary": "pycheck on node-1 has not completed a scan for over 10 minutes",
                 "description": "The latest scan on node node-1 (10.0.0.1:8079) completed "
                 "16m 0s ago."}}])])
        case([(f"pycheck_scan_success{{{scanner}}}", "1x10 0x30")],
             "PycheckScanFailing", [("24m", []), ("26m", [{"exp_labels": {
                 "node": "node-1", "job": "pycheck-node-scan", "instance": "10.0.0.1:8079",
                 "severity": "warning"}, "exp_annotations": {
                 "summary": "pycheck's scans fail on node-1",
                 "description": "pycheck_scan_success has been 0 on 10.0.0.1:8079 for 15 "
                 "minutes; see the scanner's /report (scanner_error)."}}])])
        path = os.path.join(self.tmp, "alerts_test.yml")
        with open(path, "w") as f:
            yaml.safe_dump(tests, f)
        self.assertIn("SUCCESS", self.promtool("test", "rules", path))
        # The test can fail: a rule that fired at once would be caught.
        tests["tests"][0]["alert_rule_test"][0]["exp_alerts"] = [failing]
        with open(path, "w") as f:
            yaml.safe_dump(tests, f)
        proc = subprocess.run(["promtool", "test", "rules", path], capture_output=True, text=True)
        self.assertNotEqual(proc.returncode, 0, proc.stdout)

    def test_daemonset_argv_scans_this_node_with_the_manifests_capabilities(self):
        """The container's argv for real: the binary's path and the port replaced,
        --node-root a directory holding var/log as the hostPath mount does, run as
        uid 0 with only the capabilities the manifest adds and no_new_privs (what
        the runtime gives the container), scanning this machine's /proc."""
        _, _, c = self.daemonset()
        argv = self.scan_argv(c)
        node_root = argv[argv.index("--node-root") + 1]
        host = os.path.join(self.tmp, "host")
        for d in ("var/log/pods", "var/log/containers"):
            os.makedirs(os.path.join(host, d))
        listen, local = argv[argv.index("--listen") + 1], free_port()
        served = [PYCHECK] + [f"127.0.0.1:{local}" if a == listen else host if a == node_root
                              else a for a in argv[1:]]
        caps = sorted(c["securityContext"]["capabilities"]["add"])
        bounding = "-all," + ",".join("+" + cap.lower() for cap in caps)
        started = time.time()
        server = Server(["setpriv", "--bounding-set", bounding, "--no-new-privs", *served])
        try:
            base = f"http://127.0.0.1:{local}"
            try:
                wait_for(base + "/livez", {200}, 15)
            except AssertionError:
                if server.proc.poll() is not None:
                    self.fail(f"exited {server.proc.returncode}: {server.output()}")
                raise
            with open(f"/proc/{server.proc.pid}/status") as f:
                status = dict(line.split(":\t", 1) for line in f if ":\t" in line)
            want = sum(1 << {"DAC_READ_SEARCH": 2, "SYS_PTRACE": 19}[cap] for cap in caps)
            self.assertEqual(int(status["CapEff"], 16), want, "not the manifest's capabilities")
            # Ready once a scan worked; a generous wait (a slow machine, other
            # containers on it), never a speed check.
            status, body = wait_for(base + "/readyz", {200}, 120)
            self.assertEqual(status, 200, body)
            status, body = http_get(base + "/report")
            self.assertEqual(status, 200, body)
            report = json.loads(body)
            self.assertEqual(report["schema"], "pycheck.scan/v1")
            self.assertIs(report["scanner_ok"], True, report.get("scanner_error"))
            self.assertEqual(report["node_root"], host)
            self.assertEqual(report["options"]["jobs"], int(argv[argv.index("--jobs") + 1]))
            status, metrics = http_get(base + "/metrics")
            self.assertEqual(status, 200)
            families = {f.name: f for f in text_string_to_metric_families(metrics)}
            samples = {f: [(s.labels, s.value) for s in families[f].samples] for f in families}
            self.assertEqual(samples["pycheck_scan_success"], [({}, 1.0)])
            (_, last), = samples["pycheck_scan_last_timestamp_seconds"]
            self.assertGreaterEqual(last, started - 1)
            self.assertLessEqual(last, time.time() + 1)
            states = {labels["state"] for labels, _ in samples["pycheck_scan_containers"]}
            self.assertEqual(states, {"checked", "no_python", "sandbox", "denied", "vanished",
                                      "stale", "unsupported", "not_checked"})
            self.assertIn("pycheck_build_info", families)
            self.assertEqual(http_get(base + "/readyz/python.runs")[0], 404)
        finally:
            server.stop()

    # --- Dockerfile -------------------------------------------------------

    def test_dockerfile_healthcheck(self):
        instructions = parse_dockerfile(DOCKERFILE)
        froms = [rest for kw, rest in instructions if kw == "FROM"]
        self.assertEqual(froms[-1], "python:3.12-slim")
        final = instructions[max(i for i, (kw, _) in enumerate(instructions) if kw == "FROM"):]
        checks = [rest for kw, rest in final if kw == "HEALTHCHECK"]
        self.assertEqual(len(checks), 1)
        options, argv = parse_healthcheck(checks[0])
        self.assertEqual(set(options), {"interval", "timeout", "start-period", "retries"})
        # The binary the HEALTHCHECK runs is the one the image copies in.
        copies = [rest.split() for kw, rest in final if kw == "COPY"]
        dest = [c[-1] for c in copies if any(a.startswith("--from=") for a in c)]
        self.assertEqual(dest, [argv[0]])
        self.assertEqual(argv[0], IMAGE_PYCHECK)
        # ... built where the build stage's build-static.sh puts it.
        runs = " ".join(rest for kw, rest in instructions if kw == "RUN")
        build_dir = re.search(r"PYCHECK_BUILD_DIR=(\S+)", runs).group(1)
        self.assertEqual([c[-2] for c in copies if any(a.startswith("--from=") for a in c)],
                         [f"{build_dir}/pycheck"])
        timeout = duration_ms(options["timeout"])
        deadline = pycheck_deadline_ms(argv)
        self.assertGreater(timeout, deadline, "Docker would kill pycheck before its own deadline")
        self.assertGreaterEqual(timeout, 2 * deadline, "no room for starting the process")
        self.assertGreaterEqual(duration_ms(options["interval"]), timeout)
        self.assertGreaterEqual(int(options["retries"]), 1)
        duration_ms(options["start-period"])
        proc = self.run_probe(argv, timeout / 1000)
        self.assertEqual(proc.returncode, 0, proc.stdout)
        self.assertLess(len(proc.stdout.splitlines()[0].encode()), 4096)

    def test_dockerignore_keeps_build_dirs_out_of_the_context(self):
        with open(DOCKERFILE + ".dockerignore") as f:
            patterns = {line.strip() for line in f if line.strip() and not line.startswith("#")}
        self.assertIn("build*/", patterns)
        self.assertIn(".git/", patterns)

    def test_default_deadlines_are_the_binarys(self):
        # The probe checks above judge command lines without --timeout by these.
        proc = subprocess.run([PYCHECK, "--help"], capture_output=True, text=True, check=True)
        m = re.search(r"else (\S+) \((\S+) with --online", proc.stdout)
        self.assertIsNotNone(m, proc.stdout)
        self.assertEqual(duration_ms(m.group(1)), DEFAULT_DEADLINE_MS)
        self.assertEqual(duration_ms(m.group(2)), ONLINE_DEFAULT_DEADLINE_MS)

    # --- README -----------------------------------------------------------

    def test_readme_points_to_files_that_exist(self):
        with open(os.path.join(SOURCE_DIR, "README.md")) as f:
            readme = f.read()
        section = readme[readme.index("## Use it as"):]
        section = section[:section.find("\n## ", 1)]
        paths = set(re.findall(r"packaging/examples/[\w./-]+[\w]", section))
        self.assertGreaterEqual(len(paths), 4, paths)
        for p in paths:
            self.assertTrue(os.path.exists(os.path.join(SOURCE_DIR, p)), p)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"], verbosity=2)
