#include "checks/facts/python_commands.h"

namespace pycheck {
namespace {

constexpr std::size_t kShebangBytes = 1024;  // two lines of distlib's sh wrapper fit

json optional_string(const std::optional<std::string>& value) {
  return value ? json(*value) : json(nullptr);
}

}  // namespace

const PythonRuntime& PythonRuntimeCache::runtime(std::string_view invoked,
                                                 std::string_view real_path) {
  // The venv depends on the folder of the invoked path, the base on the real path.
  std::string key = std::string(path_dirname(invoked)) + "\n" + std::string(real_path);
  auto it = cache_.find(key);
  if (it == cache_.end()) {
    it = cache_.emplace(key, describe_python_runtime(fs_, invoked, real_path, run_facts_)).first;
  }
  return it->second;
}

CommandLookup PythonRuntimeCache::command(const SearchPath& path, std::string_view name) const {
  // The lookup depends on PATH's entries (from its value) and the name only.
  const std::string key = "command " + path.value + "\n" + std::string(name);
  return *shared_fact<CommandLookup>(run_facts_, key,
                                     [&] { return find_command(fs_, path, name); });
}

PythonCommand find_python_command(PythonRuntimeCache& pythons, const SearchPath& path,
                                  std::string_view name) {
  PythonCommand command;
  command.lookup = pythons.command(path, name);
  if (command.lookup.found()) {
    command.runtime = pythons.runtime(command.lookup.candidate, command.lookup.real_path);
  }
  return command;
}

ScriptCommand find_script_command(PythonRuntimeCache& pythons, const SearchPath& path,
                                  std::string_view name) {
  ScriptCommand script;
  script.lookup = pythons.command(path, name);
  if (!script.lookup.found()) return script;
  const std::string& file = script.lookup.real_path;
  auto head = pythons.fs().read_head(file, kShebangBytes);
  if (!head) {
    script.shebang_error = head.error().message;
    return script;
  }
  auto shebang = parse_shebang(*head);
  if (!shebang) {
    script.shebang_error = file + ": " + shebang.error().message;
    return script;
  }
  script.shebang = std::move(shebang).value();
  const std::string& python = script.shebang->python;
  script.interpreter = script.shebang->python_via_path ? pythons.command(path, python)
                                                       : resolve_program(pythons.fs(), python);
  if (script.interpreter.found()) {
    const std::string invoked =
        script.interpreter.candidate.empty() ? python : script.interpreter.candidate;
    script.runtime = pythons.runtime(invoked, script.interpreter.real_path);
  }
  return script;
}

json to_json(const SearchPath& path, const std::vector<PathProblem>& problems) {
  json out = {{"value", path.value},
              {"source", path.is_default ? "glibc default (PATH is unset)" : "environment"},
              {"entries", path.entries},
              {"problems", json::array()}};
  for (const PathProblem& p : problems) {
    out["problems"].push_back({{"kind", to_string(p.kind)},
                               {"entry", p.entry},
                               {"position", p.index + 1},
                               {"severity", p.warning ? "warn" : "info"},
                               {"message", p.message}});
  }
  return out;
}

json to_json(const CommandLookup& lookup) {
  json out = {{"name", lookup.name}};
  switch (lookup.outcome) {
    case LookupOutcome::found:
      out["outcome"] = "found";
      break;
    case LookupOutcome::not_found:
      out["outcome"] = "not found";
      break;
    case LookupOutcome::stopped:
      out["outcome"] = "search stopped";
      break;
  }
  if (lookup.found()) {
    out["path_entry"] = lookup.entry.empty() ? json(nullptr) : json(lookup.entry);
    out["path"] = lookup.candidate;
    json chain = json::array();
    for (const LinkStep& step : lookup.chain) {
      chain.push_back({{"link", step.link}, {"target", step.target}});
    }
    out["symlinks"] = std::move(chain);
    out["real_path"] = lookup.real_path;
  }
  if (!lookup.error.empty()) out["error"] = lookup.error;
  if (!lookup.skipped.empty()) {
    json skipped = json::array();
    for (const SkippedCandidate& s : lookup.skipped) {
      skipped.push_back({{"path", s.candidate}, {"reason", s.reason}});
    }
    out["skipped"] = std::move(skipped);
  }
  return out;
}

json to_json(const PythonInstall& install) {
  return {{"prefix", install.prefix},
          {"interpreter", install.interpreter},
          {"version", install.version},
          {"version_exact", install.version_exact},
          {"version_source", install.version_source},
          {"stdlib", install.stdlib},
          {"site_packages", install.site_packages},
          {"sysconfigdata", optional_string(install.sysconfigdata)},
          {"libpython", optional_string(install.libpython)},
          {"ensurepip_pip_wheel", optional_string(install.ensurepip_pip_wheel)},
          {"debian_layout", install.debian_layout},
          {"problems", install.problems}};
}

json to_json(const PythonRuntime& rt) {
  json out = {{"invoked", rt.invoked}, {"real_path", rt.real_path}, {"version", rt.version()}};
  if (rt.venv) {
    json venv = {{"prefix", rt.venv->prefix}, {"pyvenv_cfg", rt.venv->cfg_path}};
    if (rt.venv->cfg) {
      venv["home"] = rt.venv->cfg->home;
      venv["version"] = optional_string(rt.venv->cfg->version);
      venv["include_system_site_packages"] = rt.venv->cfg->include_system_site_packages;
      venv["made_by"] = rt.venv->cfg->virtualenv_version
                            ? "virtualenv " + *rt.venv->cfg->virtualenv_version
                            : std::string("venv");
    }
    out["venv"] = std::move(venv);
  } else {
    out["venv"] = nullptr;
  }
  out["base"] = rt.base ? to_json(*rt.base) : json(nullptr);
  if (!rt.base_error.empty()) out["base_error"] = rt.base_error;
  out["site_packages"] = rt.site_packages;
  out["problems"] = rt.problems;
  return out;
}

json to_json(const ScriptCommand& script) {
  json out = to_json(script.lookup);
  if (!script.lookup.found()) return out;
  if (script.shebang) {
    const Shebang& s = *script.shebang;
    out["shebang"] = {{"form", to_string(s.form)},
                      {"interpreter", s.interpreter},
                      {"argument", s.argument},
                      {"python", s.python},
                      {"python_via_path", s.python_via_path},
                      {"too_long", s.too_long},
                      {"carriage_return", s.carriage_return}};
    out["interpreter"] = to_json(script.interpreter);
  } else {
    out["shebang_error"] = script.shebang_error;
  }
  out["python"] = script.runtime ? to_json(*script.runtime) : json(nullptr);
  return out;
}

}  // namespace pycheck
