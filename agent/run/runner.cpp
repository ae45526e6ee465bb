#include "agent/run/runner.h"

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>

namespace pycheck {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Checks run on a few threads (about one per core) that take them costliest
// first (CheckInfo::cost, then table order; 1 ms less for a full run on 2
// cores than table order): a thread per check cost more in thread starts and
// lock contention than the checks themselves. A check that blocks (a hung
// filesystem) must not hold the others back, so whenever checks wait and none
// has finished for kStallAfter (runner.h), one more thread starts: a stuck
// check costs a thread, not the run.
constexpr std::size_t kNotRunning = static_cast<std::size_t>(-1);

class SteadyRunClock final : public RunClock {
 public:
  time_point now() const override { return Clock::now(); }
  void wait_until(std::condition_variable& progress, std::unique_lock<std::mutex>& lock,
                  time_point until) const override {
    progress.wait_until(lock, until);
  }
};

struct SharedRun {
  std::shared_ptr<RunSetup> setup;
  std::shared_ptr<const RunClock> clock;  // shared: a stuck thread may use it after the run
  std::mutex mutex;
  std::condition_variable progress;
  std::vector<std::optional<CheckResult>> results;
  std::vector<std::shared_ptr<std::atomic<bool>>> running;  // per check, while a thread runs it
  std::vector<std::size_t> running_on;   // per thread: the check it runs, or kNotRunning
  std::vector<std::size_t> start_order;  // indexes into results, costliest first
  std::size_t next = 0;                  // in start_order: the next check to start
  std::size_t remaining = 0;
  bool closed = false;  // the deadline has passed: start no more checks
  Clock::time_point last_progress;
};

CheckResult run_one(const RunSetup& setup, const PlannedCheck& planned) {
  CheckResult result;
  result.id = std::string(planned.info->id);
  result.title = std::string(planned.info->title);
  const auto start = Clock::now();
  try {
    Context ctx{setup.fs,     setup.env,        planned.params, setup.now,
                setup.online, setup.http.get(), &setup.facts};
    CheckOutcome outcome = planned.info->run(ctx);
    result.status = outcome.status;
    result.summary = std::move(outcome.summary);
    result.details = std::move(outcome.details);
    result.findings = std::move(outcome.findings);
  } catch (const std::exception& e) {
    result.status = CheckStatus::error;
    result.summary = std::string("internal error: ") + e.what();
  } catch (...) {
    result.status = CheckStatus::error;
    result.summary = "internal error";
  }
  result.duration_ms = ms_since(start);
  apply_severity(result, planned.severity);
  return result;
}

// A thread's malloc arena grows its heap a few pages at a time, one mprotect
// each (about 150 in a full run), and every mprotect waits on the address
// space's lock with the other threads' page faults. Taking one large block
// and giving it back grows the heap once: glibc keeps the room, untouched,
// when the process asks it to (pycheck run's M_TRIM_THRESHOLD), and trims it
// otherwise.
void grow_malloc_arena_once() {
  constexpr std::size_t kArenaRoom = 4u << 20;
  void* volatile block = std::malloc(kArenaRoom);  // volatile: the pair is not optimised away
  std::free(block);
}

// A pool thread: runs checks until none is left or the run is closed.
void run_pool_thread(const std::shared_ptr<SharedRun>& shared, std::size_t thread_index) {
  grow_malloc_arena_once();
  std::unique_lock lock(shared->mutex);
  while (!shared->closed && shared->next < shared->results.size()) {
    const std::size_t i = shared->start_order[shared->next++];
    shared->running_on[thread_index] = i;
    shared->running[i]->store(true);
    lock.unlock();
    CheckResult result = run_one(*shared->setup, shared->setup->checks[i]);
    lock.lock();
    shared->results[i] = std::move(result);
    shared->running[i]->store(false);
    shared->running_on[thread_index] = kNotRunning;
    --shared->remaining;
    shared->last_progress = shared->clock->now();
    shared->progress.notify_all();
  }
}

}  // namespace

