// describe_python_install, find_venv and describe_python_runtime; the search
// for every installation is in python_discovery.cpp.
#include "checks/facts/python_install.h"

#include "checks/facts/dpkg_database.h"
#include "checks/facts/dpkg_owner.h"
#include "checks/formats/cpython_layout.h"
#include "checks/formats/dist_info.h"

namespace pycheck {
namespace {

constexpr std::size_t kSmallFile = 1u << 20;  // headers, cfg and METADATA files are tiny

std::optional<std::string> abi_suffix(std::string_view executable_name, std::string_view minor) {
  if (!executable_name.starts_with("python")) return std::nullopt;
  std::string_view rest = executable_name.substr(std::string_view("python").size());
  if (rest.size() == minor.size() + 1) return std::string(rest.substr(minor.size()));
  return std::nullopt;
}

// The minor version of the interpreter: from its name, else from the only
// lib/pythonX.Y folder of the prefix.
Result<std::string> minor_for(const RootFs& fs, std::string_view name, const std::string& prefix) {
  if (auto minor = python_minor_from_name(name)) return *minor;
  auto entries = fs.list_dir(path_join(prefix, "lib"));
  std::vector<std::string> minors;
  if (entries) {
    for (const DirEntry& e : *entries) {
      auto minor = python_minor_from_name(e.name);
      if (minor && fs.is_directory(path_join(path_join(prefix, "lib"), e.name))) {
        minors.push_back(*minor);
      }
    }
  }
  if (minors.size() == 1) return minors.front();
  return Error{std::string(name) + " in " + prefix + "/bin: cannot tell its Python version (" +
               std::to_string(minors.size()) + " lib/pythonX.Y folders)"};
}

// Reads and parses patchlevel.h; true when it settled the version.
bool version_from_patchlevel(const RootFs& fs, PythonInstall& install, std::string_view suffix) {
  const std::string header =
      install.prefix + "/include/python" + install.minor + std::string(suffix) + "/patchlevel.h";
  auto text = fs.read_file(header, kSmallFile);
  if (!text) {
    if (!text.missing()) install.problems.push_back(text.error().message);
    return false;
  }
  auto level = parse_patchlevel_h(*text);
  if (!level) {
    install.problems.push_back(header + ": " + level.error().message);
    return false;
  }
  if (minor_of(level->version) != install.minor) {
    install.problems.push_back(header + ": says " + level->version + " but the interpreter is " +
                               install.interpreter);
    return false;
  }
  install.version = level->version;
  install.version_exact = true;
  install.version_source = header;
  return true;
}

// Debian's python3.X without python3.X-dev has no patchlevel.h; the version of
// the package that owns the executable dates it instead.
bool version_from_dpkg(const RootFs& fs, PythonInstall& install, const RunFacts* facts) {
  std::vector<std::string> paths{install.interpreter};
  auto owners = find_dpkg_owners(fs, paths);
  if (!owners || !owners->have_database) return false;
  const auto& packages = owners->owners[install.interpreter];
  if (packages.empty()) return false;
  const auto shared_db = dpkg_database_of(fs, facts);
  const Result<DpkgDatabase>& db = *shared_db;
  if (!db) {
    if (!db.missing()) install.problems.push_back(db.error().message);
    return false;
  }
  const DpkgRecord* record = db->find_installed(packages.front());
  if (record == nullptr || record->version.empty()) return false;
  std::string upstream = debian_upstream_version(record->version);
  if (minor_of(upstream) != install.minor) return false;
  install.version = upstream;
  install.version_exact = true;
  install.version_source = "dpkg: " + packages.front() + " " + record->version;
  return true;
}

// Reads the first _sysconfigdata_*.py of the standard library: confirms the
// minor and gives MULTIARCH for finding libpython.
std::optional<std::string> read_sysconfigdata(const RootFs& fs, PythonInstall& install) {
  auto entries = fs.list_dir(install.stdlib);
  if (!entries) return std::nullopt;
  for (const DirEntry& e : *entries) {
    if (!e.name.starts_with("_sysconfigdata_") || !e.name.ends_with(".py")) continue;
    const std::string path = path_join(install.stdlib, e.name);
    auto text = fs.read_file(path, 4u << 20);
    if (!text) {
      install.problems.push_back(text.error().message);
      continue;
    }
    auto version = sysconfigdata_string(*text, "VERSION");
    if (!version) {
      install.problems.push_back(path + ": no 'VERSION' in build_time_vars");
      continue;
    }
    if (*version != install.minor) {
      install.problems.push_back(path + ": VERSION is '" + *version + "' but the interpreter is " +
                                 install.interpreter);
      continue;
    }
    install.sysconfigdata = path;
    return sysconfigdata_string(*text, "MULTIARCH").value_or("");
  }
  return std::nullopt;
}

// 3.7 and older named their headers include/python3.7m.
bool before_3_8(std::string_view minor) {
  if (minor.starts_with("2.")) return true;
  if (!minor.starts_with("3.")) return false;
  std::string_view rest = minor.substr(2);
  return rest.size() == 1 && rest[0] < '8';
}

void add_if_dir(const RootFs& fs, std::vector<std::string>& out, const std::string& dir) {
  if (fs.is_directory(dir)) out.push_back(dir);
}

// What describe_python_install promises, read from the root (the dpkg database
// shared through `facts`).
Result<PythonInstall> read_python_install(const RootFs& fs, std::string_view real_path,
                                          const RunFacts* facts) {
  const std::string_view bin = path_dirname(real_path);
  if (!real_path.starts_with('/') || path_basename(bin) != "bin") {
    return Error{std::string(real_path) + ": not in a bin/ folder, so its prefix is unknown"};
  }
  PythonInstall install;
  install.interpreter = std::string(real_path);
  install.prefix = std::string(path_dirname(bin));
  const std::string_view name = path_basename(real_path);
  if (!name.starts_with("python")) {
    return Error{std::string(real_path) +
                 ": not a python executable (a wrapper or another program)"};
  }
  auto minor = minor_for(fs, name, install.prefix);
  if (!minor) return minor.error();
  install.minor = *minor;
  install.stdlib = install.prefix + "/lib/python" + install.minor;
  if (!fs.is_directory(install.stdlib)) {
    install.problems.push_back(install.stdlib + ": missing, so " + install.interpreter +
                               " has no standard library");
  }
  install.debian_layout = install.prefix == "/usr" && fs.exists("/etc/debian_version");

  bool settled = false;
  if (auto suffix = abi_suffix(name, install.minor)) {
    settled = version_from_patchlevel(fs, install, *suffix);
  }
  if (!settled) settled = version_from_patchlevel(fs, install, "");
  if (!settled && before_3_8(install.minor)) {
    settled = version_from_patchlevel(fs, install, "m");  // 3.7 and older: include/python3.7m
  }
  if (!settled) settled = version_from_dpkg(fs, install, facts);
  std::optional<std::string> multiarch = read_sysconfigdata(fs, install);
  if (!settled) {
    install.version = install.minor;
    install.version_source =
        install.sysconfigdata ? *install.sysconfigdata : "executable name " + std::string(name);
  }

  if (install.debian_layout) {
    // Debian's site.py order (posix_local scheme first); lib/python3.X/site-packages is not used.
    add_if_dir(fs, install.site_packages,
               "/usr/local/lib/python" + install.minor + "/dist-packages");
    add_if_dir(fs, install.site_packages, "/usr/lib/python3/dist-packages");
    add_if_dir(fs, install.site_packages, "/usr/lib/python" + install.minor + "/dist-packages");
  } else {
    add_if_dir(fs, install.site_packages, install.stdlib + "/site-packages");
  }

  for (const std::string& m : {install.minor, install.minor + "m"}) {
    std::vector<std::string> candidates{install.prefix + "/lib/libpython" + m + ".so.1.0"};
    if (multiarch && !multiarch->empty()) {
      candidates.push_back(install.prefix + "/lib/" + *multiarch + "/libpython" + m + ".so.1.0");
    }
    for (const std::string& c : candidates) {
      if (!install.libpython && fs.exists(c)) install.libpython = c;
    }
  }

  auto bundled = fs.list_dir(install.stdlib + "/ensurepip/_bundled");
  if (bundled) {
    for (const DirEntry& e : *bundled) {
      auto wheel = parse_wheel_file_name(e.name);
      if (wheel && wheel->name == "pip") {
        install.ensurepip_pip_wheel = install.stdlib + "/ensurepip/_bundled/" + e.name;
      }
    }
  }
  return install;
}

}  // namespace

Result<PythonInstall> describe_python_install(const RootFs& fs, std::string_view real_path,
                                              const RunFacts* facts) {
  return *shared_fact<Result<PythonInstall>>(
      facts, "python install " + std::string(real_path),
      [&] { return read_python_install(fs, real_path, facts); });
}

std::optional<VenvFacts> find_venv(const RootFs& fs, std::string_view invoked,
                                   std::vector<std::string>* problems) {
  const std::string dir(path_dirname(invoked));
  for (const std::string& prefix : {std::string(path_dirname(dir)), dir}) {
    const std::string cfg_path = path_join(prefix, "pyvenv.cfg");
    auto text = fs.read_file(cfg_path, kSmallFile);
    if (!text && text.missing()) continue;
    VenvFacts venv;
    venv.prefix = prefix;
    venv.cfg_path = cfg_path;
    if (!text) {
      problems->push_back(text.error().message);
      return venv;
    }
    auto cfg = parse_pyvenv_cfg(*text);
    if (!cfg) {
      problems->push_back(cfg_path + ": " + cfg.error().message);
      return venv;
    }
    venv.cfg = std::move(cfg).value();
    if (!fs.is_directory(venv.cfg->home)) {
      problems->push_back(cfg_path + ": home " + venv.cfg->home +
                          " does not exist, so the venv's base interpreter is gone");
    }
    return venv;
  }
  return std::nullopt;
}

namespace {

// What describe_python_runtime promises, worked out (installations shared through `facts`).
PythonRuntime read_python_runtime(const RootFs& fs, std::string_view invoked,
                                  std::string_view real_path, const RunFacts* facts) {
  PythonRuntime rt;
  rt.invoked = std::string(invoked);
  rt.real_path = std::string(real_path);
  rt.venv = find_venv(fs, invoked, &rt.problems);
  std::string base_path = rt.real_path;
  if (rt.venv && rt.venv->cfg && base_path.starts_with(rt.venv->prefix + "/")) {
    // A venv made with --copies: its executable is a copy; the base is under `home`.
    auto home_python = fs.resolve(path_join(rt.venv->cfg->home, path_basename(real_path)));
    if (home_python) base_path = home_python->path;
  }
  auto base = describe_python_install(fs, base_path, facts);
  if (base) {
    rt.base = std::move(base).value();
    rt.problems.insert(rt.problems.end(), rt.base->problems.begin(), rt.base->problems.end());
  } else {
    rt.base_error = base.error().message;
    // Shims and wrappers (pyenv, conda activation scripts) are scripts: say so plainly.
    auto head = fs.read_head(real_path, 256);
    if (head && head->starts_with("#!")) {
      std::string first_line = head->substr(0, head->find('\n'));
      rt.base_error = rt.real_path + " is a script (" + first_line + "), not a Python executable";
    }
  }
  const std::string minor = rt.base ? rt.base->minor
                                    : (rt.venv && rt.venv->cfg && rt.venv->cfg->version
                                           ? minor_of(*rt.venv->cfg->version).value_or("")
                                           : "");
  if (rt.venv) {
    if (!minor.empty()) {
      add_if_dir(fs, rt.venv->site_packages,
                 rt.venv->prefix + "/lib/python" + minor + "/site-packages");
    }
    rt.site_packages = rt.venv->site_packages;
    if (rt.venv->cfg && rt.venv->cfg->version && rt.base &&
        minor_of(*rt.venv->cfg->version) != rt.base->minor) {
      rt.problems.push_back(rt.venv->cfg_path + ": made by Python " + *rt.venv->cfg->version +
                            " but its python runs " + rt.base->version);
    }
  }
  const bool system_site = !rt.venv || (rt.venv->cfg && rt.venv->cfg->include_system_site_packages);
  if (rt.base && system_site) {
    rt.site_packages.insert(rt.site_packages.end(), rt.base->site_packages.begin(),
                            rt.base->site_packages.end());
  }
  return rt;
}

}  // namespace

PythonRuntime describe_python_runtime(const RootFs& fs, std::string_view invoked,
                                      std::string_view real_path, const RunFacts* facts) {
  // Keyed by both paths: the venv depends on the invoked one, the base on the real one.
  const std::string key = "python runtime " + std::string(invoked) + "\n" + std::string(real_path);
  return *shared_fact<PythonRuntime>(
      facts, key, [&] { return read_python_runtime(fs, invoked, real_path, facts); });
}

std::string PythonRuntime::identity() const {
  return real_path + (venv ? " in venv " + venv->prefix : std::string());
}

std::string PythonRuntime::version() const {
  if (base) return base->version;
  if (venv && venv->cfg && venv->cfg->version) return *venv->cfg->version;
  return "";
}

std::string PythonRuntime::describe() const {
  std::string where = base ? base->prefix : "unknown prefix";
  if (venv) where = "venv " + venv->prefix + " on " + where;
  const std::string v = version();
  return real_path + " (" + (v.empty() ? std::string("version unknown") : v) + ", " + where + ")";
}

}  // namespace pycheck
