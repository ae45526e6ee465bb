// Internals shared by the ELF reader's files (elf.cpp: the pieces and the
// tables; elf_parse.cpp: what a file needs read and its parse). Not an API.
#pragma once

#include <algorithm>
#include <bit>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "checks/formats/elf.h"

namespace pycheck::elf_detail {

constexpr std::int64_t kDtNull = 0;
constexpr std::int64_t kDtNeeded = 1;
constexpr std::int64_t kDtStrtab = 5;
constexpr std::int64_t kDtStrsz = 10;
constexpr std::int64_t kDtSoname = 14;
constexpr std::int64_t kDtRpath = 15;
constexpr std::int64_t kDtRunpath = 29;
constexpr std::int64_t kDtFlags = 30;
constexpr std::int64_t kDtFlags1 = 0x6ffffffb;

// When DT_STRSZ is missing, how far past DT_STRTAB strings may be looked for.
constexpr std::uint64_t kStrtabGuess = 64 * 1024;

std::string hex(std::uint64_t v);

// An unsigned field of the file's byte order at `at` (called for every field: no byte loop).
template <typename T>
inline std::uint64_t load(const char* at, bool big) {
  T v;
  std::memcpy(&v, at, sizeof v);
  if (big == (std::endian::native == std::endian::big)) return v;
  if constexpr (sizeof v == 2) return __builtin_bswap16(v);
  if constexpr (sizeof v == 4) return __builtin_bswap32(v);
  return __builtin_bswap64(v);
}

// Bounds-checked, endian-aware view of a file's bytes: one prefix, or a few
// slices read at their offsets. A read outside every slice fails as one past
// the end would. Every read says whether it fit.
class Bytes {
 public:
  Bytes(std::span<const ElfPiece> pieces, bool big, bool is64)
      : pieces_(pieces), big_(big), is64_(is64) {
    for (const ElfPiece& p : pieces_) size_ = std::max(size_, p.offset + p.bytes.size());
  }

  // One past the last byte held (the prefix's size for a prefix).
  std::uint64_t size() const { return size_; }
  bool fits(std::uint64_t offset, std::uint64_t length) const {
    return slice(offset, length) != nullptr;
  }
  bool read(std::uint64_t offset, int width, std::uint64_t* out) const {
    const char* at = slice(offset, static_cast<std::uint64_t>(width));
    if (at == nullptr) return false;
    switch (width) {
      case 2:
        *out = load<std::uint16_t>(at, big_);
        return true;
      case 4:
        *out = load<std::uint32_t>(at, big_);
        return true;
      default:
        *out = load<std::uint64_t>(at, big_);
        return true;
    }
  }
  // An address or offset-sized field: 8 bytes in ELF64, 4 in ELF32.
  bool word(std::uint64_t offset, std::uint64_t* out) const {
    return read(offset, is64_ ? 8 : 4, out);
  }
  // A NUL-terminated string of at most `limit` bytes starting at `offset`.
  std::optional<std::string_view> string_at(std::uint64_t offset, std::uint64_t limit) const {
    for (const ElfPiece& p : pieces_) {
      if (offset < p.offset || offset - p.offset >= p.bytes.size()) continue;
      const std::uint64_t start = offset - p.offset;
      std::string_view rest =
          p.bytes.substr(start, std::min<std::uint64_t>(limit, p.bytes.size() - start));
      std::size_t nul = rest.find('\0');
      if (nul == std::string_view::npos) return std::nullopt;
      return rest.substr(0, nul);
    }
    return std::nullopt;
  }

 private:
  // Where [offset, offset + length) starts in the slice holding all of it, or nullptr.
  const char* slice(std::uint64_t offset, std::uint64_t length) const {
    for (const ElfPiece& p : pieces_) {
      if (offset >= p.offset && offset - p.offset <= p.bytes.size() &&
          length <= p.bytes.size() - (offset - p.offset)) {
        return p.bytes.data() + (offset - p.offset);
      }
    }
    return nullptr;
  }

  std::span<const ElfPiece> pieces_;
  std::uint64_t size_ = 0;
  bool big_;
  bool is64_;
};

inline Bytes bytes_for(std::span<const ElfPiece> pieces, const ElfHeader& h) {
  return Bytes(pieces, h.big_endian(), h.is_64());
}

Error truncated(std::string_view what, std::uint64_t offset, std::uint64_t size,
                std::uint64_t have);
// Overflow-safe end of [offset, offset + size).
inline bool end_of(std::uint64_t offset, std::uint64_t size, std::uint64_t* end) {
  if (offset > UINT64_MAX - size) return false;
  *end = offset + size;
  return true;
}
// One past the program header table (0 without one); fails on a count or entry size ld.so refuses.
Result<std::uint64_t> program_headers_end(const ElfHeader& h);
Result<std::vector<ProgramHeader>> parse_program_headers(const Bytes& b, const ElfHeader& h);
const ProgramHeader* find_segment(const std::vector<ProgramHeader>& phs, std::uint32_t type);

struct RawDynamic {
  std::vector<std::pair<std::int64_t, std::uint64_t>> entries;  // up to DT_NULL
  std::optional<std::uint64_t> strtab_vaddr;
  std::optional<std::uint64_t> strsz;
};
// Reads the dynamic entries of `dyn` that lie inside `b`.
Result<RawDynamic> read_dynamic_entries(const Bytes& b, const ElfHeader& h,
                                        const ProgramHeader& dyn);

struct StringTable {
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
};
Result<StringTable> locate_strtab(const std::vector<ProgramHeader>& phs, const RawDynamic& raw);

}  // namespace pycheck::elf_detail
