// The transitive part of LibraryResolver: loading breadth-first as glibc's
// _dl_map_object_deps does, for a program (ldd) or a dlopen into one.
#include <algorithm>
#include <cerrno>

#include "checks/library_resolver.h"

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
const Node* find_by_name(const std::vector<Node>& nodes, std::string_view name) {
  for (const Node& n : nodes) {
    const LoadedObject& o = *n.entry.object;
    if (o.path == name || (o.elf->dynamic.soname && *o.elf->dynamic.soname == name) ||
        std::find(n.names.begin(), n.names.end(), name) != n.names.end()) {
      return &n;
    }
  }
  return nullptr;
}

Node* find_by_file(std::vector<Node>& nodes, std::string_view real_path) {
  for (Node& n : nodes) {
    if (n.entry.object->real_path == real_path) return &n;
  }
  return nullptr;
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

}  // namespace

Result<LibraryClosure> LibraryResolver::load_breadth_first(std::vector<Node> nodes,
                                                           std::size_t first_new,
                                                           const LoadedObject& main) {
  LibraryClosure out;
  for (std::size_t i = first_new; i < nodes.size(); ++i) {
    // Copies: push_back below may move the nodes.
    const std::shared_ptr<const LoadedObject> object = nodes[i].entry.object;
    const std::vector<const LoadedObject*> chain = nodes[i].chain;
    for (const std::string& name : object->elf->dynamic.needed) {
      if (find_by_name(nodes, name) != nullptr) continue;
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
          if (Node* same = find_by_file(nodes, found->real_path)) {
            same->names.push_back(name);
          } else {
            nodes.push_back(make_node(name, object->path, found->via, found->object, chain));
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
  for (std::size_t i = first_new; i < nodes.size(); ++i) out.objects.push_back(nodes[i].entry);
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
    } else if (loaded.error().errno_value == ETIMEDOUT) {
      return loaded.error();
    } else {
      interpreter_error = loaded.error().message;
    }
  }
  auto out = load_breadth_first(std::move(nodes), 0, **root);
  if (out) out->interpreter_error = std::move(interpreter_error);
  return out;
}

Result<LibraryClosure> LibraryResolver::dlopen_closure(std::string_view path,
                                                       const LibraryClosure& process,
                                                       std::optional<std::string> caller) {
  if (process.objects.empty()) return Error{"dlopen_closure: the process closure is empty"};
  const LoadedObject& main = *process.objects.front().object;
  // Rebuild the loaded nodes with their loader chains (a loader precedes what it loads).
  std::vector<Node> nodes;
  std::size_t caller_index = 0;
  for (const ClosureObject& o : process.objects) {
    std::vector<const LoadedObject*> parent_chain;
    for (const Node& n : nodes) {
      if (!o.needed_by.empty() && n.entry.object->path == o.needed_by) parent_chain = n.chain;
    }
    nodes.push_back(make_node(o.name, o.needed_by, o.via, o.object, parent_chain));
    if (caller && (o.object->path == *caller || o.object->real_path == *caller)) {
      caller_index = nodes.size() - 1;
    }
  }
  const std::size_t first_new = nodes.size();
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
  if (find_by_file(nodes, module.real_path) != nullptr) return out;  // already loaded
  nodes.push_back(make_node(module.name, caller_path, FoundVia::path, module.object, caller_chain));
  return load_breadth_first(std::move(nodes), first_new, main);
}

}  // namespace pycheck
