// python.path: what `python3`, `python`, `pip` and `pip3` run under the judged PATH.
#include <map>
#include <string>
#include <vector>

#include "agent/core/findings.h"
#include "agent/core/metric_details.h"
#include "agent/core/text.h"
#include "checks/check_table.h"
#include "checks/facts/python_commands.h"

namespace pycheck {
namespace {

constexpr std::string_view kExplain =
    "The official python image builds CPython into /usr/local and sets "
    "PATH=/usr/local/bin:$PATH (\"ensure local python is preferred over distribution python\"). "
    "/usr/local/bin holds the real executable python3.X and relative links python3 -> python3.X, "
    "python -> python3 and pip -> pip3; pip3's first line is #!/usr/local/bin/python3.X. "
    "Anything that changes PATH (an orchestrator replacing it, a venv, an apt-installed python3 "
    "in /usr/bin) changes which Python and which pip run, and pip may then install into a "
    "different Python than the one the application uses.\n\n"
    "pycheck looks each name up through the judged environment's PATH exactly as execvp does "
    "(glibc's /bin:/usr/bin when PATH is unset; missing files, dangling links, folders and files "
    "without an x bit are skipped), follows every symlink inside the inspected root, and reads "
    "the version from the installation's layout (include/python3.X/patchlevel.h, the dpkg version "
    "of Debian's python, _sysconfigdata) without running anything. For pip it reads the script's "
    "shebang (#!/path, #!/usr/bin/env python3, or distlib's #!/bin/sh + '''exec' wrapper) and "
    "compares the Python it starts with python3's: same executable and same venv.\n\n"
    "It fails when python3 cannot be found, and warns when python is missing or runs another "
    "Python than python3, when pip/pip3 start another Python than python3, and when PATH has "
    "empty or relative entries (they search the working directory). Fix PATH so the image's bin "
    "folder comes first, restore the links (ln -s python3 /usr/local/bin/python), and prefer "
    "`python3 -m pip`, which always uses python3's own pip.";

// A PATH of thousands of entries must not make a report of megabytes: the
// details list at most this many problems of each kind (and entries), with totals.
constexpr std::size_t kListedPerKind = 20;
constexpr std::size_t kListedEntries = 100;
// The summary is one line: at most this many PATH warnings in it.
constexpr std::size_t kPathWarningsInSummary = 3;

// details.path with its long lists capped; the PATH string itself stays whole.
json capped_path_details(const SearchPath& path, const std::vector<PathProblem>& problems) {
  std::map<PathProblemKind, std::size_t> per_kind;
  std::vector<PathProblem> listed;
  for (const PathProblem& p : problems) {
    if (++per_kind[p.kind] <= kListedPerKind) listed.push_back(p);
  }
  json out = to_json(path, listed);
  if (path.entries.size() > kListedEntries) {
    out["entries"] =
        std::vector<std::string>(path.entries.begin(), path.entries.begin() + kListedEntries);
  }
  out["entries_total"] = path.entries.size();
  out["problems_total"] = problems.size();
  out["missing_path_entries_total"] = per_kind[PathProblemKind::missing_dir];
  if (listed.size() < problems.size()) {
    out["problems_listed"] = "the first " + std::to_string(kListedPerKind) + " of each kind";
  }
  return out;
}

// What python3's folder is, for commands that name it.
std::string folder_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos || slash == 0 ? "/" : path.substr(0, slash);
}

bool recognised(const std::optional<PythonRuntime>& rt) { return rt && rt->base; }

void judge_python(const PythonCommand& python, const PythonCommand& python3, OutcomeBuilder& out) {
  if (!python.lookup.found()) {
    out.warn("python is not on PATH (the image links python -> python3)")
        .breaks("scripts starting with `#!/usr/bin/env python` fail")
        .fix_by("Restore the image's link:")
        .run("ln -s python3 " + folder_of(python3.lookup.candidate) + "/python");
    return;
  }
  if (!recognised(python3.runtime)) return;  // already reported; nothing to compare with
  if (!recognised(python.runtime)) {
    out.warn("python (" + python.lookup.candidate + "): " + python.runtime->base_error)
        .fix_by("Make python a link to python3.");
    return;
  }
  if (python.runtime->identity() != python3.runtime->identity()) {
    out.warn("python (" + python.lookup.candidate + ") runs " + python.runtime->describe() +
             ", python3 runs " + python3.runtime->describe())
        .breaks("`python` and `python3` see different packages")
        .fix_by(
            "Make python and python3 the same interpreter: reorder PATH (the image's ENV "
            "PATH puts /usr/local/bin first), or relink " +
            python.lookup.candidate + ".");
  }
}

void judge_pip(std::string_view name, const ScriptCommand& pip, const PythonCommand& python3,
               OutcomeBuilder& out) {
  if (!pip.lookup.found()) return;  // pip.version reports a missing pip
  const std::string where = std::string(name) + " (" + pip.lookup.candidate + ")";
  // Reinstalling pip for python3 rewrites the scripts' shebang.
  auto with_fix = [](Finding& f) {
    f.breaks("`pip install` may install for another Python than python3")
        .fix_by(
            "Use `python3 -m pip`, or reinstall pip for python3, which rewrites the pip "
            "scripts' shebang:")
        .run("python3 -m pip install --force-reinstall pip");
  };
  if (!pip.shebang) {
    with_fix(out.warn(where + " is not a script pycheck can follow: " + pip.shebang_error));
    return;
  }
  if (pip.shebang->carriage_return) {
    out.warn(where + " has a CRLF shebang: the kernel looks for \"" + pip.shebang->interpreter +
             "\\r\"")
        .breaks(std::string(name) + " fails with \"No such file or directory\"")
        .fix_by("Convert the script to LF line ends:")
        .run("sed -i 's/\\r$//' " + pip.lookup.candidate);
  }
  if (!pip.interpreter.found()) {
    with_fix(out.warn(
        where + " starts " + pip.shebang->python + ", which " +
        (pip.interpreter.error.empty() ? std::string("does not exist") : pip.interpreter.error)));
    return;
  }
  if (!recognised(pip.runtime)) {
    with_fix(out.warn(where + " starts " + pip.interpreter.real_path +
                      ", not a CPython executable pycheck recognises"));
    return;
  }
  if (recognised(python3.runtime) && pip.runtime->identity() != python3.runtime->identity()) {
    with_fix(out.warn(where + " installs into " + pip.runtime->describe() + ", python3 runs " +
                      python3.runtime->describe()));
  }
}

// What python.path reads: the judged PATH, its problems and the four commands.
struct PathCommands {
  SearchPath path;
  std::vector<PathProblem> problems;
  PythonCommand python3;
  PythonCommand python;
  ScriptCommand pip;
  ScriptCommand pip3;
};

PathCommands gather(const Context& ctx) {
  PathCommands found;
  found.path = make_search_path(ctx.env.get("PATH"));
  found.problems = path_problems(ctx.fs, found.path);
  PythonRuntimeCache pythons(ctx);
  found.python3 = find_python_command(pythons, found.path, "python3");
  found.python = find_python_command(pythons, found.path, "python");
  found.pip = find_script_command(pythons, found.path, "pip");
  found.pip3 = find_script_command(pythons, found.path, "pip3");
  return found;
}

json commands_json(const PathCommands& found) {
  auto with_python = [](const PythonCommand& command) {
    json item = to_json(command.lookup);
    item[metric_details::kRuntime] = command.runtime ? to_json(*command.runtime) : json(nullptr);
    return item;
  };
  json commands = json::object();
  commands[metric_details::kPython3] = with_python(found.python3);
  commands["python"] = with_python(found.python);
  commands["pip"] = to_json(found.pip);
  commands["pip3"] = to_json(found.pip3);
  return commands;
}

CheckOutcome fail_without_python3(const PathCommands& found, OutcomeBuilder out) {
  const CommandLookup& lookup = found.python3.lookup;
  out.fail(lookup.outcome == LookupOutcome::stopped
               ? "python3 lookup stops at " + lookup.candidate + ": " + lookup.error
               : "python3 not found on PATH " + found.path.value +
                     (found.path.is_default ? " (PATH unset, glibc default)" : ""))
      .breaks("`python3` and every script starting with `#!/usr/bin/env python3` fail")
      .fix_by(
          "Put the Python's bin folder on PATH (the official image has "
          "PATH=/usr/local/bin:...) and make sure <bin>/python3 is an executable or a working "
          "link to python3.X.");
  return std::move(out).finish("python3 not found on PATH");
}

// Empty and relative entries (and an unset PATH): the first few, then a count.
void judge_path_problems(const std::vector<PathProblem>& problems, OutcomeBuilder& out) {
  std::size_t path_warnings = 0;
  for (const PathProblem& p : problems) {
    if (p.warning && ++path_warnings <= kPathWarningsInSummary) {
      out.warn(p.message).fix_by(
          p.kind == PathProblemKind::unset
              ? "Set PATH explicitly (the image's is /usr/local/bin:/usr/local/sbin:"
                "/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)."
              : "Remove empty and relative PATH entries (a leading, trailing or doubled "
                "':' adds the working directory).");
    }
  }
  if (path_warnings > kPathWarningsInSummary) {
    out.warn(std::to_string(path_warnings - kPathWarningsInSummary) +
             " more empty or relative PATH entries (details.path.problems)");
  }
}

void judge_python3(const PythonCommand& python3, OutcomeBuilder& out) {
  if (recognised(python3.runtime)) return;
  out.warn("python3 (" + python3.lookup.candidate + "): " + python3.runtime->base_error)
      .fix_by(
          "Check what python3 is (a wrapper script or shim?) and that it reaches "
          "<prefix>/bin/python3.X.");
}

std::string headline(const PythonCommand& python3, const OutcomeBuilder& out) {
  std::string text = "python3 → " + python3.runtime->describe();
  if (!out.empty()) {
    text += "; " + std::to_string(out.findings().size()) + " problem" +
            (out.findings().size() == 1 ? "" : "s") + " with PATH's commands";
  }
  return text;
}

CheckOutcome run(const Context& ctx) {
  const PathCommands found = gather(ctx);
  if (auto late = ctx.fs.deadline_error("python3, python and pip on PATH")) {
    return timed_out(*late);
  }
  OutcomeBuilder out({{"path", capped_path_details(found.path, found.problems)},
                      {metric_details::kCommands, commands_json(found)}});
  if (!found.python3.lookup.found()) return fail_without_python3(found, std::move(out));

  judge_path_problems(found.problems, out);
  judge_python3(found.python3, out);
  judge_python(found.python, found.python3, out);
  judge_pip("pip", found.pip, found.python3, out);
  judge_pip("pip3", found.pip3, found.python3, out);

  json warnings = json::array();
  for (const Finding& f : out.findings()) warnings.push_back(f.message);
  out.details()["warnings"] = std::move(warnings);
  std::string text = headline(found.python3, out);
  return std::move(out).finish(std::move(text));
}

}  // namespace

CheckInfo python_path_check() {
  return CheckInfo{"python.path", "python3, python and pip on PATH", kExplain, run, {}};
}

}  // namespace pycheck
