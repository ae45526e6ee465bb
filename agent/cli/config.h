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

#include "agent/core/check.h"
#include "agent/core/result.h"

namespace pycheck {

struct CheckConfig {
  bool enabled = true;
  // The status this check's problems are reported as: "warn" downgrades a
  // failure to a warning, "fail" makes a warning a failure.
  std::optional<CheckStatus> severity;
  json params = json::object();  // only keys the check declares, valid for their ParamType
};

struct Config {
  std::optional<CheckStatus> fail_on;  // warn or fail
  std::optional<std::chrono::milliseconds> timeout;
  std::optional<bool> online;
  std::map<std::string, CheckConfig, std::less<>> checks;
};

// Parses and validates a config against the known checks: each parameter's
// value against its ParamType, so that `"pending_is": "fial"` is an error
// naming the check, the key and the allowed values when the config loads, not
// an `error` result in every run.
Result<Config> parse_config(std::string_view text, std::span<const CheckInfo> checks);

// What a parameter accepts, in words: `one of "warn", "fail"`, `a whole number
// from 0 to 60`, `a list of strings, each "name number"`.
std::string describe_param_type(const CheckParam& param);

// Why `value` is not valid for `param`, saying what is; nullopt when it is valid.
std::optional<std::string> param_value_problem(const CheckParam& param, const json& value);

// The parameters a check runs with: its declared defaults, overridden by config.
json effective_params(const CheckInfo& check, const Config& config);

}  // namespace pycheck
