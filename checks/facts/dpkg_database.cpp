#include "checks/facts/dpkg_database.h"

#include <cerrno>
#include <string>
#include <utility>
#include <vector>

namespace pycheck {

Result<DpkgDatabase> read_dpkg_database(const RootFs& fs) {
  DpkgDatabase db;
  bool found = false;

  auto status = fs.read_file(kDpkgStatusPath);
  if (status) {
    found = true;
    db.add_source(std::string(kDpkgStatusPath));
    parse_dpkg_stanzas(*status, kDpkgStatusPath, DpkgStanzaMode::status_file, db);
  } else if (!status.missing()) {
    return status.error();
  }

  auto entries = fs.list_dir(kDpkgStatusDirPath);
  if (entries) {
    found = true;
    for (const DirEntry& entry : *entries) {
      if (entry.name.ends_with(".md5sums")) continue;
      const std::string path = path_join(kDpkgStatusDirPath, entry.name);
      auto content = fs.read_file(path);
      if (!content) {
        if (content.timed_out()) return content.error();  // the deadline, not a bad file
        db.add_problem({path, 0, content.error().message});
        continue;
      }
      db.add_source(path);
      // Parse into a scratch database so that a package already described by
      // the status file is not reported as a duplicate.
      DpkgDatabase part;
      parse_dpkg_stanzas(*content, path, DpkgStanzaMode::status_d, part);
      for (const DpkgRecord& record : part.records()) {
        if (db.find(record.package, record.architecture) == nullptr) db.add(record);
      }
      for (const DpkgProblem& problem : part.problems()) db.add_problem(problem);
    }
  } else if (!entries.missing()) {
    if (!found || entries.timed_out()) return entries.error();
    db.add_problem({std::string(kDpkgStatusDirPath), 0, entries.error().message});
  }

  if (!found) {
    return Error{"no dpkg database: neither " + std::string(kDpkgStatusPath) + " nor " +
                     std::string(kDpkgStatusDirPath) + " exists",
                 ENOENT};
  }
  return db;
}

std::shared_ptr<const Result<DpkgDatabase>> dpkg_database_of(const RootFs& fs,
                                                             const RunFacts* facts) {
  return shared_fact<Result<DpkgDatabase>>(facts, "dpkg database",
                                           [&] { return read_dpkg_database(fs); });
}

}  // namespace pycheck
