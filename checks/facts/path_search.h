// Command lookup through PATH, the way glibc's execvp does it, inside a RootFs.
//
// execvp (glibc 2.36, posix/execvpe.c): a name containing '/' is run as is;
// otherwise PATH (or, when PATH is unset, confstr(_CS_PATH) = "/bin:/usr/bin")
// is split on ':', each entry is tried as entry/name, an empty entry means the
// working directory. A candidate that is missing, a dangling link, a directory
// or not executable (EACCES) is skipped; a symlink loop (ELOOP) or any other
// error ends the search. pycheck does not know the judged process's working
// directory, so empty and relative entries are reported and not searched.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/rootfs/rootfs.h"

namespace pycheck {

// glibc's confstr(_CS_PATH) on Linux: what execvp searches when PATH is unset.
inline constexpr std::string_view kGlibcDefaultPath = "/bin:/usr/bin";

struct SearchPath {
  std::string value;                 // the PATH string searched
  bool is_default = false;           // PATH was unset: glibc's default is used
  std::vector<std::string> entries;  // split on ':', empty entries kept
};

// Pure. `path_variable` is the judged environment's PATH (nullopt when unset).
SearchPath make_search_path(std::optional<std::string_view> path_variable);
// Pure: "a::b" -> {"a", "", "b"}; "" -> {""} (one empty entry, as execvp sees it).
std::vector<std::string> split_path_variable(std::string_view value);

enum class PathProblemKind {
  unset,
  empty_entry,
  relative_entry,
  duplicate_entry,
  missing_dir,
  not_a_directory
};
std::string_view to_string(PathProblemKind kind);

struct PathProblem {
  PathProblemKind kind;
  std::size_t index = 0;  // position of the entry in PATH (0 for `unset`)
  std::string entry;
  bool warning = false;  // unset, empty and relative entries; the rest is information
  std::string message;   // one sentence naming the entry
};

// Pure: unset, empty, relative and duplicate (after normalising) entries.
std::vector<PathProblem> lexical_path_problems(const SearchPath& path);
// The lexical problems plus absolute entries that do not exist or are not directories.
std::vector<PathProblem> path_problems(const RootFs& fs, const SearchPath& path);

struct SkippedCandidate {
  std::string candidate;  // entry/name as tried ("" entry: the bare name)
  std::string reason;     // "not executable (mode 0644)", "dangling symlink", ...
};

enum class LookupOutcome { found, not_found, stopped };

struct CommandLookup {
  std::string name;
  LookupOutcome outcome = LookupOutcome::not_found;
  std::size_t entry_index = 0;            // of the PATH entry that won
  std::string entry;                      // the PATH entry that won ("" for a name with '/')
  std::string candidate;                  // the path execve gets: entry/name
  std::vector<LinkStep> chain;            // symlinks followed from candidate to real_path
  std::string real_path;                  // canonical path of the file that runs
  std::vector<SkippedCandidate> skipped;  // tried and passed over, in order
  std::string error;                      // stopped: why execvp gives up here
  bool found() const { return outcome == LookupOutcome::found; }
};

// Finds `name` the way execvp would. A name with '/' is resolved directly (an
// absolute path is taken inside the root; a relative one cannot be judged and
// is `stopped`).
CommandLookup find_command(const RootFs& fs, const SearchPath& path, std::string_view name);

// Resolves an absolute program path (a shebang interpreter) as execve would.
CommandLookup resolve_program(const RootFs& fs, std::string_view absolute_path);

}  // namespace pycheck
