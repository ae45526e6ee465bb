#include "agent/scan/container_discovery.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <map>
#include <unordered_map>

#include "agent/scan/node_names.h"

namespace pycheck {
namespace {

constexpr std::size_t kMaxMountinfo = 4u << 20;

std::string read_link(const char* path) {
  char buffer[64];
  ssize_t n = ::readlink(path, buffer, sizeof buffer - 1);
  return n < 0 ? "" : std::string(buffer, static_cast<std::size_t>(n));
}

// The node's mount and pid namespaces: init's, else kthreadd's (PID 2 is always
// in the initial namespaces; init's links may be unreadable even for root).
std::string node_namespace(const char* kind) {
  for (const char* pid : {"1", "2"}) {
    std::string link = read_link(("/proc/" + std::string(pid) + "/ns/" + kind).c_str());
    if (!link.empty()) return link;
  }
  return read_link((std::string("/proc/self/ns/") + kind).c_str());
}

std::vector<int> list_pids(int proc_fd, std::optional<Error>& error) {
  std::vector<int> pids;
  int fd = ::dup(proc_fd);
  DIR* dir = fd < 0 ? nullptr : ::fdopendir(fd);
  if (dir == nullptr) {
    error = Error{std::string("/proc: ") + std::strerror(errno), errno};
    if (fd >= 0) ::close(fd);
    return pids;
  }
  while (dirent* entry = ::readdir(dir)) {
    int pid = 0;
    std::string_view name = entry->d_name;
    auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), pid);
    if (ec == std::errc() && end == name.data() + name.size() && pid > 0) pids.push_back(pid);
  }
  ::closedir(dir);
  return pids;
}

void unreadable(Discovery& discovery, const std::string& error) {
  if (discovery.processes_unreadable++ == 0) discovery.unreadable_error = error;
}

struct Member {
  ProcessFacts facts;
  std::shared_ptr<const PinnedProcess> process;
  CgroupIdentity cgroup;
};

bool is_sandbox_command(const ProcessFacts& facts) {
  return facts.command == "pause" ||
         (facts.command == "catatonit" && facts.arguments.find(" -P") != std::string::npos);
}

}  // namespace

std::pair<std::size_t, std::string> pick_representative(
    const std::vector<ProcessFacts>& members, const std::string& host_pid_namespace,
    const std::function<bool(int pid)>& in_group) {
  const auto earlier = [&](std::size_t a, std::size_t b) {
    return std::pair(members[a].start_time, members[a].pid) <
           std::pair(members[b].start_time, members[b].pid);
  };
  std::optional<std::size_t> init, outside, earliest;
  for (std::size_t i = 0; i < members.size(); ++i) {
    const ProcessFacts& m = members[i];
    if (m.innermost_pid == 1 && !m.pid_namespace.empty() && m.pid_namespace != host_pid_namespace &&
        (!init || earlier(i, *init))) {
      init = i;
    }
    if (!in_group(m.ppid) && (!outside || earlier(i, *outside))) outside = i;
    if (!earliest || earlier(i, *earliest)) earliest = i;
  }
  if (init) return {*init, "init"};
  if (outside) return {*outside, "parent-outside"};
  return {earliest.value_or(0), "earliest"};
}

