// Finds the shared libraries an ELF object needs the way glibc's dynamic
// loader does (elf/dl-load.c, _dl_map_object, glibc 2.36), inside a judged
// root, reading every file through RootFs.
//
// For a DT_NEEDED name without '/', the loader tries in order:
//   1. DT_RPATH of the loading object, then of the object that loaded it, and
//      so on up to the executable, then the executable's own DT_RPATH; all of
//      this only when the loading object has no DT_RUNPATH (which also
//      silences its own DT_RPATH);
//   2. LD_LIBRARY_PATH (':' or ';' separated), unless the program is setuid/setgid;
//   3. DT_RUNPATH of the loading object only (not inherited);
//   4. /etc/ld.so.cache, entries whose flags match the executable's ABI
//      (skipped, with step 5, under DF_1_NODEFLIB);
//   5. the system directories: on a Debian-style multiarch root
//      /lib/<triplet>, /usr/lib/<triplet>, /lib, /usr/lib (what Debian's
//      `ld.so --help` lists); elsewhere /lib64, /usr/lib64 (64-bit) or /lib, /usr/lib.
// A name with '/' is opened as it is. $ORIGIN / ${ORIGIN}, $LIB and $PLATFORM
// are expanded in path lists; $ORIGIN is the directory of the path the
// object was opened by (as ld.so does: for a library reached through a
// symlink that is the link's directory), and for the executable the
// directory of its real path (as the kernel reports /proc/self/exe).
//
// Each candidate file is checked as ld.so's open_verify does: a file of the
// wrong ELF class or machine is skipped and the search goes on; a file that
// is not ELF, of the wrong byte order, of a type that cannot be loaded, ...
// stops the loader ("broken"). A name already loaded (by a previous DT_NEEDED
// name or by its DT_SONAME), or a file already loaded under another name, is
// not loaded twice.
//
// Not modelled: glibc-hwcaps and legacy hwcap subdirectories (x86-64-v3/,
// x86_64/, tls/: depend on the CPU), LD_PRELOAD and /etc/ld.so.preload, the
// ABI note's kernel version check, the exact trusted-directory rule for
// $ORIGIN in setuid programs (such elements are dropped).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/result.h"
#include "agent/rootfs/rootfs.h"
#include "checks/formats/elf.h"
#include "checks/formats/ld_so_cache.h"

