// The ELF reader's pieces: bounds-checked fields, the header, the program
// headers, the dynamic entries and the names of things (elf_parse.cpp puts them together).
#include "checks/formats/elf.h"

#include <algorithm>

#include "checks/formats/elf_internal.h"

namespace pycheck {
namespace elf_detail {

std::string hex(std::uint64_t v) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  do {
    out.insert(out.begin(), digits[v & 0xf]);
    v >>= 4;
  } while (v != 0);
  return "0x" + out;
}

Error truncated(std::string_view what, std::uint64_t offset, std::uint64_t size,
                std::uint64_t have) {
  return Error{std::string(what) + " (offset " + hex(offset) + ", " + std::to_string(size) +
               " bytes) extends past the end of the data (" + std::to_string(have) + " bytes)"};
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

namespace {
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

}  // namespace

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

Result<StringTable> locate_strtab(const std::vector<ProgramHeader>& phs, const RawDynamic& raw) {
  if (!raw.strtab_vaddr) return Error{"dynamic section has no DT_STRTAB"};
  auto offset = vaddr_to_offset(phs, *raw.strtab_vaddr);
  if (!offset) {
    return Error{"DT_STRTAB address " + hex(*raw.strtab_vaddr) +
                 " is not inside any PT_LOAD segment"};
  }
  return StringTable{*offset, raw.strsz.value_or(kStrtabGuess)};
}

}  // namespace elf_detail

using elf_detail::Bytes;
using elf_detail::bytes_for;

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
