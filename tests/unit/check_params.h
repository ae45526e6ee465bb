// The parameters a check runs with in a test: its declared defaults, then
// `overrides`, as the runner merges them with a loaded config. An override the
// config would refuse is a test bug, so it throws: checks rely on valid params.
#pragma once

#include <stdexcept>
#include <string>

#include "agent/cli/config.h"
#include "agent/core/check.h"

namespace pycheck::test {

inline json check_params(const CheckInfo& check, const json& overrides = json::object()) {
  json params = effective_params(check, Config{});
  for (const auto& [key, value] : overrides.items()) {
    const CheckParam* declared = nullptr;
    for (const CheckParam& p : check.params) {
      if (p.name == key) declared = &p;
    }
    if (declared == nullptr) throw std::logic_error("no parameter " + key);
    if (auto problem = param_value_problem(*declared, value)) throw std::logic_error(*problem);
    params[key] = value;
  }
  return params;
}

}  // namespace pycheck::test
