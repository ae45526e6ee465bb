#include "checks/facts/library_resolver.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <optional>

namespace pycheck {
namespace {

constexpr std::size_t kMaxCacheBytes = 64u << 20;

// <dir>/<name> for a library name searched in a folder, as ld.so appends it to
// each search folder: always appended, unlike path_join, which returns an
// absolute name whole.
std::string name_in_dir(std::string_view dir, std::string_view name) {
  std::string out(dir);
  if (out.empty() || out.back() != '/') out += '/';
  return out + std::string(name);
}

// "<dir>/": what every path inside `dir` starts with.
std::string dir_prefix(std::string_view dir) { return name_in_dir(dir, ""); }

bool is_identifier_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

}  // namespace

// The verdict on one candidate path for one target ABI, kept across searches.
struct LibraryResolver::Probe {
  enum class Kind { absent, skipped, broken, ok };
  Kind kind = Kind::absent;
  std::string reason;
  std::shared_ptr<const LoadedObject> object;
};

// One file as read and parsed, shared by every path and ABI that reaches it
// (ld.so too recognises a file it has loaded by device and inode).
struct LibraryResolver::FileData {
  std::string head;        // the first kElfHeadBytes bytes, for verify_candidate_header
  std::string first_read;  // what read_elf_file starts from; emptied once parsed
  std::size_t first_read_cap = kElfFirstRead;  // how much was asked for
  // Open from the first read until the parse, which reads the rest through it;
  // closed early when the header check turns the file down.
  std::optional<RootFs::File> file;
  bool parsed = false;
  std::shared_ptr<const ElfFile> elf;  // parsed: the object, or
  Error error;                         // why it cannot be parsed (elf == nullptr)
};

LibraryResolver::LibraryResolver(const RootFs& fs, ResolverOptions options)
    : fs_(fs), options_(std::move(options)) {}

Result<std::shared_ptr<const LoadedObject>> LibraryResolver::load(std::string_view path) {
  if (auto it = objects_.find(path); it != objects_.end()) return it->second;
  auto resolved = fs_.resolve(path);
  if (!resolved) {
    const Error& e = resolved.error();
    // RootFs names the component at fault; say which object we were after.
    if (e.message.starts_with(std::string(path) + ":")) return e;
    return Error{std::string(path) + ": " + e.message, e.errno_value};
  }
  return load_resolved(path, *resolved);
}

Result<LibraryResolver::FileData*> LibraryResolver::file_data(const Resolved& resolved) {
  if (auto it = files_.find(resolved.path); it != files_.end()) return it->second.get();
  // A small file whole, in one read() (no more than it holds); of a large one the
  // headers and (usually) the dynamic strings: read_elf_file fetches the rest it needs.
  const std::uint64_t size = resolved.info.size;
  const std::size_t cap = size == 0               ? kElfFirstRead  // size unknown (procfs)
                          : size <= kElfFirstRead ? static_cast<std::size_t>(size)
                                                  : kElfLargeFileHead;
  auto file = fs_.open_resolved(resolved);
  if (!file) return file.error();
  auto bytes = file->read_range(0, cap);
  if (!bytes) return bytes.error();
  auto data = std::make_shared<FileData>();
  data->head = bytes->substr(0, kElfHeadBytes);
  data->first_read = std::move(*bytes);
  data->first_read_cap = cap;
  data->file = std::move(*file);
  return files_.emplace(resolved.path, std::move(data)).first->second.get();
}

Result<std::shared_ptr<const LoadedObject>> LibraryResolver::load_resolved(
    std::string_view path, const Resolved& resolved) {
  if (auto it = objects_.find(path); it != objects_.end()) return it->second;
  if (resolved.info.type != FileType::regular) {
    return Error{std::string(path) + ": is a " + std::string(to_string(resolved.info.type)) +
                     ", not a regular file",
                 EINVAL};
  }
  auto data = file_data(resolved);
  if (data && !(*data)->parsed) {
    FileData& d = **data;
    if (!d.file) {  // turned down by a header check for another ABI: open it again
      auto reopened = fs_.open_resolved(resolved);
      if (reopened) {
        d.file = std::move(*reopened);
      } else {
        d.error = reopened.error();
      }
    }
    if (d.file) {
      auto elf = read_elf_file(*d.file, std::move(d.first_read), d.first_read_cap);
      if (elf) {
        d.elf = std::make_shared<const ElfFile>(std::move(*elf));
      } else {
        d.error = elf.error();
      }
    }
    d.first_read = std::string();
    d.file.reset();
    d.parsed = true;
  }
  const Error& error = !data ? data.error() : (*data)->error;
  if (!data || (*data)->elf == nullptr) {
    if (error.timed_out()) return error;
    // read_elf_file names the real path; name the requested one too when it differs.
    if (resolved.path == path) return error;
    return Error{std::string(path) + " (" + error.message + ")", error.errno_value};
  }
  auto object = std::make_shared<LoadedObject>();
  object->path = std::string(path);
  object->real_path = resolved.path;
  object->info = resolved.info;
  object->elf = (*data)->elf;
  std::shared_ptr<const LoadedObject> shared = std::move(object);
  objects_.emplace(std::string(path), shared);
  return shared;
}

Result<std::shared_ptr<LibraryResolver::Probe>> LibraryResolver::probe(const std::string& path,
                                                                       const ElfHeader& target) {
  const std::string key = path + '\0' + std::to_string(target.elf_class) + ':' +
                          std::to_string(target.data) + ':' + std::to_string(target.machine);
  if (auto it = probes_.find(key); it != probes_.end()) return it->second;
  auto p = std::make_shared<Probe>();
  auto resolved = fs_.resolve(path);
  if (!resolved) {
    if (resolved.error().timed_out()) return resolved.error();
    p->kind = Probe::Kind::absent;  // ld.so's open() fails: it tries the next directory
  } else if (resolved->info.type != FileType::regular) {
    p->kind = Probe::Kind::broken;
    p->reason = resolved->info.type == FileType::directory
                    ? "cannot read file data (it is a directory)"
                    : "is a " + std::string(to_string(resolved->info.type)) + ", not a library";
  } else if (auto data = file_data(*resolved); !data) {
    // One read serves the header check and, when accepted, the parse.
    if (data.error().timed_out()) return data.error();
    p->kind = Probe::Kind::absent;
    p->reason = data.error().message;
  } else {
    HeaderVerdict verdict = verify_candidate_header((*data)->head, target);
    if (verdict.kind != HeaderVerdict::Kind::accept) {
      (*data)->file.reset();  // no descriptor held for a file that may never be parsed
      p->kind =
          verdict.kind == HeaderVerdict::Kind::skip ? Probe::Kind::skipped : Probe::Kind::broken;
      p->reason = std::move(verdict.reason);
    } else if (auto object = load_resolved(path, *resolved); !object) {
      if (object.error().timed_out()) return object.error();
      p->kind = Probe::Kind::broken;
      p->reason = object.error().message;
    } else {
      p->kind = Probe::Kind::ok;
      p->object = *object;
    }
  }
  probes_.emplace(key, p);
  return p;
}

Result<bool> LibraryResolver::try_file(const std::string& path, FoundVia via,
                                       const ElfHeader& target, NeededResolution* out) {
  auto p = probe(path, target);
  if (!p) return p.error();
  const Probe& probe = **p;
  switch (probe.kind) {
    case Probe::Kind::absent:
      return false;
    case Probe::Kind::skipped:
      out->skipped.push_back(path + ": " + probe.reason);
      return false;
    case Probe::Kind::broken:
      out->status = NeededResolution::Status::broken;
      out->path = path;
      out->via = via;
      out->error = probe.reason;
      return true;
    case Probe::Kind::ok:
      break;
  }
  const ElfFile& elf = *probe.object->elf;
  // What _dl_map_object_from_fd refuses after mapping.
  std::string error;
  if (!elf.has_dynamic) {
    error = "object file has no dynamic section";
  } else if (elf.header.type == elfc::kTypeExec) {
    error = "cannot dynamically load executable";
  } else if (elf.dynamic.flags_1 & elfc::kDf1Pie) {
    error = "cannot dynamically load position-independent executable";
  }
  out->path = path;
  out->via = via;
  if (!error.empty()) {
    out->status = NeededResolution::Status::broken;
    out->error = std::move(error);
    return true;
  }
  out->status = NeededResolution::Status::found;
  out->real_path = probe.object->real_path;
  out->object = probe.object;
  return true;
}

Result<bool> LibraryResolver::try_dirs(std::string_view name, const std::vector<std::string>& dirs,
                                       FoundVia via, const ElfHeader& target,
                                       NeededResolution* out) {
  for (const std::string& dir : dirs) {
    auto done = try_file(name_in_dir(dir, name), via, target, out);
    if (!done || *done) return done;
  }
  return false;
}

bool LibraryResolver::is_secure(const LoadedObject& main) const {
  return options_.secure || (main.info.mode & (S_ISUID | S_ISGID)) != 0;
}

std::optional<std::string> LibraryResolver::expand_dsts(std::string_view element,
                                                        const LoadedObject& owner,
                                                        const LoadedObject& main) {
  std::string out;
  for (std::size_t i = 0; i < element.size(); ++i) {
    if (element[i] != '$') {
      out += element[i];
      continue;
    }
    std::string_view rest = element.substr(i + 1);
    std::string_view name;
    std::size_t consumed = 0;
    if (rest.starts_with('{')) {
      std::size_t close = rest.find('}');
      if (close != std::string_view::npos) {
        name = rest.substr(1, close - 1);
        consumed = close + 1;
      }
    } else {
      std::size_t n = 0;
      while (n < rest.size() && is_identifier_char(rest[n])) ++n;
      name = rest.substr(0, n);
      consumed = n;
    }
    std::string value;
    if (name == "ORIGIN") {
      // Setuid programs: glibc allows only a few trusted uses; we drop them all.
      if (is_secure(main)) return std::nullopt;
      value = std::string(path_dirname(&owner == &main ? owner.real_path : owner.path));
    } else if (name == "LIB") {
      value = lib_token(fs_, main.elf->header);
    } else if (name == "PLATFORM") {
      value = abi_facts(main.elf->header).platform;
      if (value.empty()) return std::nullopt;  // unknown value: ld.so drops the element
    } else {
      out += '$';  // not a token ld.so knows: kept literally
      continue;
    }
    out += value;
    i += consumed;
  }
  return out;
}

std::vector<std::string> LibraryResolver::expand_path_list(std::string_view list,
                                                           std::string_view separators,
                                                           const LoadedObject& owner,
                                                           const LoadedObject& main) {
  std::vector<std::string> dirs;
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t end = list.find_first_of(separators, start);
    if (end == std::string_view::npos) end = list.size();
    std::string_view element = list.substr(start, end - start);
    start = end + 1;
    std::optional<std::string> dir;
    if (element.empty()) {
      // An empty element is the current directory.
      if (!options_.working_directory) continue;
      dir = *options_.working_directory;
    } else {
      dir = expand_dsts(element, owner, main);
      if (!dir || dir->empty()) continue;
    }
    while (dir->size() > 1 && dir->back() == '/') dir->pop_back();
    if (!dir->starts_with('/')) {
      if (!options_.working_directory) continue;  // relative to a cwd we do not know
      dir = path_join(*options_.working_directory, *dir);
    }
    dirs.push_back(std::move(*dir));
  }
  return dirs;
}

