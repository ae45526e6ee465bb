// The config file (--config FILE, JSON). Every key is known; an unknown key,
// check id or parameter is an error that names it, because a typo that is
// silently ignored turns a probe off without anyone noticing.
//
//   {
//     "fail_on": "warn",                 // or "fail" (default)
//     "timeout": "800ms",
//     "online": false,
//     "checks": {
//       "locale":      {"enabled": false},
//       "pip.version": {"severity": "fail", "params": {...}}
//     }
//   }
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <span>
#include <string>

#include "agent/check.h"
#include "agent/result.h"

namespace pycheck {

struct CheckConfig {
  bool enabled = true;
  // The status this check's problems are reported as: "warn" downgrades a
  // failure to a warning, "fail" makes a warning a failure.
  std::optional<CheckStatus> severity;
  json params = json::object();  // only keys the check declares, with the declared types
};

struct Config {
  std::optional<CheckStatus> fail_on;  // warn or fail
  std::optional<std::chrono::milliseconds> timeout;
  std::optional<bool> online;
  std::map<std::string, CheckConfig, std::less<>> checks;
};

// Parses and validates a config against the known checks.
Result<Config> parse_config(std::string_view text, std::span<const CheckInfo> checks);

// The parameters a check runs with: its declared defaults, overridden by config.
json effective_params(const CheckInfo& check, const Config& config);

}  // namespace pycheck
