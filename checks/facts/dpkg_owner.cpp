#include "checks/facts/dpkg_owner.h"

#include <string.h>  // memmem

#include <algorithm>
#include <cerrno>
#include <set>
#include <utility>

#include "agent/core/text.h"

namespace pycheck {
namespace {

constexpr std::string_view kMergedDirs[] = {"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"};

bool under(std::string_view path, std::string_view dir) {
  return path.starts_with(dir) && path.size() > dir.size() && path[dir.size()] == '/';
}

}  // namespace

std::optional<DpkgListName> parse_dpkg_list_file_name(std::string_view file_name) {
  if (!file_name.ends_with(".list") || file_name.size() <= 5) return std::nullopt;
  file_name.remove_suffix(5);
  DpkgListName name;
  std::size_t colon = file_name.find(':');
  name.package = std::string(file_name.substr(0, colon));
  if (colon != std::string_view::npos) name.arch = std::string(file_name.substr(colon + 1));
  if (name.package.empty()) return std::nullopt;
  return name;
}

std::vector<std::string> dpkg_path_spellings(std::string_view path) {
  std::vector<std::string> out{std::string(path)};
  for (std::string_view dir : kMergedDirs) {
    const std::string usr_dir = "/usr" + std::string(dir);
    if (under(path, usr_dir)) out.push_back(std::string(path.substr(4)));
    if (under(path, dir)) out.push_back("/usr" + std::string(path));
  }
  return out;
}

std::vector<std::string> dpkg_list_matches(std::string_view list_text,
                                           std::span<const std::string> paths) {
  // Searching for each path (memmem) and keeping hits that are a whole line,
  // give or take blanks, is much cheaper than splitting every line: a .list
  // file has hundreds of lines and we ask about a handful of paths.
  std::vector<std::pair<std::size_t, const std::string*>> hits;  // line position, path
  for (const std::string& path : paths) {
    if (trim_blanks(path).size() != path.size() || path.empty()) {
      continue;  // a trimmed, non-empty line can never equal it
    }
    std::size_t from = 0;
    while (from < list_text.size()) {
      const void* found =
          ::memmem(list_text.data() + from, list_text.size() - from, path.data(), path.size());
      if (found == nullptr) break;
      const std::size_t at =
          static_cast<std::size_t>(static_cast<const char*>(found) - list_text.data());
      from = at + 1;
      std::size_t line_start = list_text.rfind('\n', at == 0 ? 0 : at - 1);
      line_start = line_start == std::string_view::npos || at == 0 ? 0 : line_start + 1;
      std::size_t line_end = list_text.find('\n', at);
      if (line_end == std::string_view::npos) line_end = list_text.size();
      const std::string_view line = list_text.substr(line_start, line_end - line_start);
      if (trim_blanks(line).data() == list_text.data() + at && trim_blanks(line).size() == path.size()) {
        hits.emplace_back(line_start, &path);
        from = line_end;
      }
    }
  }
  std::sort(hits.begin(), hits.end());
  std::vector<std::string> matches;
  matches.reserve(hits.size());
  for (const auto& hit : hits) matches.push_back(*hit.second);
  return matches;
}

bool dpkg_never_installs(std::string_view path) {
  return under(path_normalize(path), "/usr/local");
}

Result<DpkgOwners> find_dpkg_owners(const RootFs& fs, std::span<const std::string> paths) {
  DpkgOwners result;
  auto entries = fs.list_dir(kDpkgInfoDir);
  if (!entries) {
    if (entries.missing()) return result;
    return entries.error();
  }
  result.have_database = true;
  // Every spelling we look for, mapped back to the path the caller asked about.
  std::map<std::string, std::set<std::string>> asked_by_spelling;
  for (const std::string& path : paths) {
    result.owners[path];
    if (dpkg_never_installs(path)) continue;
    for (std::string& spelling : dpkg_path_spellings(path))
      asked_by_spelling[spelling].insert(path);
  }
  std::vector<std::string> spellings;
  for (const auto& [spelling, asked] : asked_by_spelling) spellings.push_back(spelling);
  if (spellings.empty()) return result;  // nothing a package could own: no list to read

  for (const DirEntry& entry : *entries) {
    auto name = parse_dpkg_list_file_name(entry.name);
    if (!name) continue;
    const std::string list_path = path_join(kDpkgInfoDir, entry.name);
    auto text = fs.read_file(list_path);
    if (!text) {
      if (text.error().timed_out()) return text.error();
      result.unreadable.push_back(text.error().message);
      continue;
    }
    for (const std::string& hit : dpkg_list_matches(*text, spellings)) {
      for (const std::string& asked : asked_by_spelling[hit]) {
        auto& owners = result.owners[asked];
        if (std::find(owners.begin(), owners.end(), name->package) == owners.end()) {
          owners.push_back(name->package);
        }
      }
    }
  }
  return result;
}

}  // namespace pycheck
