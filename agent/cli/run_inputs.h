// What a run is made of, from the parsed command line: the root, the
// environment judged, the checks with their config, the deadline, --now and
// the cache. `pycheck run` builds it once and runs it; `pycheck serve` builds
// it once, then builds each background run's setup from it.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/cli/run_timeout.h"
#include "agent/core/environment.h"
#include "agent/core/result.h"
#include "agent/rootfs/rootfs.h"
#include "agent/run/runner.h"

namespace pycheck {

// The run options as CLI11 leaves them: text, not yet checked.
struct RunArgs {
  std::string root = "/";
  int pid = 0;
  std::string env_file;
  std::string format = "text";
  std::string output;
  std::vector<std::string> only;
  std::vector<std::string> skip;
  std::string timeout;
  std::string config_file;
  std::string fail_on;
  std::string now;
  bool no_color = false;
  bool verbose = false;
  bool online = false;
  std::string cache_dir;
};

// The run options checked, the root opened and the environment read.
struct RunInputs {
  std::string root;  // the directory inspected: --root, or a --pid's /proc/PID/root
  RootFs fs;        // `run` inspects it; serve opens the root again for each run
  Environment env;  // serve re-reads a --pid's for each run (judged_environment)
  std::vector<PlannedCheck> checks;
  bool online = false;
  std::chrono::milliseconds timeout{};
  CheckStatus fail_on = CheckStatus::fail;
  std::optional<std::chrono::system_clock::time_point> now;  // --now
  std::string cache_dir;
};

// The run the options ask for, or the usage error that says what is wrong
// with them (the first one, in this order: --config, --timeout, the root, the
// environment, --check/--skip, --cache-dir without --online, --now).
Result<RunInputs> build_run(const RunArgs& args, RunKind kind);

// The environment the checks judge: --env-file, else a --pid's
// /proc/PID/environ, else pycheck's own. Serve reads a --pid's again each run.
Result<Environment> judged_environment(const RunArgs& args);

// A run's setup on `fs` and `env`, dates judged as of `now`. The checks and
// the HTTP client are the caller's to fill in.
std::shared_ptr<RunSetup> new_run_setup(RootFs fs, Environment env, bool online,
                                        std::chrono::system_clock::time_point now);

// The one HTTP client of a run: bounded by the same deadline as the checks.
std::shared_ptr<const HttpClient> run_http_client(const std::string& cache_dir,
                                                  std::chrono::milliseconds timeout);

// The usage error for a check id that is not in the table; it lists the known ones.
Error unknown_check(const std::string& id);

}  // namespace pycheck
