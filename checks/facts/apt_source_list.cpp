#include "checks/facts/apt_source_list.h"

#include <algorithm>

#include "agent/core/text.h"
#include "agent/rootfs/rootfs.h"
#include "checks/formats/dpkg_status.h"

namespace pycheck {

Result<std::vector<AptSourceEntry>> read_apt_deb_sources(const RootFs& fs, json& problems) {
  std::vector<std::string> files;
  auto main_list = fs.stat("/etc/apt/sources.list");
  if (main_list.timed_out()) return main_list.error();
  if (main_list) files.push_back("/etc/apt/sources.list");
  auto dir = fs.list_dir("/etc/apt/sources.list.d");
  if (dir) {
    for (const DirEntry& e : *dir) {
      if (e.name.ends_with(".list") || e.name.ends_with(".sources")) {
        files.push_back("/etc/apt/sources.list.d/" + e.name);
      }
    }
  } else if (!dir.missing()) {
    return dir.error();
  }
  std::vector<AptSourceEntry> entries;
  for (const std::string& file : files) {
    auto text = fs.read_file(file, 1u << 20);
    if (!text) return Error{file + ": " + text.error().message, text.error().errno_value};
    AptSources parsed = parse_apt_sources_file(*text, file);
    for (const auto& p : parsed.problems) {
      problems.push_back(p.origin + ":" + std::to_string(p.line) + ": " + p.message);
    }
    for (auto& entry : parsed.entries) {
      if (entry.enabled && entry.type == AptSourceType::deb) entries.push_back(std::move(entry));
    }
  }
  return entries;
}

Result<std::vector<std::string>> dpkg_architectures(const RootFs& fs, const DpkgDatabase& db) {
  std::vector<std::string> arches;
  auto add = [&](std::string_view arch) {
    if (!arch.empty() && std::find(arches.begin(), arches.end(), arch) == arches.end()) {
      arches.emplace_back(arch);
    }
  };
  auto text = fs.read_file("/var/lib/dpkg/arch", 4096);
  if (text.timed_out()) return text.error();
  if (text) {
    for (std::string_view line : split_lines(*text)) add(trim_blanks(line));
  }
  if (!arches.empty()) return arches;
  for (const DpkgRecord& r : db.records()) {
    if (is_installed(r) && r.architecture != "all") add(r.architecture);
  }
  return arches;
}

}  // namespace pycheck
