// python.bytecode: whether python3's standard library has compiled .pyc files.
#include <set>
#include <string>
#include <vector>

#include "agent/core/findings.h"
#include "checks/check_table.h"
#include "checks/facts/python_commands.h"

namespace pycheck {
namespace {

constexpr std::string_view kExplain =
    "The official python image deletes every *.pyc and *.pyo under /usr/local after building "
    "CPython, and runs its pip step with PYTHONDONTWRITEBYTECODE=1, so it ships no compiled "
    "bytecode: keeping it would add about 30 MB (docker-library/python #207, #615, #700). "
    "Python then compiles each module it imports in memory, and writes "
    "__pycache__/<module>.cpython-3X.pyc next to the source when it may (the stdlib folder is "
    "root's, so only a root process without PYTHONDONTWRITEBYTECODE writes there). Since 3.11 "
    "the modules needed to start the interpreter are frozen into the binary, so the cost is "
    "paid on the first import of everything else (json, re, asyncio, email, ...), on every "
    "container start.\n\n"
    "pycheck finds python3 through the judged PATH, takes its base installation's standard "
    "library and cache tag (cpython-311 for 3.11), and counts the top-level modules "
    "(<stdlib>/*.py) and packages (<stdlib>/<pkg>/__init__.py) that have a matching "
    "<name>.cpython-3X.pyc in __pycache__ (or under $PYTHONPYCACHEPREFIX when that is set, "
    "which is where Python then looks). It lists only the stdlib folder and the package "
    "folders' __pycache__, never the whole tree. Optimised .opt-1/.opt-2 files, which only "
    "`python -O` uses, are not counted. It also reports PYTHONDONTWRITEBYTECODE.\n\n"
    "It passes when compiled files are there and skips with a note when there are none, as in "
    "the official image: that is a size trade-off, not a fault. To trade 30 MB for faster "
    "imports, add `RUN python3 -m compileall -q \"$(python3 -c 'import sysconfig; "
    "print(sysconfig.get_path(\"stdlib\"))')\"` to the Dockerfile.";

// "3.11" -> "cpython-311"
std::string cache_tag(std::string_view minor) {
  std::string digits;
  for (char c : minor) {
    if (c != '.') digits += c;
  }
  return "cpython-" + digits;
}

struct Count {
  std::vector<std::string> modules;  // "os", "json" (package), ...
  std::vector<std::string> compiled;
  std::vector<std::string> problems;
};

// Names in `dir` (a cache folder) of the form <stem>.<tag>.pyc, as stems.
std::set<std::string> compiled_stems(const RootFs& fs, const std::string& dir,
                                     const std::string& tag, std::vector<std::string>& problems) {
  std::set<std::string> stems;
  auto entries = fs.list_dir(dir);
  if (!entries) {
    if (!entries.missing()) problems.push_back(entries.error().message);
    return stems;
  }
  const std::string suffix = "." + tag + ".pyc";
  for (const DirEntry& e : *entries) {
    if (e.name.size() > suffix.size() && e.name.ends_with(suffix)) {
      stems.insert(e.name.substr(0, e.name.size() - suffix.size()));
    }
  }
  return stems;
}

bool regular(const RootFs& fs, const std::string& dir, const DirEntry& e) {
  if (e.type == FileType::regular) return true;
  if (e.type != FileType::other && e.type != FileType::symlink) return false;
  return fs.is_regular(path_join(dir, e.name));
}

// Where Python looks for the bytecode of the sources in `source_dir`.
std::string cache_dir(const std::string& source_dir, const std::string& pycache_prefix) {
  if (pycache_prefix.empty()) return path_join(source_dir, "__pycache__");
  return path_normalize(pycache_prefix + "/" + source_dir);
}

Result<Count> count_stdlib(const RootFs& fs, const std::string& stdlib, const std::string& tag,
                           const std::string& pycache_prefix) {
  auto entries = fs.list_dir(stdlib);
  if (!entries) return entries.error();
  Count count;
  const std::set<std::string> top =
      compiled_stems(fs, cache_dir(stdlib, pycache_prefix), tag, count.problems);
  for (const DirEntry& e : *entries) {
    if (e.name.ends_with(".py") && e.name.size() > 3 && regular(fs, stdlib, e)) {
      const std::string stem = e.name.substr(0, e.name.size() - 3);
      count.modules.push_back(stem);
      if (top.count(stem)) count.compiled.push_back(stem);
      continue;
    }
    const bool maybe_dir = e.type == FileType::directory || e.type == FileType::other;
    if (!maybe_dir || e.name == "__pycache__" || e.name == "site-packages") continue;
    const std::string package = path_join(stdlib, e.name);
    if (!fs.is_regular(path_join(package, "__init__.py"))) continue;
    count.modules.push_back(e.name);
    const std::string compiled =
        path_join(cache_dir(package, pycache_prefix), "__init__." + tag + ".pyc");
    if (fs.is_regular(compiled)) count.compiled.push_back(e.name);
  }
  return count;
}

// PYTHONPYCACHEPREFIX when Python can use it here (absolute), else "" with a
// note in `details` for a relative one.
std::string absolute_pycache_prefix(std::optional<std::string_view> prefix_env, json& details) {
  if (!prefix_env || prefix_env->empty()) return "";
  if (prefix_env->starts_with('/')) return std::string(*prefix_env);
  details["notes"].push_back(
      "PYTHONPYCACHEPREFIX is relative: it depends on the working directory, which "
      "pycheck does not know; __pycache__ folders are counted instead");
  return "";
}

// How much of the stdlib has bytecode: pass when some, skip when none (as in
// the official image) or nothing to count.
CheckOutcome judge_count(const Count& count, const std::string& stdlib, const std::string& tag,
                         bool writes_disabled, json details) {
  const std::size_t total = count.modules.size();
  const std::size_t compiled = count.compiled.size();
  details["modules"] = total;
  details["compiled"] = compiled;
  if (!count.problems.empty()) details["problems"] = count.problems;
  if (compiled > 0 && compiled < total) {
    std::vector<std::string> missing;
    const std::set<std::string> done(count.compiled.begin(), count.compiled.end());
    for (const std::string& m : count.modules) {
      if (!done.count(m) && missing.size() < 20) missing.push_back(m);
    }
    details["not_compiled_sample"] = missing;
  }
  details["compile_command"] = "python3 -m compileall -q " + stdlib;

  if (total == 0) return skipped(stdlib + " has no modules to count", std::move(details));
  // Short: a skip is one item of the text report's closing line; the
  // command that would compile it is in details.compile_command.
  if (compiled == 0) {
    return skipped("stdlib not byte-compiled, as in the official image", std::move(details));
  }
  const std::string counted = std::to_string(compiled) + " of " + std::to_string(total) +
                              " stdlib modules compiled (" + tag + ")";
  return OutcomeBuilder(std::move(details))
      .finish(compiled == total ? counted
                                : counted + ": the rest is compiled in memory at each start" +
                                      (writes_disabled ? "" : " (or written on first import)"));
}

CheckOutcome run(const Context& ctx) {
  const auto dont_write = ctx.env.get("PYTHONDONTWRITEBYTECODE");
  const auto prefix_env = ctx.env.get("PYTHONPYCACHEPREFIX");
  json details = {
      {"environment",
       {{"PYTHONDONTWRITEBYTECODE", dont_write ? json(std::string(*dont_write)) : json(nullptr)},
        {"PYTHONPYCACHEPREFIX", prefix_env ? json(std::string(*prefix_env)) : json(nullptr)}}}};
  // Python honours any non-empty value (PYTHONDONTWRITEBYTECODE=0 also disables writing).
  const bool writes_disabled = dont_write && !dont_write->empty();
  details["python_writes_pyc"] = !writes_disabled;

  PythonRuntimeCache pythons(ctx);
  const PythonCommand python3 =
      find_python_command(pythons, make_search_path(ctx.env.get("PATH")), "python3");
  if (!python3.lookup.found() || !python3.runtime->base) {
    if (auto late = ctx.fs.deadline_error("python3 on PATH")) return timed_out(*late);
    return skipped(python3.lookup.found()
                       ? "cannot tell python3's installation: " + python3.runtime->base_error
                       : "python3 not found on PATH (python.path reports it)",
                   std::move(details));
  }
  const PythonInstall& base = *python3.runtime->base;
  const std::string tag = cache_tag(base.minor);
  const std::string pycache_prefix = absolute_pycache_prefix(prefix_env, details);
  details["python3"] = {{"real_path", base.interpreter}, {"version", base.version}};
  details["stdlib"] = base.stdlib;
  details["cache_tag"] = tag;
  details["cache_location"] = pycache_prefix.empty()
                                  ? "__pycache__ next to the sources"
                                  : "under PYTHONPYCACHEPREFIX " + pycache_prefix;

  auto count = count_stdlib(ctx.fs, base.stdlib, tag, pycache_prefix);
  if (auto late = ctx.fs.deadline_error("the standard library")) return timed_out(*late);
  if (!count) {
    if (count.missing()) {
      return skipped(base.stdlib + " is missing (python.installs reports it)", std::move(details));
    }
    return errored(count.error().message, std::move(details));
  }
  return judge_count(*count, base.stdlib, tag, writes_disabled, std::move(details));
}

}  // namespace

CheckInfo python_bytecode_check() {
  return CheckInfo{
      "python.bytecode", "Compiled bytecode for the standard library", kExplain, run, {},
      CheckCost::medium};  // looks into every package of the standard library
}

}  // namespace pycheck
