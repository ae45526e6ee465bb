// The transitive part of LibraryResolver: loading breadth-first as glibc's
// _dl_map_object_deps does, for a program (ldd) or a dlopen into one.
#include <algorithm>
#include <cerrno>

#include "checks/facts/library_resolver.h"

namespace pycheck {

struct ResolverNode {
  ClosureObject entry;
  std::vector<std::string> names;          // DT_NEEDED names it was asked for
  std::vector<const LoadedObject*> chain;  // itself, its loader, its loader's loader, ...
};

namespace {

using Node = ResolverNode;

// ld.so's _dl_name_match_p plus its DT_SONAME check: a name matches an object
// loaded under that name, opened by that path, or carrying that soname.
bool matches_name(const Node& n, std::string_view name) {
  const LoadedObject& o = *n.entry.object;
  return o.path == name || (o.elf->dynamic.soname && *o.elf->dynamic.soname == name) ||
         std::find(n.names.begin(), n.names.end(), name) != n.names.end();
}

Node make_node(std::string name, std::string needed_by, FoundVia via,
               std::shared_ptr<const LoadedObject> object,
               const std::vector<const LoadedObject*>& parent_chain) {
  Node n;
  n.chain.push_back(object.get());
  n.chain.insert(n.chain.end(), parent_chain.begin(), parent_chain.end());
  n.names.push_back(name);
  n.entry = ClosureObject{std::move(name), std::move(needed_by), via, std::move(object)};
  return n;
}

// The objects of one load: those already in the process (shared, not copied:
// a dlopen per extension module reuses them) and those this load adds.
struct LoadSet {
  const std::vector<Node>& loaded;
  std::vector<Node> added;
  // Further names of loaded objects, met in this load (ld.so adds them to the object's names).
  std::vector<std::pair<const Node*, std::string>> loaded_aliases;

