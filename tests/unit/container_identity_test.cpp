// Container identity from what the node shows: cgroup paths of every runtime
// and driver, the kubelet's mounts, runtime state files and log names.
#include <catch2/catch.hpp>

#include "agent/scan/container_discovery.h"
#include "agent/scan/container_identity.h"

using namespace pycheck;

namespace {
const std::string kId = "3f2a1b9c0d1134e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d";
const std::string kOther = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const std::string kUid = "0f1e2d3c-4b5a-6978-8a9b-acbdcedf0123";
const std::string kUidSystemd = "0f1e2d3c_4b5a_6978_8a9b_acbdcedf0123";
}  // namespace

TEST_CASE("cgroup paths of each runtime and driver name the container", "[scan]") {
  struct Case {
    std::string path;
    ContainerRuntime runtime;
    std::string pod_uid;
    bool conmon;
  };
  const Case cases[] = {
      {"/system.slice/docker-" + kId + ".scope", ContainerRuntime::docker, "", false},
      {"/docker/" + kId, ContainerRuntime::docker, "", false},
      {"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + kUidSystemd +
           ".slice/cri-containerd-" + kId + ".scope",
       ContainerRuntime::containerd, kUid, false},
      {"/kubepods.slice/kubepods-pod" + kUidSystemd + ".slice/cri-containerd-" + kId + ".scope",
       ContainerRuntime::containerd, kUid, false},  // Guaranteed: no QoS level
      {"/kubepods/besteffort/pod" + kUid + "/" + kId, ContainerRuntime::unknown, kUid, false},
      {"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + kUidSystemd +
           ".slice/crio-" + kId + ".scope",
       ContainerRuntime::crio, kUid, false},
      {"/kubepods/burstable/pod" + kUid + "/crio-" + kId, ContainerRuntime::crio, kUid, false},
      {"/kubepods.slice/kubepods-pod" + kUidSystemd + ".slice/crio-conmon-" + kId + ".scope",
       ContainerRuntime::crio, kUid, true},
      {"/machine.slice/libpod-" + kId + ".scope/container", ContainerRuntime::podman, "", false},
      {"/machine.slice/libpod-conmon-" + kId + ".scope", ContainerRuntime::podman, "", true},
      {"/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + kId + ".scope",
       ContainerRuntime::podman, "", false},
      {"/libpod_parent/libpod-" + kId, ContainerRuntime::podman, "", false},
      // kind: the node is a Docker container; the last match is the pod's container.
      {"/system.slice/docker-" + kOther +
           ".scope/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/"
           "kubelet-kubepods-besteffort-pod" +
           kUidSystemd + ".slice/cri-containerd-" + kId + ".scope",
       ContainerRuntime::containerd, kUid, false},
      // Made relative by the reader's cgroup namespace.
      {"/../../kubepods-besteffort-pod" + kUidSystemd + ".slice/cri-containerd-" + kId + ".scope",
       ContainerRuntime::containerd, kUid, false},
      // A static pod: the kubelet's config hash, 32 hex.
      {"/kubepods/podf4d3c2b1a09f8e7d6c5b4a3928170605/" + kId, ContainerRuntime::unknown,
       "f4d3c2b1a09f8e7d6c5b4a3928170605", false},
  };
  for (const Case& c : cases) {
    CAPTURE(c.path);
    CgroupIdentity id = parse_cgroup_path(c.path);
    CHECK(id.container_id == kId);
    CHECK(id.runtime == c.runtime);
    CHECK(id.pod_uid == c.pod_uid);
    CHECK(id.conmon == c.conmon);
    CHECK(id.is_container() == !c.conmon);
  }
}

TEST_CASE("cgroup paths that name no container", "[scan]") {
  for (const std::string& path : std::vector<std::string>{
           "/", "/system.slice/ssh.service", "/user.slice/user-0.slice/session-3.scope",
        "/kubepods.slice/kubepods-pod" + kUidSystemd + ".slice",  // the pod, not a container
        "/system.slice/docker-" + kId.substr(1) + ".scope",       // 63 hex
        "/system.slice/docker-" + std::string(64, 'G') + ".scope", "/docker/" + kId + "x",
        "/other/" + kId}) {  // 64 hex under no runtime's parent
    CAPTURE(path);
    CHECK_FALSE(parse_cgroup_path(path).is_container());
  }
}

