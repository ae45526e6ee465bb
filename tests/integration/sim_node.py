"""A simulated Kubernetes/Docker node for `pycheck scan`: real processes in real
namespaces and real cgroups, no Docker, no kubelet (node-scan.md section 5).

    with SimNode(roots_dir) as node:
        c = node.start("web", runtime="containerd", driver="systemd", root="base", ...)
        ... run `pycheck scan --node-root node.node_root` ...
    assert not node.leftovers()

Each container: a launcher moves itself into the container's cgroup (cgroup v2,
/sys/fs/cgroup/unified), then `unshare --mount --pid --fork --uts --ipc
--kill-child` runs this file's `init` stage, which bind-mounts the root onto
itself, mounts /proc and a tmpfs /dev (plus the kubelet-style termination-log
bind), pivot_roots into it and execs the image's command with exactly the
image's ENV: the container's init (NSpid ... 1) holds the OCI env.
The cached roots are never written: every mount is in the container's private
mount namespace, and the mount points used (/proc, /dev) already exist.

The node's files (runtime state, /var/log/pods, /var/log/containers) are written
under a temp node root, passed to pycheck as --node-root.

Cleanup (also at exit and on SIGTERM): every process started is killed through a
pidfd (no PID-reuse race) and waited for, every cgroup created is emptied and
removed deepest first, every temp dir removed; leftovers() says what is left.

Run as a program, this file is also the containers' init stage (`init`) and
FUSE files whose reads are reported and, for some, never answered
(`reported-files`).
"""
import atexit
import ctypes
import errno
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

CGROUP_V2 = "/sys/fs/cgroup/unified"
# The v1 hierarchy systemd keeps on a hybrid host: a runtime on cgroup v1 (Docker
# before 20.10 on such hosts) shows only in "1:name=systemd:" lines.
CGROUP_V1_SYSTEMD = "/sys/fs/cgroup/systemd"
HOST_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Generous: setting up is never what a test judges, and CI machines are busy.
SETUP_TIMEOUT = 60


def read_env_file(path):
    env = {}
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line and not line.startswith("#"):
                key, _, value = line.partition("=")
                env[key] = value
    return env


def proc_stat(pid):
    """(state, ppid, starttime) of /proc/PID/stat; None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text[text.rindex(")") + 2:].split()
    return fields[0], int(fields[1]), int(fields[19])


def nspid(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("NSpid:"):
                return [int(x) for x in line.split()[1:]]
    return []


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except FileNotFoundError:
        return []


def wait_for(what, predicate, timeout=SETUP_TIMEOUT):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


class Container:
    """One simulated container, and what a correct scan must say about it."""

    def __init__(self, key):
        self.key = key
        self.runtime = ""
        self.container_id = ""
        self.pod_uid = ""
        self.namespace = ""
        self.pod = ""
        self.container = ""
        self.image = ""
        self.names_from = []
        self.cgroup = ""
        self.root = ""
        self.env = {}
        self.sandbox = False
        self.python = True
        self.launcher = None   # Popen of `unshare`
        self.pid = 0           # the container's init, in the node's /proc
        self.mount_namespace = ""
        self.members = []      # pids of every process in its mount namespace
        self.stopped = False

    @property
    def expected_identity(self):
        return {"runtime": self.runtime, "container_id": self.container_id, "pod_uid": self.pod_uid,
                "namespace": self.namespace, "pod": self.pod, "container": self.container,
                "image": self.image, "cgroup": self.cgroup, "pid": self.pid, "pid_rule": "init",
                "mount_namespace": self.mount_namespace, "processes": len(self.members)}

    @property
    def metric_labels(self):
        """namespace, pod, container as the Prometheus series must carry them: a
        pod's container whose pod has no name is known by its short id (its
        name alone could be another pod's)."""
        name_is_enough = self.container and (self.pod or not self.pod_uid)
        return {"namespace": self.namespace, "pod": self.pod,
                "container": self.container if name_is_enough else self.container_id[:12]}

    def starttime(self):
        return proc_stat(self.pid)[2]


