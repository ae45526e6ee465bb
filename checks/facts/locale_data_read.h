// Reading compiled locale data through RootFs without reading all of it: a
// category's codeset from its header, string index and codeset string (the
// 353 KB LC_CTYPE holds a 6-byte codeset), the locale archive's header and
// tables without the locales' data. What is found, and every Error, is what a
// whole read and locale_archive.h's readers give.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "agent/core/result.h"
#include "agent/rootfs/rootfs.h"
#include "checks/formats/locale_archive.h"

namespace pycheck {

// In each Result<Result<T>> below, the outer Error says a read failed, the
// inner one that the data is bad (as locale_data_codeset or
// parse_locale_archive say it).

// The locale archive of `file_size` bytes (from stat): its header and tables
// when they parse; otherwise what a whole read (the first kDefaultMaxRead
// bytes of a larger file) gives, so that a bad archive gets the same Error.
Result<Result<LocaleArchive>> read_locale_archive(const RootFs& fs, std::uint64_t file_size);

class LocaleDataReader {
 public:
  explicit LocaleDataReader(const RootFs& fs) : fs_(fs) {}

  // The codeset of a locale data file; `size` from stat (unset: unknown, as
  // for SYS_ files). Errors name the file.
  Result<Result<std::string>> file_codeset(const std::string& file,
                                           std::optional<std::uint64_t> size,
                                           const LocaleCategory& cat) const;

  // The codeset of one category of an archive locale (the archive has
  // `archive_size` bytes); "" for data past the first kDefaultMaxRead bytes,
  // which a whole read would not hold either. Errors name `what`.
  Result<Result<std::string>> archive_codeset(const ArchiveLocale& locale,
                                              const LocaleCategory& cat, std::uint64_t archive_size,
                                              std::string_view what) const;

  // The codeset of the data [offset, offset + size) of `path`; `head`: its
  // first bytes when the caller has read them.
  Result<Result<std::string>> data_codeset(const std::string& path, std::uint64_t offset,
                                           std::uint64_t size, const LocaleCategory& cat,
                                           std::string_view what,
                                           std::string head = std::string()) const;

 private:
  const std::string* small_data_window(const ArchiveLocale& locale, std::uint64_t readable) const;

  const RootFs& fs_;
  mutable std::map<std::string, std::unique_ptr<std::string>> windows_;  // by locale name
};

}  // namespace pycheck
