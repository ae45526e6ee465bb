#include "agent/scan/node_scan.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "agent/core/environment.h"
#include "checks/facts/path_search.h"

namespace pycheck {
namespace {

constexpr std::size_t kMaxEnviron = 4u << 20;  // as --env-file

using Clock = std::chrono::steady_clock;

// "No Python" only when the PATH search is sure: nothing named python3 or
// python at all. A dangling link, a file that is not executable or a search
// that stopped (a loop, an I/O error) is a Python to judge, not none.
bool surely_no_python(const RootFs& fs, const Environment& env) {
  const SearchPath path = make_search_path(env.get("PATH"));
  for (std::string_view name : {"python3", "python"}) {
    const CommandLookup lookup = find_command(fs, path, name);
    if (lookup.outcome != LookupOutcome::not_found || !lookup.skipped.empty()) return false;
  }
  return true;
}

// The node's own root, to tell a container whose files the node cannot see.
std::optional<std::pair<dev_t, ino_t>> node_root_identity() {
  struct stat st {};
  for (const char* path : {"/proc/1/root", "/proc/2/root"}) {
    if (::stat(path, &st) == 0) return std::pair(st.st_dev, st.st_ino);
  }
  return std::nullopt;
}

// What the scan's threads share. Held by shared_ptr: a thread stuck in a read
// outlives the scan, and must find everything it touches still alive.
struct ScanState {
  ScanOptions options;
  Clock::time_point scan_deadline;
  std::optional<std::pair<dev_t, ino_t>> node_root;
  std::shared_ptr<StuckChecks> stuck;
  std::vector<DiscoveredContainer> containers;

