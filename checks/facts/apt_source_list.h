// The container's apt configuration as apt-get would read it, through RootFs:
// its deb sources and the architectures dpkg installs for.
#pragma once

#include <string>
#include <vector>

#include "agent/core/check.h"
#include "agent/core/result.h"
#include "checks/formats/apt_sources.h"

namespace pycheck {

class DpkgDatabase;
class RootFs;

// The enabled deb entries of /etc/apt/sources.list and
// /etc/apt/sources.list.d/*.list|*.sources; each line apt would refuse is
// added to `problems` ("FILE:LINE: message"). Errors: an unreadable file, the deadline.
Result<std::vector<AptSourceEntry>> read_apt_deb_sources(const RootFs& fs, json& problems);

// /var/lib/dpkg/arch (native first, then foreign) when present, else the
// architectures of the installed packages ("all" left out).
Result<std::vector<std::string>> dpkg_architectures(const RootFs& fs, const DpkgDatabase& db);

}  // namespace pycheck
