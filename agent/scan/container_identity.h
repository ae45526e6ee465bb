// Who a container is, from what the node shows without asking any runtime:
// its cgroup path (/proc/PID/cgroup), the kubelet's bind mounts
// (/proc/PID/mountinfo), the runtimes' state files and the kubelet's log
// directories. Pure: text in, values out (the reading is in node_names.cpp).
//
// Cgroup paths by runtime (kubelet, containerd, CRI-O, Docker and Podman):
//   Docker, systemd driver      /system.slice/docker-<id>.scope
//   Docker, cgroupfs            /docker/<id>
//   containerd CRI, systemd     /kubepods.slice/kubepods-<qos>.slice/kubepods-<qos>-pod<uid_>.slice/
//                               cri-containerd-<id>.scope
//   kubelet, cgroupfs           /kubepods/<qos>/pod<uid>/<id>
//   CRI-O                       .../crio-<id>.scope or /kubepods/<qos>/pod<uid>/crio-<id>;
//                               its conmon in crio-conmon-<id>.scope
//   Podman                      /machine.slice/libpod-<id>.scope/container, /libpod_parent/libpod-<id>;
//                               its conmon in libpod-conmon-<id>.scope
// The last match in a path wins (kind and Docker-in-Docker nest a node's
// containers inside the node's own container), and a path made relative by a
// cgroup namespace ("/../../kubepods...") matches the same way.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pycheck {

enum class ContainerRuntime { unknown, containerd, crio, docker, podman };
std::string_view to_string(ContainerRuntime runtime);

// What a cgroup path says about the process in it.
struct CgroupIdentity {
  ContainerRuntime runtime = ContainerRuntime::unknown;
  std::string container_id;  // 64 lowercase hex; empty: not a container's cgroup
  std::string pod_uid;       // "8-4-4-4-12" (systemd's '_' mapped back to '-') or 32 hex
  bool conmon = false;       // a runtime's monitor process (conmon), never a container
  std::string path;          // the cgroup path it was read from
  bool is_container() const { return !container_id.empty() && !conmon; }
};

// One cgroup path.
CgroupIdentity parse_cgroup_path(std::string_view path);
// The text of /proc/PID/cgroup: the cgroup v2 line ("0::PATH") when it names a
// container, else the first v1 line that does; else the v2 path with no container.
CgroupIdentity parse_proc_cgroup(std::string_view text);

// What the kubelet's bind mounts in /proc/PID/mountinfo say: the container's
// termination log comes from /var/lib/kubelet/pods/<uid>/containers/<name>/<rand>,
// its /etc/hosts from /var/lib/kubelet/pods/<uid>/etc-hosts (the source's
// prefix depends on the filesystem, so only its tail is matched).
struct KubeletMounts {
  std::string pod_uid;
  std::string container_name;
};
KubeletMounts parse_kubelet_mounts(std::string_view mountinfo);

// Names the node's files give a container.
struct ContainerNames {
  std::string namespace_name;
  std::string pod;
  std::string container;
  std::string image;
  std::optional<bool> sandbox;  // the runtime says sandbox (pause) or container
};

// A containerd task's or a CRI-O container's OCI config.json: the CRI annotations.
ContainerNames parse_oci_annotations(std::string_view config_json, ContainerRuntime runtime);
// Docker's /var/lib/docker/containers/<id>/config.v2.json: "Name" (without its
// leading '/') and "Config.Image".
ContainerNames parse_docker_config(std::string_view config_json);

// "/var/log/pods/<namespace>_<pod>_<uid>" entry names: the one for `pod_uid`
// (names cannot contain '_', so the split is exact).
struct PodLogDir {
  std::string namespace_name;
  std::string pod;
};
std::optional<PodLogDir> match_pod_log_dir(std::string_view entry, std::string_view pod_uid);
// "/var/log/containers/<pod>_<namespace>_<container>-<id>.log" for `container_id`.
std::optional<ContainerNames> match_container_log(std::string_view entry,
                                                  std::string_view container_id);

}  // namespace pycheck
