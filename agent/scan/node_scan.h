// `pycheck scan`: every container of the node, checked as `pycheck --pid` would
// check its representative process, a few at a time.
//
// Bounded: at most `jobs` containers at once; each under the run's deadline
// (`timeout`), the whole scan under `scan_timeout` (containers not started by
// then are `not-checked`). Work stuck in a hung read is given up at its
// container's deadline (and a grace): it costs that container's slot until
// then and no more. Only the reports are kept: each container's root, environment and
// run state are freed when its check ends.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent/run/runner.h"
#include "agent/scan/scan_report.h"

namespace pycheck {

struct ScanOptions {
  std::vector<PlannedCheck> checks;
  int jobs = 1;
  bool all = false;  // check containers without Python too
  std::chrono::milliseconds timeout{10'000};
  std::chrono::milliseconds scan_timeout{60'000};
  bool online = false;
  CheckStatus fail_on = CheckStatus::fail;
  std::optional<std::chrono::system_clock::time_point> now;  // --now
  std::string node_root = "/";
  bool keep_report_json = true;  // the scan's JSON is wanted (not for text or Prometheus)
  // Gives an online run its HTTP client (the CLI owns agent/http).
  std::function<void(RunSetup& setup, std::chrono::milliseconds timeout)> prepare_online;
};

// Work still running from earlier scans, by container (mount namespace):
// check threads past their deadline, or a container's whole job stuck in a
// read. serve --scan does not start such a container again while it is stuck.
struct StuckChecks {
  std::mutex mutex;  // guards by_container
  std::map<std::string, std::vector<AbandonedCheck>> by_container;
  // Whether anything is still running; forgets what has finished.
  bool any_running();
};

// One scan. `stuck` (may be null) is read and updated. On return, threads may
// still run (abandoned checks, or a job stuck in a read past its container's
// deadline: the scan then gave that container up and went on with a new
// thread); ScanReport::abandoned_checks counts them. A one-shot caller exits
// without waiting for them.
ScanReport run_scan(const ScanOptions& options, std::shared_ptr<StuckChecks> stuck);

}  // namespace pycheck