  std::mutex mutex;  // guards what follows
  std::condition_variable changed;
  std::vector<std::optional<ScannedContainer>> results;
  std::size_t next = 0;  // the next container to take
  struct Job {
    std::size_t index;
    Clock::time_point deadline;  // its container's: the run's timeout, within the scan's
    std::shared_ptr<std::atomic<bool>> running;
    std::shared_ptr<std::atomic<bool>> given_up;  // by the supervisor: start no checks
  };
  std::vector<Job> jobs;  // containers being checked
  int abandoned = 0;      // check threads left running
  int lost_jobs = 0;      // jobs given up while stuck
};

ScannedContainer not_checked(ContainerIdentity identity, ContainerState state, std::string why) {
  return ScannedContainer{std::move(identity), state, std::move(why), std::nullopt};
}

// Work on this container from an earlier scan still stuck: when it started.
std::optional<std::chrono::system_clock::time_point> still_stuck(StuckChecks* stuck,
                                                                 const std::string& key) {
  if (stuck == nullptr) return std::nullopt;
  std::lock_guard lock(stuck->mutex);
  auto it = stuck->by_container.find(key);
  if (it == stuck->by_container.end()) return std::nullopt;
  std::erase_if(it->second, [](const AbandonedCheck& c) { return !c.still_running(); });
  if (it->second.empty()) {
    stuck->by_container.erase(it);
    return std::nullopt;
  }
  return it->second.front().started;
}

void remember_stuck(StuckChecks* stuck, const std::string& key,
                    const std::vector<AbandonedCheck>& checks) {
  if (stuck == nullptr || checks.empty()) return;
  std::lock_guard lock(stuck->mutex);
  auto& list = stuck->by_container[key];
  list.insert(list.end(), checks.begin(), checks.end());
}

ScannedContainer check_container(ScanState& ctx, const DiscoveredContainer& found,
                                 Clock::time_point deadline, const std::atomic<bool>& given_up,
                                 int& abandoned) {
  const ContainerIdentity& id = found.identity;
  if (found.sandbox) return not_checked(id, ContainerState::sandbox, "a pod's sandbox (pause)");
  if (!found.process) return not_checked(id, ContainerState::denied, found.denied);
  const auto now = Clock::now();
  if (now >= ctx.scan_deadline) {
    return not_checked(id, ContainerState::not_checked,
                       "the scan's deadline (--scan-timeout) passed before its turn");
  }
  if (auto since = still_stuck(ctx.stuck.get(), id.mount_namespace)) {
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
  fs.set_deadline(deadline);
  struct stat st {};
  if (ctx.node_root && ::fstat(*root_fd, &st) == 0 &&
      std::pair(st.st_dev, st.st_ino) == *ctx.node_root) {
    return not_checked(id, ContainerState::unsupported,
                       "its root is the node's own: it is still starting (not yet in its root), or "
                       "a VM-isolated runtime (Kata, gVisor) keeps its files out of the node's "
                       "sight");
  }
  auto environ = process.read("environ", kMaxEnviron);
  if (!environ) return unreadable(environ.error());
  Environment env = Environment::parse_environ_block(*environ);
  if (!ctx.options.all && surely_no_python(fs, env)) {
    if (auto late = fs.deadline_error("its PATH")) {
      return not_checked(id, ContainerState::not_checked, late->message);
    }
    return not_checked(id, ContainerState::no_python,
                       "no python3 or python on its PATH (--all checks it anyway)");
  }
  if (given_up.load()) {
    return not_checked(id, ContainerState::not_checked, "given up while stuck in a read");
  }

  const auto run_started = std::chrono::system_clock::now();
  auto setup = std::make_shared<RunSetup>(std::move(fs), std::move(env));
  setup->checks = ctx.options.checks;
  setup->now = ctx.options.now.value_or(run_started);
  setup->online = ctx.options.online;
  const auto timeout = std::max(std::chrono::milliseconds(1),
                                std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()));
  if (setup->online && ctx.options.prepare_online) ctx.options.prepare_online(*setup, timeout);
  RunOutcome outcome = run_checks(std::move(setup), timeout);
  abandoned += outcome.abandoned_checks;
  remember_stuck(ctx.stuck.get(), id.mount_namespace, outcome.abandoned);
  Report& report = outcome.report;
  report.pycheck_version = PYCHECK_VERSION;
  report.root = "/proc/" + std::to_string(process.pid()) + "/root";
  report.started_at = format_rfc3339(run_started);
  ScannedContainer result{id, ContainerState::checked, "",
                          summarize_report(report, ctx.options.keep_report_json)};
  if (!process.alive()) {
    result.state = ContainerState::stale;
    result.reason = "it exited during its check: the report may mix its files with missing ones";
  }
  return result;
}

// A job: takes the next container until there is none, reporting each.
void run_jobs(std::shared_ptr<ScanState> state) {
  std::unique_lock lock(state->mutex);
  while (state->next < state->containers.size()) {
    const std::size_t index = state->next++;
    const auto deadline = std::min(Clock::now() + state->options.timeout, state->scan_deadline);
    auto running = std::make_shared<std::atomic<bool>>(true);
    auto given_up = std::make_shared<std::atomic<bool>>(false);
    state->jobs.push_back({index, deadline, running, given_up});
    state->changed.notify_all();  // the supervisor times this job from now
    lock.unlock();
    int abandoned = 0;
    ScannedContainer result =
        check_container(*state, state->containers[index], deadline, *given_up, abandoned);
    running->store(false);
    lock.lock();
    state->abandoned += abandoned;
    std::erase_if(state->jobs, [&](const ScanState::Job& j) { return j.index == index; });
    state->containers[index].process.reset();  // its descriptor is not needed any more
    if (state->results[index]) return;  // given up meanwhile: another job took this one's place
    state->results[index] = std::move(result);
    state->changed.notify_all();
  }
}

// The room for every descriptor the scan may hold: a pinned process per
// container and, per job, the directories a RootFs keeps open.
void raise_descriptor_limit() {
  struct rlimit limit {};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, 1 << 16);
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace

ScanReport run_scan(const ScanOptions& options, std::shared_ptr<StuckChecks> stuck) {
  raise_descriptor_limit();
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
  if (discovery.error) {
    scan.scanner_error = "cannot list processes: " + discovery.error->message;
  } else if (discovery.processes_unreadable > 0) {
    // Not exited, not denied: the scan cannot tell what it missed, so it did not work.
    scan.scanner_error = "could not read " + std::to_string(discovery.processes_unreadable) +
                         (discovery.processes_unreadable == 1 ? " process" : " processes") +
                         " (" + discovery.unreadable_error + "): containers may be missing";
  }

  auto state = std::make_shared<ScanState>();
  state->options = options;
  state->scan_deadline = steady_started + options.scan_timeout;
  state->node_root = node_root_identity();
  state->stuck = std::move(stuck);
  state->containers = std::move(discovery.containers);
  state->results.resize(state->containers.size());

  // The jobs run detached: this thread supervises them. A job still busy past
  // its container's deadline and a grace is stuck in a read no one can end:
  // its container is given up and a new job takes its place.
  constexpr auto kGrace = std::chrono::seconds(1);
  const std::size_t jobs = std::min<std::size_t>(scan.jobs, state->containers.size());
  for (std::size_t t = 0; t < jobs; ++t) std::thread(run_jobs, state).detach();
  {
    std::unique_lock lock(state->mutex);
    const auto all_done = [&] {
      return std::all_of(state->results.begin(), state->results.end(),
                         [](const auto& r) { return r.has_value(); });
    };
    // A job stuck past its deadline: it starts no checks, and its container is not
    // started again while it runs.
    const auto give_up = [&](const ScanState::Job& job) {
      job.given_up->store(true);
      remember_stuck(state->stuck.get(), state->containers[job.index].identity.mount_namespace,
                     {AbandonedCheck{"(scan)", std::chrono::system_clock::now(), job.running}});
      ++state->lost_jobs;
    };
    while (!all_done()) {
      // Past the scan's deadline and its grace, whatever is not done is given up.
      const auto last = state->scan_deadline + kGrace;
      auto wake = last;
      for (const ScanState::Job& job : state->jobs) {
        wake = std::min(wake, job.deadline + kGrace);
      }
      state->changed.wait_until(lock, wake);
      const auto now = Clock::now();
      if (now >= last) {
        state->next = state->containers.size();  // no job takes another
        for (std::size_t i = 0; i < state->results.size(); ++i) {
          if (state->results[i]) continue;
          state->results[i] = not_checked(state->containers[i].identity,
                                          ContainerState::not_checked,
                                          "the scan's deadline (--scan-timeout) passed first");
        }
        for (const ScanState::Job& job : state->jobs) {
          if (job.running->load()) give_up(job);
        }
        break;
      }
      for (auto it = state->jobs.begin(); it != state->jobs.end();) {
        // A job that just finished (not running) is waiting for the lock with its result.
        if (now < it->deadline + kGrace || state->results[it->index] || !it->running->load()) {
          ++it;
          continue;
        }
        give_up(*it);
        state->results[it->index] = not_checked(
            state->containers[it->index].identity, ContainerState::not_checked,
            "stuck in a read past its deadline (a hung filesystem?): given up");
        it = state->jobs.erase(it);
        std::thread(run_jobs, state).detach();  // the slot is replaced
      }
    }
    for (auto& r : state->results) scan.containers.push_back(std::move(*r));
    scan.abandoned_checks = state->abandoned + state->lost_jobs;
  }
  if (scan.scanner_error.empty() && discovery.processes_read == 0) {
    scan.scanner_error =
        "no other process's namespaces could be read: pycheck needs CAP_SYS_PTRACE (and hostPID "
        "in a pod)";
  }
  scan.duration_ms =
      std::chrono::duration<double, std::milli>(Clock::now() - steady_started).count();
  return scan;
}

bool StuckChecks::any_running() {
  std::lock_guard lock(mutex);
  for (auto it = by_container.begin(); it != by_container.end();) {
    std::erase_if(it->second, [](const AbandonedCheck& c) { return !c.still_running(); });
    it = it->second.empty() ? by_container.erase(it) : std::next(it);
  }
  return !by_container.empty();
}

}  // namespace pycheck