TEST_CASE("/proc/PID/cgroup: the v2 line, else a v1 line that names a container", "[scan]") {
  const std::string v2 = "0::/system.slice/docker-" + kId + ".scope\n";
  CHECK(parse_proc_cgroup(v2).container_id == kId);
  const std::string hybrid = "9:name=systemd:/docker/" + kId + "\n8:pids:/docker/" + kId +
                             "\n0::/\n";
  CgroupIdentity id = parse_proc_cgroup(hybrid);
  CHECK(id.container_id == kId);
  CHECK(id.runtime == ContainerRuntime::docker);
  CHECK_FALSE(parse_proc_cgroup("0::/init.scope\n").is_container());
  CHECK_FALSE(parse_proc_cgroup("").is_container());
  CHECK_FALSE(parse_proc_cgroup("garbage without colons\n").is_container());
}

TEST_CASE("the kubelet's bind mounts give the pod uid and the container name", "[scan]") {
  const std::string mountinfo =
      "600 500 0:52 / / rw,relatime - overlay overlay rw\n"
      "601 600 253:1 /var/lib/kubelet/pods/" + kUid + "/etc-hosts /etc/hosts rw - ext4 /dev/vda1 rw\n"
      "602 600 253:1 /var/lib/kubelet/pods/" + kUid +
      "/containers/app/0a1b2c3d /dev/termination-log rw - ext4 /dev/vda1 rw\n";
  KubeletMounts mounts = parse_kubelet_mounts(mountinfo);
  CHECK(mounts.pod_uid == kUid);
  CHECK(mounts.container_name == "app");
  // A differently rooted filesystem (the kubelet's dir on its own volume): only the tail counts.
  KubeletMounts tail = parse_kubelet_mounts(
      "7 1 8:3 /kubelet/pods/" + kUid + "/containers/web/ffff /dev/termination-log rw - xfs x rw\n");
  CHECK(tail.container_name == "web");
  // Only /etc/hosts: the pod, not the container.
  KubeletMounts hosts = parse_kubelet_mounts("7 1 8:3 /pods/" + kUid + "/etc-hosts /etc/hosts rw - x x rw\n");
  CHECK(hosts.pod_uid == kUid);
  CHECK(hosts.container_name.empty());
  // A container named "pods": the "/pods/" that a uid follows is the kubelet's.
  KubeletMounts named_pods = parse_kubelet_mounts(
      "7 1 8:3 /var/lib/kubelet/pods/" + kUid + "/containers/pods/ffff /dev/termination-log rw - x x rw\n");
  CHECK(named_pods.pod_uid == kUid);
  CHECK(named_pods.container_name == "pods");
  // The same tail mounted elsewhere is no termination log.
  CHECK(parse_kubelet_mounts("7 1 8:3 /pods/" + kUid + "/containers/web/ffff /data rw - x x rw\n")
            .pod_uid.empty());
}

TEST_CASE("runtime state files name the container and tell sandboxes", "[scan]") {
  ContainerNames containerd = parse_oci_annotations(
      R"({"ociVersion":"1.0.2","annotations":{"io.kubernetes.cri.container-type":"container",
         "io.kubernetes.cri.sandbox-name":"web-7d9f","io.kubernetes.cri.sandbox-namespace":"shop",
         "io.kubernetes.cri.container-name":"app","io.kubernetes.cri.image-name":"python:3.11-slim"}})",
      ContainerRuntime::containerd);
  CHECK(containerd.namespace_name == "shop");
  CHECK(containerd.pod == "web-7d9f");
  CHECK(containerd.container == "app");
  CHECK(containerd.image == "python:3.11-slim");
  CHECK(containerd.sandbox == false);
  CHECK(parse_oci_annotations(R"({"annotations":{"io.kubernetes.cri.container-type":"sandbox"}})",
                              ContainerRuntime::containerd)
            .sandbox == true);
  ContainerNames crio = parse_oci_annotations(
      R"({"annotations":{"io.kubernetes.cri-o.ContainerType":"container","io.kubernetes.pod.name":"p",
         "io.kubernetes.pod.namespace":"n","io.kubernetes.container.name":"c"}})",
      ContainerRuntime::crio);
  CHECK((crio.namespace_name == "n" && crio.pod == "p" && crio.container == "c"));
  ContainerNames docker =
      parse_docker_config(R"({"ID":"x","Name":"/web","Config":{"Image":"python:3.12"}})");
  CHECK(docker.container == "web");
  CHECK(docker.image == "python:3.12");
  for (std::string bad : std::vector<std::string>{"", "[]", "{", R"({"annotations":[]})", "null"}) {
    CAPTURE(bad);
    CHECK(parse_oci_annotations(bad, ContainerRuntime::containerd).container.empty());
    CHECK(parse_docker_config(bad).container.empty());
  }
}

