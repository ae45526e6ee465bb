// Pure readers for installed Python distributions: the *.dist-info/METADATA
// header block (core metadata, RFC 822 style), dist-info folder and wheel file
// names, and PEP 440 versions with their ordering.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/result.h"

namespace pycheck {

struct DistMetadata {
  std::string metadata_version;  // "Metadata-Version", may be empty in old files
  std::string name;
  std::string version;
  std::string summary;
};

// Parses the headers of a METADATA file (up to the first blank line; folded
// continuation lines are joined). Name and Version are required.
Result<DistMetadata> parse_dist_metadata(std::string_view text);

// "pip-24.0.dist-info" -> {"pip", "24.0"}; nullopt when not that shape.
struct DistName {
  std::string name;
  std::string version;
};
std::optional<DistName> parse_dist_info_dir_name(std::string_view dir_name);
// "pip-24.0-py3-none-any.whl" -> {"pip", "24.0"}; nullopt when not a wheel name.
std::optional<DistName> parse_wheel_file_name(std::string_view file_name);

// A PEP 440 version, normalised: "v1.0RC1" is 1.0rc1, "1.0-1" is 1.0.post1.
struct Pep440Version {
  long epoch = 0;
  std::vector<long> release;
  char pre_kind = 0;  // 0 (none), 'a', 'b' or 'c' (rc)
  long pre_number = 0;
  std::optional<long> post;
  std::optional<long> dev;
  std::string local;        // after '+', lower-cased, separators as '.'
  std::string str() const;  // the normalised spelling
};

std::optional<Pep440Version> parse_pep440(std::string_view text);

// <0, 0, >0 as PEP 440 orders them: 1.0.dev1 < 1.0a1 < 1.0 < 1.0.post1, and
// 1.0 == 1.0.0.
int compare_pep440(const Pep440Version& a, const Pep440Version& b);

// Convenience for version strings: nullopt when either does not parse.
std::optional<int> compare_pep440(std::string_view a, std::string_view b);

}  // namespace pycheck
