// `pycheck scan`: every container of the node, checked as `pycheck --pid` would
// check its representative process, a few at a time.
//
// Bounded: at most `jobs` containers at once; each under the run's deadline
// (`timeout`), the whole scan under `scan_timeout` (containers not started by
// then are `not-checked`). A check stuck in a hung read is abandoned at its
// container's deadline: it costs that container's slot until then and no
// more. Only the reports are kept: each container's root, environment and
// run state are freed when its check ends.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
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
  // Gives an online run its HTTP client (the CLI owns agent/http).
  std::function<void(RunSetup& setup, std::chrono::milliseconds timeout)> prepare_online;
};

// Checks still running from earlier scans, by container (mount namespace):
// serve --scan does not start a container's checks again while one is stuck.
using StuckChecks = std::map<std::string, std::vector<AbandonedCheck>>;

// One scan. `stuck` (may be null) is read and updated. Abandoned check threads
// may still run on return: a one-shot caller exits without waiting for them.
ScanReport run_scan(const ScanOptions& options, StuckChecks* stuck);

}  // namespace pycheck
