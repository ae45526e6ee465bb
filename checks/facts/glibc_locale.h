// Which locale data glibc's setlocale finds for a name in the inspected root,
// searched the way glibc 2.36 does (locale/findlocale.c): built-in C/POSIX,
// then the locale archive (unless LOCPATH is set), then locale.alias, then the
// XPG variants of the name under each locale directory.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/check.h"
#include "agent/core/result.h"
#include "agent/rootfs/rootfs.h"
#include "checks/facts/locale_data_read.h"
#include "checks/formats/locale_archive.h"
#include "checks/formats/locale_name.h"

namespace pycheck {

// Where one category of a locale was found.
struct LocaleFound {
  std::string kind;                  // "builtin", "archive" or "directory"
  std::string location;              // the archive file or the locale directory
  std::string entry;                 // the archive name or directory name that matched
  std::string codeset;               // of that category's data; "" when not read
  std::optional<std::string> alias;  // the locale.alias expansion used
};

struct LocaleLookup {
  std::optional<LocaleFound> found;
  std::vector<std::string> notes;  // data rejected on the way, or why nothing matched
  // The run's deadline stopped a read: nothing found then means nothing.
  std::optional<Error> timeout;
};

// What glibc reads in the inspected root (archive, aliases), read once.
class GlibcLocales {
 public:
  // `locpath`: the LOCPATH value, when set (glibc then skips the archive).
  GlibcLocales(const RootFs& fs, const std::optional<std::string>& locpath);

  // Where glibc finds category `cat` of locale `name`.
  LocaleLookup find(std::string_view name, const LocaleCategory& cat) const;

  json archive_details() const;
  json alias_details() const;
  const std::string& archive_error() const { return archive_error_; }
  // Set when the deadline stopped reading the archive or the aliases.
  const std::optional<Error>& timeout() const { return timeout_; }
  const std::vector<std::string>& dirs() const { return dirs_; }

 private:
  std::optional<LocaleFound> from_archive(std::string_view name, const LocaleCategory& cat,
                                          LocaleLookup& lookup) const;
  void load_archive();
  void load_aliases();

  const RootFs& fs_;
  LocaleDataReader reader_;
  std::optional<Error> timeout_;
  std::vector<std::string> dirs_;
  bool use_archive_ = true;
  bool archive_present_ = false;
  std::string archive_error_;
  std::uint64_t archive_size_ = 0;
  std::optional<LocaleArchive> archive_;
  bool alias_present_ = false;
  std::string alias_error_;
  LocaleAliases aliases_;
};

}  // namespace pycheck
