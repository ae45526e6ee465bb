// The runner: runs the selected checks on a few threads, more when a check
// blocks, and returns by the deadline whatever happens. A check still running
// then is reported as `error` ("timed out") and left behind; the caller must
// then exit without waiting for it (see RunOutcome::abandoned_checks). A check
// not started by then (the threads were all stuck) is an `error` too.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent/core/check.h"
#include "agent/report/report.h"
#include "agent/rootfs/rootfs.h"

namespace pycheck {

struct PlannedCheck {
  const CheckInfo* info = nullptr;
  json params = json::object();
  std::optional<CheckStatus> severity;  // from config: report problems as this status
};

// Checks run on a few threads; whenever checks wait and none has finished for
// kStallAfter, one more thread starts (see runner.cpp).
inline constexpr std::chrono::milliseconds kStallAfter{20};

// The time the runner's deadline and "one more thread" decisions follow: the
// steady clock, unless a test gives a clock that moves only when told, so what
// a run does at its deadline never depends on how fast the machine is.
class RunClock {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  virtual ~RunClock() = default;
  virtual time_point now() const = 0;
  // Waits until `progress` is notified or now() reaches `until`; may return early.
  virtual void wait_until(std::condition_variable& progress, std::unique_lock<std::mutex>& lock,
                          time_point until) const = 0;
};

// Everything a run reads. Shared with the check threads, so a thread that
// outlives the deadline never touches freed memory.
struct RunSetup {
  RunSetup(RootFs root_fs, Environment environment)
      : fs(std::move(root_fs)), env(std::move(environment)) {}
  RootFs fs;
  Environment env;
  std::vector<PlannedCheck> checks;
  std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
  bool online = false;
  std::shared_ptr<const HttpClient> http;
  RunFacts facts;  // what several checks need, worked out once per run
  // The time the deadline follows; null: the steady clock (tests give their own).
  std::shared_ptr<const RunClock> clock;
};

// A check thread still running at the deadline, left behind. Its read may yet
// return; `running` turns false when the thread has finished (it then ends on
// its own). A long-running caller (serve mode) uses it not to start the same
// check again while an earlier thread of it is stuck.
struct AbandonedCheck {
  std::string id;
  std::chrono::system_clock::time_point started;  // when its run started
  std::shared_ptr<const std::atomic<bool>> running;
  bool still_running() const { return running && running->load(); }
};

struct RunOutcome {
  Report report;
  int abandoned_checks = 0;               // still running at the deadline
  std::vector<AbandonedCheck> abandoned;  // the same checks, one entry each
};

RunOutcome run_checks(std::shared_ptr<RunSetup> setup, std::chrono::milliseconds timeout);

// The order the checks start in: indexes into `checks`, costliest first
// (CheckInfo::cost), table order among equals (pure; exposed for tests).
std::vector<std::size_t> start_order(const std::vector<PlannedCheck>& checks);

// Applies a severity override to a finished result (pure; exposed for tests).
void apply_severity(CheckResult& result, std::optional<CheckStatus> severity);

}  // namespace pycheck
