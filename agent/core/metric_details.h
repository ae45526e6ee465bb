// The check details agent/report/render_prometheus.cpp reads back by key to
// write pycheck_security_updates_pending and pycheck_python_info. The checks
// write these keys through the same names: renaming a key here renames it on
// both sides; writing the value under another key drops the metric.
#pragma once

#include <string_view>

namespace pycheck::metric_details {

// apt.security-updates: details.pending_count, the number of pending updates.
inline constexpr std::string_view kSecurityUpdatesCheck = "apt.security-updates";
inline constexpr const char* kPendingCount = "pending_count";

// python.path: details.commands.python3.python is what python3 runs, written
// by to_json(PythonRuntime) in checks/facts/python_commands.cpp; its
// "version" and "base": {"prefix"} give the metric's labels.
inline constexpr std::string_view kPythonPathCheck = "python.path";
inline constexpr const char* kCommands = "commands";
inline constexpr const char* kPython3 = "python3";
inline constexpr const char* kRuntime = "python";
inline constexpr const char* kPython3Version[] = {kCommands, kPython3, kRuntime, "version"};
inline constexpr const char* kPython3Prefix[] = {kCommands, kPython3, kRuntime, "base", "prefix"};

}  // namespace pycheck::metric_details
