// Reader of apt Packages indexes (pure: bytes in, records out), built on the
// deb822 reader. It keeps only what comparing installed packages with a
// repository needs: Package, Version, Architecture and Source (name and
// optional version); every other field is skipped without being copied.
//
// Records are keyed by package + architecture. An index may hold several
// versions of one package:architecture (flat and third-party repositories
// do); all are kept and newest() picks the highest by dpkg's order. A stanza
// without Package, Version or Architecture, or with a version dpkg would not
// parse, is skipped and counted as a problem. A 2.5 MB index (Debian's
// security suite) parses in a few milliseconds.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace pycheck {

struct AptPackage {
  std::string package;
  std::string version;
  std::string architecture;    // "amd64", "all"
  std::string source_name;     // empty when there is no Source field
  std::string source_version;  // the "(version)" of Source, empty when not given
  std::size_t line = 0;        // 1-based line of the stanza

  // dpkg's defaults: no Source means the package is its own source, at its own version.
  const std::string& effective_source_name() const {
    return source_name.empty() ? package : source_name;
  }
  const std::string& effective_source_version() const {
    return source_version.empty() ? version : source_version;
  }
};

struct AptPackagesProblem {
  std::size_t line = 0;
  std::string message;
};

class AptPackagesIndex {
 public:
  const std::vector<AptPackage>& packages() const { return packages_; }
  const std::vector<AptPackagesProblem>& problems() const { return problems_; }

  // Every record of package:architecture, in index order.
  std::vector<const AptPackage*> find(std::string_view package,
                                      std::string_view architecture) const;
  // The record of package:architecture with the highest version, or nullptr.
  const AptPackage* newest(std::string_view package, std::string_view architecture) const;

  void add(AptPackage package);
  void add_problem(AptPackagesProblem problem) { problems_.push_back(std::move(problem)); }

 private:
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::vector<AptPackage> packages_;
  std::vector<AptPackagesProblem> problems_;
  // package name -> indices into packages_ (all architectures and versions)
  std::unordered_map<std::string, std::vector<std::size_t>, StringHash, std::equal_to<>> by_name_;
};

// Parses a whole (already decompressed) Packages index.
AptPackagesIndex parse_apt_packages(std::string_view text);

}  // namespace pycheck
