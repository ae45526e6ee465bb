#include "checks/facts/python_discovery.h"

#include <set>

#include "checks/formats/cpython_layout.h"

namespace pycheck {
namespace {

constexpr std::size_t kMaxPrefixes = 2000;  // bounds the work on odd roots (huge /opt trees)

// Fixed places where images and Dockerfiles put virtual environments.
constexpr std::string_view kVenvPlaces[] = {
    "/venv",
    "/.venv",
    "/opt/venv",
    "/app/.venv",
    "/app/venv",
    "/root/.venv",
    "/usr/src/app/.venv",
    "/usr/src/app/venv",
    "/workspace/.venv",
    "/code/.venv",
    "/srv/.venv",
    "/home/app/.venv",
};

std::vector<std::string> subdirectories(const RootFs& fs, const std::string& dir) {
  std::vector<std::string> out;
  auto entries = fs.list_dir(dir);
  if (!entries) return out;
  for (const DirEntry& e : *entries) {
    const std::string path = path_join(dir, e.name);
    if (e.type == FileType::directory || (e.type != FileType::regular && fs.is_directory(path))) {
      out.push_back(path);
    }
  }
  return out;
}

std::vector<std::string> candidate_prefixes(const RootFs& fs, const Environment& env,
                                            const std::vector<std::string>& extra) {
  std::vector<std::string> out{"/usr/local", "/usr"};
  for (const std::string& opt : subdirectories(fs, "/opt")) {
    out.push_back(opt);
    for (const std::string& sub : subdirectories(fs, opt)) out.push_back(sub);
  }
  std::vector<std::string> homes{"/root"};
  for (const std::string& home : subdirectories(fs, "/home")) homes.push_back(home);
  for (const std::string& home : homes) {
    for (const std::string& v : subdirectories(fs, home + "/.pyenv/versions")) out.push_back(v);
    out.push_back(home + "/.venv");
  }
  for (std::string_view place : kVenvPlaces) out.emplace_back(place);
  if (auto venv = env.get("VIRTUAL_ENV"); venv && venv->starts_with('/')) out.emplace_back(*venv);
  if (auto path = env.get("PATH")) {
    std::size_t start = 0;
    while (start <= path->size()) {
      std::size_t colon = path->find(':', start);
      std::string_view entry = path->substr(start, colon - start);
      if (entry.starts_with('/') && path_basename(path_normalize(entry)) == "bin") {
        out.emplace_back(path_dirname(path_normalize(entry)));
      }
      if (colon == std::string_view::npos) break;
      start = colon + 1;
    }
  }
  out.insert(out.end(), extra.begin(), extra.end());
  return out;
}

// The python a venv is normally started as.
std::optional<std::string> venv_python(const RootFs& fs, const std::string& bin) {
  for (const char* name : {"python3", "python"}) {
    if (fs.exists(path_join(bin, name))) return path_join(bin, name);
  }
  auto entries = fs.list_dir(bin);
  if (entries) {
    for (const DirEntry& e : *entries) {
      if (python_minor_from_name(e.name)) return path_join(bin, e.name);
    }
  }
  return std::nullopt;
}

}  // namespace

DiscoveredPythons discover_python_installs(const RootFs& fs, const Environment& env,
                                           const std::vector<std::string>& extra_prefixes,
                                           const RunFacts* facts) {
  DiscoveredPythons found;
  std::vector<std::string> queue = candidate_prefixes(fs, env, extra_prefixes);
  std::set<std::string> seen_prefixes;
  std::set<std::string> seen_interpreters;
  std::set<std::pair<dev_t, ino_t>> seen_files;  // python3.6 and python3.6m are hard links
  for (std::size_t qi = 0; qi < queue.size() && qi < kMaxPrefixes; ++qi) {
    auto resolved = fs.resolve(queue[qi]);
    if (!resolved || resolved->info.type != FileType::directory) continue;
    const std::string prefix = resolved->path;
    if (!seen_prefixes.insert(prefix).second) continue;
    const std::string bin = path_join(prefix, "bin");

    if (fs.exists(path_join(prefix, "pyvenv.cfg"))) {
      auto python = venv_python(fs, bin);
      if (!python) {
        found.problems.push_back(prefix + "/pyvenv.cfg: venv without a bin/python");
        continue;
      }
      auto real = fs.resolve(*python);
      if (!real || !real->info.executable()) {
        found.problems.push_back(*python + ": " +
                                 (real ? "not an executable file" : real.error().message));
        continue;
      }
      PythonRuntime rt = describe_python_runtime(fs, *python, real->path, facts);
      if (rt.base) queue.push_back(rt.base->prefix);  // list the base even when in an odd place
      found.venvs.push_back(std::move(rt));
      continue;
    }

    auto entries = fs.list_dir(bin);
    if (!entries) continue;
    for (const DirEntry& e : *entries) {
      auto minor = python_minor_from_name(e.name);
      if (!minor) continue;
      const std::string exe = path_join(bin, e.name);
      auto real = fs.resolve(exe);
      if (!real) {
        found.problems.push_back(real.error().message);
        continue;
      }
      if (!real->info.executable()) continue;
      const std::string real_prefix(path_dirname(path_dirname(real->path)));
      if (real_prefix != prefix) {  // an alias of an installation elsewhere
        queue.push_back(real_prefix);
        continue;
      }
      if (!seen_interpreters.insert(real->path).second) continue;
      if (!seen_files.insert({real->info.dev, real->info.ino}).second) continue;
      if (!fs.is_directory(prefix + "/lib/python" + *minor)) {
        found.problems.push_back(exe + " has no " + prefix + "/lib/python" + *minor +
                                 ": not a complete installation");
        continue;
      }
      auto install = describe_python_install(fs, real->path, facts);
      if (!install) {
        found.problems.push_back(install.error().message);
        continue;
      }
      found.bases.push_back(std::move(install).value());
    }
  }
  return found;
}

}  // namespace pycheck
