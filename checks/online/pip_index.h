// The online half of pip.version: which package index this interpreter's pip
// uses (pip's config files and PIP_INDEX_URL, read through the RootFs) and the
// newest pip release on it, fetched through the run's HttpClient.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "agent/core/check.h"
#include "checks/facts/python_install.h"
#include "checks/formats/dist_info.h"
#include "checks/formats/pip_config.h"

namespace pycheck {

struct PipIndexComparison {
  enum class State { skipped, compared, failed };
  State state = State::skipped;
  std::string note;  // one line: why skipped, the failure (naming the URL), or the result
  bool behind = false;
  std::string latest;
  std::vector<std::string> newer_releases;  // final releases newer than the installed pip
  json details = json::object();            // the "index" object of pip.version's details
  std::optional<Error> deadline;  // set when the run's deadline stopped a read or the fetch
};

// The index is the one pip would use: PIP_INDEX_URL, pip.conf's index-url,
// else pip's default (`default_index`: kPipDefaultIndexUrl, which tests
// replace). Skipped when offline (no ctx.http) or when the index is not
// http(s). Failed when a config file cannot be read or parsed, or the fetch or
// the page fails: never "up to date" without an answer from the index. A
// deadline that stops a read or the fetch fails it too, with `deadline` set.
PipIndexComparison compare_pip_with_index(const Context& ctx, const PythonRuntime& runtime,
                                          const Pep440Version& installed,
                                          std::string_view default_index = kPipDefaultIndexUrl);

}  // namespace pycheck
