// Readers for glibc's compiled locale data: the locale archive
// (/usr/lib/locale/locale-archive, written by localedef / locale-gen) and the
// per-category data files (LC_CTYPE, ...) found both inside the archive and in
// locale directories such as /usr/lib/locale/C.utf8/. Pure functions: bytes in,
// values out; every offset is checked against the bytes given.
//
// Format (glibc locale/locarchive.h, native byte order): a header of 14 uint32
// (magic 0xde020109, serial, then offset/used/size of the name hash table, the
// string table, the locale record table and the checksum table); name hash
// entries {hashval, name_offset, locrec_offset}; locale records {refs,
// {offset, len}[13]} indexed by category number. All offsets are from the start
// of the file.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/result.h"

namespace pycheck {

inline constexpr std::string_view kLocaleArchivePath = "/usr/lib/locale/locale-archive";
inline constexpr std::uint32_t kLocaleArchiveMagic = 0xde020109;

// glibc's category numbers (bits/locale.h); 6 is LC_ALL, which has no data.
inline constexpr int kLcAll = 6;
inline constexpr int kLcCtype = 0;
inline constexpr int kLocaleCategorySlots = 13;  // __LC_LAST

// One of the twelve categories that carry data.
struct LocaleCategory {
  int id;                      // glibc's category number
  std::string_view name;       // "LC_CTYPE": the environment variable and the file name
  std::uint32_t magic;         // first word of its data (LIMAGIC in localeinfo.h)
  std::uint32_t codeset_item;  // index of its *_CODESET string (part of glibc's ABI)
};
// In the order setlocale(LC_ALL, "") loads them (highest number first).
std::span<const LocaleCategory> locale_categories();
const LocaleCategory* find_locale_category(std::string_view name);

// The codeset recorded in one category's data (a locale data file, or the
// slice of the archive a record points at), after the checks glibc's
// _nl_intern_locale_data makes: the magic of that category, a string index
// that fits, every index inside the data. Error (naming `what`) otherwise.
Result<std::string> locale_data_codeset(const LocaleCategory& category, std::string_view data,
                                        std::string_view what);

// The same in steps, for data read in parts (a 353 KB LC_CTYPE holds a short
// codeset string): how many leading bytes the header and string index take,
// judged from `head`, the first bytes of the data (8 when fewer than 8);
std::uint64_t locale_data_index_end(std::string_view head);
// then the checks locale_data_codeset makes of the header and the index, given
// the first min(data_size, locale_data_index_end(head)) bytes or more as `head`
// and the size of the whole data: the offset of the codeset string;
Result<std::uint32_t> locale_data_codeset_offset(const LocaleCategory& category,
                                                 std::string_view head, std::uint64_t data_size,
                                                 std::string_view what);
// then the string from `tail`, the data from that offset on (at least up to
// its NUL, or to the end of the data): an Error when it holds no NUL.
Result<std::string> locale_data_codeset_string(std::string_view tail, std::string_view what);

// glibc's hash of a locale name (locale/hashval.h).
std::uint32_t locale_archive_hash(std::string_view name);

struct LocaleDataSpan {
  std::uint32_t offset = 0;
  std::uint32_t length = 0;
};

struct ArchiveLocale {
  std::string name;
  std::uint32_t locrec_offset = 0;
  std::array<LocaleDataSpan, kLocaleCategorySlots> records{};  // by category number
};

class LocaleArchive {
 public:
  // Every name with a locale record ("localedef --list-archive"), sorted by byte value.
  std::vector<std::string> names() const;
  // glibc's lookup of an exact name (callers normalise first, see
  // archive_lookup_name): open addressing from hashval % size with step
  // 1 + hashval % (size - 2); an empty slot ends the search, a slot whose
  // record offset is 0 is a deleted name. nullptr when not found.
  const ArchiveLocale* find(std::string_view name) const;
  std::uint32_t serial() const { return serial_; }
  std::size_t size() const { return locales_.size(); }

 private:
  friend Result<LocaleArchive> parse_locale_archive(std::string_view, std::uint64_t);
  struct Slot {
    std::uint32_t hashval = 0;
    std::uint32_t name_offset = 0;
    int locale = -1;  // index into locales_, -1 for an empty or deleted slot
  };
  std::uint32_t serial_ = 0;
  std::vector<Slot> slots_;
  std::vector<ArchiveLocale> locales_;
  std::vector<std::string> slot_names_;  // name of each slot with a name_offset (else "")
};

// Parses an archive. `bytes` is the file, or its beginning when the file is
// larger than the caller wants to read; `file_size` is the size of the whole
// file. The header and the hash, string and record tables must lie within
// `bytes`; every locale's data must lie within `file_size`. Anything else
// (wrong magic, short or truncated file, offsets out of range, names without a
// terminating NUL) is an Error saying what is wrong.
Result<LocaleArchive> parse_locale_archive(std::string_view bytes, std::uint64_t file_size);
inline Result<LocaleArchive> parse_locale_archive(std::string_view bytes) {
  return parse_locale_archive(bytes, bytes.size());
}

// How many leading bytes of an archive hold its header and the name, string and
// locale record tables (what parse_locale_archive needs within `bytes` of a good
// archive), judged from its first bytes (the header size when fewer than that).
std::uint64_t locale_archive_tables_end(std::string_view bytes);

// The bytes of one category of an archive locale, when they lie within `bytes`.
std::optional<std::string_view> archive_locale_data(std::string_view bytes,
                                                    const ArchiveLocale& locale, int category);

}  // namespace pycheck
