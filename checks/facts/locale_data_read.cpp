#include "checks/facts/locale_data_read.h"

#include <algorithm>
#include <cstdint>

namespace pycheck {
namespace {

// First reads: the archive's header and tables (18 KB in a Debian archive of a
// few locales), a category's header and string index (LC_TIME's is 644 bytes;
// most categories are smaller whole), and the bytes past a codeset string.
constexpr std::size_t kArchiveFirstRead = 32 * 1024;
constexpr std::uint64_t kDataFirstRead = 4096;
constexpr std::uint64_t kCodesetRead = 128;
// An archive locale's categories of at most kSmallData bytes are read together
// when they lie within kWindowMax bytes (4.5 KB for en_US.utf8).
constexpr std::uint64_t kSmallData = 16 * 1024;
constexpr std::uint64_t kWindowMax = 64 * 1024;

// localedef writes a locale's small categories side by side: one read serves them all.
std::uint64_t window_offset(const ArchiveLocale& locale) {
  std::uint64_t lo = UINT64_MAX;
  for (const LocaleCategory& c : locale_categories()) {
    const LocaleDataSpan& span = locale.records[c.id];
    if (span.length <= kSmallData) lo = std::min<std::uint64_t>(lo, span.offset);
  }
  return lo;
}

}  // namespace

Result<Result<LocaleArchive>> read_locale_archive(const RootFs& fs, std::uint64_t file_size) {
  // The header and the tables (a few KB at the front), not the locales' data.
  auto bytes = fs.read_head(kLocaleArchivePath, kArchiveFirstRead);
  if (!bytes) return bytes.error();
  if (bytes->size() == kArchiveFirstRead) {
    const std::uint64_t tables_end = locale_archive_tables_end(*bytes);
    if (tables_end > bytes->size() && tables_end <= RootFs::kDefaultMaxRead) {
      bytes = fs.read_head(kLocaleArchivePath, static_cast<std::size_t>(tables_end));
      if (!bytes) return bytes.error();
    }
  }
  auto archive = parse_locale_archive(*bytes, file_size);
  if (archive) return archive;
  // A bad archive: its error as the whole read (or the first 64 MiB) gives it.
  bytes = file_size > RootFs::kDefaultMaxRead
              ? fs.read_head(kLocaleArchivePath, RootFs::kDefaultMaxRead)
              : fs.read_file(kLocaleArchivePath);
  if (!bytes) return bytes.error();
  return parse_locale_archive(*bytes, file_size);
}

// The bytes from window_offset() to the end of the last small category, when
// that is no more than kWindowMax within `readable`; nullptr otherwise or when
// the read fails (each category is then read on its own).
const std::string* LocaleDataReader::small_data_window(const ArchiveLocale& locale,
                                                       std::uint64_t readable) const {
  if (auto it = windows_.find(locale.name); it != windows_.end()) return it->second.get();
  std::uint64_t hi = 0;
  for (const LocaleCategory& c : locale_categories()) {
    const LocaleDataSpan& span = locale.records[c.id];
    if (span.length <= kSmallData) hi = std::max<std::uint64_t>(hi, span.offset + span.length);
  }
  const std::uint64_t lo = window_offset(locale);
  std::unique_ptr<std::string> window;
  if (lo < hi && hi <= readable && hi - lo <= kWindowMax) {
    auto bytes = fs_.read_range(kLocaleArchivePath, lo, static_cast<std::size_t>(hi - lo));
    if (bytes && bytes->size() == hi - lo)
      window = std::make_unique<std::string>(std::move(*bytes));
  }
  return windows_.emplace(locale.name, std::move(window)).first->second.get();
}

Result<Result<std::string>> LocaleDataReader::data_codeset(const std::string& path,
                                                           std::uint64_t offset, std::uint64_t size,
                                                           const LocaleCategory& cat,
                                                           std::string_view what,
                                                           std::string head) const {
  // `head`: the first bytes of the data when the caller has read them.
  if (head.empty() && size > 0) {
    auto first =
        fs_.read_range(path, offset, static_cast<std::size_t>(std::min(size, kDataFirstRead)));
    if (!first) return first.error();
    head = std::move(*first);
  }
  const std::uint64_t index_end = std::min(size, locale_data_index_end(head));
  if (head.size() < index_end) {
    auto whole_index = fs_.read_range(path, offset, static_cast<std::size_t>(index_end));
    if (!whole_index) return whole_index.error();
    head = std::move(*whole_index);
  }
  auto at = locale_data_codeset_offset(cat, head, size, what);
  if (!at) return Result<std::string>(at.error());
  if (*at < head.size() && head.find('\0', *at) != std::string::npos) {
    return locale_data_codeset_string(std::string_view(head).substr(*at), what);
  }
  // The string is short: a small read past it, then (no NUL in it) the rest of the data.
  std::uint64_t left = size - *at;
  for (std::uint64_t want : {std::min<std::uint64_t>(left, kCodesetRead), left}) {
    auto tail = fs_.read_range(path, offset + *at, static_cast<std::size_t>(want));
    if (!tail) return tail.error();
    if (tail->find('\0') != std::string::npos || tail->size() < want || want == left) {
      return locale_data_codeset_string(*tail, what);
    }
  }
  return Result<std::string>(Error{std::string(what) + ": codeset string is not terminated"});
}

Result<Result<std::string>> LocaleDataReader::file_codeset(const std::string& file,
                                                           std::optional<std::uint64_t> size,
                                                           const LocaleCategory& cat) const {
  // Too large for a whole read: the same refusal as before.
  if (size && *size > RootFs::kDefaultMaxRead) {
    auto data = fs_.read_file(file);
    if (!data) return data.error();
    return locale_data_codeset(cat, *data, file);
  }
  auto head = fs_.read_head(file, kDataFirstRead);
  if (!head) return head.error();
  if (head->size() < kDataFirstRead) {
    size = head->size();  // the whole file
  } else if (!size) {
    auto info = fs_.stat(file);
    if (!info) return info.error();
    if (info->size > RootFs::kDefaultMaxRead) return file_codeset(file, info->size, cat);
    size = info->size;
  }
  return data_codeset(file, 0, *size, cat, file, std::move(*head));
}

Result<Result<std::string>> LocaleDataReader::archive_codeset(const ArchiveLocale& locale,
                                                              const LocaleCategory& cat,
                                                              std::uint64_t archive_size,
                                                              std::string_view what) const {
  // Only data within the first kDefaultMaxRead bytes is read (as a whole read would).
  const LocaleDataSpan& span = locale.records[cat.id];
  const std::uint64_t readable = std::min<std::uint64_t>(archive_size, RootFs::kDefaultMaxRead);
  if (std::uint64_t{span.offset} + span.length > readable) return Result<std::string>("");
  const std::string* window = small_data_window(locale, readable);
  if (window != nullptr && span.length <= kSmallData) {
    return locale_data_codeset(
        cat, std::string_view(*window).substr(span.offset - window_offset(locale), span.length),
        what);
  }
  return data_codeset(std::string(kLocaleArchivePath), span.offset, span.length, cat, what);
}

}  // namespace pycheck
