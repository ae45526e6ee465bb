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
                 "readOnlyRootFilesystem", "capabilities", "privileged", "seccompProfile"}
POD_SPEC_KEYS = {"containers", "initContainers", "shareProcessNamespace", "volumes",
                 "securityContext", "serviceAccountName", "terminationGracePeriodSeconds"}


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
                                 "sidecar-pid.yaml"])
        for name in names:
            doc = load_manifest(name)
            self.assertEqual((doc["apiVersion"], doc["kind"]), ("apps/v1", "Deployment"), name)
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