Discovery discover_containers(const RootFs* node_files) {
  Discovery discovery;
  int proc_fd = ::open("/proc", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (proc_fd < 0) {
    discovery.error = Error{std::string("/proc: ") + std::strerror(errno), errno};
    return discovery;
  }
  const std::string node_mnt = node_namespace("mnt");
  const std::string node_pid = node_namespace("pid");
  const std::string own_mnt = read_link("/proc/self/ns/mnt");
  const int own_pid = static_cast<int>(::getpid());

  // Groups: by mount namespace, or by container id for processes whose
  // namespaces are denied (their cgroup is world-readable).
  std::map<std::string, std::vector<Member>> groups;
  std::unordered_map<int, std::string> group_of;  // pid -> group key
  for (int pid : list_pids(proc_fd, discovery.error)) {
    if (pid == own_pid) continue;
    auto pinned = PinnedProcess::pin(proc_fd, pid);
    auto facts = pinned ? pinned->read_facts() : Result<ProcessFacts>(pinned.error());
    if (!facts) {
      switch (classify_process_error(facts.error())) {
        case ProcessReadFailure::vanished: ++discovery.processes_vanished; break;
        case ProcessReadFailure::denied: ++discovery.processes_denied; break;
        default: unreadable(discovery, facts.error().message); break;
      }
      continue;
    }
    if (facts->kernel_thread || facts->state == 'Z' || facts->state == 'X') continue;
    Member member{std::move(*facts), nullptr, {}};
    member.cgroup = parse_proc_cgroup(member.facts.cgroup);
    std::string key;
    if (!member.facts.mount_namespace.empty()) {
      ++discovery.processes_read;
      if (member.facts.mount_namespace == node_mnt || member.facts.mount_namespace == own_mnt)
        continue;
      key = member.facts.mount_namespace;
    } else if (member.facts.namespaces == ProcessReadFailure::vanished) {
      ++discovery.processes_vanished;
      continue;
    } else if (member.facts.namespaces == ProcessReadFailure::other) {
      unreadable(discovery, member.facts.namespace_error);
      continue;
    } else if (member.cgroup.is_container()) {
      key = "cgroup:" + member.cgroup.container_id;
    } else {
      ++discovery.processes_denied;
      continue;
    }
    member.process = std::make_shared<const PinnedProcess>(std::move(*pinned));
    group_of[member.facts.pid] = key;
    groups[key].push_back(std::move(member));
  }
  ::close(proc_fd);

  for (auto& [key, members] : groups) {
    // The group's identity: the representative's cgroup when it names a
    // container, else the first member's that does (an exec'd process may sit
    // elsewhere); a group where none does is no container.
    std::vector<ProcessFacts> facts;
    for (const Member& m : members) facts.push_back(m.facts);
    auto [index, rule] = pick_representative(facts, node_pid, [&, k = &key](int pid) {
      auto it = group_of.find(pid);
      return it != group_of.end() && it->second == *k;
    });
    const Member* rep = &members[index];
    const Member* in_cgroup = rep->cgroup.is_container() ? rep : nullptr;
    for (const Member& m : members) {
      if (in_cgroup == nullptr && m.cgroup.is_container()) in_cgroup = &m;
    }
    if (in_cgroup == nullptr) {
      ++discovery.other_namespaces;
      continue;
    }
    DiscoveredContainer c;
    ContainerIdentity& id = c.identity;
    id.runtime = in_cgroup->cgroup.runtime;
    id.container_id = in_cgroup->cgroup.container_id;
    id.pod_uid = in_cgroup->cgroup.pod_uid;
    id.cgroup = in_cgroup->cgroup.path;
    id.pid = rep->facts.pid;
    id.pid_rule = rule;
    id.mount_namespace = rep->facts.mount_namespace;
    id.processes = static_cast<int>(members.size());
    c.start_time = rep->facts.start_time;
    c.sandbox = is_sandbox_command(rep->facts);
    if (key.starts_with("cgroup:")) {
      c.denied = "may not read its processes' namespaces (pycheck needs CAP_SYS_PTRACE)";
    } else {
      c.process = rep->process;
    }
    std::string mountinfo;
    if (c.process) mountinfo = c.process->read("mountinfo", kMaxMountinfo).value_or("");
    name_container(c, node_files, mountinfo);
    discovery.containers.push_back(std::move(c));
  }
  // A container some of whose processes could be read and others not (a
  // root master, workers of another uid) is one container: the readable
  // group speaks for it, the denied one adds its processes.
  std::map<std::string, DiscoveredContainer*> readable;
  for (DiscoveredContainer& c : discovery.containers) {
    if (c.process) readable.emplace(c.identity.container_id, &c);
  }
  std::erase_if(discovery.containers, [&](const DiscoveredContainer& c) {
    auto it = c.process ? readable.end() : readable.find(c.identity.container_id);
    if (it == readable.end()) return false;
    it->second->identity.processes += c.identity.processes;
    return true;
  });
  std::sort(discovery.containers.begin(), discovery.containers.end(),
            [](const DiscoveredContainer& a, const DiscoveredContainer& b) {
              return std::pair(a.start_time, a.identity.pid) <
                     std::pair(b.start_time, b.identity.pid);
            });
  return discovery;
}

}  // namespace pycheck
