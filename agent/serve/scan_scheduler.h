// `pycheck serve --scan`: a node scan (agent/scan/node_scan.h) every
// `interval`, the first at once, one at a time on the scheduler's thread.
// Each finished scan replaces the snapshot whole, so the series of a
// container that went away are gone from /metrics after the next scan.
// Checks stuck in a hung read are remembered by container and not started
// again while they are stuck (node_scan.h, StuckChecks). A scanner that has
// stopped publishing (scan_overdue) serves its last scan with a scanner
// error, so /readyz turns 503.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "agent/scan/node_scan.h"
#include "agent/serve/background_runs.h"

namespace pycheck {

// Pure: a scanner whose latest scan was published at `published` is overdue
// at `now` when no scan can still be under way since: the next one was due
// after `interval` and must end within `scan_timeout` and a grace.
bool scan_overdue(std::chrono::steady_clock::time_point published,
                  std::chrono::steady_clock::time_point now, std::chrono::milliseconds interval,
                  std::chrono::milliseconds scan_timeout);

class ScanScheduler : public BackgroundRuns {
 public:
  ScanScheduler(ScanOptions options, std::chrono::milliseconds interval,
                std::function<void(const std::string&)> log);
  ~ScanScheduler() override;
  ScanScheduler(const ScanScheduler&) = delete;
  ScanScheduler& operator=(const ScanScheduler&) = delete;

  void start() override;
  bool stop_cleanly(std::chrono::milliseconds grace) override;
  std::shared_ptr<const Snapshot> latest() const override;
  std::string describe() const override;

  // One scan now, on the calling thread (tests). Not while the thread runs.
  void scan_once();

 private:
  struct State;
  std::shared_ptr<State> state_;
  std::thread thread_;
};

}  // namespace pycheck