  bool has_name(std::string_view name) const {
    auto match = [&](const Node& n) { return matches_name(n, name); };
    return std::any_of(loaded.begin(), loaded.end(), match) ||
           std::any_of(added.begin(), added.end(), match) ||
           std::any_of(loaded_aliases.begin(), loaded_aliases.end(),
                       [&](const auto& a) { return a.second == name; });
  }
  // Records `name` as another name of the object at `real_path`; false when none is loaded.
  bool add_name_to_file(std::string_view real_path, const std::string& name) {
    for (const Node& n : loaded) {
      if (n.entry.object->real_path == real_path) {
        loaded_aliases.emplace_back(&n, name);
        return true;
      }
    }
    for (Node& n : added) {
      if (n.entry.object->real_path == real_path) {
        n.names.push_back(name);
        return true;
      }
    }
    return false;
  }
  bool has_file(std::string_view real_path) const {
    auto same = [&](const Node& n) { return n.entry.object->real_path == real_path; };
    return std::any_of(loaded.begin(), loaded.end(), same) ||
           std::any_of(added.begin(), added.end(), same);
  }
};

const std::vector<Node> kNothingLoaded;

}  // namespace

Result<LibraryClosure> LibraryResolver::load_breadth_first(const std::vector<Node>& loaded,
                                                           std::vector<Node> added,
                                                           const LoadedObject& main) {
  LibraryClosure out;
  LoadSet set{loaded, std::move(added), {}};
  for (std::size_t i = 0; i < set.added.size(); ++i) {
    // Copies: push_back below may move the nodes.
    const std::shared_ptr<const LoadedObject> object = set.added[i].entry.object;
    const std::vector<const LoadedObject*> chain = set.added[i].chain;
    for (const std::string& name : object->elf->dynamic.needed) {
      if (set.has_name(name)) continue;
      auto missing = std::find_if(out.missing.begin(), out.missing.end(),
                                  [&](const MissingLibrary& m) { return m.name == name; });
      if (missing != out.missing.end()) {
        if (std::find(missing->needed_by.begin(), missing->needed_by.end(), object->path) ==
            missing->needed_by.end()) {
          missing->needed_by.push_back(object->path);
        }
        continue;
      }
      if (std::any_of(out.broken.begin(), out.broken.end(),
                      [&](const BrokenLibrary& b) { return b.name == name; })) {
        continue;
      }
      auto found = resolve_needed(name, SearchContext{&main, chain});
      if (!found) return found.error();
      switch (found->status) {
        case NeededResolution::Status::found:
          // The same file under another name is the same object (ld.so compares dev/ino).
          if (!set.add_name_to_file(found->real_path, name)) {
            set.added.push_back(make_node(name, object->path, found->via, found->object, chain));
          }
          break;
        case NeededResolution::Status::not_found:
          out.missing.push_back(MissingLibrary{name, {object->path}, std::move(found->skipped)});
          break;
        case NeededResolution::Status::broken:
          out.broken.push_back(BrokenLibrary{name, found->path, found->error, object->path});
          break;
      }
    }
  }
  out.objects.reserve(set.added.size());
  for (Node& n : set.added) out.objects.push_back(std::move(n.entry));
  out.cache_error = cache_error_;
  return out;
}

Result<LibraryClosure> LibraryResolver::closure(std::string_view path,
                                                std::optional<std::string> interpreter) {
  auto root = load(path);
  if (!root) return root.error();
  std::vector<Node> nodes;
  nodes.push_back(make_node(std::string(path), "", FoundVia::root, *root, {}));
  if (!(*root)->elf->has_dynamic) {
    LibraryClosure out;
    out.static_executable = true;
    out.objects.push_back(nodes.front().entry);
    return out;
  }
  if (!interpreter) interpreter = (*root)->elf->interpreter;
  std::optional<std::string> interpreter_error;
  if (interpreter) {
    auto loaded = load(*interpreter);
    if (loaded) {
      nodes.push_back(make_node(*interpreter, "", FoundVia::interpreter, *loaded, {}));
    } else if (loaded.error().timed_out()) {
      return loaded.error();
    } else {
      interpreter_error = loaded.error().message;
    }
  }
  auto out = load_breadth_first(kNothingLoaded, std::move(nodes), **root);
  if (out) out->interpreter_error = std::move(interpreter_error);
  return out;
}

Result<LibraryClosure> LibraryResolver::dlopen_closure(std::string_view path,
                                                       const LibraryClosure& process,
                                                       std::optional<std::string> caller) {
  if (process.objects.empty()) return Error{"dlopen_closure: the process closure is empty"};
  const LoadedObject& main = *process.objects.front().object;
  // The loaded nodes with their loader chains, built once per process closure.
  const std::vector<Node>& nodes = process_nodes(process);
  std::size_t caller_index = 0;
  for (std::size_t i = 0; i < process.objects.size(); ++i) {
    const ClosureObject& o = process.objects[i];
    if (caller && (o.object->path == *caller || o.object->real_path == *caller)) caller_index = i;
  }
  const std::vector<const LoadedObject*> caller_chain = nodes[caller_index].chain;
  const std::string caller_path = nodes[caller_index].entry.object->path;

  NeededResolution module;
  module.name = std::string(path);
  auto done = try_file(std::string(path), FoundVia::path, main.elf->header, &module);
  if (!done) return done.error();
  LibraryClosure out;
  out.cache_error = cache_error_;
  if (module.status == NeededResolution::Status::not_found) {
    out.missing.push_back(MissingLibrary{module.name, {caller_path}, std::move(module.skipped)});
    return out;
  }
  if (module.status == NeededResolution::Status::broken) {
    out.broken.push_back(BrokenLibrary{module.name, module.path, module.error, caller_path});
    return out;
  }
  auto same_file = [&](const Node& n) { return n.entry.object->real_path == module.real_path; };
  if (std::any_of(nodes.begin(), nodes.end(), same_file)) return out;  // already loaded
  std::vector<Node> added;
  added.push_back(make_node(module.name, caller_path, FoundVia::path, module.object, caller_chain));
  return load_breadth_first(nodes, std::move(added), main);
}

const std::vector<ResolverNode>& LibraryResolver::process_nodes(const LibraryClosure& process) {
  auto same_objects = [&](const std::vector<Node>& nodes) {
    if (nodes.size() != process.objects.size()) return false;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      const ClosureObject& a = nodes[i].entry;
      const ClosureObject& b = process.objects[i];
      if (a.object != b.object || a.name != b.name || a.needed_by != b.needed_by ||
          a.via != b.via) {
        return false;
      }
    }
    return true;
  };
  if (process_nodes_ && same_objects(*process_nodes_)) return *process_nodes_;
  // A loader precedes what it loads: each object's chain is its loader's, plus itself.
  auto nodes = std::make_shared<std::vector<Node>>();
  for (const ClosureObject& o : process.objects) {
    std::vector<const LoadedObject*> parent_chain;
    for (const Node& n : *nodes) {
      if (!o.needed_by.empty() && n.entry.object->path == o.needed_by) parent_chain = n.chain;
    }
    nodes->push_back(make_node(o.name, o.needed_by, o.via, o.object, parent_chain));
  }
  process_nodes_ = std::move(nodes);
  return *process_nodes_;
}

}  // namespace pycheck
