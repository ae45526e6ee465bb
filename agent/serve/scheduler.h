// The background runs of `pycheck serve`. Requests never run checks: they read
// the latest Snapshot, which one scheduler thread replaces after each run.
//
// - Offline runs (every check, no network) every `interval`, the first at once.
// - With `online`, online runs (only the checks that use the network, with it)
//   every `online_interval` ±10% jitter, the first right after the first
//   offline run. Runs happen one at a time, on the scheduler's thread.
// - Merge rule: the served report is the latest offline run, with the results of
//   the network-using checks replaced by those of the latest online run once
//   there is one (an online result is better informed than the offline one,
//   and it stays until the next online run replaces it).
// - A check whose thread is still stuck from an earlier run (past that run's
//   deadline, see AbandonedCheck in agent/run/runner.h) is not started again: it is
//   reported as `error` "still running since <time>, not restarted", so a read
//   stuck forever costs one thread, not one per interval.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "agent/core/result.h"
#include "agent/run/runner.h"
#include "agent/serve/background_runs.h"
#include "agent/serve/health_endpoints.h"

namespace pycheck {

// The checks that use ctx.online (and the network through ctx.http).
inline const std::vector<std::string> kOnlineCheckIds = {"apt.security-updates", "pip.version"};

struct SchedulerOptions {
  std::vector<PlannedCheck> checks;  // in table order
  std::chrono::milliseconds interval{std::chrono::seconds(30)};
  std::chrono::milliseconds online_interval{std::chrono::hours(6)};
  bool online = false;
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};  // deadline of each run
  CheckStatus fail_on = CheckStatus::fail;
  std::string root;  // shown in the report
  std::vector<std::string> online_check_ids = kOnlineCheckIds;
};

// Builds the setup of one run (opens the root, reads the environment, makes the
// HTTP client of an online run). The scheduler fills in `checks`. An Error
// turns every check of that run into an `error` carrying the message.
using SetupFactory = std::function<Result<std::shared_ptr<RunSetup>>(
    bool online, std::chrono::milliseconds timeout)>;
using LogFunction = std::function<void(const std::string& line)>;

class Scheduler : public BackgroundRuns {
 public:
  Scheduler(SchedulerOptions options, SetupFactory make_setup, LogFunction log);
  ~Scheduler() override;  // stop(1s)
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Starts the thread that runs the schedule.
  void start() override;
  // Asks the thread to stop and waits up to `grace` for it. A run in progress
  // ends by its deadline; when that is later, the thread is left to finish on
  // its own and this returns false (the caller then exits without cleanup).
  bool stop(std::chrono::milliseconds grace);
  bool stop_cleanly(std::chrono::milliseconds grace) override {
    return stop(grace) && stuck_checks().empty();
  }
  std::string describe() const override;

  // The latest merged result; null until the first offline run has completed.
  std::shared_ptr<const Snapshot> latest() const override;

  // One run now, on the calling thread (the schedule's own step; tests).
  // Never call it while the thread runs: runs are one at a time.
  void run_once(bool online);
  // Ids of checks whose thread is still stuck from an earlier run.
  std::vector<std::string> stuck_checks() const;
  int runs_completed() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
  std::thread thread_;
};

}  // namespace pycheck
