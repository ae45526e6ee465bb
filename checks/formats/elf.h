// Pure reader of the parts of an ELF file the dynamic loader looks at: the
// header, the program headers, PT_INTERP and the dynamic section (DT_NEEDED,
// DT_SONAME, DT_RPATH, DT_RUNPATH, DT_FLAGS, DT_FLAGS_1). ELF32 and ELF64, both
// byte orders. Bytes in, values out: no I/O, no exceptions, no recursion; every
// offset and size is checked against the bytes given, and garbage gives an
// Error that says what is wrong and where.
//
// A large library (libpython is ~20 MB) need not be read whole: feed
// elf_prefix_needed() what you have read so far, read as many leading bytes as
// it asks for, and repeat (at most four rounds: header, program headers,
// dynamic section, string table) before calling parse_elf().
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/result.h"

namespace pycheck {

// Values from the ELF specification and glibc's <elf.h> that readers need.
namespace elfc {
inline constexpr std::uint8_t kClass32 = 1;
inline constexpr std::uint8_t kClass64 = 2;
inline constexpr std::uint8_t kDataLittle = 1;
inline constexpr std::uint8_t kDataBig = 2;
inline constexpr std::uint8_t kOsAbiSysv = 0;
inline constexpr std::uint8_t kOsAbiGnu = 3;
inline constexpr std::uint16_t kTypeExec = 2;  // ET_EXEC
inline constexpr std::uint16_t kTypeDyn = 3;   // ET_DYN
inline constexpr std::uint16_t kMachine386 = 3;
inline constexpr std::uint16_t kMachineMips = 8;
inline constexpr std::uint16_t kMachinePpc = 20;
inline constexpr std::uint16_t kMachinePpc64 = 21;
inline constexpr std::uint16_t kMachineS390 = 22;
inline constexpr std::uint16_t kMachineArm = 40;
inline constexpr std::uint16_t kMachineSparcv9 = 43;
inline constexpr std::uint16_t kMachineIa64 = 50;
inline constexpr std::uint16_t kMachineX86_64 = 62;
inline constexpr std::uint16_t kMachineAarch64 = 183;
inline constexpr std::uint16_t kMachineRiscv = 243;
inline constexpr std::uint16_t kMachineLoongarch = 258;
inline constexpr std::uint32_t kPtLoad = 1;
inline constexpr std::uint32_t kPtDynamic = 2;
inline constexpr std::uint32_t kPtInterp = 3;
inline constexpr std::uint64_t kDf1Nodeflib = 0x800;  // DF_1_NODEFLIB
inline constexpr std::uint64_t kDf1Pie = 0x08000000;  // DF_1_PIE
inline constexpr std::uint32_t kEfArmAbiFloatHard = 0x400;
}  // namespace elfc

struct ElfHeader {
  std::uint8_t elf_class = 0;      // EI_CLASS: elfc::kClass32 or kClass64
  std::uint8_t data = 0;           // EI_DATA: elfc::kDataLittle or kDataBig
  std::uint8_t ident_version = 0;  // EI_VERSION (1 = EV_CURRENT)
  std::uint8_t os_abi = 0;         // EI_OSABI
  std::uint8_t abi_version = 0;    // EI_ABIVERSION
  bool ident_padding_zero = true;  // e_ident[9..15] all zero (ld.so insists)
  std::uint16_t type = 0;          // e_type
  std::uint16_t machine = 0;       // e_machine
  std::uint32_t version = 0;       // e_version
  std::uint32_t flags = 0;         // e_flags (ARM float ABI, MIPS ABI, ...)
  std::uint64_t phoff = 0;
  std::uint16_t header_size = 0;  // e_ehsize
  std::uint16_t phentsize = 0;
  std::uint16_t phnum = 0;