namespace pycheck {

// Reads and parses an ELF object through `fs`, reading only the leading bytes
// that hold the headers, the dynamic section and its strings (not the whole
// file). Errors name the path.
Result<ElfFile> read_elf_file(const RootFs& fs, std::string_view path);
// How many leading bytes read_elf_file reads first: a small file whole, in
// one read; more would cost more in copying than a second read does.
inline constexpr std::size_t kElfFirstRead = 16 * 1024;
// What a resolver reads first of a file larger than kElfFirstRead: the
// headers and, in most objects, the dynamic strings; the dynamic section
// (near the end) and strings past the head are then read at their offsets.
// On the python image this reads 0.7 MB of extension modules, not 2.2 MB.
inline constexpr std::size_t kElfLargeFileHead = 8 * 1024;
// The same from an open file, given `first_read`: what file.read_range(0,
// first_read_cap) returned (a caller that already read it for the header
// check saves a second read). Errors name file.path().
Result<ElfFile> read_elf_file(const RootFs::File& file, std::string first_read,
                              std::size_t first_read_cap = kElfFirstRead);

// Facts about an ABI that the search depends on.
struct AbiFacts {
  std::string triplet;   // Debian multiarch triplet: "x86_64-linux-gnu" ("" when unknown)
  std::string platform;  // $PLATFORM (AT_PLATFORM): "x86_64", "i686", "aarch64" ("" unknown)
  std::vector<std::int32_t> cache_flags;  // ld.so.cache flags this ABI's ld.so accepts
};
AbiFacts abi_facts(const ElfHeader& header);

// The loader's system directories for `header`'s ABI in the root `fs`.
std::vector<std::string> default_library_dirs(const RootFs& fs, const ElfHeader& header);
// What $LIB expands to: "lib/<triplet>" on a multiarch root (Debian), else "lib64" or "lib".
std::string lib_token(const RootFs& fs, const ElfHeader& header);

// What ld.so's open_verify decides about a candidate from its first
// kElfHeadBytes bytes, given the executable's header. As Debian's glibc 2.36
// does: another class or machine is skipped (the search goes on); anything
// else wrong (not ELF, too short, byte order, e_ident, e_version, e_type,
// e_phentsize) stops the loader, with ld.so's own message.
struct HeaderVerdict {
  enum class Kind { accept, skip, fatal };
  Kind kind = Kind::accept;
  std::string reason;  // "wrong ELF class: ELFCLASS32", "invalid ELF header", ...
};
HeaderVerdict verify_candidate_header(std::string_view head, const ElfHeader& target);

enum class FoundVia {
  root,             // the object the closure started from
  interpreter,      // PT_INTERP (the dynamic loader itself)
  path,             // the DT_NEEDED name contained '/'
  rpath,            // DT_RPATH of the loader or one of its loaders
  ld_library_path,  // LD_LIBRARY_PATH
  runpath,          // DT_RUNPATH of the loader
  cache,            // /etc/ld.so.cache
  default_dirs,     // the system directories
};
std::string_view to_string(FoundVia via);

// One object the loader has mapped (or would map).
struct LoadedObject {
  std::string path;       // as the loader opened it ("/app/bin/../lib/libfoo.so.1")
  std::string real_path;  // canonical inside the root, every symlink followed
  FileInfo info;
  std::shared_ptr<const ElfFile> elf;  // shared by every path that reaches the same file
};

// The outcome of searching for one DT_NEEDED name.
struct NeededResolution {
  enum class Status { found, not_found, broken };
  Status status = Status::not_found;
  std::string name;
  std::string path;       // found/broken: the candidate as opened
  std::string real_path;  // found: canonical inside the root
  FoundVia via = FoundVia::default_dirs;
  std::string error;  // broken: why ld.so would stop ("invalid ELF header")
  // Existing candidates passed over, each "path: reason" (wrong class, machine, ...).
  std::vector<std::string> skipped;
  std::shared_ptr<const LoadedObject> object;  // found: the parsed object
};

struct ResolverOptions {
  // LD_LIBRARY_PATH of the judged environment; unset or empty: none.
  std::optional<std::string> ld_library_path;
  // Treat the program as setuid/setgid (also detected from the executable's mode).
  bool secure = false;
  // Directory that relative path-list entries (and empty LD_LIBRARY_PATH
  // elements, which mean ".") are taken from; unset: such entries are skipped.
  std::optional<std::string> working_directory;
  std::string cache_path = "/etc/ld.so.cache";
  bool use_cache = true;
};

// The chain a search runs in: who loads, who loaded the loader, ..., and the executable.
struct SearchContext {
  const LoadedObject* main = nullptr;        // the executable (its ABI is the target)
  std::vector<const LoadedObject*> loaders;  // loading object first, then its loader, ...
};

struct ClosureObject {
  std::string name;       // the name it was first needed by (root/interpreter: the path)
  std::string needed_by;  // path of the object that first needed it ("" for root/interpreter)
  FoundVia via = FoundVia::root;
  std::shared_ptr<const LoadedObject> object;  // object->path: as opened, as ldd shows it
};

struct MissingLibrary {
  std::string name;
  std::vector<std::string> needed_by;  // paths of every object that needs it
  std::vector<std::string> skipped;    // candidates passed over (wrong class, ...)
};

struct BrokenLibrary {
  std::string name;
  std::string path;  // the candidate that stops the loader
  std::string error;
  std::string needed_by;
};

// ld.so stops at the first missing or broken library (outside ldd's trace
// mode); a closure goes on and lists them all, so a report can name each.
struct LibraryClosure {
  // Breadth-first load order, deduplicated; [0] is the root, then (when there
  // is one) the interpreter, then the libraries.
  std::vector<ClosureObject> objects;
  std::vector<MissingLibrary> missing;
  std::vector<BrokenLibrary> broken;
  bool static_executable = false;                // no PT_DYNAMIC: nothing to load
  std::optional<std::string> interpreter_error;  // PT_INTERP cannot be loaded
  std::optional<std::string> cache_error;        // ld.so.cache unreadable (ld.so ignores it)
  bool complete() const { return missing.empty() && broken.empty() && !interpreter_error; }
};

struct ResolverNode;  // an object being loaded (library_resolver_closure.cpp)

class LibraryResolver {
 public:
  // `fs` must outlive the resolver. Parsed objects and probes are cached, so
  // one resolver should serve all closures of one check run.
  explicit LibraryResolver(const RootFs& fs, ResolverOptions options = {});