TEST_CASE("kubelet log names: /var/log/pods and /var/log/containers", "[scan]") {
  auto dir = match_pod_log_dir("shop_web-7d9f_" + kUid, kUid);
  REQUIRE(dir);
  CHECK(dir->namespace_name == "shop");
  CHECK(dir->pod == "web-7d9f");
  CHECK_FALSE(match_pod_log_dir("shop_web-7d9f_" + kUid, "11111111-2222-3333-4444-555555555555"));
  CHECK_FALSE(match_pod_log_dir("shop_web_x_" + kUid, kUid));
  auto log = match_container_log("web-7d9f_shop_app-" + kId + ".log", kId);
  REQUIRE(log);
  CHECK((log->pod == "web-7d9f" && log->namespace_name == "shop" && log->container == "app"));
  CHECK_FALSE(match_container_log("web-7d9f_shop_app-" + kOther + ".log", kId));
  CHECK_FALSE(match_container_log("web-7d9f_shop_app-" + kId + ".log", ""));
}

TEST_CASE("the representative: the container's init, else a member started from outside",
          "[scan]") {
  const auto facts = [](int pid, int ppid, int innermost, std::uint64_t start,
                        std::string pid_ns) {
    ProcessFacts f;
    f.pid = pid;
    f.ppid = ppid;
    f.innermost_pid = innermost;
    f.start_time = start;
    f.pid_namespace = std::move(pid_ns);
    return f;
  };
  const std::string host = "pid:[1]", own = "pid:[2]";
  // An exec'd process (kubectl exec, nsenter) started before init's child, with
  // a lower PID after a wrap: init still wins.
  std::vector<ProcessFacts> members = {facts(90, 10, 7, 500, own), facts(4000, 3, 1, 100, own),
                                       facts(4001, 4000, 2, 120, own)};
  auto in_group = [](int pid) { return pid == 90 || pid == 4000 || pid == 4001; };
  auto [index, rule] = pick_representative(members, host, in_group);
  CHECK(members[index].pid == 4000);
  CHECK(rule == "init");
  // hostPID pods share the node's pid namespace: the earliest member whose parent is outside.
  members = {facts(300, 200, 300, 50, host), facts(301, 300, 301, 40, host),
             facts(250, 1, 250, 60, host)};
  auto in_hostpid = [](int pid) { return pid == 300 || pid == 301 || pid == 250; };
  std::tie(index, rule) = pick_representative(members, host, in_hostpid);
  CHECK(members[index].pid == 300);
  CHECK(rule == "parent-outside");
  // Every parent inside (a loop of reparented processes): the earliest.
  std::tie(index, rule) = pick_representative(members, host, [](int) { return true; });
  CHECK(members[index].pid == 301);
  CHECK(rule == "earliest");
}

TEST_CASE("/proc/PID/stat and status are read as the kernel writes them", "[scan]") {
  ProcessFacts f;
  // A command name holding ") (" and spaces must not shift the fields.
  const std::string stat =
      "4242 (we ird) (x) S 17 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1 2 3";
  REQUIRE(parse_proc_stat(stat, f));
  CHECK(f.ppid == 17);
  CHECK(f.state == 'S');
  CHECK(f.start_time == 987654);
  CHECK_FALSE(f.kernel_thread);
  const std::string kthread = "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0";
  REQUIRE(parse_proc_stat(kthread, f));
  CHECK(f.kernel_thread);
  CHECK_FALSE(parse_proc_stat("12 (short) S 1 2", f));
  CHECK_FALSE(parse_proc_stat("", f));
  CHECK(parse_innermost_pid("Name:\tsleep\nNSpid:\t81234\t57\t1\nNSsid:\t1\n") == 1);
  CHECK(parse_innermost_pid("NSpid:\t81234\n") == 81234);
  CHECK(parse_innermost_pid("Name:\tx\n") == 0);
}
