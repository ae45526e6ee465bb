#include "agent/scan/node_names.h"

namespace pycheck {
namespace {

constexpr std::size_t kMaxStateFile = 4u << 20;  // an OCI config.json is a few KB

void take(std::string& into, const std::string& value) {
  if (into.empty() && !value.empty()) into = value;
}

void merge(ContainerIdentity& identity, const ContainerNames& names, std::string_view source) {
  if (names.namespace_name.empty() && names.pod.empty() && names.container.empty() &&
      names.image.empty()) {
    return;
  }
  take(identity.namespace_name, names.namespace_name);
  take(identity.pod, names.pod);
  take(identity.container, names.container);
  take(identity.image, names.image);
  identity.names_from.emplace_back(source);
}

// The runtime's own state file for the container id, when there is one.
void from_runtime_state(DiscoveredContainer& c, const RootFs& node) {
  ContainerIdentity& id = c.identity;
  struct StateFile {
    ContainerRuntime runtime;
    std::string path;
    std::string_view source;
  };
  const StateFile files[] = {
      {ContainerRuntime::containerd,
       "/run/containerd/io.containerd.runtime.v2.task/k8s.io/" + id.container_id + "/config.json",
       "containerd state"},
      {ContainerRuntime::crio,
       "/run/containers/storage/overlay-containers/" + id.container_id + "/userdata/config.json",
       "cri-o state"},
      {ContainerRuntime::docker, "/var/lib/docker/containers/" + id.container_id + "/config.v2.json",
       "docker config"},
  };
  for (const StateFile& file : files) {
    if (id.runtime != ContainerRuntime::unknown && id.runtime != file.runtime) continue;
    auto text = node.read_file(file.path, kMaxStateFile);
    if (!text) continue;
    ContainerNames names = file.runtime == ContainerRuntime::docker
                               ? parse_docker_config(*text)
                               : parse_oci_annotations(*text, file.runtime);
    if (id.runtime == ContainerRuntime::unknown) id.runtime = file.runtime;
    if (names.sandbox) c.sandbox = *names.sandbox;
    merge(id, names, file.source);
    return;
  }
}

void from_log_names(DiscoveredContainer& c, const RootFs& node) {
  ContainerIdentity& id = c.identity;
  if (auto entries = node.list_dir("/var/log/containers")) {
    for (const DirEntry& entry : *entries) {
      if (auto names = match_container_log(entry.name, id.container_id)) {
        merge(id, *names, "/var/log/containers");
        break;
      }
    }
  }
  if (id.pod_uid.empty() || (!id.namespace_name.empty() && !id.pod.empty())) return;
  if (auto entries = node.list_dir("/var/log/pods")) {
    for (const DirEntry& entry : *entries) {
      if (auto dir = match_pod_log_dir(entry.name, id.pod_uid)) {
        merge(id, ContainerNames{dir->namespace_name, dir->pod, "", "", std::nullopt},
              "/var/log/pods");
        break;
      }
    }
  }
}

}  // namespace

void name_container(DiscoveredContainer& c, const RootFs* node_files,
                    std::string_view mountinfo) {
  ContainerIdentity& id = c.identity;
  if (node_files != nullptr) from_runtime_state(c, *node_files);
  KubeletMounts mounts = parse_kubelet_mounts(mountinfo);
  if (!mounts.pod_uid.empty() && (id.pod_uid.empty() || id.pod_uid == mounts.pod_uid)) {
    id.pod_uid = mounts.pod_uid;
    if (!mounts.container_name.empty()) {
      merge(id, ContainerNames{"", "", mounts.container_name, "", std::nullopt}, "mountinfo");
    }
  }
  if (node_files != nullptr) from_log_names(c, *node_files);
}

}  // namespace pycheck