std::vector<std::size_t> start_order(const std::vector<PlannedCheck>& checks) {
  std::vector<std::size_t> order(checks.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return checks[a].info->cost > checks[b].info->cost;
  });
  return order;
}

void apply_severity(CheckResult& result, std::optional<CheckStatus> severity) {
  if (!severity) return;
  if (result.status != CheckStatus::warn && result.status != CheckStatus::fail) return;
  if (result.status == *severity) return;
  result.details["severity_override"] = {{"reported_as", to_string(*severity)},
                                         {"original_status", to_string(result.status)}};
  result.status = *severity;
  for (Finding& f : result.findings) {
    if (f.severity == CheckStatus::warn || f.severity == CheckStatus::fail) f.severity = *severity;
  }
}

RunOutcome run_checks(std::shared_ptr<RunSetup> setup, std::chrono::milliseconds timeout) {
  const auto start = Clock::now();
  // Reads stop at the deadline in real time, whichever clock the run follows.
  setup->fs.set_deadline(start + timeout);

  const std::size_t count = setup->checks.size();
  auto shared = std::make_shared<SharedRun>();
  shared->setup = setup;
  shared->clock = setup->clock ? setup->clock : std::make_shared<SteadyRunClock>();
  const RunClock& clock = *shared->clock;
  const auto deadline = clock.now() + timeout;
  shared->results.resize(count);
  shared->remaining = count;
  for (std::size_t i = 0; i < count; ++i) {
    shared->running.push_back(std::make_shared<std::atomic<bool>>(false));
  }
  shared->start_order = start_order(setup->checks);

  const auto started = std::chrono::system_clock::now();
  std::vector<std::thread> threads;
  RunOutcome outcome;
  {
    std::unique_lock lock(shared->mutex);
    auto start_thread = [&] {
      shared->running_on.push_back(kNotRunning);
      threads.emplace_back(run_pool_thread, shared, threads.size());
    };
    const std::size_t cores = std::max(2u, std::thread::hardware_concurrency());
    while (threads.size() < std::min<std::size_t>(count, cores)) start_thread();
    shared->last_progress = clock.now();
    while (shared->remaining > 0 && clock.now() < deadline) {
      const bool waiting = shared->next < count;
      const auto stall_at = shared->last_progress + kStallAfter;
      clock.wait_until(shared->progress, lock, waiting ? std::min(deadline, stall_at) : deadline);
      const auto now = clock.now();
      if (shared->next < count && now >= shared->last_progress + kStallAfter && now < deadline) {
        start_thread();
        shared->last_progress = clock.now();
      }
    }
    shared->closed = true;

    for (std::size_t i = 0; i < count; ++i) {
      if (shared->results[i]) {
        outcome.report.checks.push_back(std::move(*shared->results[i]));
        continue;
      }
      const CheckInfo& info = *setup->checks[i].info;
      const bool stuck = shared->running[i]->load();
      CheckResult late;
      late.id = std::string(info.id);
      late.title = std::string(info.title);
      late.status = CheckStatus::error;
      late.summary =
          (stuck ? "timed out: still running after " : "timed out: not started within ") +
          std::to_string(timeout.count()) + " ms";
      late.details = {{"timeout_ms", timeout.count()}};
      late.findings.push_back(
          Finding{CheckStatus::error,
                  "a read or request did not finish in time",
                  "",
                  "",
                  "Raise --timeout, or look for a stuck network filesystem among what this "
                  "check reads (pycheck explain " +
                      late.id + ").",
                  {}});
      late.duration_ms = ms_since(start);
      outcome.report.checks.push_back(std::move(late));
      if (!stuck) continue;
      ++outcome.abandoned_checks;
      outcome.abandoned.push_back({std::string(info.id), started, shared->running[i]});
    }
    // Threads between checks see `closed` and end now; join them. Leave stuck ones behind.
    for (std::size_t t = 0; t < threads.size(); ++t) {
      if (shared->running_on[t] != kNotRunning) threads[t].detach();
    }
  }
  for (std::thread& thread : threads) {
    if (thread.joinable()) thread.join();
  }
  outcome.report.duration_ms = ms_since(start);
  return outcome;
}

}  // namespace pycheck
