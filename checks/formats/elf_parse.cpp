// What of an ELF file the parse needs read, and the parse itself.
#include <algorithm>

#include "checks/formats/elf.h"
#include "checks/formats/elf_internal.h"

namespace pycheck {

namespace {

using elf_detail::Bytes;
using elf_detail::bytes_for;
using elf_detail::end_of;
using elf_detail::find_segment;
using elf_detail::hex;
using elf_detail::kDtFlags;
using elf_detail::kDtFlags1;
using elf_detail::kDtNeeded;
using elf_detail::kDtRpath;
using elf_detail::kDtRunpath;
using elf_detail::kDtSoname;
using elf_detail::locate_strtab;
using elf_detail::parse_program_headers;
using elf_detail::program_headers_end;
using elf_detail::RawDynamic;
using elf_detail::read_dynamic_entries;
using elf_detail::StringTable;
using elf_detail::truncated;

// What elf_prefix_needed learns on its way, kept so that a parse of the same
// bytes does not read the header, program headers and dynamic section again.
struct PrefixScan {
  std::uint64_t need = 0;
  std::optional<ElfHeader> header;  // set once the program headers are parsed too
  std::vector<ProgramHeader> program_headers;
  std::optional<RawDynamic> dynamic;  // set once the dynamic section and strtab are located
  StringTable strings;
};

Result<PrefixScan> scan_prefix(std::string_view prefix) {
  PrefixScan scan;
  auto h = parse_elf_header(prefix);
  if (!h) {
    // A short prefix of what may still be an ELF file: ask for a whole header first.
    const std::string_view magic =
        "\x7f"
        "ELF";
    const bool maybe_elf =
        prefix.size() < magic.size() ? magic.starts_with(prefix) : looks_like_elf(prefix);
    if (prefix.size() < kElfHeadBytes && maybe_elf) {
      scan.need = kElfHeadBytes;
      return scan;
    }
    return h.error();
  }
  auto ph_end = program_headers_end(*h);
  if (!ph_end) return ph_end.error();
  scan.need = std::max<std::uint64_t>(*ph_end, h->is_64() ? 64 : 52);
  if (scan.need > prefix.size()) return scan;

  const ElfPiece whole{0, prefix};
  Bytes b = bytes_for({&whole, 1}, *h);
  auto phs = parse_program_headers(b, *h);
  if (!phs) return phs.error();
  const ProgramHeader* dyn = nullptr;
  for (const ProgramHeader& ph : *phs) {
    if (ph.type != elfc::kPtInterp && ph.type != elfc::kPtDynamic) continue;
    std::uint64_t end = 0;
    if (!end_of(ph.offset, ph.filesz, &end)) return Error{"segment offset overflows"};
    scan.need = std::max(scan.need, end);
    if (ph.type == elfc::kPtDynamic && dyn == nullptr) dyn = &ph;
  }
  scan.header = *h;
  if (scan.need > prefix.size() || dyn == nullptr) {
    scan.program_headers = std::move(*phs);
    return scan;
  }

  auto raw = read_dynamic_entries(b, *h, *dyn);
  if (!raw) return raw.error();
  auto strtab = locate_strtab(*phs, *raw);
  if (!strtab) return strtab.error();
  std::uint64_t end = 0;
  if (!end_of(strtab->offset, strtab->size, &end)) return Error{"DT_STRSZ overflows"};
  scan.need = std::max(scan.need, end);
  scan.program_headers = std::move(*phs);
  scan.dynamic = std::move(*raw);
  scan.strings = *strtab;
  return scan;
}

// parse_elf_pieces from the program headers on (`file` holds the header and
// them). `dynamic` and `strings`: the first PT_DYNAMIC's entries and string
// table when already read from `b`, else nullptr.
Result<ElfFile> finish_elf(const Bytes& b, ElfFile file, const RawDynamic* dynamic,
                           const StringTable* strings) {
  const ElfHeader& h = file.header;
  if (const ProgramHeader* interp = find_segment(file.program_headers, elfc::kPtInterp)) {
    if (!b.fits(interp->offset, interp->filesz)) {
      return truncated("PT_INTERP", interp->offset, interp->filesz, b.size());
    }
    auto path = b.string_at(interp->offset, std::min<std::uint64_t>(interp->filesz, kElfMaxString));
    if (!path) return Error{"PT_INTERP at " + hex(interp->offset) + " is not NUL-terminated"};
    file.interpreter = std::string(*path);
  }

  const ProgramHeader* dyn = find_segment(file.program_headers, elfc::kPtDynamic);
  if (dyn == nullptr) return file;
  file.has_dynamic = true;
  std::optional<RawDynamic> raw_read;
  std::optional<StringTable> strtab_read;
  if (dynamic == nullptr) {
    auto raw = read_dynamic_entries(b, h, *dyn);
    if (!raw) return raw.error();
    auto strtab = locate_strtab(file.program_headers, *raw);
    if (!strtab) return strtab.error();
    raw_read = std::move(*raw);
    strtab_read = *strtab;
    dynamic = &*raw_read;
    strings = &*strtab_read;
  }
  const RawDynamic* raw = dynamic;
  const StringTable* strtab = strings;
  if (raw->strsz && !b.fits(strtab->offset, strtab->size)) {
    return truncated("dynamic string table", strtab->offset, strtab->size, b.size());
  }

  auto string_for = [&](std::int64_t tag, std::uint64_t index) -> Result<std::string> {
    const char* name = tag == kDtNeeded   ? "DT_NEEDED"
                       : tag == kDtSoname ? "DT_SONAME"
                       : tag == kDtRpath  ? "DT_RPATH"
                                          : "DT_RUNPATH";
    if (index >= strtab->size) {
      return Error{std::string(name) + " string index " + hex(index) +
                   " is outside the string table (" + std::to_string(strtab->size) + " bytes)"};
    }
    const std::uint64_t limit = std::min<std::uint64_t>(strtab->size - index, kElfMaxString);
    auto s = b.string_at(strtab->offset + index, limit);
    if (!s) {
      return Error{std::string(name) + " string at " + hex(strtab->offset + index) +
                   " is not NUL-terminated within " + std::to_string(limit) + " bytes"};
    }
    return std::string(*s);
  };

  DynamicInfo& info = file.dynamic;
  for (const auto& [tag, value] : raw->entries) {
    switch (tag) {
      case kDtNeeded: {
        if (info.needed.size() >= kElfMaxNeeded) {
          return Error{"more than " + std::to_string(kElfMaxNeeded) + " DT_NEEDED entries"};
        }
        auto s = string_for(tag, value);
        if (!s) return s.error();
        info.needed.push_back(std::move(*s));
        break;
      }
      // As glibc's get-dynamic-info, a later entry of the same tag wins.
      case kDtSoname:
      case kDtRpath:
      case kDtRunpath: {
        auto s = string_for(tag, value);
        if (!s) return s.error();
        (tag == kDtSoname  ? info.soname
         : tag == kDtRpath ? info.rpath
                           : info.runpath) = std::move(*s);
        break;
      }
      case kDtFlags:
        info.flags = value;
        break;
      case kDtFlags1:
        info.flags_1 = value;
        break;
      default:
        break;
    }
  }
  return file;
}

}  // namespace

Result<std::uint64_t> elf_prefix_needed(std::string_view prefix) {
  auto scan = scan_prefix(prefix);
  if (!scan) return scan.error();
  return scan->need;
}

Result<ElfPrefixParse> parse_elf_prefix(std::string_view prefix, bool whole_file) {
  auto scan = scan_prefix(prefix);
  if (!scan) return scan.error();
  if (scan->need > prefix.size() && !whole_file) return ElfPrefixParse{scan->need, std::nullopt};
  if (!scan->header) {
    auto elf = parse_elf(prefix);
    if (!elf) return elf.error();
    return ElfPrefixParse{scan->need, std::move(*elf)};
  }
  // The same bytes as parse_elf would read: go on from what the scan parsed.
  const ElfPiece whole{0, prefix};
  ElfFile file;
  file.header = *scan->header;
  file.program_headers = std::move(scan->program_headers);
  auto elf = finish_elf(bytes_for({&whole, 1}, file.header), std::move(file),
                        scan->dynamic ? &*scan->dynamic : nullptr,
                        scan->dynamic ? &scan->strings : nullptr);
  if (!elf) return elf.error();
  return ElfPrefixParse{scan->need, std::move(*elf)};
}

Result<ElfFile> parse_elf(std::string_view bytes) {
  const ElfPiece whole{0, bytes};
  return parse_elf_pieces({&whole, 1});
}

Result<ElfFile> parse_elf_pieces(std::span<const ElfPiece> pieces) {
  std::string_view head;
  for (const ElfPiece& p : pieces) {
    if (p.offset == 0 && p.bytes.size() > head.size()) head = p.bytes;
  }
  auto header = parse_elf_header(head);
  if (!header) return header.error();
  ElfFile file;
  file.header = *header;
  Bytes b = bytes_for(pieces, file.header);
  auto phs = parse_program_headers(b, file.header);
  if (!phs) return phs.error();
  file.program_headers = std::move(*phs);
  return finish_elf(b, std::move(file), nullptr, nullptr);
}

}  // namespace pycheck
