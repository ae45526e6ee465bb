// python.shared-libraries: can the dynamic loader load python3, its libpython
// and every extension module in lib-dynload, inside the judged root?
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "agent/core/findings.h"
#include "agent/core/text.h"
#include "checks/check_table.h"
#include "checks/data/extension_modules.h"
#include "checks/facts/library_resolver.h"
#include "checks/facts/python_commands.h"
#include "checks/facts/shared_library_report.h"

namespace pycheck {
namespace {

constexpr std::string_view kExplain =
    "The official python image builds CPython with --enable-shared: /usr/local/bin/python3.X "
    "is a small program that needs libpython3.X.so.1.0, and every C extension module of the "
    "standard library (<prefix>/lib/python3.X/lib-dynload/*.so: _ssl, _sqlite3, _ctypes, zlib, "
    "...) is a shared object loaded when first imported. The build keeps Debian's runtime "
    "libraries only because `ldd` found them and `dpkg-query --search` named their packages, "
    "which it then marks as manually installed; nothing else protects them. An `apt-get purge` "
    "or `apt-get autoremove` of a \"-dev\" or library package (or a multi-stage COPY that "
    "leaves one out) does not stop the container from starting: python3 runs, and `import "
    "sqlite3` or `import ssl` fails at run time with \"ImportError: libsqlite3.so.0: cannot "
    "open shared object file\". Likewise, a /usr/local python without an rpath loads whatever "
    "libpython3.X.so.1.0 the loader finds first, such as Debian's after `apt-get install "
    "python3.X-dev` (docker-library/python#784; the image links python3.X with "
    "-Wl,-rpath='$ORIGIN/../lib' since 2023). The slim image deliberately keeps no Tk, so "
    "_tkinter cannot load there (its Dockerfile leaves *tkinter* out of the ldd scan).\n\n"
    "pycheck finds the python3 that the judged PATH runs and its installation, then "
    "resolves every DT_NEEDED library as glibc's ld.so does inside the inspected root, "
    "without running anything: DT_RPATH, LD_LIBRARY_PATH from the judged environment, "
    "DT_RUNPATH with $ORIGIN, /etc/ld.so.cache, then the default and multiarch folders, "
    "skipping candidates of another ELF class or machine as ld.so does. Each lib-dynload "
    "module is then loaded as dlopen would into that process. The libraries found are "
    "listed per object (name, path, and how it was found), as `ldd` lists them.\n\n"
    "It fails when python3 or libpython cannot be loaded (naming the missing library and "
    "the object needing it), warns when an extension module cannot (naming the module, the "
    "import that breaks, the missing library and the Debian package shipping it: from "
    "dpkg's file lists when they still name it, else from a built-in table of the usual "
    "sonames), and warns when libpython comes from outside python3's own prefix. Fix it by "
    "reinstalling the package named (apt-get update && apt-get install "
    "--no-install-recommends <package>) and marking it manual (apt-mark manual <package>) so "
    "autoremove keeps it; for libpython, use an image built with the rpath, or remove the "
    "other libpython.";

bool under_dir(std::string_view path, std::string_view dir) {
  if (dir == "/") return true;
  return path.starts_with(dir) && path.size() > dir.size() && path[dir.size()] == '/';
}

// One lib-dynload module's fate.
struct ModuleResult {
  std::string module;
  std::string file;
  std::vector<LoadProblem> problems;
  bool expected = false;  // listed in expected_unloadable
  json details;
};

struct ModuleScan {
  std::string dir;                    // <stdlib>/lib-dynload, "" when unknown
  std::vector<ModuleResult> modules;  // in file name order
  std::set<std::string> libraries;    // real paths of the libraries the modules added
  std::string note;                   // why no module was checked, if so
  std::vector<std::string> warnings;  // the folder could not be listed
};

// The libpython python3 loaded, if it needs one.
const ClosureObject* find_libpython(const LibraryClosure& process) {
  for (const ClosureObject& o : process.objects) {
    if (o.via != FoundVia::root && o.name.starts_with("libpython")) return &o;
  }
  return nullptr;
}

// The #784 verdict: where libpython came from, compared with python3's prefix.
json judge_libpython(const LibraryClosure& process, const PythonRuntime* runtime,
                     LibraryResolver& resolver, std::vector<std::string>* warnings) {
  const ClosureObject* libpython = find_libpython(process);
  if (libpython == nullptr) return nullptr;
  const LoadedObject& lib = *libpython->object;
  json out = {{"name", libpython->name},
              {"path", lib.path},
              {"real_path", lib.real_path},
              {"via", to_string(libpython->via)}};
  // Other files the cache offers under the same name: the ones #784 is about.
  json others = json::array();
  if (const auto& cache = resolver.cache()) {
    for (const LdCacheEntry& e : cache->entries) {
      if (e.name == libpython->name && e.path != lib.path && e.path != lib.real_path) {
        others.push_back(e.path);
      }
    }
  }
  out["other_copies_in_ld_so_cache"] = std::move(others);
  if (runtime == nullptr || !runtime->base) return out;
  const PythonInstall& base = *runtime->base;
  const bool own = under_dir(lib.real_path, base.prefix + "/lib") ||
                   under_dir(lib.real_path, base.prefix + "/lib64");
  out["prefix"] = base.prefix;
  out["own"] = own;
  if (base.libpython) out["expected"] = *base.libpython;
  if (!own) {
    warnings->push_back("python3 (" + base.interpreter + ") loads " + libpython->name + " from " +
                        lib.real_path + " (" + std::string(to_string(libpython->via)) +
                        "), not from its own prefix " + base.prefix +
                        (base.libpython ? " (" + *base.libpython + " is not used)" : "") +
                        ": another Python's library (docker-library/python#784)");
  }
  return out;
}

// dlopens every <stdlib>/lib-dynload/*.so into `process` as libpython's
// import machinery would (caller: libpython, or python3 when it has none).
// An Error only when the deadline passed.
Result<ModuleScan> scan_lib_dynload(const RootFs& fs, const PythonRuntime* runtime,
                                    LibraryResolver& resolver, const LibraryClosure& process,
                                    const std::vector<std::string>& expected) {
  ModuleScan scan;
  if (runtime == nullptr || !runtime->base) {
    scan.note = "extension modules not checked: " +
                (runtime ? runtime->base_error : std::string("installation unknown"));
    return scan;
  }
  scan.dir = runtime->base->stdlib + "/lib-dynload";
  auto entries = fs.list_dir(scan.dir);
  if (!entries) {
    if (entries.error().timed_out()) return entries.error();
    if (!entries.missing()) {
      scan.warnings.push_back("cannot list " + scan.dir + ": " + entries.error().message);
    }
    scan.note = "no extension modules: " + entries.error().message;
    return scan;
  }
  const ClosureObject* libpython = find_libpython(process);
  const std::string caller = (libpython ? libpython : &process.objects.front())->object->path;
  for (const DirEntry& entry : *entries) {
    if (!entry.name.ends_with(".so") || entry.type == FileType::directory) continue;
    ModuleResult m;
    m.module = extension_module_name(entry.name);
    m.file = path_join(scan.dir, entry.name);
    m.expected = std::find(expected.begin(), expected.end(), m.module) != expected.end();
    auto added = resolver.dlopen_closure(m.file, process, caller);
    if (!added) {
      if (added.error().timed_out()) return added.error();
      m.problems.push_back({"", added.error().message});
    } else {
      for (std::size_t i = 1; i < added->objects.size(); ++i) {
        scan.libraries.insert(added->objects[i].object->real_path);
      }
      m.problems = closure_problems(*added, m.file);
    }
    m.details = module_json(m.module, m.file, process, added.ok() ? &*added : nullptr, resolver);
    scan.modules.push_back(std::move(m));
  }
  return scan;
}

// What loading python3 and its modules showed, for judging.
struct LoadFindings {
  std::string real;                             // python3's real path
  std::vector<LoadProblem> program;             // what stops python3 itself
  std::vector<std::string> libpython_warnings;  // another Python's libpython
  ModuleScan scan;                              // lib-dynload
  std::size_t libraries = 0;                    // distinct libraries resolved
  PackageHints hints;                           // who would bring missing libraries back
  std::vector<std::string> critical;            // modules whose failure fails the check
};

// The sonames whose package would fix something: python3's own (never a
// Debian libpython: another Python's library, #784) and the unexpected modules'.
std::vector<std::string> missing_names(const LoadFindings& found) {
  std::vector<std::string> names;
  for (const LoadProblem& p : found.program) {
    if (!p.library.empty() && !p.library.starts_with("libpython")) names.push_back(p.library);
  }
  for (const ModuleResult& m : found.scan.modules) {
    for (const LoadProblem& p : m.problems) {
      if (!p.library.empty() && !m.expected) names.push_back(p.library);
    }
  }
  return names;
}

// A missing library's package is the cause every object needing it shares.
std::string cause_of(const PackageHints& hints, const std::vector<LoadProblem>& problems) {
  for (const LoadProblem& p : problems) {
    if (const PackageHint* h = hints.find(p.library); h != nullptr && !h->cause().empty()) {
      return h->cause();
    }
  }
  return std::string();
}

std::vector<std::string> texts_of(const std::vector<LoadProblem>& problems) {
  std::vector<std::string> texts;
  for (const LoadProblem& p : problems) texts.push_back(p.text);
  return texts;
}

void add_install_fix(Finding& f, const std::vector<std::string>& install) {
  if (install.empty()) {
    f.fix_by("Restore the missing libraries: re-pull or rebuild the image.");
    return;
  }
  f.fix_by(
      "Reinstall what provides the missing libraries, and mark it manual so that "
      "apt-get autoremove keeps it:");
  for (const std::string& c : install) f.run(c);
}

// python3 itself, libpython and the lib-dynload folder; returns the failures.
std::vector<std::string> judge_program(const LoadFindings& found,
                                       const std::vector<std::string>& install,
                                       OutcomeBuilder& out) {
  std::vector<std::string> failures;
  for (const LoadProblem& p : found.program) {
    failures.push_back(p.text);
    Finding& f = out.fail("python3 (" + found.real + ") cannot start: " + p.text)
                     .breaks("no Python program runs")
                     .because(cause_of(found.hints, {p}));
    if (install.empty()) {
      f.fix_by(
          "Restore the missing libraries: re-pull or rebuild the image (libpython3.X.so.1.0 "
          "belongs in <prefix>/lib).");
    } else {
      add_install_fix(f, install);
    }
  }
  for (const std::string& w : found.libpython_warnings) {
    out.warn(w)
        .breaks("python3 runs with another Python's library: crashes or wrong modules")
        .fix_by(
            "Run an image whose python3.X carries RUNPATH $ORIGIN/../lib (docker-library/python "
            "links it so since 2023), or remove the other libpython if nothing needs it "
            "(apt-get purge libpython3.X).");
  }
  for (const std::string& w : found.scan.warnings) {
    out.warn(w).fix_by("Make the folder readable, or restore it from the image.");
  }
  return failures;
}

// Each lib-dynload module: loads, cannot load as expected, or a finding.
struct ModuleTally {
  std::vector<std::string> expected_notes;
  std::vector<std::string> unloadable;
  std::size_t loading = 0;
};

ModuleTally judge_modules(LoadFindings& found, const std::vector<std::string>& install,
                          OutcomeBuilder& out, json& details) {
  ModuleTally tally;
  json modules_json = json::array();
  for (ModuleResult& m : found.scan.modules) {
    if (m.problems.empty()) {
      ++tally.loading;
      m.details["status"] = "loads";
    } else {
      const std::vector<std::string> texts = texts_of(m.problems);
      m.details["status"] = m.expected ? "cannot load (expected)" : "cannot load";
      m.details["problems"] = texts;
      if (m.expected) {
        tally.expected_notes.push_back(m.module + ": " + join(texts, ", "));
      } else {
        tally.unloadable.push_back(m.module);
        const bool is_critical = std::find(found.critical.begin(), found.critical.end(),
                                           m.module) != found.critical.end();
        Finding& f =
            out.add(is_critical ? CheckStatus::fail : CheckStatus::warn,
                    m.module + (texts.front().starts_with("cannot ") ? " " : " cannot load: ") +
                        join(texts, ", "))
                .breaks(extension_module_impact(m.module))
                .because(cause_of(found.hints, m.problems));
        add_install_fix(f, install);
      }
    }
    modules_json.push_back(std::move(m.details));
  }
  details["modules"] = std::move(modules_json);
  return tally;
}

std::string headline(const LoadFindings& found, const std::vector<std::string>& failures,
                     const ModuleTally& tally, const OutcomeBuilder& out) {
  if (!failures.empty()) return "python3 (" + found.real + ") cannot start";
  if (!tally.unloadable.empty()) {
    return std::to_string(tally.unloadable.size()) + " extension module" +
           (tally.unloadable.size() == 1 ? "" : "s") +
           " cannot load: " + join(tally.unloadable, ", ");
  }
  if (!out.empty()) return out.findings().front().message;
  std::string text = "python3 and " + std::to_string(tally.loading) + " extension module" +
                     (tally.loading == 1 ? "" : "s") + " load: " + std::to_string(found.libraries) +
                     " libraries resolved";
  if (!found.scan.note.empty()) text += " (" + found.scan.note + ")";
  if (!tally.expected_notes.empty()) {
    std::vector<std::string> names;
    for (const std::string& n : tally.expected_notes) names.push_back(n.substr(0, n.find(':')));
    text += "; " + join(names, ", ") + " not loadable, as expected";
  }
  return text;
}

CheckOutcome judge_loading(LoadFindings& found, LibraryResolver& resolver, json details) {
  details["missing_packages"] = found.hints.to_json();
  const std::vector<std::string> install = found.hints.install_commands();
  OutcomeBuilder out;
  const std::vector<std::string> failures = judge_program(found, install, out);
  const ModuleTally tally = judge_modules(found, install, out, details);
  details["modules_loading"] = tally.loading;
  details["libraries_resolved"] = found.libraries;
  details["expected_unloadable"] = tally.expected_notes;
  details["critical_modules"] = found.critical;
  if (!found.scan.note.empty()) details["modules_note"] = found.scan.note;
  if (resolver.cache_error()) details["ld_so_cache_error"] = *resolver.cache_error();
  details["failures"] = failures;
  std::vector<std::string> all_warnings = found.libpython_warnings;
  all_warnings.insert(all_warnings.end(), found.scan.warnings.begin(), found.scan.warnings.end());
  details["warnings"] = all_warnings;
  out.details() = std::move(details);
  std::string text = headline(found, failures, tally, out);
  return std::move(out).finish(std::move(text));
}

// python3's first bytes: an error when unreadable, a skip for a script.
std::optional<CheckOutcome> judge_head(const RootFs& fs, const std::string& real,
                                       const json& details) {
  auto head = fs.read_head(real, kElfHeadBytes);
  if (!head) {
    if (head.error().timed_out()) return timed_out(head.error());
    return errored("cannot read python3: " + head.error().message, details);
  }
  if (head->starts_with("#!")) {
    return skipped("python3 (" + real + ") is a script, not an ELF program: nothing to load",
                   details);
  }
  return std::nullopt;
}

CheckOutcome not_loadable(const Error& error, const std::string& real, json details) {
  if (error.timed_out()) return timed_out(error);
  OutcomeBuilder out(std::move(details));
  out.fail("python3 (" + real + ") is not a loadable ELF program: " + error.message)
      .breaks("no Python program runs")
      .fix_by(
          "Restore python3.X from the image (re-pull or rebuild it): the file is damaged or "
          "not a program for this system.");
  return std::move(out).finish("python3 is not a loadable program");
}

// The loader's options from the judged environment (LD_LIBRARY_PATH), noted in details.
ResolverOptions resolver_options(const Environment& env, json& details) {
  ResolverOptions options;
  if (auto llp = env.get("LD_LIBRARY_PATH")) options.ld_library_path = std::string(*llp);
  details["ld_library_path"] = options.ld_library_path ? json(*options.ld_library_path) : json();
  return options;
}

// The distinct libraries resolved: the modules' and python3's own (not python3 itself).
std::size_t count_libraries(std::set<std::string> libraries, const LibraryClosure& process) {
  for (std::size_t i = 1; i < process.objects.size(); ++i) {
    libraries.insert(process.objects[i].object->real_path);
  }
  return libraries.size();
}

CheckOutcome run(const Context& ctx) {
  PythonRuntimeCache pythons(ctx);
  const PythonCommand python3 =
      find_python_command(pythons, make_search_path(ctx.env.get("PATH")), "python3");
  if (!python3.lookup.found()) {
    if (auto late = ctx.fs.deadline_error("python3 on PATH")) return timed_out(*late);
    return skipped("python3 not found (see python.path)");
  }
  LoadFindings found;
  found.real = python3.lookup.real_path;
  const PythonRuntime* runtime = python3.runtime ? &*python3.runtime : nullptr;
  json details = {{"python3", {{"path", python3.lookup.candidate}, {"real_path", found.real}}}};
  // Room for every member: growing an ordered object copies its members (the
  // keys are const), and "modules" is most of the report.
  details.get_ref<json::object_t&>().reserve(16);
  if (auto outcome = judge_head(ctx.fs, found.real, details)) return std::move(*outcome);

  LibraryResolver resolver(ctx.fs, resolver_options(ctx.env, details));
  auto process = resolver.closure(python3.lookup.candidate);
  if (!process) return not_loadable(process.error(), found.real, std::move(details));
  const LoadedObject& main = *process->objects.front().object;
  if (main.elf->interpreter && main.elf->interpreter->find("musl") != std::string::npos) {
    return skipped("python3 is a musl program (" + *main.elf->interpreter +
                       "): pycheck models glibc's loader only",
                   details);
  }
  details["python3"] = program_json(*process, resolver);

  // python3 itself: what ld.so needs before main() runs.
  found.program = program_problems(*process);
  details["libpython"] = judge_libpython(*process, runtime, resolver, &found.libpython_warnings);
  auto scan =
      scan_lib_dynload(ctx.fs, runtime, resolver, *process,
                       ctx.params.at("expected_unloadable").get<std::vector<std::string>>());
  if (!scan) return timed_out(scan.error());  // scan_lib_dynload fails only at the deadline
  found.scan = std::move(*scan);
  if (!found.scan.dir.empty()) details["lib_dynload"] = found.scan.dir;
  found.libraries = count_libraries(std::move(found.scan.libraries), *process);
  found.hints = find_package_hints(ctx.fs, main.elf->header, missing_names(found), ctx.facts);
  found.critical = ctx.params.at("critical_modules").get<std::vector<std::string>>();
  if (auto late = ctx.fs.deadline_error("python3's libraries")) return timed_out(*late);
  return judge_loading(found, resolver, std::move(details));
}

}  // namespace

CheckInfo python_shared_libraries_check() {
  return CheckInfo{
      "python.shared-libraries",
      "python3, libpython and lib-dynload modules load",
      kExplain,
      run,
      {CheckParam{"expected_unloadable", R"(["_tkinter"])",
                  "lib-dynload modules that may fail to load without a warning (the slim "
                  "image keeps no Tk, so _tkinter cannot load there by design)",
                  ParamType::string_list()},
       CheckParam{"critical_modules", R"(["_ssl", "zlib"])",
                  "lib-dynload modules whose failure to load fails the check, not just warns: "
                  "without _ssl there is no https (pip, urllib, requests), without zlib pip "
                  "cannot unpack wheels and gzip, zipfile and ensurepip fail",
                  ParamType::string_list()}},
      CheckCost::heavy};  // reads and parses about 100 ELF objects
}

}  // namespace pycheck
