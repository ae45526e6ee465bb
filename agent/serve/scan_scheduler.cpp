#include "agent/serve/scan_scheduler.h"

#include <condition_variable>
#include <mutex>

#include "agent/core/duration.h"

namespace pycheck {

struct ScanScheduler::State {
  ScanOptions options;
  std::chrono::milliseconds interval;
  std::function<void(const std::string&)> log;

  mutable std::mutex mutex;  // guards what follows
  std::condition_variable wake;
  bool stop_requested = false;
  bool thread_done = false;
  std::shared_ptr<const Snapshot> latest;
  std::shared_ptr<StuckChecks> stuck = std::make_shared<StuckChecks>();

  void scan_once() {
    ScanReport scan = run_scan(options, stuck);
    log("pycheck serve: " + scan_verdict_line(scan).substr(std::string_view("pycheck ").size()));
    auto snapshot = make_scan_snapshot(render_scan_json(scan), render_scan_prometheus(scan),
                                       scan.scanner_error);
    std::lock_guard lock(mutex);
    latest = std::move(snapshot);
  }

  void loop() {
    std::unique_lock lock(mutex);
    while (!stop_requested) {
      lock.unlock();
      scan_once();
      lock.lock();
      const auto next = std::chrono::steady_clock::now() + interval;
      wake.wait_until(lock, next, [&] { return stop_requested; });
    }
    thread_done = true;
    wake.notify_all();
  }

  bool stuck_threads_left() const { return stuck->any_running(); }
};

ScanScheduler::ScanScheduler(ScanOptions options, std::chrono::milliseconds interval,
                             std::function<void(const std::string&)> log)
    : state_(std::make_shared<State>()) {
  state_->options = std::move(options);
  state_->interval = interval;
  state_->log = std::move(log);
}

ScanScheduler::~ScanScheduler() { stop_cleanly(std::chrono::seconds(1)); }

void ScanScheduler::start() {
  thread_ = std::thread([state = state_] { state->loop(); });
}

bool ScanScheduler::stop_cleanly(std::chrono::milliseconds grace) {
  {
    std::lock_guard lock(state_->mutex);
    state_->stop_requested = true;
  }
  state_->wake.notify_all();
  if (!thread_.joinable()) return !state_->stuck_threads_left();
  bool done;
  {
    std::unique_lock lock(state_->mutex);
    done = state_->wake.wait_for(lock, grace, [&] { return state_->thread_done; });
  }
  if (!done) {
    thread_.detach();  // a scan is still going: it holds the state, which outlives us
    return false;
  }
  thread_.join();
  return !state_->stuck_threads_left();
}

std::shared_ptr<const Snapshot> ScanScheduler::latest() const {
  std::lock_guard lock(state_->mutex);
  return state_->latest;
}

std::string ScanScheduler::describe() const {
  const ScanOptions& o = state_->options;
  return "node scan every " + format_duration(state_->interval) + ", " +
         std::to_string(o.jobs) + " jobs, " + std::to_string(o.checks.size()) +
         " checks, deadline " + format_duration(o.timeout) + " per container, " +
         format_duration(o.scan_timeout) + " per scan";
}

void ScanScheduler::scan_once() { state_->scan_once(); }

}  // namespace pycheck
