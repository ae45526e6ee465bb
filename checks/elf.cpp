#include "checks/elf.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace pycheck {
namespace {

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

std::string hex(std::uint64_t v) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  do {
    out.insert(out.begin(), digits[v & 0xf]);
    v >>= 4;
  } while (v != 0);
  return "0x" + out;
}

// An unsigned field of the file's byte order at `at` (called for every field: no byte loop).
template <typename T>
std::uint64_t load(const char* at, bool big) {
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

Bytes bytes_for(std::span<const ElfPiece> pieces, const ElfHeader& h) {
  return Bytes(pieces, h.big_endian(), h.is_64());
}

Error truncated(std::string_view what, std::uint64_t offset, std::uint64_t size,
                std::uint64_t have) {
  return Error{std::string(what) + " (offset " + hex(offset) + ", " + std::to_string(size) +
               " bytes) extends past the end of the data (" + std::to_string(have) + " bytes)"};
}

// Overflow-safe end of [offset, offset + size).
bool end_of(std::uint64_t offset, std::uint64_t size, std::uint64_t* end) {
  if (offset > UINT64_MAX - size) return false;
  *end = offset + size;
  return true;
}

Result<std::uint64_t> program_headers_end(const ElfHeader& h) {
  if (h.phnum == 0) return std::uint64_t{0};
  if (h.phnum > kElfMaxPhnum) {
    return Error{"extended program header count (e_phnum 0xffff) is not supported"};
  }
  if (h.phentsize < h.native_phentsize()) {
    return Error{"e_phentsize " + std::to_string(h.phentsize) + " is smaller than a " +
                 (h.is_64() ? "64" : "32") + "-bit program header (" +
                 std::to_string(h.native_phentsize()) + ")"};
  }
  std::uint64_t end = 0;
  if (!end_of(h.phoff, std::uint64_t{h.phentsize} * h.phnum, &end)) {
    return Error{"program header table offset " + hex(h.phoff) + " overflows"};
  }
  return end;
}

Result<std::vector<ProgramHeader>> parse_program_headers(const Bytes& b, const ElfHeader& h) {
  auto end = program_headers_end(h);
  if (!end) return end.error();
  std::vector<ProgramHeader> out;
  if (h.phnum == 0) return out;
  if (*end > b.size()) {
    return truncated("program header table", h.phoff, std::uint64_t{h.phentsize} * h.phnum,
                     b.size());
  }
  out.reserve(h.phnum);
  for (std::uint16_t i = 0; i < h.phnum; ++i) {
    const std::uint64_t at = h.phoff + std::uint64_t{i} * h.phentsize;
    ProgramHeader ph;
    std::uint64_t type = 0, flags = 0;
    // The two classes order the fields differently (p_flags moves up in ELF64).
    bool ok = b.read(at, 4, &type);
    if (h.is_64()) {
      ok = ok && b.read(at + 4, 4, &flags) && b.read(at + 8, 8, &ph.offset) &&
           b.read(at + 16, 8, &ph.vaddr) && b.read(at + 32, 8, &ph.filesz) &&
           b.read(at + 40, 8, &ph.memsz);
    } else {
      ok = ok && b.read(at + 4, 4, &ph.offset) && b.read(at + 8, 4, &ph.vaddr) &&
           b.read(at + 16, 4, &ph.filesz) && b.read(at + 20, 4, &ph.memsz) &&
           b.read(at + 24, 4, &flags);
    }
    if (!ok) return truncated("program header", at, h.phentsize, b.size());
    ph.type = static_cast<std::uint32_t>(type);
    ph.flags = static_cast<std::uint32_t>(flags);
    out.push_back(ph);
  }
  return out;
}

const ProgramHeader* find_segment(const std::vector<ProgramHeader>& phs, std::uint32_t type) {
  for (const ProgramHeader& ph : phs) {
    if (ph.type == type) return &ph;
  }
  return nullptr;
}

// Maps a virtual address to a file offset through the PT_LOAD segment holding it.
std::optional<std::uint64_t> vaddr_to_offset(const std::vector<ProgramHeader>& phs,
                                             std::uint64_t vaddr) {
  for (const ProgramHeader& ph : phs) {
    if (ph.type != elfc::kPtLoad || vaddr < ph.vaddr) continue;
    const std::uint64_t delta = vaddr - ph.vaddr;
    if (delta >= ph.filesz) continue;
    std::uint64_t offset = 0;
    if (!end_of(ph.offset, delta, &offset)) continue;
    return offset;
  }
  return std::nullopt;
}

struct RawDynamic {
  std::vector<std::pair<std::int64_t, std::uint64_t>> entries;  // up to DT_NULL
  std::optional<std::uint64_t> strtab_vaddr;
  std::optional<std::uint64_t> strsz;
};

// Reads the dynamic entries of `dyn` that lie inside `b`.
Result<RawDynamic> read_dynamic_entries(const Bytes& b, const ElfHeader& h,
                                        const ProgramHeader& dyn) {
  const std::uint64_t entsize = h.is_64() ? 16 : 8;
  std::uint64_t end = 0;
  if (!end_of(dyn.offset, dyn.filesz, &end)) {
    return Error{"PT_DYNAMIC offset " + hex(dyn.offset) + " overflows"};
  }
  if (end > b.size()) return truncated("dynamic section", dyn.offset, dyn.filesz, b.size());
  RawDynamic raw;
  const std::uint64_t count = dyn.filesz / entsize;
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::uint64_t at = dyn.offset + i * entsize;
    std::uint64_t tag = 0, value = 0;
    if (!b.word(at, &tag) || !b.word(at + entsize / 2, &value)) {
      return truncated("dynamic entry", at, entsize, b.size());
    }
    // d_tag is signed; sign-extend a 32-bit one so processor tags compare right.
    std::int64_t stag = h.is_64() ? static_cast<std::int64_t>(tag)
                                  : static_cast<std::int32_t>(static_cast<std::uint32_t>(tag));
    if (stag == kDtNull) break;
    if (stag == kDtStrtab) raw.strtab_vaddr = value;
    if (stag == kDtStrsz) raw.strsz = value;
    raw.entries.emplace_back(stag, value);
  }
  return raw;
}

