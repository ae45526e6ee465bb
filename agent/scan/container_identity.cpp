#include "agent/scan/container_identity.h"

#include <nlohmann/json.hpp>

#include "agent/core/text.h"

namespace pycheck {
namespace {

bool is_hex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return !s.empty();
}

bool is_container_id(std::string_view s) { return s.size() == 64 && is_hex(s); }

// "8-4-4-4-12" hex with '-' (or systemd's '_'), or 32 hex (a static pod's
// config hash). Returns it with '-', or empty.
std::string pod_uid(std::string_view s) {
  if (s.size() == 32 && is_hex(s)) return std::string(s);
  if (s.size() != 36) return "";
  std::string uid(s);
  for (std::size_t i = 0; i < uid.size(); ++i) {
    const bool dash_place = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_place) {
      if (uid[i] != '-' && uid[i] != '_') return "";
      uid[i] = '-';
    } else if (!is_hex(uid.substr(i, 1))) {
      return "";
    }
  }
  return uid;
}

// "prefix<id>suffix" -> id when the middle is a container id.
std::optional<std::string_view> between(std::string_view segment, std::string_view prefix,
                                        std::string_view suffix) {
  if (segment.size() < prefix.size() + suffix.size() || !segment.starts_with(prefix) ||
      !segment.ends_with(suffix)) {
    return std::nullopt;
  }
  std::string_view id = segment.substr(prefix.size(), segment.size() - prefix.size() - suffix.size());
  if (!is_container_id(id)) return std::nullopt;
  return id;
}

struct SegmentMatch {
  ContainerRuntime runtime = ContainerRuntime::unknown;
  std::string_view id;
  bool conmon = false;
};

// A container's own cgroup segment. `previous` is the segment before it
// (Docker's cgroupfs "/docker/<id>", Podman's "/libpod_parent/libpod-<id>",
// the kubelet's cgroupfs "pod<uid>/<id>").
std::optional<SegmentMatch> match_container_segment(std::string_view segment,
                                                    std::string_view previous) {
  struct Pattern {
    std::string_view prefix, suffix;
    ContainerRuntime runtime;
    bool conmon;
  };
  static constexpr Pattern kPatterns[] = {
      {"crio-conmon-", ".scope", ContainerRuntime::crio, true},
      {"libpod-conmon-", ".scope", ContainerRuntime::podman, true},
      {"cri-containerd-", ".scope", ContainerRuntime::containerd, false},
      {"crio-", ".scope", ContainerRuntime::crio, false},
      {"crio-", "", ContainerRuntime::crio, false},
      {"docker-", ".scope", ContainerRuntime::docker, false},
      {"libpod-", ".scope", ContainerRuntime::podman, false},
      {"libpod-", "", ContainerRuntime::podman, false},
  };
  for (const Pattern& p : kPatterns) {
    if (auto id = between(segment, p.prefix, p.suffix)) return SegmentMatch{p.runtime, *id, p.conmon};
  }
  if (is_container_id(segment)) {
    if (previous == "docker") return SegmentMatch{ContainerRuntime::docker, segment, false};
    // The kubelet's cgroupfs layout names no runtime: the state files may.
    if (previous.starts_with("pod")) return SegmentMatch{ContainerRuntime::unknown, segment, false};
  }
  return std::nullopt;
}

// A pod's cgroup segment: "kubepods-<qos>-pod<uid_>.slice", "kubepods-pod<uid_>.slice"
// (kind: "kubelet-kubepods-...-pod<uid_>.slice"), or cgroupfs "pod<uid>".
std::string match_pod_segment(std::string_view segment) {
  if (segment.starts_with("pod")) return pod_uid(segment.substr(3));
  if (!segment.ends_with(".slice") || segment.find("kubepods") == std::string_view::npos) return "";
  std::string_view body = segment.substr(0, segment.size() - 6);
  const std::size_t at = body.rfind("-pod");
  if (at == std::string_view::npos) return "";
  return pod_uid(body.substr(at + 4));
}

}  // namespace

std::string_view to_string(ContainerRuntime runtime) {
  switch (runtime) {
    case ContainerRuntime::containerd: return "containerd";
    case ContainerRuntime::crio: return "cri-o";
    case ContainerRuntime::docker: return "docker";
    case ContainerRuntime::podman: return "podman";
    case ContainerRuntime::unknown: break;
  }
  return "unknown";
}

CgroupIdentity parse_cgroup_path(std::string_view path) {
  CgroupIdentity identity;
  identity.path = std::string(path);
  std::string pod;  // the last pod segment seen so far
  std::string_view previous;
  for (std::string_view segment : split(path, '/')) {
    if (std::string uid = match_pod_segment(segment); !uid.empty()) pod = uid;
    if (auto match = match_container_segment(segment, previous)) {
      identity.runtime = match->runtime;
      identity.container_id = std::string(match->id);
      identity.conmon = match->conmon;
      identity.pod_uid = pod;  // a pod segment before this container's, or none
      pod.clear();
    }
    if (!segment.empty()) previous = segment;
  }
  return identity;
}

