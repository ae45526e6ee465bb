// Python commands as a shell would run them: python3/python looked up through
// PATH and described (venv, base installation), console scripts such as pip
// followed through their shebang to the Python they start. Plus the JSON forms
// the python.path, python.installs and pip.version checks report.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "agent/core/check.h"
#include "checks/facts/path_search.h"
#include "checks/facts/python_install.h"
#include "checks/formats/shebang.h"

namespace pycheck {

// One check's cache of described Pythons: each (invoked folder, real
// interpreter) is described once, since describing may scan dpkg's file lists
// and the checks ask about the same Python several times. Made from a Context,
// it shares installations, runtimes and PATH lookups with the run's other
// checks through RunFacts (Context::facts).
class PythonRuntimeCache {
 public:
  explicit PythonRuntimeCache(const RootFs& fs) : fs_(fs) {}
  explicit PythonRuntimeCache(const Context& ctx) : fs_(ctx.fs), run_facts_(ctx.facts) {}
  const RootFs& fs() const { return fs_; }
  const RunFacts* run_facts() const { return run_facts_; }
  const PythonRuntime& runtime(std::string_view invoked, std::string_view real_path);
  // find_command(fs(), path, name), shared by the run's checks.
  CommandLookup command(const SearchPath& path, std::string_view name) const;

 private:
  const RootFs& fs_;
  const RunFacts* run_facts_ = nullptr;
  std::map<std::string, PythonRuntime> cache_;
};

struct PythonCommand {
  CommandLookup lookup;
  std::optional<PythonRuntime> runtime;  // when found
};

// Finds `name` ("python3") on PATH and describes what it runs.
PythonCommand find_python_command(PythonRuntimeCache& pythons, const SearchPath& path,
                                  std::string_view name);

struct ScriptCommand {
  CommandLookup lookup;  // the script itself on PATH
  std::optional<Shebang> shebang;
  std::string shebang_error;             // names the file: "/usr/local/bin/pip: no \"#!\" line"
  CommandLookup interpreter;             // the Python named by the shebang, resolved
  std::optional<PythonRuntime> runtime;  // when the interpreter was found
};

// Finds the console script `name` ("pip") on PATH and the Python its shebang
// starts; `env python3` shebangs are looked up through the same PATH.
ScriptCommand find_script_command(PythonRuntimeCache& pythons, const SearchPath& path,
                                  std::string_view name);

json to_json(const SearchPath& path, const std::vector<PathProblem>& problems);
json to_json(const CommandLookup& lookup);
json to_json(const PythonInstall& install);
json to_json(const PythonRuntime& runtime);
json to_json(const ScriptCommand& script);

}  // namespace pycheck
