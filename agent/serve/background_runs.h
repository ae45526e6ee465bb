// What `pycheck serve` serves: background work that publishes snapshots.
// Scheduler (one root's checks) and ScanScheduler (a node scan) are the two.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "agent/serve/health_endpoints.h"

namespace pycheck {

class BackgroundRuns {
 public:
  virtual ~BackgroundRuns() = default;
  // Starts the thread that runs the schedule.
  virtual void start() = 0;
  // Asks the thread to stop and waits up to `grace`. True when it has stopped
  // and no check thread is left stuck: the caller may then run destructors.
  virtual bool stop_cleanly(std::chrono::milliseconds grace) = 0;
  // The latest snapshot; null until the first run has completed.
  virtual std::shared_ptr<const Snapshot> latest() const = 0;
  // For the startup log line: "offline runs every 30s, 12 checks, deadline 10s".
  virtual std::string describe() const = 0;
};

}  // namespace pycheck
