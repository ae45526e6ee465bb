#include "agent/serve/scheduler.h"

#include "agent/core/duration.h"

#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <random>

namespace pycheck {

struct Scheduler::State {
  SchedulerOptions options;
  SetupFactory make_setup;
  LogFunction log;

  mutable std::mutex mutex;  // guards everything below
  std::condition_variable wake;
  bool stop_requested = false;
  bool thread_done = false;
  std::shared_ptr<const Snapshot> latest;
  std::optional<Report> last_offline;
  std::optional<Report> last_online;
  std::map<std::string, AbandonedCheck, std::less<>> stuck;  // by check id
  int runs = 0;
  // Jitter needs no quality, only that pods started together drift apart.
  std::minstd_rand random{static_cast<std::uint_fast32_t>(
      std::chrono::steady_clock::now().time_since_epoch().count() ^ ::getpid())};

  void loop();
  void run_once(bool online);
  std::chrono::milliseconds jittered_online_interval();
  void publish(Report report, bool online);
};

namespace {

using SteadyClock = std::chrono::steady_clock;

double ms_since(SteadyClock::time_point start) {
  return std::chrono::duration<double, std::milli>(SteadyClock::now() - start).count();
}

CheckResult error_result(const PlannedCheck& planned, std::string summary, json details,
                         std::string why, std::string fix) {
  CheckResult r;
  r.id = std::string(planned.info->id);
  r.title = std::string(planned.info->title);
  r.status = CheckStatus::error;
  r.summary = std::move(summary);
  r.details = std::move(details);
  r.findings.push_back(Finding{CheckStatus::error, std::move(why), "", "", std::move(fix), {}});
  return r;
}

CheckResult not_restarted(const PlannedCheck& planned, const AbandonedCheck& stuck) {
  std::string since = format_rfc3339(stuck.started);
  return error_result(planned, "still running since " + since + ", not restarted",
                      {{"running_since", since}},
                      "a read or request of an earlier run never returned",
                      "Look for a stuck network filesystem among what this check reads, then "
                      "restart pycheck serve.");
}

std::string without_prefix(std::string line) {
  constexpr std::string_view prefix = "pycheck: ";
  if (line.starts_with(prefix)) line.erase(0, prefix.size());
  return line;
}

}  // namespace

std::chrono::milliseconds Scheduler::State::jittered_online_interval() {
  const double unit = static_cast<double>(random() - std::minstd_rand::min()) /
                      static_cast<double>(std::minstd_rand::max() - std::minstd_rand::min());
  const double factor = 0.9 + 0.2 * unit;  // ±10%
  return std::chrono::milliseconds(
      static_cast<std::int64_t>(static_cast<double>(options.online_interval.count()) * factor));
}

void Scheduler::State::run_once(bool online) {
  const auto wall_start = std::chrono::system_clock::now();
  const auto start = SteadyClock::now();
  const auto& online_ids = options.online_check_ids;

  std::vector<const PlannedCheck*> wanted;
  for (const PlannedCheck& p : options.checks) {
    if (!online ||
        std::find(online_ids.begin(), online_ids.end(), p.info->id) != online_ids.end()) {
      wanted.push_back(&p);
    }
  }
  std::vector<PlannedCheck> runnable;
  std::vector<CheckResult> results;
  {
    std::lock_guard lock(mutex);
    std::erase_if(stuck, [](const auto& entry) { return !entry.second.still_running(); });
    for (const PlannedCheck* p : wanted) {
      auto it = stuck.find(p->info->id);
      if (it != stuck.end()) {
        results.push_back(not_restarted(*p, it->second));
      } else {
        runnable.push_back(*p);
      }
    }
  }

  auto setup = make_setup(online, options.timeout);
  if (!setup) {
    for (const PlannedCheck& p : runnable) {
      results.push_back(error_result(p, setup.error().message, json::object(),
                                     "the run could not be set up",
                                     "Check the root and environment pycheck serve was given."));
    }
  } else {
    (*setup)->checks = std::move(runnable);
    RunOutcome outcome = run_checks(*setup, options.timeout);
    std::move(outcome.report.checks.begin(), outcome.report.checks.end(),
              std::back_inserter(results));
    std::lock_guard lock(mutex);
    for (AbandonedCheck& a : outcome.abandoned) stuck[a.id] = std::move(a);
  }

  Report report;
  report.pycheck_version = PYCHECK_VERSION;
  report.root = options.root;
  report.started_at = format_rfc3339(wall_start);
  for (const PlannedCheck* p : wanted) {  // table order, whichever way each result came
    auto it = std::find_if(results.begin(), results.end(),
                           [&](const CheckResult& r) { return r.id == p->info->id; });
    if (it != results.end()) report.checks.push_back(std::move(*it));
  }
  report.duration_ms = ms_since(start);
  const std::string verdict = without_prefix(verdict_line(report));
  const double took_ms = report.duration_ms;
  // Published before it is logged: the log line means the result is served.
  publish(std::move(report), online);
  if (log) {
    char took[32];
    std::snprintf(took, sizeof took, "%.0f ms", took_ms);
    log(std::string("pycheck serve: ") + (online ? "online" : "offline") + " run in " + took +
        ": " + verdict);
  }
}

// The served report: the latest offline run, with the network-using checks'
// results taken from the latest online run when there is one.
void Scheduler::State::publish(Report report, bool online) {
  std::optional<Report> offline;
  std::optional<Report> from_online;
  {
    std::lock_guard lock(mutex);
    (online ? last_online : last_offline) = std::move(report);
    ++runs;
    if (!last_offline) return;  // nothing to serve before the first offline run
    offline = last_offline;
    from_online = last_online;
  }
  Report merged = std::move(*offline);
  if (from_online) {
    for (CheckResult& r : merged.checks) {
      auto it = std::find_if(from_online->checks.begin(), from_online->checks.end(),
                             [&](const CheckResult& o) { return o.id == r.id; });
      if (it != from_online->checks.end()) r = *it;
    }
  }
  auto snapshot = make_snapshot(std::move(merged), options.fail_on);
  std::lock_guard lock(mutex);
  latest = std::move(snapshot);
}

void Scheduler::State::loop() {
  // "Never" without overflowing the clock's arithmetic in wait_until.
  const auto never = SteadyClock::now() + std::chrono::hours(24 * 365 * 10);
  auto next_offline = SteadyClock::now();
  auto next_online = options.online ? SteadyClock::now() : never;
  std::unique_lock lock(mutex);
  while (!stop_requested) {
    if (wake.wait_until(lock, std::min(next_offline, next_online), [&] { return stop_requested; }))
      break;
    const auto now = SteadyClock::now();
    const bool offline_due = now >= next_offline;
    if (!offline_due && now < next_online) continue;
    lock.unlock();
    // Offline first: it is what /readyz needs, and the first one makes us ready.
    try {
      run_once(!offline_due);
    } catch (const std::exception& e) {  // e.g. out of memory: keep serving the last result
      if (log) log(std::string("pycheck serve: run failed: ") + e.what());
    }
    if (offline_due) {
      next_offline = SteadyClock::now() + options.interval;
    } else {
      next_online = SteadyClock::now() + jittered_online_interval();
    }
    lock.lock();
  }
  thread_done = true;
  wake.notify_all();
}

Scheduler::Scheduler(SchedulerOptions options, SetupFactory make_setup, LogFunction log)
    : state_(std::make_shared<State>()) {
  state_->options = std::move(options);
  state_->make_setup = std::move(make_setup);
  state_->log = std::move(log);
}

Scheduler::~Scheduler() { stop(std::chrono::seconds(1)); }

void Scheduler::start() {
  // The thread shares the state, so it may outlive this object safely (stop()).
  thread_ = std::thread([state = state_] { state->loop(); });
}

bool Scheduler::stop(std::chrono::milliseconds grace) {
  {
    std::lock_guard lock(state_->mutex);
    state_->stop_requested = true;
  }
  state_->wake.notify_all();
  if (!thread_.joinable()) return true;
  bool done;
  {
    std::unique_lock lock(state_->mutex);
    done = state_->wake.wait_for(lock, grace, [&] { return state_->thread_done; });
  }
  if (done) {
    thread_.join();
  } else {
    thread_.detach();
  }
  return done;
}

std::shared_ptr<const Snapshot> Scheduler::latest() const {
  std::lock_guard lock(state_->mutex);
  return state_->latest;
}

void Scheduler::run_once(bool online) { state_->run_once(online); }

std::vector<std::string> Scheduler::stuck_checks() const {
  std::lock_guard lock(state_->mutex);
  std::vector<std::string> ids;
  for (const auto& [id, check] : state_->stuck) {
    if (check.still_running()) ids.push_back(id);
  }
  return ids;
}

std::string Scheduler::describe() const {
  const SchedulerOptions& options = state_->options;
  std::string text = "offline runs every " + format_duration(options.interval);
  if (options.online)
    text += ", online runs every " + format_duration(options.online_interval) + " ±10%";
  return text + ", " + std::to_string(options.checks.size()) + " checks, deadline " +
         format_duration(options.timeout);
}

int Scheduler::runs_completed() const {
  std::lock_guard lock(state_->mutex);
  return state_->runs;
}

}  // namespace pycheck
