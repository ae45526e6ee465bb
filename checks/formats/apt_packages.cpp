#include "checks/formats/apt_packages.h"

#include <algorithm>

#include "checks/formats/deb822.h"
#include "checks/formats/debian_version.h"

namespace pycheck {
namespace {

// "name (version)" -> name, version; false when something other than a
// parenthesised version follows the name.
bool split_source(std::string_view value, std::string& name, std::string& version) {
  const std::size_t name_end = value.find_first_of(" \t(");
  name = std::string(value.substr(0, name_end));
  if (name_end == std::string_view::npos) return !name.empty();
  std::string_view rest = value.substr(name_end);
  rest.remove_prefix(std::min(rest.find_first_not_of(" \t"), rest.size()));
  if (rest.empty()) return !name.empty();
  if (rest.size() < 3 || rest.front() != '(' || rest.back() != ')') return false;
  rest = rest.substr(1, rest.size() - 2);
  const std::size_t first = rest.find_first_not_of(" \t");
  if (first == std::string_view::npos) return false;
  version = std::string(rest.substr(first, rest.find_last_not_of(" \t") - first + 1));
  return !name.empty();
}

void read_stanza(const Deb822Stanza& stanza, AptPackagesIndex& index) {
  for (const Deb822Problem& p : stanza.problems) index.add_problem({p.line, p.message});
  std::string_view package, version, architecture, source;
  bool has_source = false;
  // One pass over the fields; the four wanted names have distinct lengths or letters.
  for (const Deb822Field& field : stanza.fields) {
    const std::string_view name = field.name;
    if (name.size() == 7 && deb822_name_equals(name, "Package")) {
      if (package.empty()) package = field.value;
    } else if (name.size() == 7 && deb822_name_equals(name, "Version")) {
      if (version.empty()) version = field.value;
    } else if (name.size() == 12 && deb822_name_equals(name, "Architecture")) {
      if (architecture.empty()) architecture = field.value;
    } else if (name.size() == 6 && deb822_name_equals(name, "Source")) {
      if (!has_source) source = field.value;
      has_source = true;
    }
  }
  const auto skip = [&](std::string message) {
    index.add_problem({stanza.line, std::move(message) + " (stanza skipped)"});
  };
  if (package.empty()) return skip("stanza without a Package field");
  const std::string who = "package " + std::string(package);
  if (version.empty()) return skip(who + ": no Version field");
  if (architecture.empty()) return skip(who + ": no Architecture field");
  if (auto parsed = parse_debian_version(version, VersionSyntax::lenient); !parsed) {
    return skip(who + ": " + parsed.error().message);
  }
  AptPackage record;
  record.package = std::string(package);
  record.version = std::string(version);
  record.architecture = std::string(architecture);
  record.line = stanza.line;
  if (has_source && !split_source(source, record.source_name, record.source_version)) {
    index.add_problem(
        {stanza.line, who + ": malformed Source '" + std::string(source) + "' (name kept)"});
    record.source_version.clear();
  }
  index.add(std::move(record));
}

}  // namespace

std::vector<const AptPackage*> AptPackagesIndex::find(std::string_view package,
                                                      std::string_view architecture) const {
  std::vector<const AptPackage*> out;
  auto it = by_name_.find(package);
  if (it == by_name_.end()) return out;
  for (std::size_t i : it->second) {
    if (packages_[i].architecture == architecture) out.push_back(&packages_[i]);
  }
  return out;
}

const AptPackage* AptPackagesIndex::newest(std::string_view package,
                                           std::string_view architecture) const {
  const AptPackage* best = nullptr;
  for (const AptPackage* candidate : find(package, architecture)) {
    if (best == nullptr) {
      best = candidate;
      continue;
    }
    auto order = compare_debian_versions(candidate->version, best->version);
    if (order.ok() && *order > 0) best = candidate;
  }
  return best;
}

void AptPackagesIndex::add(AptPackage package) {
  auto it = by_name_.find(std::string_view(package.package));
  if (it == by_name_.end())
    it = by_name_.emplace(package.package, std::vector<std::size_t>{}).first;
  it->second.push_back(packages_.size());
  packages_.push_back(std::move(package));
}

AptPackagesIndex parse_apt_packages(std::string_view text) {
  AptPackagesIndex index;
  // Packages files have no comments; a '#' line is reported, not silently dropped.
  Deb822Reader reader(text, Deb822Options{.comments = false});
  Deb822Stanza stanza;
  while (reader.next(stanza)) read_stanza(stanza, index);
  return index;
}

}  // namespace pycheck