struct StringTable {
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
};

Result<StringTable> locate_strtab(const std::vector<ProgramHeader>& phs, const RawDynamic& raw) {
  if (!raw.strtab_vaddr) return Error{"dynamic section has no DT_STRTAB"};
  auto offset = vaddr_to_offset(phs, *raw.strtab_vaddr);
  if (!offset) {
    return Error{"DT_STRTAB address " + hex(*raw.strtab_vaddr) +
                 " is not inside any PT_LOAD segment"};
  }
  return StringTable{*offset, raw.strsz.value_or(kStrtabGuess)};
}

}  // namespace

bool looks_like_elf(std::string_view head) {
  return head.starts_with(
      "\x7f"
      "ELF");
}

Result<ElfHeader> parse_elf_header(std::string_view bytes) {
  if (bytes.size() < 16) {
    return Error{"too short for an ELF header (" + std::to_string(bytes.size()) + " bytes)"};
  }
  if (!looks_like_elf(bytes)) return Error{"not an ELF file (no \\x7fELF magic)"};
  ElfHeader h;
  h.elf_class = static_cast<std::uint8_t>(bytes[4]);
  h.data = static_cast<std::uint8_t>(bytes[5]);
  h.ident_version = static_cast<std::uint8_t>(bytes[6]);
  h.os_abi = static_cast<std::uint8_t>(bytes[7]);
  h.abi_version = static_cast<std::uint8_t>(bytes[8]);
  h.ident_padding_zero =
      std::all_of(bytes.begin() + 9, bytes.begin() + 16, [](char c) { return c == '\0'; });
  if (h.elf_class != elfc::kClass32 && h.elf_class != elfc::kClass64) {
    return Error{"unknown ELF class " + std::to_string(h.elf_class)};
  }
  if (h.data != elfc::kDataLittle && h.data != elfc::kDataBig) {
    return Error{"unknown ELF byte order " + std::to_string(h.data)};
  }
  const std::size_t need = h.is_64() ? 64 : 52;
  if (bytes.size() < need) {
    return Error{"truncated ELF header (" + std::to_string(bytes.size()) + " of " +
                 std::to_string(need) + " bytes)"};
  }
  const ElfPiece whole{0, bytes};
  Bytes b = bytes_for({&whole, 1}, h);
  std::uint64_t type = 0, machine = 0, version = 0, flags = 0, phoff = 0, ehsize = 0, phentsize = 0,
                phnum = 0;
  // Field offsets after e_entry shift by the word size.
  const std::uint64_t w = h.is_64() ? 8 : 4;
  bool ok = b.read(16, 2, &type) && b.read(18, 2, &machine) && b.read(20, 4, &version) &&
            b.word(24 + w, &phoff) && b.read(24 + 3 * w, 4, &flags) &&
            b.read(28 + 3 * w, 2, &ehsize) && b.read(30 + 3 * w, 2, &phentsize) &&
            b.read(32 + 3 * w, 2, &phnum);
  if (!ok) return Error{"truncated ELF header"};
  h.type = static_cast<std::uint16_t>(type);
  h.machine = static_cast<std::uint16_t>(machine);
  h.version = static_cast<std::uint32_t>(version);
  h.flags = static_cast<std::uint32_t>(flags);
  h.phoff = phoff;
  h.header_size = static_cast<std::uint16_t>(ehsize);
  h.phentsize = static_cast<std::uint16_t>(phentsize);
  h.phnum = static_cast<std::uint16_t>(phnum);
  return h;
}

