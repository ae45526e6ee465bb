// Pure readers of the small CPython layout files pycheck uses to learn an
// installation's version without running it: include/pythonX.Y/patchlevel.h,
// lib/pythonX.Y/_sysconfigdata_*.py, executable names and Debian package versions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "agent/core/result.h"

namespace pycheck {

// What Include/patchlevel.h says about the build.
struct PatchLevel {
  std::string version;  // PY_VERSION, e.g. "3.11.15" or "3.15.0b3"
  int major = 0;
  int minor = 0;
};

// Parses patchlevel.h. Needs `#define PY_VERSION "X.Y..."`; when PY_MAJOR_VERSION
// and PY_MINOR_VERSION are present they must agree with it. Errors say what is
// wrong (the caller adds the file name).
Result<PatchLevel> parse_patchlevel_h(std::string_view text);

// The value of a string entry `'KEY': 'value'` in a _sysconfigdata_*.py
// build_time_vars dict literal; nullopt when absent or not a plain string.
std::optional<std::string> sysconfigdata_string(std::string_view text, std::string_view key);

// "python3.11" -> "3.11", "python3.13t" -> "3.13", "python2.7" -> "2.7";
// nullopt for "python3", "python3.11-config", "python3.X".
std::optional<std::string> python_minor_from_name(std::string_view executable_name);

// "3.11" from "3.11.15", "3.15.0b3" or "3.11"; nullopt when not X.Y...
std::optional<std::string> minor_of(std::string_view version);

// The upstream part of a Debian version: "3.11.2-6+deb12u6" -> "3.11.2",
// "1:3.9.2-3" -> "3.9.2", "3.12.0~rc1-1" -> "3.12.0rc1" (Debian's ~ pre-release
// spelling turned into Python's).
std::string debian_upstream_version(std::string_view debian_version);

}  // namespace pycheck