def cgroup_path(runtime, driver, cid, pod_uid, qos):
    """The cgroup a runtime puts a container in (node-scan.md section 2)."""
    uid_ = pod_uid.replace("-", "_")
    if runtime in ("containerd", "cri-o"):
        scope = f"cri-containerd-{cid}.scope" if runtime == "containerd" else f"crio-{cid}.scope"
        if driver == "systemd":
            if qos == "guaranteed":
                return f"/kubepods.slice/kubepods-pod{uid_}.slice/{scope}"
            return (f"/kubepods.slice/kubepods-{qos}.slice/kubepods-{qos}-pod{uid_}.slice/{scope}")
        leaf = cid if runtime == "containerd" else f"crio-{cid}"
        if qos == "guaranteed":
            return f"/kubepods/pod{pod_uid}/{leaf}"
        return f"/kubepods/{qos}/pod{pod_uid}/{leaf}"
    if runtime == "docker":
        return f"/system.slice/docker-{cid}.scope" if driver == "systemd" else f"/docker/{cid}"
    if runtime == "podman":
        return f"/machine.slice/libpod-{cid}.scope/container"
    raise ValueError(runtime)


class SimNode:
    def __init__(self, roots_dir):
        self.roots_dir = roots_dir
        self.tmp = tempfile.mkdtemp(prefix="pycheck-simnode-")
        self.node_root = os.path.join(self.tmp, "node")
        os.makedirs(self.node_root)
        self.containers = {}
        self.procs = []        # (Popen or None, pidfd, pid) of everything started
        self.starttimes = {}   # pid -> its start time
        self.cgroups = []      # cgroup dirs created, in creation order
        self.tmp_dirs = [self.tmp]
        self.mounts = []       # mount points to detach before the temp dirs go
        self._closed = False
        self._tiny_roots = {}
        atexit.register(self.close)
        self._old_term = signal.signal(signal.SIGTERM, self._on_term) \
            if _is_main_thread() else None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _on_term(self, signum, frame):
        if self._closed:
            return  # close() is running: let it finish (an exit now would cut it short)
        self.close()
        sys.exit(128 + signum)

    # ---- roots ----
    def root_dir(self, name):
        if name in ("no-python", "pause"):
            return self._tiny_root(name)
        path = os.path.join(self.roots_dir, name)
        if not os.path.isfile(os.path.join(self.roots_dir, name + ".key")):
            raise AssertionError(f"root {name} is not built in {self.roots_dir} "
                                 "(tests/integration/build-roots.sh)")
        return path

    def root_env(self, name):
        if name in ("no-python", "pause"):
            return {"PATH": HOST_PATH}
        return read_env_file(os.path.join(self.roots_dir, name + ".env"))

    def _tiny_root(self, name):
        """A root with no Python: the host's sleep (as /pause for a pod sandbox,
        as busybox-style images name it) with its loader and libc from ldd."""
        if name in self._tiny_roots:
            return self._tiny_roots[name]
        root = os.path.join(self.tmp, "roots", name)
        for d in ("proc", "dev", "usr/bin", "etc"):
            os.makedirs(os.path.join(root, d))
        sleep = shutil.which("sleep")
        target = "/pause" if name == "pause" else "/usr/bin/sleep"
        shutil.copy2(sleep, root + target)
        out = subprocess.run(["ldd", sleep], capture_output=True, text=True, check=True).stdout
        for lib in re.findall(r"(/\S+) \(0x", out):
            os.makedirs(os.path.dirname(root + lib), exist_ok=True)
            shutil.copy2(os.path.realpath(lib), root + lib)
        self._tiny_roots[name] = root
        return root

    # ---- cgroups ----
    def make_cgroup(self, path, hierarchy=CGROUP_V2):
        """mkdir -p under a cgroup mount (v2 by default), remembering what it created."""
        for attempt in range(10):
            full = hierarchy
            try:
                for part in path.strip("/").split("/"):
                    full = os.path.join(full, part)
                    try:
                        os.mkdir(full)
                        self.cgroups.append(full)
                    except FileExistsError:
                        pass
                return full
            except FileNotFoundError:
                # Another simulation removed a shared parent (kubepods.slice) just now.
                continue
        raise AssertionError(f"cannot make cgroup {path}")

    def _spawn(self, argv, cgroup, env=None, gate=None, hierarchy=CGROUP_V2):
        """Starts argv with its first process already in `cgroup` (a v2 path).
        With `gate`, the launcher waits for a line on its stdin before it execs
        argv, and gate(pid) runs meanwhile."""
        procs = os.path.join(self.make_cgroup(cgroup, hierarchy), "cgroup.procs")
        wait = "read -r go && " if gate else ""
        # --pdeathsig: should this test be killed outright, its containers go too.
        p = subprocess.Popen(["/bin/sh", "-c", 'echo $$ > "$0" && ' + wait + 'exec "$@"', procs,
                              "setpriv", "--pdeathsig", "KILL", *argv],
                             env=env if env is not None else {"PATH": HOST_PATH},
                             stdin=subprocess.PIPE if gate else subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if gate:
            gate(p.pid)
            p.stdin.write(b"go\n")
            p.stdin.close()
        self._hold(p, p.pid)
        return p

    def _hold(self, popen, pid):
        # A pidfd kills exactly this process, never a later one with its PID;
        # the start time tells leftovers() the same.
        fd = os.pidfd_open(pid)
        self.procs.append((popen, fd, pid))
        self.starttimes[pid] = (proc_stat(pid) or (0, 0, None))[2]

    def _track(self, pid):
        """Holds a pidfd on a process we did not fork (a container's init)."""
        self._hold(None, pid)

    # ---- containers ----
    def start(self, key, *, runtime, root, driver="systemd", qos="burstable", pod_uid=None,
              namespace="", pod="", container="", image="", names=(), sandbox=False,
              cgroup=None, args=("infinity",), extra_binds=None, reuse_pid=None,
              cgroup_v1=False):
        """Starts a container. `names` is where the node's files name it, a subset of
        "containerd state", "cri-o state", "docker config", "mountinfo",
        "/var/log/pods", "/var/log/containers". `extra_binds` maps paths in the
        container to host files bound there; `reuse_pid` makes its init get that
        PID (only in a pid namespace where nothing else forks meanwhile);
        `cgroup_v1` puts it in the v1 name=systemd hierarchy instead of v2."""
        c = Container(key)
        c.runtime, c.sandbox = runtime, sandbox
        c.container_id = secrets.token_hex(32)
        if runtime in ("containerd", "cri-o"):
            c.pod_uid = pod_uid or str(uuid.uuid4())
        c.cgroup = cgroup(c) if cgroup else cgroup_path(runtime, driver, c.container_id,
                                                       c.pod_uid, qos)
        c.root = self.root_dir(root)
        c.env = self.root_env(root)
        c.python = root not in ("no-python", "pause")
        exe = "/pause" if root == "pause" else "/usr/bin/sleep"
        termination_log = self._write_node_files(c, set(names), namespace, pod, container, image)
        if runtime == "containerd" and driver == "cgroupfs" and not cgroup \
                and "containerd state" not in names:
            c.runtime = "unknown"  # a bare <id> under pod<uid>: any CRI runtime, no file says which
        setup = {"root": c.root, "termination_log": termination_log, "binds": extra_binds or {},
                 "env": c.env, "argv": [exe, *args]}
        init_args = [sys.executable, os.path.abspath(__file__), "init", json.dumps(setup)]
        def set_last_pid(pid):
            with open("/proc/sys/kernel/ns_last_pid", "w") as f:
                f.write(str(pid))

        def next_pid(launcher_pid):
            # The launcher exists; the one fork left is unshare's child, the init.
            set_last_pid(reuse_pid - 1)
        if reuse_pid:
            set_last_pid(reuse_pid + 1000)  # the launcher must not take the PID itself
        c.launcher = self._spawn(["unshare", "--mount", "--pid", "--fork", "--uts", "--ipc",
                                  "--kill-child", *init_args], c.cgroup,
                                 gate=next_pid if reuse_pid else None,
                                 hierarchy=CGROUP_V1_SYSTEMD if cgroup_v1 else CGROUP_V2)
        c.cgroup_v1 = cgroup_v1

        def init_ready():
            if c.launcher.poll() is not None:
                raise AssertionError(f"container {key} did not start: "
                                     + c.launcher.stderr.read().decode())
            for child in children(c.launcher.pid):
                try:
                    with open(f"/proc/{child}/comm") as f:
                        if f.read().strip() == os.path.basename(exe):
                            return child
                except FileNotFoundError:
                    pass
            return None
        c.pid = wait_for(f"container {key}'s init", init_ready)
        self._track(c.pid)
        assert nspid(c.pid)[-1] == 1, nspid(c.pid)
        c.mount_namespace = os.readlink(f"/proc/{c.pid}/ns/mnt")
        c.members = [c.launcher.pid, c.pid]  # unshare itself entered the mount namespace
        self.containers[key] = c
        return c

    def _write_node_files(self, c, names, namespace, pod, container, image):
        """The node's files that name the container; returns the termination-log
        source ("" for none)."""
        node = self.node_root
        cid, uid = c.container_id, c.pod_uid
        gives = {}  # source -> the names it carries (what a scanner may take)

        def write_json(path, doc):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                json.dump(doc, f)

        oci = {"ociVersion": "1.1.0", "process": {"env": [f"{k}={v}" for k, v in c.env.items()]},
               "root": {"path": "rootfs"}}
        if "containerd state" in names:
            ann = {"io.kubernetes.cri.container-type": "sandbox" if c.sandbox else "container",
                   "io.kubernetes.cri.sandbox-name": pod,
                   "io.kubernetes.cri.sandbox-namespace": namespace,
                   "io.kubernetes.cri.sandbox-id": secrets.token_hex(32),
                   "io.kubernetes.cri.sandbox-uid": uid}
            if not c.sandbox:
                ann["io.kubernetes.cri.container-name"] = container
                ann["io.kubernetes.cri.image-name"] = image
            write_json(f"{node}/run/containerd/io.containerd.runtime.v2.task/k8s.io/{cid}/config.json",
                       dict(oci, annotations=ann))
            gives["containerd state"] = (namespace, pod, "" if c.sandbox else container,
                                         "" if c.sandbox else image)
        if "cri-o state" in names:
            ann = {"io.kubernetes.cri-o.ContainerType": "sandbox" if c.sandbox else "container",
                   "io.kubernetes.pod.name": pod, "io.kubernetes.pod.namespace": namespace,
                   "io.kubernetes.pod.uid": uid, "io.kubernetes.container.name": container,
                   "io.kubernetes.cri-o.ImageName": image}
            write_json(f"{node}/run/containers/storage/overlay-containers/{cid}/userdata/config.json",
                       dict(oci, annotations=ann))
            gives["cri-o state"] = (namespace, pod, container, image)
        if "docker config" in names:
            write_json(f"{node}/var/lib/docker/containers/{cid}/config.v2.json",
                       {"ID": cid, "Name": "/" + container, "Created": "2026-12-07T03:00:00Z",
                        "Config": {"Image": image, "Hostname": cid[:12],
                                   "Env": [f"{k}={v}" for k, v in c.env.items()]}})
            gives["docker config"] = ("", "", container, image)
        if "/var/log/pods" in names:
            d = f"{node}/var/log/pods/{namespace}_{pod}_{uid}/{container}"
            os.makedirs(d, exist_ok=True)
            open(os.path.join(d, "0.log"), "w").close()
            gives["/var/log/pods"] = (namespace, pod, "", "")
        if "/var/log/containers" in names:
            d = f"{node}/var/log/containers"
            os.makedirs(d, exist_ok=True)
            # The kubelet's link: absolute, so it dangles when read through --node-root.
            os.symlink(f"/var/log/pods/{namespace}_{pod}_{uid}/{container}/0.log",
                       f"{d}/{pod}_{namespace}_{container}-{cid}.log")
            gives["/var/log/containers"] = (namespace, pod, container, "")
        termination_log = ""
        if "mountinfo" in names:
            # Where the kubelet keeps it: .../pods/<uid>/containers/<name>/<rand>.
            d = os.path.join(self.tmp, f"var/lib/kubelet/pods/{uid}/containers/{container}")
            os.makedirs(d, exist_ok=True)
            termination_log = os.path.join(d, secrets.token_hex(4))
            open(termination_log, "w").close()
            gives["mountinfo"] = ("", "", container, "")
        # Expected names: the first source that carries each one.
        fields = ["", "", "", ""]
        for source in ("containerd state", "cri-o state", "docker config", "mountinfo",
                       "/var/log/containers", "/var/log/pods"):
            if source in gives:
                fields = [old or new for old, new in zip(fields, gives[source])]
        c.namespace, c.pod, c.container, c.image = fields
        c.names_from = sorted(gives)
        return termination_log

    def conmon(self, c, private_mount_namespace=False):
        """The runtime's monitor: a host process in crio-conmon-<id>.scope or
        libpod-conmon-<id>.scope; with private_mount_namespace, alone in a mount
        namespace of its own (so only its cgroup says it is no container)."""
        kind = {"cri-o": "crio-conmon", "podman": "libpod-conmon"}[c.runtime]
        parent = c.cgroup.rsplit("/", 2 if c.runtime == "podman" else 1)[0]
        argv = ["sleep", "infinity"]
        if private_mount_namespace:
            argv = ["unshare", "--mount", "--kill-child", "--fork", *argv]
        p = self._spawn(argv, f"{parent}/{kind}-{c.container_id}.scope")
        if private_mount_namespace:
            self._hold(None, wait_for("conmon's sleep", lambda: children(p.pid))[0])
        return p

    def exec_into(self, c, env):
        """`kubectl exec`: nsenter joins the container's mount and pid namespaces
        (and, as runc exec does, its cgroup) with another environment; nsenter
        and its child stay children of a process outside the container."""
        p = self._spawn(["nsenter", "-t", str(c.pid), "--mount", "--pid", "--",
                         "/usr/bin/sleep", "infinity"], c.cgroup, env=env)
        child = wait_for("the exec'd process", lambda: [
            k for k in children(p.pid) if os.path.exists(f"/proc/{k}")
            and os.readlink(f"/proc/{k}/ns/mnt") == c.mount_namespace])[0]
        self._track(child)
        wait_for("the exec'd process to exec", lambda: _comm(child) == "sleep")
        c.members += [p.pid, child]
        return child

    def stop(self, c):
        """Kills a container (init, exec'd processes, launchers) and waits for them."""
        self._end([entry for entry in self.procs if entry[2] in c.members])
        wait_for(f"container {c.key} to be gone", lambda: all(
            self.starttimes[pid] != (proc_stat(pid) or (0, 0, None))[2] for pid in c.members))
        c.stopped = True

    def _end(self, entries):
        """Kills processes we did not fork first (a container's init), so that
        their own parents (unshare, nsenter) reap them and then exit; then the
        processes we forked, which we wait for. No zombie is left to the host's init."""
        errors = []
        for forked in (False, True):
            batch = [(p, fd, pid) for p, fd, pid in entries if (p is not None) == forked]
            for p, fd, pid in batch:
                _kill(fd)
            for p, fd, pid in batch:
                try:
                    if p is not None:
                        p.wait(timeout=SETUP_TIMEOUT)
                    else:
                        wait_for(f"pid {pid} to end", lambda: _pidfd_dead(fd))
                except (subprocess.TimeoutExpired, AssertionError):
                    errors.append(f"pid {pid} did not end")
        return errors

    def verify(self, c):
        """What /proc says matches what was set up (a harness self-check)."""
        members = []
        for name in os.listdir("/proc"):
            if name.isdigit():
                try:
                    if os.readlink(f"/proc/{name}/ns/mnt") == c.mount_namespace:
                        members.append(int(name))
                except (FileNotFoundError, PermissionError):
                    pass
        assert sorted(members) == sorted(c.members), (c.key, members, c.members)
        with open(f"/proc/{c.pid}/cgroup") as f:
            lines = f.read().splitlines()
        if c.cgroup_v1:
            assert [x for x in lines if x.split(":", 1)[1] == f"name=systemd:{c.cgroup}"], lines
        else:
            assert f"0::{c.cgroup}" in lines, lines
        with open(f"/proc/{c.pid}/environ", "rb") as f:
            env = dict(e.split("=", 1) for e in f.read().decode().split("\0") if e)
        assert env == c.env, (env, c.env)

    # ---- cleanup ----
    def close(self):
        if self._closed:
            return
        self._closed = True
        errors = self._end(self.procs)
        for p, fd, pid in self.procs:
            for pipe in (p.stdin, p.stdout, p.stderr) if p is not None else ():
                try:
                    if pipe:
                        pipe.close()
                except (OSError, RuntimeError):
                    pass  # a test thread still reading it: it goes with the process
        # Whatever else is in our cgroups (a grandchild we missed) is ours too.
        for cg in reversed(self.cgroups):
            for pid in _cgroup_pids(cg):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for p, fd, pid in self.procs:
            os.close(fd)
        for cg in reversed(self.cgroups):  # deepest first
            try:
                wait_for(f"{cg} to be empty", lambda: not _cgroup_pids(cg))
            except AssertionError:
                # Move leftovers out so the directory can go; they are reported.
                for pid in _cgroup_pids(cg):
                    errors.append(f"pid {pid} left in {cg}")
                    _move_to_root(pid, cg)
            try:
                os.rmdir(cg)
            except FileNotFoundError:
                pass
            except OSError as e:
                # A parent shared with another simulation running at the same time
                # (its own children in it) stays; anything else is an error.
                if not (e.errno in (errno.EBUSY, errno.ENOTEMPTY) and has_subdirs(cg)):
                    errors.append(f"rmdir {cg}: {e}")
        for d in self.mounts:  # a FUSE mount point is removed only once unmounted
            subprocess.run(["umount", "-l", d], capture_output=True)
        for d in self.tmp_dirs:
            shutil.rmtree(d, ignore_errors=True)
        if self._old_term is not None and _is_main_thread():
            signal.signal(signal.SIGTERM, self._old_term)
        atexit.unregister(self.close)
        self.close_errors = errors

    def leftovers(self):
        """Everything this node started or made that still exists."""
        left = [f"pid {pid}" for p, fd, pid in self.procs
                if (proc_stat(pid) or (0, 0, None))[2] == self.starttimes[pid]]
        left += [cg for cg in self.cgroups if os.path.isdir(cg) and not has_subdirs(cg)]
        left += [d for d in self.tmp_dirs if os.path.exists(d)]
        return left + getattr(self, "close_errors", [])


def _is_main_thread():
    import threading
    return threading.current_thread() is threading.main_thread()


def _comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except FileNotFoundError:
        return None


def _kill(pidfd):
    try:
        signal.pidfd_send_signal(pidfd, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _pidfd_dead(fd):
    import select
    return bool(select.select([fd], [], [], 0)[0])  # readable once the process exited


def _cgroup_pids(cg):
    try:
        with open(os.path.join(cg, "cgroup.procs")) as f:
            return [int(x) for x in f.read().split()]
    except FileNotFoundError:
        return []


def _move_to_root(pid, cg):
    root = CGROUP_V1_SYSTEMD if cg.startswith(CGROUP_V1_SYSTEMD + "/") else CGROUP_V2
    try:
        with open(os.path.join(root, "cgroup.procs"), "w") as f:
            f.write(str(pid))
    except OSError:
        pass


def has_subdirs(cg):
    try:
        with os.scandir(cg) as entries:
            return any(e.is_dir() for e in entries)
    except FileNotFoundError:
        return False


# ---- the container's init stage (runs inside the new namespaces) ----
MS_BIND, MS_REC, MS_NOSUID, MS_NODEV, MS_NOEXEC = 0x1000, 0x4000, 0x2, 0x4, 0x8
MNT_DETACH = 2
SYS_PIVOT_ROOT = 155  # x86_64


def container_init(setup_json):
    setup = json.loads(setup_json)
    root = setup["root"]
    libc = ctypes.CDLL(None, use_errno=True)

    def check(rc, what):
        if rc != 0:
            e = ctypes.get_errno()
            raise OSError(e, f"{what}: {os.strerror(e)}")

    def mount(src, target, fstype, flags, data=None):
        check(libc.mount(src.encode(), target.encode(), fstype.encode() if fstype else None,
                         ctypes.c_ulong(flags), data.encode() if data else None), f"mount {target}")

    # unshare made every mount private: nothing below reaches the host, and the
    # cached root's own files are never written (its /proc and /dev exist).
    mount(root, root, None, MS_BIND | MS_REC)
    mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    mount("tmpfs", root + "/dev", "tmpfs", MS_NOSUID, "mode=755,size=64k")
    if setup["termination_log"]:
        target = root + "/dev/termination-log"
        open(target, "w").close()  # in the tmpfs
        mount(setup["termination_log"], target, None, MS_BIND)
    for inside, source in setup["binds"].items():
        mount(source, root + inside, None, MS_BIND)  # over an existing file: nothing written
    os.chdir(root)
    # pivot_root(".", "."): the old root is stacked on the new one and detached,
    # so no put_old directory has to be made in the (read-only to us) root.
    check(libc.syscall(SYS_PIVOT_ROOT, b".", b"."), "pivot_root")
    check(libc.umount2(b".", MNT_DETACH), "umount old root")
    os.chdir("/")
    os.execve(setup["argv"][0], setup["argv"], setup["env"])


# ---- files whose reads are reported, and block when their name says stuck ----
def reported_files(mountpoint, content_file, *names):
    """Serves `content_file` under each of `names`. A read from a thread in our
    pid namespace prints "READ <name> <tid>"; then a file named stuck-* does not
    answer it (the reader stays in the kernel, as on a stuck NFS mount) until a
    line comes on stdin (or it closes); the others answer at once. Reads from
    outside our pid namespace (another test's scanner on this machine) are
    answered at once, so nobody else's run waits for ours."""
    import stat
    import threading
    import fusepy

    st = os.stat(content_file)
    released = threading.Event()

    def wait_for_release():
        sys.stdin.readline()
        released.set()

    threading.Thread(target=wait_for_release, daemon=True).start()

    def tell(line):
        # One write per line: print() from several FUSE threads can interleave
        # one line's text with another's newline; a pipe write this short is atomic.
        os.write(sys.stdout.fileno(), f"{line}\n".encode())

    class Reported(fusepy.Operations):
        def getattr(self, path, fh=None):
            if path == "/":
                return {"st_mode": stat.S_IFDIR | 0o755, "st_nlink": 2}
            if path[1:] not in names:
                raise fusepy.FuseOSError(errno.ENOENT)
            return {"st_mode": stat.S_IFREG | 0o644, "st_nlink": 1, "st_size": st.st_size,
                    "st_mtime": st.st_mtime}

        def readdir(self, path, fh):
            return [".", "..", *names]

        def open(self, path, flags):
            return 0

        def read(self, path, size, offset, fh):
            reader = fusepy.fuse_get_context()[2]  # 0: not in our pid namespace
            if reader != 0:
                tell(f"READ {path[1:]} {reader}")
                if path.startswith("/stuck-"):
                    released.wait()
            with open(content_file, "rb") as f:
                f.seek(offset)
                return f.read(size)

    def announce():
        wait_for("the FUSE mount", lambda: os.path.ismount(mountpoint))
        tell("MOUNTED")

    threading.Thread(target=announce, daemon=True).start()
    # Multithreaded: a stuck read must not hold the other files' reads.
    fusepy.FUSE(Reported(), mountpoint, foreground=True, nothreads=False, allow_other=True,
                attr_timeout=0, entry_timeout=0, direct_io=True)


if __name__ == "__main__":
    if sys.argv[1] == "init":
        container_init(sys.argv[2])
    elif sys.argv[1] == "reported-files":
        reported_files(*sys.argv[2:])
    else:
        sys.exit(f"unknown stage {sys.argv[1]}")
