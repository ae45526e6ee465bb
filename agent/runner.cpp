#include "agent/runner.h"

#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>

namespace pycheck {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

struct SharedRun {
  std::shared_ptr<RunSetup> setup;
  std::mutex mutex;
  std::condition_variable done;
  std::vector<std::optional<CheckResult>> results;
  std::size_t remaining = 0;
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
    result.remediation = std::move(outcome.remediation);
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

}  // namespace

void apply_severity(CheckResult& result, std::optional<CheckStatus> severity) {
  if (!severity) return;
  if (result.status != CheckStatus::warn && result.status != CheckStatus::fail) return;
  if (result.status == *severity) return;
  result.details["severity_override"] = {{"reported_as", to_string(*severity)},
                                         {"original_status", to_string(result.status)}};
  result.status = *severity;
}

RunOutcome run_checks(std::shared_ptr<RunSetup> setup, std::chrono::milliseconds timeout) {
  const auto start = Clock::now();
  const auto deadline = start + timeout;
  setup->fs.set_deadline(deadline);

  auto shared = std::make_shared<SharedRun>();
  shared->setup = setup;
  shared->results.resize(setup->checks.size());
  shared->remaining = setup->checks.size();

  const auto started = std::chrono::system_clock::now();
  std::vector<std::thread> threads;
  std::vector<std::shared_ptr<std::atomic<bool>>> running;
  threads.reserve(setup->checks.size());
  running.reserve(setup->checks.size());
  for (std::size_t i = 0; i < setup->checks.size(); ++i) {
    auto flag = running.emplace_back(std::make_shared<std::atomic<bool>>(true));
    threads.emplace_back([shared, i, flag] {
      CheckResult result = run_one(*shared->setup, shared->setup->checks[i]);
      std::lock_guard lock(shared->mutex);
      shared->results[i] = std::move(result);
      --shared->remaining;
      flag->store(false);
      shared->done.notify_all();
    });
  }

  RunOutcome outcome;
  {
    std::unique_lock lock(shared->mutex);
    shared->done.wait_until(lock, deadline, [&] { return shared->remaining == 0; });
    for (std::size_t i = 0; i < setup->checks.size(); ++i) {
      if (shared->results[i]) {
        outcome.report.checks.push_back(std::move(*shared->results[i]));
        continue;
      }
      const CheckInfo& info = *setup->checks[i].info;
      CheckResult late;
      late.id = std::string(info.id);
      late.title = std::string(info.title);
      late.status = CheckStatus::error;
      late.summary = "timed out: still running after " + std::to_string(timeout.count()) + " ms";
      late.details = {{"timeout_ms", timeout.count()}};
      late.remediation =
          "a read or request did not finish in time (a stuck network filesystem?); raise "
          "--timeout or look at what this check reads";
      late.duration_ms = ms_since(start);
      outcome.report.checks.push_back(std::move(late));
      ++outcome.abandoned_checks;
      outcome.abandoned.push_back({std::string(info.id), started, running[i]});
    }
  }
  // Threads that delivered are finishing now; join them. Leave stuck ones behind.
  for (std::size_t i = 0; i < threads.size(); ++i) {
    bool delivered;
    {
      std::lock_guard lock(shared->mutex);
      delivered = shared->results[i].has_value();
    }
    if (delivered) {
      threads[i].join();
    } else {
      threads[i].detach();
    }
  }
  outcome.report.duration_ms = ms_since(start);
  return outcome;
}

}  // namespace pycheck
