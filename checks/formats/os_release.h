// Pure readers of the files that say which OS a root is: os-release(5)
// (/etc/os-release, else /usr/lib/os-release) and Debian's /etc/debian_version.
//
// os-release is "a newline-separated list of environment-like shell-compatible
// variable assignments": KEY=value, the value optionally in double or single
// quotes, shell specials ($ " ' ` \) escaped with a backslash, '#' comment
// lines and blank lines ignored. pycheck reads it as systemd does
// (parse_env_file): unquoted values keep inner blanks and lose trailing ones,
// double quotes honour \" \\ \` \$ and backslash-newline, single quotes are
// literal, quoted and unquoted parts next to each other are joined, later
// assignments win. Lines it cannot read are reported, not fatal.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/result.h"

namespace pycheck {

struct OsRelease {
  std::map<std::string, std::string> fields;  // every assignment, by key
  std::vector<std::string> problems;          // "line 3: ..." for lines that were skipped

  // The value of `key`, or nullopt when it is not assigned.
  std::optional<std::string> get(std::string_view key) const;
  // The defaults os-release(5) gives: ID "linux", NAME and PRETTY_NAME "Linux".
  std::string id() const;
  std::string name() const;
  std::string pretty_name() const;
  std::vector<std::string> id_like() const;  // ID_LIKE split on blanks
  std::string version_id() const;            // "" when absent (rolling releases, testing)
  std::string version_codename() const;      // "" when absent
};

// Fails on binary data (a NUL byte) and when not one assignment could be read.
Result<OsRelease> parse_os_release(std::string_view text);

// /etc/debian_version: its first line, trimmed ("12.15", "trixie/sid").
// Fails on binary data and an empty file.
Result<std::string> parse_debian_version(std::string_view text);

}  // namespace pycheck