Result<std::uint64_t> elf_prefix_needed(std::string_view prefix) {
  auto h = parse_elf_header(prefix);
  if (!h) {
    // A short prefix of what may still be an ELF file: ask for a whole header first.
    const std::string_view magic =
        "\x7f"
        "ELF";
    const bool maybe_elf =
        prefix.size() < magic.size() ? magic.starts_with(prefix) : looks_like_elf(prefix);
    if (prefix.size() < kElfHeadBytes && maybe_elf) return std::uint64_t{kElfHeadBytes};
    return h.error();
  }
  auto ph_end = program_headers_end(*h);
  if (!ph_end) return ph_end.error();
  std::uint64_t need = std::max<std::uint64_t>(*ph_end, h->is_64() ? 64 : 52);
  if (need > prefix.size()) return need;

  const ElfPiece whole{0, prefix};
  Bytes b = bytes_for({&whole, 1}, *h);
  auto phs = parse_program_headers(b, *h);
  if (!phs) return phs.error();
  const ProgramHeader* dyn = nullptr;
  for (const ProgramHeader& ph : *phs) {
    if (ph.type != elfc::kPtInterp && ph.type != elfc::kPtDynamic) continue;
    std::uint64_t end = 0;
    if (!end_of(ph.offset, ph.filesz, &end)) return Error{"segment offset overflows"};
    need = std::max(need, end);
    if (ph.type == elfc::kPtDynamic && dyn == nullptr) dyn = &ph;
  }
  if (need > prefix.size() || dyn == nullptr) return need;

  auto raw = read_dynamic_entries(b, *h, *dyn);
  if (!raw) return raw.error();
  auto strtab = locate_strtab(*phs, *raw);
  if (!strtab) return strtab.error();
  std::uint64_t end = 0;
  if (!end_of(strtab->offset, strtab->size, &end)) return Error{"DT_STRSZ overflows"};
  return std::max(need, end);
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
  const ElfHeader& h = file.header;
  Bytes b = bytes_for(pieces, h);
  auto phs = parse_program_headers(b, h);
  if (!phs) return phs.error();
  file.program_headers = std::move(*phs);

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
  auto raw = read_dynamic_entries(b, h, *dyn);
  if (!raw) return raw.error();
  auto strtab = locate_strtab(file.program_headers, *raw);
  if (!strtab) return strtab.error();
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

std::string elf_machine_name(std::uint16_t machine) {
  switch (machine) {
    case elfc::kMachine386:
      return "i386";
    case elfc::kMachineMips:
      return "MIPS";
    case elfc::kMachinePpc:
      return "PowerPC";
    case elfc::kMachinePpc64:
      return "PowerPC64";
    case elfc::kMachineS390:
      return "S/390";
    case elfc::kMachineArm:
      return "ARM";
    case elfc::kMachineSparcv9:
      return "SPARC V9";
    case elfc::kMachineIa64:
      return "IA-64";
    case elfc::kMachineX86_64:
      return "x86-64";
    case elfc::kMachineAarch64:
      return "AArch64";
    case elfc::kMachineRiscv:
      return "RISC-V";
    case elfc::kMachineLoongarch:
      return "LoongArch";
    default:
      return "machine " + std::to_string(machine);
  }
}

std::string describe_elf(const ElfHeader& h) {
  std::string out = h.is_64() ? "ELF64" : "ELF32";
  out += h.big_endian() ? " MSB " : " LSB ";
  out += elf_machine_name(h.machine);
  if (h.type == elfc::kTypeDyn)
    out += " shared object";
  else if (h.type == elfc::kTypeExec)
    out += " executable";
  else
    out += " (e_type " + std::to_string(h.type) + ")";
  return out;
}

}  // namespace pycheck
