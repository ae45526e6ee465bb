#include "agent/scan/node_scan.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "agent/core/environment.h"
#include "checks/facts/path_search.h"

namespace pycheck {
namespace {

constexpr std::size_t kMaxEnviron = 4u << 20;  // as --env-file

using Clock = std::chrono::steady_clock;

bool has_python(const RootFs& fs, const Environment& env) {
  const SearchPath path = make_search_path(env.get("PATH"));
  return find_command(fs, path, "python3").found() || find_command(fs, path, "python").found();
}

// The node's own root, to tell a container whose files the node cannot see.
std::optional<std::pair<dev_t, ino_t>> node_root_identity() {
  struct stat st {};
  for (const char* path : {"/proc/1/root", "/proc/2/root"}) {
    if (::stat(path, &st) == 0) return std::pair(st.st_dev, st.st_ino);
  }
  return std::nullopt;
}

struct ScanContext {
  const ScanOptions& options;
  Clock::time_point scan_deadline;
  std::chrono::system_clock::time_point started;
  std::optional<std::pair<dev_t, ino_t>> node_root;
  StuckChecks* stuck;
  std::mutex stuck_mutex;
  std::atomic<int> abandoned{0};
};

ScannedContainer not_checked(ContainerIdentity identity, ContainerState state, std::string why) {
  return ScannedContainer{std::move(identity), state, std::move(why), std::nullopt};
}

// A check of this container from an earlier scan still stuck: when it started.
std::optional<std::chrono::system_clock::time_point> still_stuck(ScanContext& ctx,
                                                                 const std::string& key) {
  if (ctx.stuck == nullptr) return std::nullopt;
  std::lock_guard lock(ctx.stuck_mutex);
  auto it = ctx.stuck->find(key);
  if (it == ctx.stuck->end()) return std::nullopt;
  std::erase_if(it->second, [](const AbandonedCheck& c) { return !c.still_running(); });
  if (it->second.empty()) {
    ctx.stuck->erase(it);
    return std::nullopt;
  }
  return it->second.front().started;
}

ScannedContainer check_container(ScanContext& ctx, const DiscoveredContainer& found) {
  const ContainerIdentity& id = found.identity;
  if (found.sandbox) return not_checked(id, ContainerState::sandbox, "a pod's sandbox (pause)");
  if (!found.process) return not_checked(id, ContainerState::denied, found.denied);
  const auto now = Clock::now();
  if (now >= ctx.scan_deadline) {
    return not_checked(id, ContainerState::not_checked,
                       "the scan's deadline (--scan-timeout) passed before its turn");
  }
  if (auto since = still_stuck(ctx, id.mount_namespace)) {
    return not_checked(id, ContainerState::not_checked,
                       "a check of it is still stuck in a read since " + format_rfc3339(*since) +
                           ": not started again");
  }
  const PinnedProcess& process = *found.process;
  const auto unreadable = [&](const Error& error) {
    switch (classify_process_error(error)) {
      case ProcessReadFailure::vanished:
        return not_checked(id, ContainerState::vanished, "it exited before its check");
      case ProcessReadFailure::denied:
        return not_checked(id, ContainerState::denied,
                           error.message + " (pycheck needs CAP_SYS_PTRACE)");
      default: return not_checked(id, ContainerState::denied, error.message);
    }
  };
  auto root_fd = process.open_root();
  if (!root_fd) return unreadable(root_fd.error());
  RootFs fs = RootFs::adopt(*root_fd, "/proc/" + std::to_string(process.pid()) + "/root");
  struct stat st {};
  if (ctx.node_root && ::fstat(*root_fd, &st) == 0 &&
      std::pair(st.st_dev, st.st_ino) == *ctx.node_root) {
    return not_checked(id, ContainerState::unsupported,
                       "its root is the node's own: a VM-isolated runtime (Kata, gVisor) keeps "
                       "the container's files out of the node's sight");
  }
  auto environ = process.read("environ", kMaxEnviron);
  if (!environ) return unreadable(environ.error());
  Environment env = Environment::parse_environ_block(*environ);
  if (!ctx.options.all && !has_python(fs, env)) {
    return not_checked(id, ContainerState::no_python,
                       "no python3 or python on its PATH (--all checks it anyway)");
  }

  const auto run_started = std::chrono::system_clock::now();
  auto setup = std::make_shared<RunSetup>(std::move(fs), std::move(env));
  setup->checks = ctx.options.checks;
  setup->now = ctx.options.now.value_or(run_started);
  setup->online = ctx.options.online;
  const auto timeout = std::min<std::chrono::milliseconds>(
      ctx.options.timeout,
      std::chrono::ceil<std::chrono::milliseconds>(ctx.scan_deadline - Clock::now()));
  if (setup->online && ctx.options.prepare_online) ctx.options.prepare_online(*setup, timeout);
  RunOutcome outcome = run_checks(std::move(setup), timeout);
  ctx.abandoned += outcome.abandoned_checks;
  if (ctx.stuck != nullptr && !outcome.abandoned.empty()) {
    std::lock_guard lock(ctx.stuck_mutex);
    auto& list = (*ctx.stuck)[id.mount_namespace];
    list.insert(list.end(), outcome.abandoned.begin(), outcome.abandoned.end());
  }
  ScannedContainer result{id, ContainerState::checked, "", std::move(outcome.report)};
  result.report->pycheck_version = PYCHECK_VERSION;
  result.report->root = "/proc/" + std::to_string(process.pid()) + "/root";
  result.report->started_at = format_rfc3339(run_started);
  if (!process.alive()) {
    result.state = ContainerState::stale;
    result.reason = "it exited during its check: the report may mix its files with missing ones";
  }
  return result;
}

}  // namespace

ScanReport run_scan(const ScanOptions& options, StuckChecks* stuck) {
  const auto started = std::chrono::system_clock::now();
  const auto steady_started = Clock::now();
  ScanReport scan;
  scan.pycheck_version = PYCHECK_VERSION;
  scan.started_at = format_rfc3339(started);
  scan.node_root = options.node_root;
  scan.jobs = std::max(1, options.jobs);
  scan.timeout_ms = static_cast<double>(options.timeout.count());
  scan.scan_timeout_ms = static_cast<double>(options.scan_timeout.count());
  scan.all = options.all;
  scan.fail_on = options.fail_on;

  std::optional<RootFs> node_files;
  if (auto opened = RootFs::open(options.node_root)) {
    node_files = std::move(*opened);
    node_files->set_deadline(steady_started + options.scan_timeout);
  }
  Discovery discovery = discover_containers(node_files ? &*node_files : nullptr);
  scan.other_namespaces = discovery.other_namespaces;
  scan.processes_vanished = discovery.processes_vanished;
  scan.processes_denied = discovery.processes_denied;
  if (discovery.error) scan.scanner_error = "cannot list processes: " + discovery.error->message;

  ScanContext ctx{options, steady_started + options.scan_timeout, started, node_root_identity(),
                  stuck, {}, {}};
  std::vector<std::optional<ScannedContainer>> results(discovery.containers.size());
  std::atomic<std::size_t> next{0};
  const auto work = [&] {
    for (std::size_t i; (i = next.fetch_add(1)) < discovery.containers.size();) {
      results[i] = check_container(ctx, discovery.containers[i]);
      discovery.containers[i].process.reset();  // its descriptor is not needed any more
    }
  };
  const std::size_t threads = std::min<std::size_t>(scan.jobs, discovery.containers.size());
  std::vector<std::thread> workers;
  for (std::size_t t = 1; t < threads; ++t) workers.emplace_back(work);
  work();
  for (std::thread& t : workers) t.join();

  for (auto& r : results) scan.containers.push_back(std::move(*r));
  scan.abandoned_checks = ctx.abandoned.load();
  if (scan.scanner_error.empty() && discovery.processes_read == 0) {
    scan.scanner_error =
        "no other process's namespaces could be read: pycheck needs CAP_SYS_PTRACE (and hostPID "
        "in a pod)";
  }
  scan.duration_ms =
      std::chrono::duration<double, std::milli>(Clock::now() - steady_started).count();
  return scan;
}

}  // namespace pycheck
