// Reads the dpkg database of the inspected root through RootFs.
#pragma once

#include <memory>
#include <string_view>

#include "agent/core/check.h"
#include "agent/core/result.h"
#include "agent/rootfs/rootfs.h"
#include "checks/formats/dpkg_status.h"

namespace pycheck {

inline constexpr std::string_view kDpkgStatusPath = "/var/lib/dpkg/status";
inline constexpr std::string_view kDpkgStatusDirPath = "/var/lib/dpkg/status.d";

// Reads /var/lib/dpkg/status and, when present, the distroless-style
// /var/lib/dpkg/status.d/ (every file but *.md5sums; its records are added
// when status has no record for the same package:architecture, as Trivy
// does). Fails with errno ENOENT (Result::missing()) when neither exists, and
// with the RootFs error when status exists but cannot be read (FIFO, too
// large, permissions) or the run's deadline stops any read. An unreadable
// file inside status.d is a problem of the database, not a failure.
Result<DpkgDatabase> read_dpkg_database(const RootFs& fs);

// read_dpkg_database(fs), read once per run and shared by every check that
// asks (RunFacts); read afresh when `facts` is null (a check run on its own).
std::shared_ptr<const Result<DpkgDatabase>> dpkg_database_of(const RootFs& fs,
                                                             const RunFacts* facts);
inline std::shared_ptr<const Result<DpkgDatabase>> dpkg_database_of(const Context& ctx) {
  return dpkg_database_of(ctx.fs, ctx.facts);
}

}  // namespace pycheck
