// Pure reader of a virtual environment's pyvenv.cfg, as written by CPython's
// venv (home, include-system-site-packages, version, executable, command,
// prompt) and by virtualenv (home, implementation, version_info, virtualenv).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "agent/core/result.h"

namespace pycheck {

struct PyvenvCfg {
  std::string home;  // folder of the base interpreter ("/usr/local/bin")
  // "3.11.7": `version`, else derived from virtualenv's `version_info`
  // ("3.12.1.final.0" -> "3.12.1", "3.13.0.candidate.1" -> "3.13.0rc1").
  std::optional<std::string> version;
  // Absent means true: CPython's site.py starts from "true" and only an explicit
  // `include-system-site-packages = <anything but true>` turns it off.
  bool include_system_site_packages = true;
  std::optional<std::string> executable;  // realpath of the base interpreter (venv, 3.11+)
  std::optional<std::string> command;     // the command that made it (venv, 3.11+)
  std::optional<std::string> prompt;
  std::optional<std::string> implementation;      // virtualenv: "CPython"
  std::optional<std::string> virtualenv_version;  // virtualenv: its own version
  std::map<std::string, std::string> values;      // every key (lower-cased) as read
};

// Parses key = value lines the way CPython does (site.py, getpath): the key is
// lower-cased and trimmed, lines without '=' are ignored, later keys win.
// Fails on binary data and when there is no `home` key (without it CPython
// cannot find the standard library of the base installation).
Result<PyvenvCfg> parse_pyvenv_cfg(std::string_view text);

}  // namespace pycheck
