// Pure readers for where pip finds its package index: pip's configuration
// files (INI), the order pip loads them in, PEP 691 JSON and PEP 503 HTML
// "simple" project pages, and simple Requires-Python specifiers. Bytes in,
// values out; no I/O.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/environment.h"
#include "agent/core/result.h"
#include "checks/formats/dist_info.h"

namespace pycheck {

// One pip config file: section -> key -> value. Keys are lower-cased with '_'
// turned into '-' ("index_url" is "index-url"), as pip normalises them.
using PipConfigSections = std::map<std::string, std::map<std::string, std::string>>;

// Parses INI text: "[section]" headers, "key = value" or "key: value", '#' and
// ';' comment lines, indented continuation lines appended with '\n'. Errors
// (a key outside any section, a line with no '=' or ':') name the line number.
Result<PipConfigSections> parse_pip_config(std::string_view text);

// A config file pip would read, in the order pip reads them (later wins).
struct PipConfigFile {
  std::string path;
  std::string kind;  // "global", "user", "site", "PIP_CONFIG_FILE"
};

// The files pip reads for this environment and interpreter, lowest priority
// first: global (each $XDG_CONFIG_DIRS entry's pip/pip.conf, default
// /etc/xdg, then /etc/pip.conf), user ($HOME/.pip/pip.conf, then
// $XDG_CONFIG_HOME/pip/pip.conf, default $HOME/.config, HOME defaulting to
// /root; skipped when $PIP_CONFIG_FILE names a file that exists), site
// (<sys.prefix>/pip.conf) and $PIP_CONFIG_FILE. `config_disabled` is set when
// PIP_CONFIG_FILE is os.devnull ("/dev/null"): pip then reads no file at all.
struct PipConfigPlan {
  std::vector<PipConfigFile> files;
  bool config_disabled = false;
};
PipConfigPlan pip_config_files(const Environment& env, std::string_view sys_prefix,
                               bool pip_config_file_exists);

// pip's own index when nothing configures one: the default of pip's
// --index-url (PyPI.simple_url in pip/_internal/models/index.py). pip uses it,
// so comparing with it is what pip would do, not a guess.
inline constexpr std::string_view kPipDefaultIndexUrl = "https://pypi.org/simple";
// PipIndexSetting::source of that default.
inline constexpr std::string_view kPipDefaultIndexSource = "pip's default";

// Where `pip install` looks: the winning index-url and its origin, plus the
// extra-index-url values (reported only).
struct PipIndexSetting {
  std::string index_url;  // empty only when configured empty
  std::string source;     // "PIP_INDEX_URL", "/etc/pip.conf [install]", "pip's default"
  std::vector<std::string> extra_index_urls;
  std::string extra_source;
};

// Resolves index-url for `pip install` from loaded files (in plan order) and
// the environment the way pip's option parser does: PIP_INDEX_URL beats every
// file; then [install] of the last file that has it; then [global] of the
// last file that has it (pip merges files per key, then orders by section);
// else `default_index` (pip's, kPipDefaultIndexUrl; tests pass a local one)
// with source kPipDefaultIndexSource.
struct LoadedPipConfig {
  PipConfigFile file;
  PipConfigSections sections;
};
PipIndexSetting resolve_pip_index(const Environment& env, const std::vector<LoadedPipConfig>& files,
                                  std::string_view default_index = kPipDefaultIndexUrl);

// A file listed on a simple project page.
struct IndexFile {
  std::string filename;
  bool yanked = false;
  std::string requires_python;  // empty: no constraint
};

// PEP 691 JSON ({"files": [{"filename", "yanked", "requires-python"}]}).
Result<std::vector<IndexFile>> parse_simple_index_json(std::string_view body);
// PEP 503 HTML: the <a> elements, their text as file name (href's last path
// segment when the text is empty), data-yanked and data-requires-python
// (HTML entities &lt; &gt; &amp; &quot; &#39; decoded).
Result<std::vector<IndexFile>> parse_simple_index_html(std::string_view body);

// The version in "pip-24.0-py3-none-any.whl" or "pip-24.0.tar.gz" for
// `project`; nullopt for other files (eggs, other projects, zip sdists).
std::optional<std::string> release_version_of(std::string_view filename, std::string_view project);

// Whether `python_version` satisfies a Requires-Python specifier such as
// ">=3.9" or ">=3.8, !=3.9.*, <4". nullopt when the specifier is not
// understood (the caller keeps the file as a candidate and says so).
std::optional<bool> requires_python_allows(std::string_view specifier,
                                           const Pep440Version& python_version);

}  // namespace pycheck
