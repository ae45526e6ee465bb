#include "checks/facts/path_search.h"

#include <cerrno>
#include <cstdio>
#include <map>

#include "agent/core/text.h"

namespace pycheck {
namespace {

enum class Attempt { hit, skip, stop };

std::string mode_text(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// One execve attempt on `candidate`, judged without running anything.
Attempt try_candidate(const RootFs& fs, const std::string& candidate, CommandLookup& out) {
  auto resolved = fs.resolve(candidate);
  if (!resolved) {
    const int err = resolved.error().errno_value;
    if (err == ENOENT || err == ENOTDIR) {
      // Missing is the common case and not worth recording; a dangling link is.
      auto link = fs.lstat(candidate);
      if (link && link->type == FileType::symlink) {
        auto target = fs.read_link(candidate);
        out.skipped.push_back(
            {candidate, "dangling symlink (-> " + (target ? *target : std::string("?")) + ")"});
      }
      return Attempt::skip;
    }
    if (err == EACCES) {
      out.skipped.push_back({candidate, "permission denied"});
      return Attempt::skip;
    }
    // ELOOP, ENAMETOOLONG, a timeout ...: execvp returns the error instead of going on.
    out.error = resolved.error().message;
    return Attempt::stop;
  }
  const FileInfo& info = resolved->info;
  if (info.type == FileType::directory) {
    out.skipped.push_back({candidate, "is a directory"});
    return Attempt::skip;
  }
  if (info.type != FileType::regular) {
    out.skipped.push_back({candidate, "is a " + std::string(to_string(info.type))});
    return Attempt::skip;
  }
  if (!info.executable()) {
    out.skipped.push_back({candidate, "not executable (mode " + mode_text(info.mode) + ")"});
    return Attempt::skip;
  }
  out.candidate = candidate;
  out.chain = resolved->chain;
  out.real_path = resolved->path;
  return Attempt::hit;
}

}  // namespace

std::string_view to_string(PathProblemKind kind) {
  switch (kind) {
    case PathProblemKind::unset:
      return "unset";
    case PathProblemKind::empty_entry:
      return "empty-entry";
    case PathProblemKind::relative_entry:
      return "relative-entry";
    case PathProblemKind::duplicate_entry:
      return "duplicate-entry";
    case PathProblemKind::missing_dir:
      return "missing-directory";
    case PathProblemKind::not_a_directory:
      return "not-a-directory";
  }
  return "unknown";
}

std::vector<std::string> split_path_variable(std::string_view value) {
  std::vector<std::string> entries;
  for (std::string_view entry : split(value, ':')) entries.emplace_back(entry);
  return entries;
}

SearchPath make_search_path(std::optional<std::string_view> path_variable) {
  SearchPath path;
  path.is_default = !path_variable.has_value();
  path.value = std::string(path_variable.value_or(kGlibcDefaultPath));
  path.entries = split_path_variable(path.value);
  return path;
}

std::vector<PathProblem> lexical_path_problems(const SearchPath& path) {
  std::vector<PathProblem> problems;
  if (path.is_default) {
    problems.push_back({PathProblemKind::unset, 0, "", true,
                        "PATH is unset: execvp searches glibc's default \"" +
                            std::string(kGlibcDefaultPath) +
                            "\", which leaves out /usr/local/bin"});
  }
  std::map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < path.entries.size(); ++i) {
    const std::string& entry = path.entries[i];
    const std::string number = std::to_string(i + 1);
    if (entry.empty()) {
      problems.push_back(
          {PathProblemKind::empty_entry, i, entry, true,
           "PATH entry " + number + " is empty: execvp searches the working directory there"});
      continue;
    }
    if (!entry.starts_with('/')) {
      problems.push_back({PathProblemKind::relative_entry, i, entry, true,
                          "PATH entry " + number + " \"" + entry +
                              "\" is relative: what it finds depends on the working directory"});
      continue;
    }
    std::string normal = path_normalize(entry);
    auto [it, inserted] = seen.emplace(normal, i);
    if (!inserted) {
      problems.push_back({PathProblemKind::duplicate_entry, i, entry, false,
                          "PATH entry " + number + " \"" + entry + "\" repeats entry " +
                              std::to_string(it->second + 1)});
    }
  }
  return problems;
}

std::vector<PathProblem> path_problems(const RootFs& fs, const SearchPath& path) {
  std::vector<PathProblem> problems = lexical_path_problems(path);
  for (std::size_t i = 0; i < path.entries.size(); ++i) {
    const std::string& entry = path.entries[i];
    if (!entry.starts_with('/')) continue;
    auto info = fs.stat(entry);
    const std::string number = std::to_string(i + 1);
    if (!info) {
      problems.push_back({PathProblemKind::missing_dir, i, entry, false,
                          "PATH entry " + number + " \"" + entry + "\" does not exist"});
    } else if (info->type != FileType::directory) {
      problems.push_back({PathProblemKind::not_a_directory, i, entry, false,
                          "PATH entry " + number + " \"" + entry + "\" is a " +
                              std::string(to_string(info->type)) + ", not a directory"});
    }
  }
  return problems;
}

CommandLookup resolve_program(const RootFs& fs, std::string_view absolute_path) {
  CommandLookup out;
  out.name = std::string(absolute_path);
  if (!absolute_path.starts_with('/')) {
    out.outcome = LookupOutcome::stopped;
    out.error = "\"" + out.name + "\" is relative to a working directory pycheck does not know";
    return out;
  }
  switch (try_candidate(fs, out.name, out)) {
    case Attempt::hit:
      out.outcome = LookupOutcome::found;
      break;
    case Attempt::skip:
      out.outcome = LookupOutcome::not_found;
      break;
    case Attempt::stop:
      out.outcome = LookupOutcome::stopped;
      break;
  }
  return out;
}

CommandLookup find_command(const RootFs& fs, const SearchPath& path, std::string_view name) {
  if (name.find('/') != std::string_view::npos) return resolve_program(fs, name);
  CommandLookup out;
  out.name = std::string(name);
  if (name.empty()) return out;
  for (std::size_t i = 0; i < path.entries.size(); ++i) {
    const std::string& entry = path.entries[i];
    if (!entry.starts_with('/')) {
      out.skipped.push_back({entry.empty() ? out.name : path_join(entry, name),
                             "not searched: the PATH entry depends on the working directory"});
      continue;
    }
    switch (try_candidate(fs, path_join(entry, name), out)) {
      case Attempt::hit:
        out.outcome = LookupOutcome::found;
        out.entry_index = i;
        out.entry = entry;
        return out;
      case Attempt::skip:
        break;
      case Attempt::stop:
        out.outcome = LookupOutcome::stopped;
        out.entry_index = i;
        out.entry = entry;
        out.candidate = path_join(entry, name);
        return out;
    }
  }
  return out;
}

}  // namespace pycheck
