// Facts about CPython installations in a root, read from their layout through
// RootFs, never by running them: prefix, version, standard library,
// site-packages, libpython, venvs. python_discovery.h lists every installation.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/environment.h"
#include "agent/core/result.h"
#include "agent/core/run_facts.h"
#include "agent/rootfs/rootfs.h"
#include "checks/formats/pyvenv_cfg.h"

namespace pycheck {

// A base (non-venv) installation: one pythonX.Y executable in <prefix>/bin.
struct PythonInstall {
  std::string prefix;       // "/usr/local" (canonical, the bin/.. of the interpreter)
  std::string interpreter;  // canonical path of the executable: "/usr/local/bin/python3.11"
  std::string minor;        // "3.11"
  // Best known version: "3.11.15" when the micro is known (version_exact), else
  // the minor alone. version_source names where it came from: the patchlevel.h
  // path, "dpkg: python3.11-minimal 3.11.2-6+deb12u6", a _sysconfigdata file or
  // "executable name".
  std::string version;
  bool version_exact = false;
  std::string version_source;
  std::string stdlib;                              // "<prefix>/lib/python3.11"
  std::vector<std::string> site_packages;          // existing ones, in sys.path order
  std::optional<std::string> sysconfigdata;        // the _sysconfigdata_*.py read
  std::optional<std::string> libpython;            // libpythonX.Y.so.1.0 if present
  std::optional<std::string> ensurepip_pip_wheel;  // lib/pythonX.Y/ensurepip/_bundled/pip-*.whl
  bool debian_layout = false;  // Debian's /usr python: dist-packages, not site-packages
  // Files that exist but could not be used, each message naming its file.
  std::vector<std::string> problems;
};

// The functions below that take `facts` (Context::facts) work out each
// installation and runtime once per run and share it with the run's other
// checks; with null `facts` (a check run on its own, a unit test) they read afresh.

// Describes the installation that owns the executable at `real_path`, a
// canonical path (CommandLookup::real_path). Fails when the path is not
// <prefix>/bin/<name> or its minor version cannot be told.
Result<PythonInstall> describe_python_install(const RootFs& fs, std::string_view real_path,
                                              const RunFacts* facts = nullptr);

struct VenvFacts {
  std::string prefix;                      // "/opt/venv"
  std::string cfg_path;                    // "/opt/venv/pyvenv.cfg"
  std::optional<PyvenvCfg> cfg;            // nullopt when the file could not be read or parsed
  std::vector<std::string> site_packages;  // the venv's own, existing
};

// The pyvenv.cfg CPython would honour for an interpreter started as `invoked`
// (the path execve got, links NOT resolved): <dir>/../pyvenv.cfg, then
// <dir>/pyvenv.cfg (getpath.py). nullopt when there is none.
std::optional<VenvFacts> find_venv(const RootFs& fs, std::string_view invoked,
                                   std::vector<std::string>* problems);

// What starting `invoked` (whose canonical path is `real_path`) gives: the venv
// it belongs to, if any, and the base installation underneath.
struct PythonRuntime {
  std::string invoked;
  std::string real_path;
  std::optional<VenvFacts> venv;
  std::optional<PythonInstall> base;
  std::string base_error;                  // why `base` is missing
  std::vector<std::string> site_packages;  // sys.path order: venv's, then base's if allowed
  std::vector<std::string> problems;       // venv and base problems, each naming a file

  // Two runtimes are the same Python when they share the real executable AND
  // the venv (a venv's python is a link to its base, but its sys.prefix differs).
  std::string identity() const;
  std::string version() const;  // base version, else pyvenv.cfg's, else ""
  // "/usr/local/bin/python3.11 (3.11.15, /usr/local)", or with "venv /opt/venv on /usr/local".
  std::string describe() const;
};

PythonRuntime describe_python_runtime(const RootFs& fs, std::string_view invoked,
                                      std::string_view real_path, const RunFacts* facts = nullptr);

}  // namespace pycheck