const std::optional<LdSoCache>& LibraryResolver::cache() {
  if (cache_loaded_) return cache_;
  cache_loaded_ = true;
  auto bytes = fs_.read_file(options_.cache_path, kMaxCacheBytes);
  if (!bytes) {
    if (!bytes.missing()) cache_error_ = bytes.error().message;
    return cache_;
  }
  auto parsed = parse_ld_so_cache(*bytes);
  if (!parsed) {
    cache_error_ = options_.cache_path + ": " + parsed.error().message;
    return cache_;
  }
  cache_ = std::move(*parsed);
  return cache_;
}

Result<NeededResolution> LibraryResolver::resolve_needed(std::string_view name,
                                                         const SearchContext& ctx) {
  NeededResolution out;
  out.name = std::string(name);
  const LoadedObject& loader = *ctx.loaders.front();
  const LoadedObject& main = *ctx.main;
  const ElfHeader& target = main.elf->header;
  auto finish = [&](Result<bool> done) -> Result<NeededResolution> {
    if (!done) return done.error();
    return out;
  };

  if (name.find('/') != std::string_view::npos) {
    auto path = expand_dsts(name, loader, main);
    if (!path) return out;
    if (!path->starts_with('/')) {
      if (!options_.working_directory) return out;
      path = path_join(*options_.working_directory, *path);
    }
    return finish(try_file(*path, FoundVia::path, target, &out));
  }

  // 1. DT_RPATH up the loader chain, then the executable's; none when the loader has DT_RUNPATH.
  const auto rpath_of = [](const LoadedObject& o) -> const std::optional<std::string>& {
    static const std::optional<std::string> kNone;
    return o.elf->dynamic.runpath ? kNone : o.elf->dynamic.rpath;  // RUNPATH silences RPATH
  };
  if (!loader.elf->dynamic.runpath) {
    bool did_main = false;
    for (const LoadedObject* l : ctx.loaders) {
      if (!rpath_of(*l)) continue;
      auto done = try_dirs(name, expand_path_list(*rpath_of(*l), ":", *l, main), FoundVia::rpath,
                           target, &out);
      if (!done || *done) return finish(done);
      did_main |= l == &main;
    }
    if (!did_main && rpath_of(main)) {
      auto done = try_dirs(name, expand_path_list(*rpath_of(main), ":", main, main),
                           FoundVia::rpath, target, &out);
      if (!done || *done) return finish(done);
    }
  }
  // 2. LD_LIBRARY_PATH ($ORIGIN in it is the executable's).
  if (!is_secure(main) && options_.ld_library_path && !options_.ld_library_path->empty()) {
    auto done = try_dirs(name, expand_path_list(*options_.ld_library_path, ":;", main, main),
                         FoundVia::ld_library_path, target, &out);
    if (!done || *done) return finish(done);
  }
  // 3. The loader's own DT_RUNPATH.
  if (loader.elf->dynamic.runpath) {
    auto done = try_dirs(name, expand_path_list(*loader.elf->dynamic.runpath, ":", loader, main),
                         FoundVia::runpath, target, &out);
    if (!done || *done) return finish(done);
  }
  // 4. ld.so.cache, 5. the system directories; DF_1_NODEFLIB keeps both off the system dirs.
  const bool nodeflib = (loader.elf->dynamic.flags_1 & elfc::kDf1Nodeflib) != 0;
  const std::string abi_key = std::to_string(target.elf_class) + ':' +
                              std::to_string(target.machine) + ':' + std::to_string(target.flags);
  auto dirs_it = default_dirs_.find(abi_key);
  if (dirs_it == default_dirs_.end()) {
    dirs_it = default_dirs_.emplace(abi_key, default_library_dirs(fs_, target)).first;
  }
  const std::vector<std::string>& system_dirs = dirs_it->second;
  if (options_.use_cache && cache()) {
    const AbiFacts abi = abi_facts(target);
    const LdCacheEntry* pick = nullptr;
    for (const LdCacheEntry& e : cache_->entries) {
      if (e.name != name || std::find(abi.cache_flags.begin(), abi.cache_flags.end(), e.flags) ==
                                abi.cache_flags.end()) {
        continue;
      }
      // The baseline entry; glibc-hwcaps ones depend on the CPU (used only when alone).
      if (pick == nullptr || (pick->hwcap != 0 && e.hwcap == 0)) pick = &e;
    }
    bool usable = pick != nullptr;
    if (usable && nodeflib) {
      for (const std::string& dir : system_dirs) {
        if (pick->path.starts_with(dir_prefix(dir))) usable = false;
      }
    }
    if (usable) {
      auto done = try_file(pick->path, FoundVia::cache, target, &out);
      if (!done || *done) return finish(done);
    }
  }
  if (!nodeflib) return finish(try_dirs(name, system_dirs, FoundVia::default_dirs, target, &out));
  return out;
}

}  // namespace pycheck
