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
  std::chrono::steady_clock::time_point published;
  std::string published_at;                        // RFC 3339, for the overdue message
  std::shared_ptr<const Snapshot> overdue_latest;  // `latest` marked overdue, made once
  std::shared_ptr<StuckChecks> stuck = std::make_shared<StuckChecks>();

  void scan_once() {
    ScanReport scan = run_scan(options, stuck);
    log("pycheck serve: " + scan_verdict_line(scan).substr(std::string_view("pycheck ").size()));
    auto snapshot = make_scan_snapshot(render_scan_json(scan), render_scan_prometheus(scan),
                                       scan.scanner_error);
    std::lock_guard lock(mutex);
    latest = std::move(snapshot);
    published = std::chrono::steady_clock::now();
    published_at = format_rfc3339(std::chrono::system_clock::now());
    overdue_latest.reset();
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

bool scan_overdue(std::chrono::steady_clock::time_point published,
                  std::chrono::steady_clock::time_point now, std::chrono::milliseconds interval,
                  std::chrono::milliseconds scan_timeout) {
  constexpr auto kGrace = std::chrono::seconds(5);  // the scan's own give-up grace, and rendering
  return now - published > interval + scan_timeout + kGrace;
}

std::shared_ptr<const Snapshot> ScanScheduler::latest() const {
  State& s = *state_;
  std::lock_guard lock(s.mutex);
  if (!s.latest || !scan_overdue(s.published, std::chrono::steady_clock::now(), s.interval,
                                 s.options.scan_timeout)) {
    return s.latest;
  }
  if (!s.overdue_latest) {
    s.overdue_latest = make_scan_snapshot(
        s.latest->report_json, s.latest->metrics,
        "no scan has completed since " + s.published_at + " (scans are due every " +
            format_duration(s.interval) + "): the scanner is stuck");
  }
  return s.overdue_latest;
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
