#include "checks/facts/shared_library_report.h"

#include <algorithm>
#include <optional>
#include <set>

#include "agent/core/text.h"
#include "checks/data/extension_modules.h"
#include "checks/facts/dpkg_database.h"
#include "checks/facts/dpkg_owner.h"
#include "checks/formats/os_release.h"

namespace pycheck {
namespace {

// How the root's release names its library packages, from its os-release
// (before_t64 when there is none or it cannot be read).
LibraryNaming library_naming_of(const RootFs& fs) {
  for (std::string_view path : {"/etc/os-release", "/usr/lib/os-release"}) {
    auto text = fs.read_file(path, 64u << 10);
    if (text.missing()) continue;
    auto os = text ? parse_os_release(*text) : Result<OsRelease>(text.error());
    return os ? library_naming(*os) : LibraryNaming::before_t64;
  }
  return LibraryNaming::before_t64;
}

constexpr std::string_view kNotInStatus = "not in dpkg's status";

json optional_string(const std::optional<std::string>& value) {
  return value ? json(*value) : json(nullptr);
}

const MissingLibrary* find_missing(const std::vector<const LibraryClosure*>& closures,
                                   std::string_view name) {
  for (const LibraryClosure* c : closures) {
    for (const MissingLibrary& m : c->missing) {
      if (m.name == name) return &m;
    }
  }
  return nullptr;
}

const BrokenLibrary* find_broken(const std::vector<const LibraryClosure*>& closures,
                                 std::string_view name) {
  for (const LibraryClosure* c : closures) {
    for (const BrokenLibrary& b : c->broken) {
      if (b.name == name) return &b;
    }
  }
  return nullptr;
}

// An empty object with room for `fields` members. Built member by member, it
// costs far less than nlohmann's {{"key", value}, ...} lists, which make every
// pair a two-element array first (this runs for every module and library).
json object_with_room(std::size_t fields) {
  json out = json::object();
  out.get_ref<json::object_t&>().reserve(fields);
  return out;
}

}  // namespace

void LoadedSet::add(const LibraryClosure& more) {
  for (const ClosureObject& o : more.objects) objects_.push_back(&o);
}

const ClosureObject* LoadedSet::by_name(std::string_view name) const {
  for (const ClosureObject* o : objects_) {
    const LoadedObject& object = *o->object;
    if (o->name == name || object.path == name ||
        (object.elf->dynamic.soname && *object.elf->dynamic.soname == name)) {
      return o;
    }
  }
  return nullptr;
}

const ClosureObject* LoadedSet::by_real_path(std::string_view real_path) const {
  for (const ClosureObject* o : objects_) {
    if (o->object->real_path == real_path) return o;
  }
  return nullptr;
}

json library_list(const ClosureObject& start, const LoadedSet& loaded,
                  const std::vector<const LibraryClosure*>& closures, LibraryResolver& resolver) {
  json out = json::array();
  const LoadedObject* main = closures.empty() || closures.front()->objects.empty()
                                 ? start.object.get()
                                 : closures.front()->objects.front().object.get();
  std::vector<const ClosureObject*> queue{&start};
  std::set<std::string> seen_files{start.object->real_path};
  std::set<std::string> seen_names;
  for (std::size_t i = 0; i < queue.size(); ++i) {
    const LoadedObject& owner = *queue[i]->object;
    for (const std::string& name : owner.elf->dynamic.needed) {
      if (!seen_names.insert(name).second) continue;
      const ClosureObject* hit = loaded.by_name(name);
      if (hit == nullptr) {
        // The same file may be loaded under another name: ask where the name leads.
        auto found = resolver.resolve_needed(name, SearchContext{main, {&owner, main}});
        if (found && found->status == NeededResolution::Status::found) {
          hit = loaded.by_real_path(found->real_path);
        }
      }
      if (hit != nullptr) {
        if (!seen_files.insert(hit->object->real_path).second) continue;
        json entry = object_with_room(5);
        entry["name"] = name;
        entry["path"] = hit->object->path;
        entry["real_path"] = hit->object->real_path;
        entry["via"] = to_string(hit->via);
        entry["needed_by"] = owner.path;
        out.push_back(std::move(entry));
        queue.push_back(hit);
      } else if (const BrokenLibrary* b = find_broken(closures, name)) {
        out.push_back({{"name", name},
                       {"needed_by", owner.path},
                       {"status", "broken"},
                       {"path", b->path},
                       {"error", b->error}});
      } else {
        json entry = {{"name", name}, {"needed_by", owner.path}, {"status", "not found"}};
        if (const MissingLibrary* m = find_missing(closures, name); m && !m->skipped.empty()) {
          entry["skipped"] = m->skipped;
        }
        out.push_back(std::move(entry));
      }
    }
  }
  return out;
}

json program_json(const LibraryClosure& process, LibraryResolver& resolver) {
  const ClosureObject& root = process.objects.front();
  const ElfFile& elf = *root.object->elf;
  return {{"path", root.object->path},
          {"real_path", root.object->real_path},
          {"elf", describe_elf(elf.header)},
          {"interpreter", optional_string(elf.interpreter)},
          {"static", process.static_executable},
          {"rpath", optional_string(elf.dynamic.rpath)},
          {"runpath", optional_string(elf.dynamic.runpath)},
          {"needed", elf.dynamic.needed},
          {"libraries", library_list(root, LoadedSet(process), {&process}, resolver)}};
}

json module_json(std::string_view module, std::string_view file, const LibraryClosure& process,
                 const LibraryClosure* added, LibraryResolver& resolver) {
  // The caller adds "status" and maybe "problems".
  json out = object_with_room(7);
  out["module"] = module;
  out["file"] = file;
  out["import"] = extension_module_impact(module);
  if (added == nullptr || added->objects.empty()) return out;
  const ClosureObject& root = added->objects.front();
  out["needed"] = root.object->elf->dynamic.needed;
  LoadedSet loaded(process);
  loaded.add(*added);
  out["libraries"] = library_list(root, loaded, {&process, added}, resolver);
  return out;
}

std::vector<LoadProblem> closure_problems(const LibraryClosure& added,
                                          std::string_view module_file) {
  std::vector<LoadProblem> out;
  for (const MissingLibrary& m : added.missing) {
    if (m.name == module_file) {
      // dlopen of a path: nothing to search, so "missing" means skipped (wrong class, ...).
      out.push_back({"", "cannot be loaded" + skipped_note(m.skipped)});
    } else {
      out.push_back({m.name, m.name + " not found" + skipped_note(m.skipped)});
    }
  }
  for (const BrokenLibrary& b : added.broken) {
    if (b.name == module_file) {
      out.push_back({"", "cannot be loaded: " + b.error});
    } else {
      out.push_back({b.name, b.name + " cannot be loaded from " + b.path + ": " + b.error});
    }
  }
  return out;
}

std::vector<LoadProblem> program_problems(const LibraryClosure& process) {
  std::vector<LoadProblem> out;
  const ElfFile& elf = *process.objects.front().object->elf;
  if (process.interpreter_error) {
    out.push_back({"", "its dynamic loader " + elf.interpreter.value_or("") +
                           " cannot be loaded: " + *process.interpreter_error});
  }
  for (const MissingLibrary& m : process.missing) {
    out.push_back({m.name, m.name + " not found (needed by " + join(m.needed_by, ", ") + ")" +
                               skipped_note(m.skipped)});
  }
  for (const BrokenLibrary& b : process.broken) {
    out.push_back({b.name, b.name + " (needed by " + b.needed_by + ") cannot be loaded from " +
                               b.path + ": " + b.error});
  }
  return out;
}

std::string skipped_note(const std::vector<std::string>& skipped) {
  if (skipped.empty()) return "";
  return " (skipped: " + join(skipped, "; ") + ")";
}

std::string PackageHint::cause() const {
  if (package.empty()) return "";
  if (source == "dpkg" && (dpkg_state.empty() || dpkg_state == "installed")) {
    return package + " is installed but " + soname + " was deleted (dpkg lists " +
           join(listed, ", ") + ")";
  }
  if (dpkg_state == kNotInStatus) return package + " is purged or was never installed";
  if (dpkg_state.empty()) return package + ", which ships " + soname + ", is missing";
  return package + " is in dpkg state " + dpkg_state;
}

const PackageHint* PackageHints::find(std::string_view soname) const {
  for (const PackageHint& h : hints) {
    if (h.soname == soname) return &h;
  }
  return nullptr;
}

json PackageHints::to_json() const {
  json out = json::array();
  for (const PackageHint& h : hints) {
    out.push_back({{"soname", h.soname},
                   {"package", h.package.empty() ? json(nullptr) : json(h.package)},
                   {"source", h.source.empty() ? json(nullptr) : json(h.source)},
                   {"listed", h.listed},
                   {"dpkg_state", h.dpkg_state.empty() ? json(nullptr) : json(h.dpkg_state)}});
  }
  return out;
}

std::vector<std::string> PackageHints::install_commands() const {
  std::vector<std::string> packages;
  for (const PackageHint& h : hints) {
    if (!h.package.empty() &&
        std::find(packages.begin(), packages.end(), h.package) == packages.end()) {
      packages.push_back(h.package);
    }
  }
  if (packages.empty()) return {};
  const std::string names = join(packages, " ");
  return {"apt-get update && apt-get install -y --no-install-recommends --reinstall " + names,
          "apt-mark manual " + names};
}

PackageHints find_package_hints(const RootFs& fs, const ElfHeader& header,
                                const std::vector<std::string>& sonames, const RunFacts* facts) {
  PackageHints out;
  std::vector<std::string> unique;
  for (const std::string& s : sonames) {
    if (std::find(unique.begin(), unique.end(), s) == unique.end()) unique.push_back(s);
  }
  if (unique.empty()) return out;
  // Where a Debian package would have put each library: the loader's system
  // folders, in their /usr spelling (find_dpkg_owners also tries the /lib twin).
  std::vector<std::string> dirs;
  for (const std::string& dir : default_library_dirs(fs, header)) {
    const std::string usr = dir.starts_with("/usr/") ? dir : "/usr" + dir;
    if (std::find(dirs.begin(), dirs.end(), usr) == dirs.end()) dirs.push_back(usr);
  }
  std::vector<std::string> paths;
  for (const std::string& dir : dirs) {
    for (const std::string& s : unique) paths.push_back(path_join(dir, s));
  }
  auto owners = find_dpkg_owners(fs, paths);
  std::optional<LibraryNaming> root_naming;  // read once, when the table is needed
  auto naming = [&] {
    if (!root_naming) root_naming = library_naming_of(fs);
    return *root_naming;
  };
  const auto shared_database = dpkg_database_of(fs, facts);
  const Result<DpkgDatabase>& database = *shared_database;
  for (const std::string& s : unique) {
    PackageHint hint;
    hint.soname = s;
    if (owners) {
      for (const std::string& dir : dirs) {
        const std::string p = path_join(dir, s);
        auto it = owners->owners.find(p);
        if (it == owners->owners.end() || it->second.empty()) continue;
        if (hint.package.empty()) hint.package = it->second.front();
        hint.listed.push_back(p);
      }
    }
    if (!hint.package.empty()) {
      hint.source = "dpkg";
    } else if (auto known = debian_package_for_soname(s, naming())) {
      hint.package = std::string(*known);
      hint.source = "table";
    }
    if (!hint.package.empty() && database) {
      const auto records = database->find_all(hint.package);
      if (records.empty()) {
        hint.dpkg_state = std::string(kNotInStatus);
      } else {
        hint.dpkg_state = std::string(to_string(records.front()->status.state));
      }
    }
    out.hints.push_back(std::move(hint));
  }
  return out;
}

}  // namespace pycheck
