// python.venv: the virtual environment in use (VIRTUAL_ENV or PATH's python3) is whole.
#include <algorithm>
#include <string>
#include <vector>

#include "agent/core/findings.h"
#include "agent/core/text.h"
#include "checks/check_table.h"
#include "checks/facts/python_commands.h"
#include "checks/formats/cpython_layout.h"

namespace pycheck {
namespace {

constexpr std::string_view kExplain =
    "A common Dockerfile on the official python image makes a venv (`python3 -m venv "
    "/opt/venv`) and puts /opt/venv/bin first on PATH, often also setting VIRTUAL_ENV. The "
    "venv is a pyvenv.cfg plus links: bin/python3 -> /usr/local/bin/python3, `home = "
    "/usr/local/bin`, `version = 3.11.x`, and console scripts (pip) whose first line is "
    "#!/opt/venv/bin/python3. Nothing in it is relocatable and nothing follows the base "
    "image: rebuild on a newer python tag (3.11 -> 3.12) and the old venv's links now start "
    "3.12 while its packages sit in lib/python3.11/site-packages; copy it to another path in "
    "a multi-stage build and its scripts point at a python that is not there; drop the base "
    "stage's Python and `home` is gone.\n\n"
    "pycheck judges the venv named by VIRTUAL_ENV, else the one PATH's python3 (or python) "
    "runs in. It reads pyvenv.cfg as CPython does, checks that `home` exists and holds a "
    "python3, reads the base installation's version from its layout (patchlevel.h, ...) and "
    "compares its minor with pyvenv.cfg's `version` (a newer patch release is compatible and "
    "only noted), resolves bin/python, bin/python3 and bin/python3.X, and follows bin/pip's "
    "shebang to see that it starts this venv's python. include-system-site-packages = true "
    "is reported, not judged: it is an explicit choice at creation (--system-site-packages), "
    "and it only makes the base's site-packages importable too.\n\n"
    "It fails on a broken venv (VIRTUAL_ENV not a venv, pyvenv.cfg missing or unreadable, "
    "home gone, a different minor than the venv was made for, dangling links, pip starting a "
    "python that does not exist), warns when VIRTUAL_ENV is set but PATH's python3 is not the "
    "venv's (activation half done), when python and python3 land in different places, and "
    "when pip starts another Python; it skips when no venv is in use. Fix by recreating the "
    "venv where it will live, on the interpreter that will run it (`python3 -m venv --clear "
    "/opt/venv` and reinstall the requirements), and by putting <venv>/bin first on PATH.";

struct Verdict {
  std::vector<std::string> failures;
  std::vector<std::string> warnings;
  std::vector<std::string> notes;
};

// Where a PATH command runs, for comparing python with python3.
std::string venv_of(const PythonCommand& command) {
  if (!command.lookup.found() || !command.runtime || !command.runtime->venv) return "";
  return command.runtime->venv->prefix;
}

json command_json(const PythonCommand& command) {
  if (!command.lookup.found()) return nullptr;
  const std::string venv = venv_of(command);
  return {{"path", command.lookup.candidate},
          {"real_path", command.lookup.real_path},
          {"venv", venv.empty() ? json(nullptr) : json(venv)}};
}

// A base interpreter in `home`, as CPython's getpath finds it for the venv.
std::optional<PythonInstall> home_interpreter(const Context& ctx, const PyvenvCfg& cfg,
                                              json& details) {
  std::vector<std::string> names{"python3"};
  if (cfg.version) {
    if (auto minor = minor_of(*cfg.version)) names.push_back("python" + *minor);
  }
  names.push_back("python");
  for (const std::string& name : names) {
    const std::string candidate = path_join(cfg.home, name);
    auto resolved = ctx.fs.resolve(candidate);
    if (!resolved || !resolved->info.executable()) continue;
    auto install = describe_python_install(ctx.fs, resolved->path, ctx.facts);
    details = {{"path", candidate}, {"real_path", resolved->path}};
    if (!install) {
      details["error"] = install.error().message;
      continue;
    }
    details["version"] = install->version;
    details["version_source"] = install->version_source;
    return std::move(install).value();
  }
  return std::nullopt;
}

// Compares the minor a venv was made for with what runs it.
void compare_versions(const PyvenvCfg& cfg, const std::string& what, const PythonInstall& base,
                      Verdict& verdict) {
  if (!cfg.version) return;
  const auto recorded = minor_of(*cfg.version);
  if (recorded != base.minor) {
    verdict.failures.push_back("pyvenv.cfg says version " + *cfg.version + " but " + what +
                               " is Python " + base.version + " (" + base.interpreter +
                               "): the base Python changed under the venv");
  } else if (base.version_exact && base.version != *cfg.version) {
    verdict.notes.push_back("made with " + *cfg.version + ", " + what + " is now " + base.version +
                            " (a patch release: compatible)");
  }
}

// bin/python, bin/python3, bin/python3.X: each present one must resolve. Returns
// the first that works (python3 preferred) and its real path.
std::optional<std::pair<std::string, std::string>> check_links(const RootFs& fs,
                                                               const std::string& bin,
                                                               const std::string& minor,
                                                               Verdict& verdict, json& details) {
  std::optional<std::pair<std::string, std::string>> runnable;
  details = json::array();
  std::vector<std::string> names{"python3", "python"};
  if (!minor.empty()) names.push_back("python" + minor);
  for (const std::string& name : names) {
    const std::string link = path_join(bin, name);
    auto info = fs.lstat(link);
    if (!info) {
      if (!info.missing()) verdict.failures.push_back(info.error().message);
      continue;
    }
    json entry = {{"path", link}};
    if (info->type == FileType::symlink) entry["target"] = fs.read_link(link).value_or("");
    auto resolved = fs.resolve(link);
    if (!resolved) {
      entry["error"] = resolved.error().message;
      verdict.failures.push_back(link + " does not resolve (" + resolved.error().message + ")");
    } else if (!resolved->info.executable()) {
      entry["real_path"] = resolved->path;
      verdict.failures.push_back(link + " -> " + resolved->path + " is not an executable file");
    } else {
      entry["real_path"] = resolved->path;
      if (!runnable) runnable = std::make_pair(link, resolved->path);
    }
    details.push_back(std::move(entry));
  }
  return runnable;
}

// bin/pip and bin/pip3 must start this venv's python. Scripts with the same
// shebang are reported together.
void check_pip(PythonRuntimeCache& pythons, const SearchPath& path, const std::string& prefix,
               Verdict& verdict, json& details) {
  details = json::array();
  // Scripts sharing a shebang share one message: (what follows "starts", scripts).
  std::vector<std::pair<std::string, std::vector<std::string>>> problems;
  auto report = [&](const std::string& script, const std::string& tail) {
    for (auto& [existing_tail, scripts] : problems) {
      if (existing_tail == tail) {
        scripts.push_back(script);
        return;
      }
    }
    problems.push_back({tail, {script}});
  };
  std::vector<std::string> missing_python;  // tails that are failures, not warnings
  for (const char* name : {"pip", "pip3"}) {
    const std::string script = path_join(prefix + "/bin", name);
    if (!pythons.fs().lstat(script)) continue;
    json entry = {{"path", script}};
    auto head = pythons.fs().read_head(script, 1024);
    auto shebang = head ? parse_shebang(*head) : Result<Shebang>(head.error());
    if (!shebang) {
      entry["error"] = head ? script + ": " + shebang.error().message : shebang.error().message;
      verdict.warnings.push_back(entry["error"].get<std::string>());
      details.push_back(std::move(entry));
      continue;
    }
    const std::string& python = shebang->python;
    entry["starts"] = python;
    const CommandLookup lookup = shebang->python_via_path ? pythons.command(path, python)
                                                          : resolve_program(pythons.fs(), python);
    if (!lookup.found()) {
      entry["bound_to_venv"] = false;
      const std::string tail =
          python + ", which does not exist" +
          (shebang->python_via_path ? " on PATH"
                                    : ": the venv was moved or copied after it was made");
      report(script, tail);
      missing_python.push_back(tail);
      details.push_back(std::move(entry));
      continue;
    }
    const std::string invoked = lookup.candidate.empty() ? python : lookup.candidate;
    const PythonRuntime& rt = pythons.runtime(invoked, lookup.real_path);
    const bool bound = rt.venv && rt.venv->prefix == prefix;
    entry["bound_to_venv"] = bound;
    entry["real_path"] = lookup.real_path;
    if (!bound) {
      report(script, rt.describe() + ", not this venv's python: it installs outside the venv");
    }
    details.push_back(std::move(entry));
  }
  for (const auto& [tail, scripts] : problems) {
    const bool failure =
        std::find(missing_python.begin(), missing_python.end(), tail) != missing_python.end();
    std::vector<std::string> names{scripts.front()};  // the others by name only
    for (std::size_t i = 1; i < scripts.size(); ++i) names.emplace_back(path_basename(scripts[i]));
    const std::string who = join(names, " and ");
    (failure ? verdict.failures : verdict.warnings)
        .push_back(who + (scripts.size() > 1 ? " start " : " starts ") + tail);
  }
  if (details.empty()) {
    verdict.notes.push_back("no pip in " + prefix + "/bin (made with --without-pip?)");
  }
}

// The venv in use and what named it, or nullopt when none is.
struct VenvInUse {
  std::string prefix;
  std::string found_by;  // "VIRTUAL_ENV", "python3 on PATH" or "python on PATH"
};

std::optional<VenvInUse> venv_in_use(std::optional<std::string_view> virtual_env,
                                     const PythonCommand& python3, const PythonCommand& python) {
  if (virtual_env && !virtual_env->empty()) {
    return VenvInUse{path_normalize(*virtual_env), "VIRTUAL_ENV"};
  }
  if (!venv_of(python3).empty()) return VenvInUse{venv_of(python3), "python3 on PATH"};
  if (!venv_of(python).empty()) return VenvInUse{venv_of(python), "python on PATH"};
  return std::nullopt;
}

// The venv's pyvenv.cfg, or nullopt with the failure in `verdict`.
std::optional<PyvenvCfg> read_cfg(const RootFs& fs, std::optional<std::string_view> virtual_env,
                                  const VenvInUse& venv, Verdict& verdict) {
  const std::string cfg_path = path_join(venv.prefix, "pyvenv.cfg");
  if (venv.found_by == "VIRTUAL_ENV" && !virtual_env->starts_with('/')) {
    verdict.failures.push_back("VIRTUAL_ENV=" + std::string(*virtual_env) +
                               " is not an absolute path");
  } else if (!fs.is_directory(venv.prefix)) {
    verdict.failures.push_back(venv.found_by + " names " + venv.prefix +
                               ", which is not a directory");
  } else if (auto text = fs.read_file(cfg_path, 1u << 20); !text) {
    const std::string not_a_venv = venv.prefix + " is not a virtual environment: no pyvenv.cfg";
    verdict.failures.push_back(text.missing() ? not_a_venv : text.error().message);
  } else if (auto parsed = parse_pyvenv_cfg(*text); !parsed) {
    verdict.failures.push_back(cfg_path + ": " + parsed.error().message);
  } else {
    return std::move(parsed).value();
  }
  return std::nullopt;
}

json cfg_json(const std::string& cfg_path, const PyvenvCfg& cfg) {
  return {{"path", cfg_path},
          {"home", cfg.home},
          {"version", cfg.version ? json(*cfg.version) : json(nullptr)},
          {"include_system_site_packages", cfg.include_system_site_packages},
          {"executable", cfg.executable ? json(*cfg.executable) : json(nullptr)},
          {"command", cfg.command ? json(*cfg.command) : json(nullptr)},
          {"made_by", cfg.virtualenv_version ? "virtualenv " + *cfg.virtualenv_version : "venv"}};
}

// The venv itself: its home Python, its links, its pip.
void judge_venv(const Context& ctx, PythonRuntimeCache& pythons, const SearchPath& path,
                const std::string& prefix, const PyvenvCfg& cfg, Verdict& verdict, json& details) {
  details["pyvenv_cfg"] = cfg_json(path_join(prefix, "pyvenv.cfg"), cfg);
  std::optional<PythonInstall> home_base;
  json home_details = nullptr;
  if (!ctx.fs.is_directory(cfg.home)) {
    verdict.failures.push_back("home " + cfg.home + " (pyvenv.cfg) does not exist: the " +
                               "venv's base Python is gone");
  } else if (home_base = home_interpreter(ctx, cfg, home_details); !home_base) {
    verdict.failures.push_back("home " + cfg.home + " (pyvenv.cfg) holds no python3 " +
                               "pycheck recognises");
  } else {
    compare_versions(cfg, "home's python3", *home_base, verdict);
  }
  details["home_interpreter"] = home_details;

  const std::string minor =
      cfg.version ? minor_of(*cfg.version).value_or("") : (home_base ? home_base->minor : "");
  json links;
  const auto runnable = check_links(ctx.fs, prefix + "/bin", minor, verdict, links);
  details["links"] = links;
  if (!runnable) {
    if (links.empty()) verdict.failures.push_back(prefix + "/bin has no python3 or python");
  } else {
    const PythonRuntime& rt = pythons.runtime(runnable->first, runnable->second);
    details["venv_interpreter"] = to_json(rt);
    if (rt.base && (!home_base || rt.base->interpreter != home_base->interpreter)) {
      compare_versions(cfg, runnable->first, *rt.base, verdict);
    }
  }
  json pip;
  check_pip(pythons, path, prefix, verdict, pip);
  details["pip"] = pip;
  if (cfg.include_system_site_packages) {
    std::string visible = home_base ? join(home_base->site_packages, ", ") : "";
    verdict.notes.push_back("include-system-site-packages = true: the base's site-packages" +
                            (visible.empty() ? std::string() : " (" + visible + ")") +
                            " are importable too");
  }
}

// What PATH runs, compared with the venv.
void judge_path_commands(std::optional<std::string_view> virtual_env, const std::string& prefix,
                         const PythonCommand& python3, const PythonCommand& python,
                         Verdict& verdict) {
  const bool env_set = virtual_env && !virtual_env->empty();
  const std::string py3_venv = venv_of(python3);
  if (env_set && py3_venv != prefix) {
    verdict.warnings.push_back(
        "VIRTUAL_ENV=" + std::string(*virtual_env) + " but PATH's python3 is " +
        (python3.lookup.found() ? python3.lookup.candidate : std::string("missing")) +
        " (activation half done: " + prefix + "/bin is not first on PATH)");
  }
  if (python3.lookup.found() && python.lookup.found() && py3_venv != venv_of(python)) {
    verdict.warnings.push_back("python runs " + python.lookup.candidate + " (" +
                               (venv_of(python).empty() ? "no venv" : "venv " + venv_of(python)) +
                               ") but python3 runs " + python3.lookup.candidate + " (" +
                               (py3_venv.empty() ? "no venv" : "venv " + py3_venv) + ")");
  }
  if (!env_set) verdict.notes.push_back("VIRTUAL_ENV is not set (fine for running the venv)");
}

// Failures make the venv broken, warnings half in use; else it passes.
CheckOutcome finish(const Verdict& verdict, const std::string& prefix, json details) {
  details["failures"] = verdict.failures;
  details["warnings"] = verdict.warnings;
  details["notes"] = verdict.notes;
  OutcomeBuilder out(std::move(details));
  if (!verdict.failures.empty()) {
    for (const std::string& f : verdict.failures) {
      out.fail(f)
          .fix_by(
              "Recreate the venv where it will live, on the Python that runs it, then "
              "reinstall the requirements:")
          .run("python3 -m venv --clear " + prefix);
    }
    return std::move(out).finish("venv " + prefix + " is broken");
  }
  if (!verdict.warnings.empty()) {
    for (const std::string& w : verdict.warnings) {
      out.warn(w)
          .breaks("python, python3 and pip may not all run the venv")
          .fix_by("Put " + prefix + "/bin first on PATH (in a Dockerfile: ENV PATH=" + prefix +
                  "/bin:$PATH); reinstall pip in the venv if its script starts another Python:")
          .run(prefix + "/bin/python3 -m pip install --force-reinstall pip");
    }
    return std::move(out).finish("venv " + prefix + " is half in use");
  }
  const json& home = out.details()["home_interpreter"];
  const std::string headline = "venv " + prefix + " on " +
                               home.value("real_path", std::string("?")) + " (" +
                               home.value("version", std::string("?")) + "): links resolve, " +
                               (out.details()["pip"].empty() ? "no pip" : "pip is bound to it");
  return std::move(out).finish(headline);
}

CheckOutcome run(const Context& ctx) {
  const SearchPath path = make_search_path(ctx.env.get("PATH"));
  PythonRuntimeCache pythons(ctx);
  const PythonCommand python3 = find_python_command(pythons, path, "python3");
  const PythonCommand python = find_python_command(pythons, path, "python");
  const auto virtual_env = ctx.env.get("VIRTUAL_ENV");
  json details = {
      {"virtual_env", virtual_env ? json(std::string(*virtual_env)) : json(nullptr)},
      {"path_commands", {{"python3", command_json(python3)}, {"python", command_json(python)}}}};

  const std::optional<VenvInUse> venv = venv_in_use(virtual_env, python3, python);
  if (!venv) {
    if (auto late = ctx.fs.deadline_error("python3 on PATH")) return timed_out(*late);
    // Details say why: no VIRTUAL_ENV, no venv python3.
    return skipped("no virtual environment in use", std::move(details));
  }
  details["venv"] = venv->prefix;
  details["found_by"] = venv->found_by;
  Verdict verdict;
  if (const auto cfg = read_cfg(ctx.fs, virtual_env, *venv, verdict)) {
    judge_venv(ctx, pythons, path, venv->prefix, *cfg, verdict, details);
  }
  judge_path_commands(virtual_env, venv->prefix, python3, python, verdict);
  if (auto late = ctx.fs.deadline_error("the venv " + venv->prefix)) return timed_out(*late);
  return finish(verdict, venv->prefix, std::move(details));
}

}  // namespace

CheckInfo python_venv_check() {
  return CheckInfo{"python.venv", "Virtual environment in use is whole", kExplain, run, {}};
}

}  // namespace pycheck
