#include "checks/formats/locale_archive.h"

#include <algorithm>
#include <cstring>

namespace pycheck {
namespace {

constexpr std::size_t kHeaderSize = 14 * 4;
constexpr std::size_t kNameHashEntrySize = 3 * 4;
constexpr std::size_t kLocRecSize = 4 + kLocaleCategorySlots * 8;

// LIMAGIC (locale/localeinfo.h): LC_CTYPE and LC_COLLATE have their own base.
constexpr std::uint32_t magic_for(int id) {
  const std::uint32_t base = id == 0 ? 0x20090720u : id == 3 ? 0x20051014u : 0x20031115u;
  return base ^ static_cast<std::uint32_t>(id);
}

// Codeset item indices from <langinfo.h> (CODESET, _NL_NUMERIC_CODESET, ...).
constexpr std::array<LocaleCategory, 12> kCategories{{
    {12, "LC_IDENTIFICATION", magic_for(12), 15},
    {11, "LC_MEASUREMENT", magic_for(11), 1},
    {10, "LC_TELEPHONE", magic_for(10), 4},
    {9, "LC_ADDRESS", magic_for(9), 12},
    {8, "LC_NAME", magic_for(8), 6},
    {7, "LC_PAPER", magic_for(7), 2},
    {5, "LC_MESSAGES", magic_for(5), 4},
    {4, "LC_MONETARY", magic_for(4), 45},
    {3, "LC_COLLATE", magic_for(3), 18},
    {2, "LC_TIME", magic_for(2), 110},
    {1, "LC_NUMERIC", magic_for(1), 5},
    {0, "LC_CTYPE", magic_for(0), 14},
}};

std::uint32_t read_u32(std::string_view bytes, std::size_t offset) {
  std::uint32_t v;
  std::memcpy(&v, bytes.data() + offset, sizeof v);
  return v;
}

std::string hex(std::uint32_t v) {
  static const char* digits = "0123456789abcdef";
  std::string out = "0x";
  for (int shift = 28; shift >= 0; shift -= 4) out += digits[(v >> shift) & 0xf];
  return out;
}

// True when [offset, offset + count * entry) lies within `limit` (no overflow: 64-bit).
bool table_fits(std::uint64_t offset, std::uint64_t count, std::uint64_t entry,
                std::uint64_t limit) {
  return offset <= limit && count <= (limit - offset) / entry;
}

}  // namespace

std::span<const LocaleCategory> locale_categories() { return kCategories; }

const LocaleCategory* find_locale_category(std::string_view name) {
  for (const LocaleCategory& c : kCategories) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

std::uint64_t locale_data_index_end(std::string_view head) {
  if (head.size() < 8) return 8;
  return 8 + 4 * std::uint64_t{read_u32(head, 4)};
}

Result<std::uint32_t> locale_data_codeset_offset(const LocaleCategory& category,
                                                 std::string_view head, std::uint64_t data_size,
                                                 std::string_view what) {
  const std::string prefix = std::string(what) + ": ";
  if (data_size < 8) return Error{prefix + "too short for " + std::string(category.name) + " data"};
  if (head.size() < 8) return Error{prefix + "header was not read"};
  const std::uint32_t magic = read_u32(head, 0);
  if (magic != category.magic) {
    return Error{prefix + "not " + std::string(category.name) + " data (magic " + hex(magic) +
                 ", expected " + hex(category.magic) + ")"};
  }
  const std::uint32_t nstrings = read_u32(head, 4);
  // glibc requires the index to end before the data does.
  if (!table_fits(8, nstrings, 4, data_size - 1)) {
    return Error{prefix + "string index (" + std::to_string(nstrings) +
                 " entries) runs past the end"};
  }
  if (category.codeset_item >= nstrings) {
    return Error{prefix + "has no codeset entry (" + std::to_string(nstrings) + " strings)"};
  }
  if (head.size() < locale_data_index_end(head)) {
    return Error{prefix + "string index was not read whole"};
  }
  for (std::uint32_t i = 0; i < nstrings; ++i) {
    if (read_u32(head, 8 + 4 * static_cast<std::size_t>(i)) > data_size) {
      return Error{prefix + "string " + std::to_string(i) + " points past the end"};
    }
  }
  return read_u32(head, 8 + 4 * static_cast<std::size_t>(category.codeset_item));
}

Result<std::string> locale_data_codeset_string(std::string_view tail, std::string_view what) {
  const std::size_t nul = tail.find('\0');
  if (nul == std::string_view::npos) {
    return Error{std::string(what) + ": codeset string is not terminated"};
  }
  return std::string(tail.substr(0, nul));
}

Result<std::string> locale_data_codeset(const LocaleCategory& category, std::string_view data,
                                        std::string_view what) {
  auto at = locale_data_codeset_offset(category, data, data.size(), what);
  if (!at) return at.error();
  return locale_data_codeset_string(data.substr(*at), what);
}

std::uint64_t locale_archive_tables_end(std::string_view bytes) {
  if (bytes.size() < kHeaderSize) return kHeaderSize;
  const std::uint64_t namehash_end =
      std::uint64_t{read_u32(bytes, 8)} + read_u32(bytes, 16) * std::uint64_t{kNameHashEntrySize};
  const std::uint64_t string_end = std::uint64_t{read_u32(bytes, 20)} + read_u32(bytes, 24);
  const std::uint64_t locrec_end =
      std::uint64_t{read_u32(bytes, 32)} + read_u32(bytes, 36) * std::uint64_t{kLocRecSize};
  return std::max({std::uint64_t{kHeaderSize}, namehash_end, string_end, locrec_end});
}

std::uint32_t locale_archive_hash(std::string_view name) {
  std::uint32_t hval = static_cast<std::uint32_t>(name.size());
  for (unsigned char c : name) {
    hval = (hval << 9) | (hval >> 23);
    hval += c;
  }
  return hval != 0 ? hval : ~std::uint32_t{0};
}

std::vector<std::string> LocaleArchive::names() const {
  std::vector<std::string> out;
  out.reserve(locales_.size());
  for (const ArchiveLocale& l : locales_) out.push_back(l.name);
  std::sort(out.begin(), out.end());
  return out;
}

const ArchiveLocale* LocaleArchive::find(std::string_view name) const {
  const std::size_t size = slots_.size();
  if (size < 3) return nullptr;
  const std::uint32_t hval = locale_archive_hash(name);
  std::size_t idx = hval % size;
  const std::size_t incr = 1 + hval % (size - 2);
  // glibc probes until an empty slot; a full table would loop forever there.
  for (std::size_t probes = 0; probes < size; ++probes) {
    const Slot& slot = slots_[idx];
    if (slot.name_offset == 0) return nullptr;
    if (slot.hashval == hval && slot_names_[idx] == name) {
      return slot.locale >= 0 ? &locales_[static_cast<std::size_t>(slot.locale)] : nullptr;
    }
    idx += incr;
    if (idx >= size) idx -= size;
  }
  return nullptr;
}

Result<LocaleArchive> parse_locale_archive(std::string_view bytes, std::uint64_t file_size) {
  if (file_size < bytes.size()) file_size = bytes.size();
  if (bytes.size() < kHeaderSize) {
    return Error{"locale archive too short for its header (" + std::to_string(bytes.size()) +
                 " bytes)"};
  }
  const std::uint32_t magic = read_u32(bytes, 0);
  if (magic != kLocaleArchiveMagic) {
    if (magic == __builtin_bswap32(kLocaleArchiveMagic)) {
      return Error{"locale archive has the other byte order (made for another architecture)"};
    }
    return Error{"not a locale archive (magic " + hex(magic) + ", expected " +
                 hex(kLocaleArchiveMagic) + ")"};
  }
  std::array<std::uint32_t, 14> h{};
  for (std::size_t i = 0; i < h.size(); ++i) h[i] = read_u32(bytes, 4 * i);
  const std::uint32_t namehash_offset = h[2], namehash_used = h[3], namehash_size = h[4];
  const std::uint32_t string_offset = h[5], string_used = h[6];
  const std::uint32_t locrectab_offset = h[8], locrectab_used = h[9];

  // glibc divides by size and by size - 2.
  if (namehash_size < 3) {
    return Error{"locale archive name table has " + std::to_string(namehash_size) + " slots"};
  }
  if (namehash_used > namehash_size) {
    return Error{"locale archive name table claims " + std::to_string(namehash_used) + " of " +
                 std::to_string(namehash_size) + " slots used"};
  }
  const std::uint64_t have = bytes.size();
  const bool truncated_read = have < file_size;
  auto out_of_range = [&](std::string_view table) {
    return Error{"locale archive " + std::string(table) + " lies outside the file (" +
                 std::to_string(file_size) + " bytes" +
                 (truncated_read ? ", read " + std::to_string(have) : "") +
                 "): truncated or corrupt"};
  };
  if (!table_fits(namehash_offset, namehash_size, kNameHashEntrySize, have)) {
    return out_of_range("name table");
  }
  if (!table_fits(string_offset, string_used, 1, have)) return out_of_range("string table");
  if (!table_fits(locrectab_offset, locrectab_used, kLocRecSize, have)) {
    return out_of_range("locale record table");
  }

  LocaleArchive archive;
  archive.serial_ = h[1];
  archive.slots_.resize(namehash_size);
  archive.slot_names_.resize(namehash_size);
  for (std::uint32_t i = 0; i < namehash_size; ++i) {
    const std::size_t at = namehash_offset + kNameHashEntrySize * static_cast<std::size_t>(i);
    LocaleArchive::Slot& slot = archive.slots_[i];
    slot.hashval = read_u32(bytes, at);
    slot.name_offset = read_u32(bytes, at + 4);
    const std::uint32_t locrec_offset = read_u32(bytes, at + 8);
    if (slot.name_offset == 0) continue;
    const std::size_t nul =
        slot.name_offset < have ? bytes.find('\0', slot.name_offset) : std::string_view::npos;
    if (nul == std::string_view::npos) {
      return Error{"locale archive name at offset " + std::to_string(slot.name_offset) +
                   " lies outside the file or is not terminated: truncated or corrupt"};
    }
    archive.slot_names_[i] = std::string(bytes.substr(slot.name_offset, nul - slot.name_offset));
    if (locrec_offset == 0) continue;  // a deleted name
    const std::string& name = archive.slot_names_[i];
    if (!table_fits(locrec_offset, 1, kLocRecSize, have)) {
      return Error{"locale archive record of " + name +
                   " lies outside the file: truncated or corrupt"};
    }
    ArchiveLocale locale;
    locale.name = name;
    locale.locrec_offset = locrec_offset;
    for (int cat = 0; cat < kLocaleCategorySlots; ++cat) {
      const std::size_t rec = locrec_offset + 4 + 8 * static_cast<std::size_t>(cat);
      locale.records[cat] = {read_u32(bytes, rec), read_u32(bytes, rec + 4)};
      if (cat == kLcAll) continue;
      const LocaleDataSpan& span = locale.records[cat];
      if (std::uint64_t{span.offset} + span.length > file_size) {
        return Error{"locale archive data of " + name + " lies outside the file (" +
                     std::to_string(file_size) + " bytes): truncated or corrupt"};
      }
    }
    slot.locale = static_cast<int>(archive.locales_.size());
    archive.locales_.push_back(std::move(locale));
  }
  return archive;
}

std::optional<std::string_view> archive_locale_data(std::string_view bytes,
                                                    const ArchiveLocale& locale, int category) {
  if (category < 0 || category >= kLocaleCategorySlots || category == kLcAll) return std::nullopt;
  const LocaleDataSpan& span = locale.records[category];
  if (std::uint64_t{span.offset} + span.length > bytes.size()) return std::nullopt;
  return bytes.substr(span.offset, span.length);
}

}  // namespace pycheck
