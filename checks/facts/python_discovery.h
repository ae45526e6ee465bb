// Every CPython installation and venv in a root: where to look and what
// counts as an installation (the list python.installs reports).
#pragma once

#include <string>
#include <vector>

#include "agent/core/environment.h"
#include "agent/core/run_facts.h"
#include "agent/rootfs/rootfs.h"
#include "checks/facts/python_install.h"

namespace pycheck {

struct DiscoveredPythons {
  std::vector<PythonInstall> bases;   // each real interpreter once
  std::vector<PythonRuntime> venvs;   // invoked = <venv>/bin/python3 (or python)
  std::vector<std::string> problems;  // incomplete installs and unreadable files
};

// Looks for installations in /usr/local, /usr, /opt/*, /opt/*/*, pyenv version
// folders, the usual venv places (/venv, /opt/venv, /app/.venv, /root/.venv,
// ...), $VIRTUAL_ENV, the parents of PATH's .../bin entries and `extra_prefixes`.
// A base installation is <prefix>/bin/pythonX.Y, executable, whose real path is
// in that prefix, next to <prefix>/lib/pythonX.Y/; a venv is a prefix with a
// pyvenv.cfg and a bin/python*.
DiscoveredPythons discover_python_installs(const RootFs& fs, const Environment& env,
                                           const std::vector<std::string>& extra_prefixes,
                                           const RunFacts* facts = nullptr);

}  // namespace pycheck
