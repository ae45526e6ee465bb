// Finding the containers of a node from /proc, without asking any runtime.
//
// Processes are grouped by mount namespace; a group is a container when one
// of its members sits in a container runtime's cgroup (container_identity.h).
// The node's own namespace, pycheck's own, runtime monitors (conmon) and
// groups in no runtime cgroup (a systemd service's PrivateTmp) are not
// containers. A process whose namespaces may not be read (no CAP_SYS_PTRACE)
// but whose cgroup names a container still makes that container show, as
// denied; one that names none is counted, never dropped silently.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/core/result.h"
#include "agent/rootfs/rootfs.h"
#include "agent/scan/container_identity.h"
#include "agent/scan/pinned_process.h"

namespace pycheck {

struct ContainerIdentity {
  ContainerRuntime runtime = ContainerRuntime::unknown;
  std::string container_id;
  std::string pod_uid;
  std::string namespace_name;
  std::string pod;
  std::string container;
  std::string image;
  std::vector<std::string> names_from;  // which node files named it
  std::string cgroup;
  int pid = 0;           // the representative process
  std::string pid_rule;  // init | parent-outside | earliest
  std::string mount_namespace;
  int processes = 0;
};

struct DiscoveredContainer {
  ContainerIdentity identity;
  bool sandbox = false;  // a pod's pause container: not checked
  std::uint64_t start_time = 0;
  // The representative, held; null when its namespaces could not be read.
  std::shared_ptr<const PinnedProcess> process;
  std::string denied;  // why it may not be read, when process is null
};

struct Discovery {
  std::vector<DiscoveredContainer> containers;  // by start time, then pid
  int other_namespaces = 0;    // mount namespaces that are no container
  int processes_vanished = 0;  // exited while being read
  int processes_denied = 0;    // unreadable, and in no container's cgroup
  int processes_read = 0;      // whose mount namespace could be read
  // Processes that could not be read for another reason (out of descriptors
  // or memory, a malformed /proc file): the scan may miss their containers.
  int processes_unreadable = 0;
  std::string unreadable_error;  // the first such failure
  std::optional<Error> error;  // /proc could not be read at all
};

// Lists /proc and groups its processes. `node_files`, when given, is the node's
// root for names (runtime state, /var/log/pods); see node_names.h.
Discovery discover_containers(const RootFs* node_files);

// Pure: the representative of a group, by the rules of the note: (a) a member
// that is PID 1 of a pid namespace other than the node's (the container's
// init, whose environ is the container's environment); (b) else the earliest
// started member whose parent is outside the group (hostPID pods); (c) else
// the earliest started. Never the lowest PID: PIDs wrap. `in_group` tells
// whether a pid belongs to the group. Returns the index and the rule's name.
std::pair<std::size_t, std::string> pick_representative(
    const std::vector<ProcessFacts>& members, const std::string& host_pid_namespace,
    const std::function<bool(int pid)>& in_group);

}  // namespace pycheck
