// What python.shared-libraries makes of LibraryResolver closures: the
// libraries each object needs as `ldd` lists them, one phrase per load
// problem, and the Debian package that would bring a missing library back
// (from dpkg's file lists when they still name it, else from a built-in
// soname table).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "agent/core/check.h"
#include "checks/facts/library_resolver.h"

namespace pycheck {

// The objects of one process (python3 and what it loaded, plus what a
// dlopen added), found by the names ld.so matches: the name an object was
// loaded under, the path it was opened by, or its DT_SONAME.
class LoadedSet {
 public:
  explicit LoadedSet(const LibraryClosure& process) { add(process); }
  void add(const LibraryClosure& more);
  const ClosureObject* by_name(std::string_view name) const;
  const ClosureObject* by_real_path(std::string_view real_path) const;

 private:
  std::vector<const ClosureObject*> objects_;
};

// Every library `start` needs, transitively, each object once under the
// first name that reached it (what `ldd start` lists, apart from linux-vdso):
// [{name, path, real_path, via, needed_by}], and {name, needed_by, status:
// "not found" | "broken", error} for those that cannot be loaded. `closures`
// hold the missing and broken lists to look names up in.
json library_list(const ClosureObject& start, const LoadedSet& loaded,
                  const std::vector<const LibraryClosure*>& closures, LibraryResolver& resolver);

// python3's entry: its ELF facts, DT_NEEDED, RPATH/RUNPATH and library_list.
json program_json(const LibraryClosure& process, LibraryResolver& resolver);

// A module's entry: {module, file, import, needed, libraries}; `added` is
// what dlopen_closure gave (nullptr when it failed).
json module_json(std::string_view module, std::string_view file, const LibraryClosure& process,
                 const LibraryClosure* added, LibraryResolver& resolver);

struct LoadProblem {
  std::string library;  // the soname missing or broken; "" when the module itself is at fault
  std::string text;     // "libsqlite3.so.0 not found (needed by ...)"
};

// The problems of a dlopen of `module_file`: the module itself unloadable,
// or libraries missing or broken.
std::vector<LoadProblem> closure_problems(const LibraryClosure& added,
                                          std::string_view module_file);
// The problems of the program's own closure (PT_INTERP, missing, broken).
std::vector<LoadProblem> program_problems(const LibraryClosure& process);

// Where a missing library's package name came from.
struct PackageHint {
  std::string soname;
  std::string package;              // "" when nobody knows
  std::string source;               // "dpkg" or "table"
  std::vector<std::string> listed;  // dpkg: the paths its .list names
  std::string dpkg_state;           // "installed", "config-files", "not in dpkg's status", ...
  // Why the library is missing, said once for every object that needs it:
  // "libssl3 is purged or was never installed".
  std::string cause() const;
};

struct PackageHints {
  std::vector<PackageHint> hints;
  const PackageHint* find(std::string_view soname) const;
  json to_json() const;
  // "apt-get update && apt-get install -y --no-install-recommends --reinstall a b" and
  // "apt-mark manual a b" (so that autoremove keeps them); none when no package is known.
  std::vector<std::string> install_commands() const;
};

// Looks each soname up in dpkg's file lists (in the loader's system folders
// for `header`'s ABI, both usrmerge spellings) and dpkg's status, falling back
// to debian_package_for_soname(). Read errors leave a hint without a package.
PackageHints find_package_hints(const RootFs& fs, const ElfHeader& header,
                                const std::vector<std::string>& sonames,
                                const RunFacts* facts = nullptr);

// " (skipped: /x/libfoo.so.1: wrong ELF class: ELFCLASS32)" or "".
std::string skipped_note(const std::vector<std::string>& skipped);

}  // namespace pycheck
