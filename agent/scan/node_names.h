// Names for a discovered container from the node's files, best first:
//   1. the runtime's state: containerd's task config.json
//      (run/containerd/io.containerd.runtime.v2.task/k8s.io/<id>/config.json),
//      CRI-O's (run/containers/storage/overlay-containers/<id>/userdata/config.json),
//      Docker's (var/lib/docker/containers/<id>/config.v2.json);
//   2. var/log/containers/<pod>_<namespace>_<container>-<id>.log;
//   3. the kubelet's bind mounts in the process's mountinfo (pod uid and
//      container name), then var/log/pods/<namespace>_<pod>_<uid>/.
// All paths are under the node root (--node-root: "/" on the node, the
// mounted hostPath in a DaemonSet), read through RootFs: nothing a container
// wrote can make pycheck read outside it.
#pragma once

#include "agent/rootfs/rootfs.h"
#include "agent/scan/container_discovery.h"

namespace pycheck {

// Fills in runtime (when the cgroup did not say), names, image, sandbox and
// names_from. `mountinfo` is the representative's /proc/PID/mountinfo text.
void name_container(DiscoveredContainer& container, const RootFs* node_files,
                    std::string_view mountinfo);

}  // namespace pycheck