  // Reads (once) and parses the object at `path`.
  Result<std::shared_ptr<const LoadedObject>> load(std::string_view path);

  // Searches for one DT_NEEDED `name` for ctx.loaders[0], as ld.so would.
  // An Error only for a failure of the reading itself (deadline passed).
  Result<NeededResolution> resolve_needed(std::string_view name, const SearchContext& ctx);

  // All libraries `path` needs, transitively, as `ldd path` lists them.
  // `interpreter` overrides PT_INTERP (ld.so run on a library has none).
  Result<LibraryClosure> closure(std::string_view path,
                                 std::optional<std::string> interpreter = std::nullopt);

  // What dlopen(path) adds to the running `process` (a closure of the
  // executable): the module and whatever it needs that is not loaded yet.
  // `caller` is the path of the object calling dlopen (default: the executable).
  Result<LibraryClosure> dlopen_closure(std::string_view path, const LibraryClosure& process,
                                        std::optional<std::string> caller = std::nullopt);

  const std::optional<LdSoCache>& cache();
  const std::optional<std::string>& cache_error() { return cache_error_; }

 private:
  struct Probe;
  struct FileData;
  Result<std::shared_ptr<Probe>> probe(const std::string& path, const ElfHeader& target);
  // The first bytes of the regular file `resolved` (read once per real path).
  Result<FileData*> file_data(const Resolved& resolved);
  // load() of a path already resolved.
  Result<std::shared_ptr<const LoadedObject>> load_resolved(std::string_view path,
                                                            const Resolved& resolved);
  Result<bool> try_file(const std::string& path, FoundVia via, const ElfHeader& target,
                        NeededResolution* out);
  Result<bool> try_dirs(std::string_view name, const std::vector<std::string>& dirs, FoundVia via,
                        const ElfHeader& target, NeededResolution* out);
  std::optional<std::string> expand_dsts(std::string_view element, const LoadedObject& owner,
                                         const LoadedObject& main);
  std::vector<std::string> expand_path_list(std::string_view list, std::string_view separators,
                                            const LoadedObject& owner, const LoadedObject& main);
  bool is_secure(const LoadedObject& main) const;
  // Breadth-first loading of `added` and what they need, into a process that
  // has `loaded` already; the result lists what this load adds.
  Result<LibraryClosure> load_breadth_first(const std::vector<ResolverNode>& loaded,
                                            std::vector<ResolverNode> added,
                                            const LoadedObject& main);
  // The nodes of a process closure, with their loader chains (kept for the
  // next dlopen into the same process).
  const std::vector<ResolverNode>& process_nodes(const LibraryClosure& process);

  const RootFs& fs_;
  ResolverOptions options_;
  std::map<std::string, std::shared_ptr<const LoadedObject>, std::less<>> objects_;  // by path
  std::map<std::string, std::shared_ptr<FileData>, std::less<>> files_;              // by real path
  std::map<std::string, std::shared_ptr<Probe>, std::less<>> probes_;          // by path and ABI
  std::map<std::string, std::vector<std::string>, std::less<>> default_dirs_;  // by ABI
  bool cache_loaded_ = false;
  std::optional<LdSoCache> cache_;
  std::optional<std::string> cache_error_;
  std::shared_ptr<std::vector<ResolverNode>> process_nodes_;  // of the last dlopen's process
};

}  // namespace pycheck
