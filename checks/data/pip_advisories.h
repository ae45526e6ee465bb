// The pip releases that fixed security problems, embedded so pip.version can
// judge a pip offline (pypa/pip NEWS.rst and the advisories it cites, up to
// pip 26.2, 2026-07-29). The comparison with the newest pip on the package
// index needs the network and is not done here.
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "checks/formats/dist_info.h"

namespace pycheck {

struct PipAdvisory {
  std::string_view ids;            // "CVE-2023-5752", or pip's issue when no CVE was assigned
  std::string_view fixed_in;       // first pip release with the fix
  std::string_view introduced_in;  // first affected release; "" when all older ones are
  std::string_view summary;
};

std::span<const PipAdvisory> pip_advisories();
// The advisories whose fix `version` lacks, oldest fix first.
std::vector<const PipAdvisory*> pip_advisories_for(const Pep440Version& version);

}  // namespace pycheck
