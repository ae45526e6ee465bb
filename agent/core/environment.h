// The environment pycheck judges: its own, a container's (/proc/PID/environ),
// or one given in a KEY=VALUE file. Never the one it happens to run under
// unless that is what was asked for.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "agent/core/result.h"

namespace pycheck {

class Environment {
 public:
  Environment() = default;
  explicit Environment(std::map<std::string, std::string, std::less<>> vars) : vars_(std::move(vars)) {}

  // The value of `name`, or nullopt when it is not set (set-but-empty is "").
  std::optional<std::string_view> get(std::string_view name) const;
  bool has(std::string_view name) const { return vars_.find(name) != vars_.end(); }
  void set(std::string name, std::string value) { vars_[std::move(name)] = std::move(value); }
  const std::map<std::string, std::string, std::less<>>& vars() const { return vars_; }

  // From this process's own environ.
  static Environment from_process();
  // NUL-separated KEY=VALUE records, as in /proc/PID/environ.
  static Environment parse_environ_block(std::string_view block);
  // KEY=VALUE lines; blank lines and lines starting with '#' are skipped; an
  // optional "export " prefix and one level of matching quotes are removed.
  // A line without '=' or with an invalid name is an error naming the line.
  static Result<Environment> parse_env_file(std::string_view text);

 private:
  std::map<std::string, std::string, std::less<>> vars_;
};

}  // namespace pycheck