CgroupIdentity parse_proc_cgroup(std::string_view text) {
  std::optional<CgroupIdentity> v2, v1;
  for (std::string_view line : split_lines(text)) {
    // "hierarchy-ID:controller-list:path"; the path may itself hold ':'.
    const std::size_t first = line.find(':');
    if (first == std::string_view::npos) continue;
    const std::size_t second = line.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    CgroupIdentity identity = parse_cgroup_path(line.substr(second + 1));
    if (line.substr(0, second) == "0:") {
      v2 = std::move(identity);
    } else if (!v1 && !identity.container_id.empty()) {
      v1 = std::move(identity);
    }
  }
  if (v2 && !v2->container_id.empty()) return *v2;
  if (v1) return *v1;
  return v2.value_or(CgroupIdentity{});
}

KubeletMounts parse_kubelet_mounts(std::string_view mountinfo) {
  KubeletMounts found;
  for (std::string_view line : split_lines(mountinfo)) {
    // proc(5): ID PARENT MAJ:MIN ROOT MOUNT-POINT ...; ROOT and MOUNT-POINT octal-escape spaces.
    std::vector<std::string_view> fields = split(line, ' ');
    if (fields.size() < 5) continue;
    std::string_view root = fields[3], mount_point = fields[4];
    // ".../pods/<uid>/...": the "/pods/" followed by a pod uid (a container
    // may itself be named "pods").
    std::vector<std::string_view> tail;
    for (std::size_t at = root.find("/pods/"); at != std::string_view::npos;
         at = root.find("/pods/", at + 1)) {
      std::string_view rest = root.substr(at + 6);
      if (pod_uid(rest.substr(0, rest.find('/'))).empty()) continue;
      tail = split(rest, '/');
      break;
    }
    if (tail.empty()) continue;
    if (mount_point == "/dev/termination-log" && tail.size() == 4 && tail[1] == "containers") {
      if (std::string uid = pod_uid(tail[0]); !uid.empty()) {
        found.pod_uid = uid;
        found.container_name = std::string(tail[2]);
      }
    } else if (mount_point == "/etc/hosts" && tail.size() == 2 && tail[1] == "etc-hosts" &&
               found.pod_uid.empty()) {
      found.pod_uid = pod_uid(tail[0]);
    }
  }
  return found;
}

ContainerNames parse_oci_annotations(std::string_view config_json, ContainerRuntime runtime) {
  ContainerNames names;
  const nlohmann::json config = nlohmann::json::parse(config_json, nullptr, false);
  if (!config.is_object()) return names;
  auto annotations = config.find("annotations");
  if (annotations == config.end() || !annotations->is_object()) return names;
  const auto text = [&](const char* key) -> std::string {
    auto it = annotations->find(key);
    return it != annotations->end() && it->is_string() ? it->get<std::string>() : "";
  };
  std::string type;
  if (runtime == ContainerRuntime::crio) {
    type = text("io.kubernetes.cri-o.ContainerType");
    names.namespace_name = text("io.kubernetes.pod.namespace");
    names.pod = text("io.kubernetes.pod.name");
    names.container = text("io.kubernetes.container.name");
    names.image = text("io.kubernetes.cri-o.ImageName");
  } else {
    type = text("io.kubernetes.cri.container-type");
    names.namespace_name = text("io.kubernetes.cri.sandbox-namespace");
    names.pod = text("io.kubernetes.cri.sandbox-name");
    names.container = text("io.kubernetes.cri.container-name");
    names.image = text("io.kubernetes.cri.image-name");
  }
  if (type == "sandbox") names.sandbox = true;
  if (type == "container") names.sandbox = false;
  return names;
}

ContainerNames parse_docker_config(std::string_view config_json) {
  ContainerNames names;
  const nlohmann::json config = nlohmann::json::parse(config_json, nullptr, false);
  if (!config.is_object()) return names;
  if (auto name = config.find("Name"); name != config.end() && name->is_string()) {
    std::string value = name->get<std::string>();
    names.container = value.starts_with('/') ? value.substr(1) : value;
  }
  if (auto inner = config.find("Config"); inner != config.end() && inner->is_object()) {
    if (auto image = inner->find("Image"); image != inner->end() && image->is_string())
      names.image = image->get<std::string>();
  }
  names.sandbox = false;
  return names;
}

std::optional<PodLogDir> match_pod_log_dir(std::string_view entry, std::string_view uid) {
  std::vector<std::string_view> parts = split(entry, '_');
  if (parts.size() != 3 || parts[0].empty() || parts[1].empty() || pod_uid(parts[2]) != uid)
    return std::nullopt;
  return PodLogDir{std::string(parts[0]), std::string(parts[1])};
}

std::optional<ContainerNames> match_container_log(std::string_view entry,
                                                  std::string_view container_id) {
  const std::string suffix = "-" + std::string(container_id) + ".log";
  if (container_id.empty() || !entry.ends_with(suffix)) return std::nullopt;
  std::vector<std::string_view> parts = split(entry.substr(0, entry.size() - suffix.size()), '_');
  if (parts.size() != 3 || parts[0].empty() || parts[1].empty() || parts[2].empty())
    return std::nullopt;
  ContainerNames names;
  names.pod = std::string(parts[0]);
  names.namespace_name = std::string(parts[1]);
  names.container = std::string(parts[2]);
  return names;
}

}  // namespace pycheck