  bool is_64() const { return elf_class == elfc::kClass64; }
  bool big_endian() const { return data == elfc::kDataBig; }
  // Size of one program header in this class (what ld.so requires e_phentsize to be).
  std::uint16_t native_phentsize() const { return is_64() ? 56 : 32; }
};

struct ProgramHeader {
  std::uint32_t type = 0;
  std::uint32_t flags = 0;
  std::uint64_t offset = 0;
  std::uint64_t vaddr = 0;
  std::uint64_t filesz = 0;
  std::uint64_t memsz = 0;
};

struct DynamicInfo {
  std::vector<std::string> needed;     // DT_NEEDED, in order
  std::optional<std::string> soname;   // DT_SONAME
  std::optional<std::string> rpath;    // DT_RPATH (raw, ':'-separated, DSTs unexpanded)
  std::optional<std::string> runpath;  // DT_RUNPATH
  std::uint64_t flags = 0;             // DT_FLAGS
  std::uint64_t flags_1 = 0;           // DT_FLAGS_1 (DF_1_NODEFLIB, DF_1_PIE, ...)
};

struct ElfFile {
  ElfHeader header;
  std::vector<ProgramHeader> program_headers;
  std::optional<std::string> interpreter;  // PT_INTERP, e.g. "/lib64/ld-linux-x86-64.so.2"
  bool has_dynamic = false;                // a PT_DYNAMIC segment exists (false: static)
  DynamicInfo dynamic;
};

// Limits that keep hostile input cheap.
inline constexpr std::size_t kElfMaxString = 4096;   // one dynamic string (a path list)
inline constexpr std::size_t kElfMaxNeeded = 4096;   // DT_NEEDED entries
inline constexpr std::size_t kElfMaxPhnum = 0xfffe;  // PN_XNUM (0xffff) is not supported
inline constexpr std::size_t kElfHeadBytes = 64;     // enough for either class's header

// True when `head` starts with the ELF magic "\x7fELF" (give it at least 4 bytes).
bool looks_like_elf(std::string_view head);

// Parses the ELF header (the first 52 or 64 bytes). Fails on a missing magic,
// an unknown class or byte order, or fewer bytes than the header needs.
Result<ElfHeader> parse_elf_header(std::string_view bytes);

// How many leading bytes of the file parse_elf() needs, judged from `prefix`
// (the leading bytes read so far). A result larger than prefix.size() means
// "read at least that many and ask again"; otherwise prefix suffices. Fails
// when what is already visible is malformed.
Result<std::uint64_t> elf_prefix_needed(std::string_view prefix);

// Parses the header, program headers, PT_INTERP and the dynamic section.
// `bytes` is the file or a prefix of it long enough per elf_prefix_needed();
// anything that lies past its end is reported as truncated.
Result<ElfFile> parse_elf(std::string_view bytes);

// elf_prefix_needed() and, when `prefix` suffices or is the whole file
// (`whole_file`), parse_elf() in one pass: fails as elf_prefix_needed() fails,
// else gives what it needs and, unless more must be read, parse_elf()'s
// outcome (its Error, or the file).
struct ElfPrefixParse {
  std::uint64_t needed = 0;     // what elf_prefix_needed() gives
  std::optional<ElfFile> file;  // unset: read `needed` bytes and call again
};
Result<ElfPrefixParse> parse_elf_prefix(std::string_view prefix, bool whole_file);

// A slice of a file: `bytes` as they lie at `offset`.
struct ElfPiece {
  std::uint64_t offset = 0;
  std::string_view bytes;
};

// parse_elf over slices of the file instead of a prefix (the header is the
// slice at offset 0): what lies outside every slice counts as past the end.
// Gives what parse_elf gives on the file whenever the slices hold every
// byte it reads (the program headers, PT_INTERP, PT_DYNAMIC, the strings).
Result<ElfFile> parse_elf_pieces(std::span<const ElfPiece> pieces);

// "x86-64", "i386", "AArch64", "ARM", "PowerPC64", ... ("machine 1234" when unknown).
std::string elf_machine_name(std::uint16_t machine);
// "ELF64 LSB x86-64 shared object" and the like, for messages.
std::string describe_elf(const ElfHeader& header);

}  // namespace pycheck
