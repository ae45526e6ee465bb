// The parts of LibraryResolver that need no state: reading an object's
// headers through RootFs, ld.so's verdict on a candidate's header, and the
// per-ABI facts (multiarch triplet, $PLATFORM, cache flags, system dirs).
#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <deque>
#include <optional>
#include <utility>

#include "checks/facts/library_resolver.h"

namespace pycheck {
namespace {

// An unsigned field of `width` bytes at `at` in `bytes`, in the file's byte order.
// (`width` is 4 or 8; a memcpy and at most one byte swap, not a loop per byte.)
bool field(std::string_view bytes, std::uint64_t at, int width, bool big, std::uint64_t* out) {
  if (at > bytes.size() || static_cast<std::uint64_t>(width) > bytes.size() - at) return false;
  const bool swap = big != (std::endian::native == std::endian::big);
  if (width == 4) {
    std::uint32_t v;
    std::memcpy(&v, bytes.data() + at, sizeof v);
    *out = swap ? __builtin_bswap32(v) : v;
  } else {
    std::uint64_t v;
    std::memcpy(&v, bytes.data() + at, sizeof v);
    *out = swap ? __builtin_bswap64(v) : v;
  }
  return true;
}

// The slices of a file read for parse_elf_pieces: views into the head or into
// `storage` (a deque: its strings never move, so the views stay valid).
struct FileSlices {
  std::deque<std::string> storage;
  std::vector<ElfPiece> pieces;
};

// Adds [offset, offset + length), from `head` when it holds it. False when
// the file ends early or the range is absurd: the caller falls back.
bool read_exact(const RootFs::File& file, std::string_view head, std::uint64_t offset,
                std::uint64_t length, FileSlices* out) {
  if (length > RootFs::kDefaultMaxRead || offset > UINT64_MAX - length) return false;
  if (offset + length <= head.size()) {
    out->pieces.push_back({offset, head.substr(offset, length)});
    return true;
  }
  auto data = file.read_range(offset, static_cast<std::size_t>(length));
  if (!data || data->size() != length) return false;
  out->pieces.push_back({offset, out->storage.emplace_back(std::move(*data))});
  return true;
}

// For an object whose dynamic section lies past `head` (libpython's sits
// megabytes in): reads only the program headers, PT_INTERP, PT_DYNAMIC and the
// dynamic string table at their offsets, and parses those slices. nullopt when
// the layout is anything unusual (no DT_STRSZ, a short file, a read error, a
// parse error): the caller then reads the prefix and lets parse_elf say what
// is wrong, so errors are the same either way.
std::optional<ElfFile> read_sparse_elf(const RootFs::File& file, std::string_view head) {
  auto h = parse_elf_header(head);
  if (!h || h->phnum == 0 || h->phentsize < h->native_phentsize()) return std::nullopt;
  const bool big = h->big_endian();
  const int w = h->is_64() ? 8 : 4;
  FileSlices slices;
  slices.pieces.push_back({0, head});
  if (!read_exact(file, head, h->phoff, std::uint64_t{h->phentsize} * h->phnum, &slices)) {
    return std::nullopt;
  }
  const std::string_view phdrs = slices.pieces.back().bytes;
  struct Segment {
    std::uint64_t type = 0, offset = 0, vaddr = 0, filesz = 0;
  };
  std::vector<Segment> segments;
  for (std::uint16_t i = 0; i < h->phnum; ++i) {
    const std::uint64_t at = std::uint64_t{i} * h->phentsize;
    Segment s;
    // ELF64 moves p_flags up, after p_type; the other fields keep their order.
    const std::uint64_t fields = h->is_64() ? at + 8 : at + 4;
    if (!field(phdrs, at, 4, big, &s.type) || !field(phdrs, fields, w, big, &s.offset) ||
        !field(phdrs, fields + w, w, big, &s.vaddr) ||
        !field(phdrs, fields + 3 * w, w, big, &s.filesz)) {
      return std::nullopt;
    }
    segments.push_back(s);
  }
  std::string_view dyn;  // the first PT_DYNAMIC's bytes
  std::uint64_t end = h->phoff + phdrs.size();
  for (const Segment& s : segments) {
    if (s.type != elfc::kPtInterp && s.type != elfc::kPtDynamic) continue;
    if (!read_exact(file, head, s.offset, s.filesz, &slices)) return std::nullopt;
    end = std::max(end, s.offset + s.filesz);
    if (s.type == elfc::kPtDynamic && dyn.data() == nullptr) dyn = slices.pieces.back().bytes;
  }
  if (dyn.data() == nullptr) return std::nullopt;
  std::optional<std::uint64_t> strtab, strsz;
  for (std::uint64_t at = 0; at + 2 * w <= dyn.size(); at += 2 * w) {
    std::uint64_t tag = 0, value = 0;
    if (!field(dyn, at, w, big, &tag) || !field(dyn, at + w, w, big, &value)) return std::nullopt;
    if (tag == 0) break;           // DT_NULL
    if (tag == 5) strtab = value;  // DT_STRTAB
    if (tag == 10) strsz = value;  // DT_STRSZ
  }
  if (!strtab || !strsz) return std::nullopt;
  std::optional<std::uint64_t> strtab_offset;
  for (const Segment& s : segments) {  // the PT_LOAD that maps DT_STRTAB's address
    if (s.type != elfc::kPtLoad || *strtab < s.vaddr || *strtab - s.vaddr >= s.filesz) continue;
    if (s.offset > UINT64_MAX - (*strtab - s.vaddr)) continue;  // as parse_elf: skip, not wrap
    strtab_offset = s.offset + (*strtab - s.vaddr);
    break;
  }
  if (!strtab_offset || !read_exact(file, head, *strtab_offset, *strsz, &slices)) {
    return std::nullopt;
  }
  // As the prefix read would: nothing parse_elf needs may lie past its cap.
  if (std::max(end, *strtab_offset + *strsz) > RootFs::kDefaultMaxRead) return std::nullopt;
  auto elf = parse_elf_pieces(slices.pieces);
  if (!elf) return std::nullopt;
  return std::move(*elf);
}

}  // namespace

HeaderVerdict verify_candidate_header(std::string_view head, const ElfHeader& target) {
  using Kind = HeaderVerdict::Kind;
  if (head.size() < (target.is_64() ? 64u : 52u)) return {Kind::fatal, "file too short"};
  if (!looks_like_elf(head)) return {Kind::fatal, "invalid ELF header"};
  const auto ident = [&](int i) { return static_cast<std::uint8_t>(head[i]); };
  if (ident(4) != target.elf_class) {
    const char* name = ident(4) == elfc::kClass32   ? "ELFCLASS32"
                       : ident(4) == elfc::kClass64 ? "ELFCLASS64"
                                                    : "ELFCLASSNONE";
    return {Kind::skip, std::string("wrong ELF class: ") + name};
  }
  // Debian's ld.so (patch from its glibc package, as in the python images)
  // skips a file built for another machine before judging the rest of
  // e_ident; e_machine is read in the loader's own byte order, so a
  // big-endian PowerPC library is skipped rather than fatal on x86-64.
  const auto host_order_machine = static_cast<std::uint16_t>(
      target.big_endian() ? (ident(18) << 8) | ident(19) : (ident(19) << 8) | ident(18));
  if (host_order_machine != target.machine) {
    return {Kind::skip, "wrong machine: " + elf_machine_name(host_order_machine)};
  }
  if (ident(5) != target.data) {
    return {Kind::fatal, target.big_endian() ? "ELF file data encoding not big-endian"
                                             : "ELF file data encoding not little-endian"};
  }
  if (ident(6) != 1) return {Kind::fatal, "ELF file version ident does not match current one"};
  if (ident(7) != elfc::kOsAbiSysv && ident(7) != elfc::kOsAbiGnu)
    return {Kind::fatal, "ELF file OS ABI invalid"};
  // glibc 2.36 knows GNU ABI versions up to LIBC_ABI_MAX - 1 (unique symbols, ifunc, ...).
  if (ident(8) != 0 && !(ident(7) == elfc::kOsAbiGnu && ident(8) < 5)) {
    return {Kind::fatal, "ELF file ABI version invalid"};
  }
  auto h = parse_elf_header(head);
  if (!h) return {Kind::fatal, h.error().message};
  if (!h->ident_padding_zero) return {Kind::fatal, "nonzero padding in e_ident"};
  if (h->version != 1) return {Kind::fatal, "ELF file version does not match current one"};
  if (h->machine != target.machine) {
    return {Kind::skip, "wrong machine: " + elf_machine_name(h->machine)};
  }
  if (h->type != elfc::kTypeDyn && h->type != elfc::kTypeExec) {
    return {Kind::fatal, "only ET_DYN and ET_EXEC can be loaded"};
  }
  if (h->phentsize != h->native_phentsize())
    return {Kind::fatal, "ELF file's phentsize not the expected size"};
  return {Kind::accept, ""};
}

Result<ElfFile> read_elf_file(const RootFs& fs, std::string_view path) {
  auto file = fs.open_file(path);
  if (!file) return file.error();
  auto first = file->read_range(0, kElfFirstRead);
  if (!first) return first.error();
  return read_elf_file(*file, std::move(*first));
}

Result<ElfFile> read_elf_file(const RootFs::File& file, std::string first_read,
                              std::size_t first_read_cap) {
  const std::string& path = file.path();
  std::size_t want = first_read_cap;
  std::string data = std::move(first_read);
  for (int round = 0; round < 8; ++round) {
    if (round > 0) {
      auto more = file.read_range(0, want);
      if (!more) return more.error();
      data = std::move(*more);
    }
    const bool whole_file = data.size() < want;
    // One pass: what more to read, or (the prefix suffices) the parse.
    auto parsed = parse_elf_prefix(data, whole_file);
    if (!parsed) return Error{std::string(path) + ": " + parsed.error().message};
    if (parsed->file) return std::move(*parsed->file);
    const std::uint64_t need = parsed->needed;
    if (round == 0) {
      // The first read did not reach the dynamic section: fetch only the parts needed.
      if (auto sparse = read_sparse_elf(file, data)) return std::move(*sparse);
    }
    if (need > RootFs::kDefaultMaxRead) {
      return Error{std::string(path) + ": the dynamic section lies past the first " +
                   std::to_string(RootFs::kDefaultMaxRead >> 20) + " MiB"};
    }
    want = static_cast<std::size_t>(need);
  }
  return Error{std::string(path) + ": ELF layout needs too many reads"};
}

AbiFacts abi_facts(const ElfHeader& h) {
  using F = std::vector<std::int32_t>;
  const std::int32_t libc6 = ldflags::kElfLibc6;
  const F generic32 = {ldflags::kElf, libc6};  // glibc's generic _dl_cache_check_flags
  const bool le = !h.big_endian();
  switch (h.machine) {
    case elfc::kMachineX86_64:
      if (h.is_64()) return {"x86_64-linux-gnu", "x86_64", {ldflags::kX8664Lib64 | libc6}};
      return {"x86_64-linux-gnux32", "x86_64", {ldflags::kX8664LibX32 | libc6}};
    case elfc::kMachine386:
      return {"i386-linux-gnu", "i686", generic32};
    case elfc::kMachineAarch64:
      return {le ? "aarch64-linux-gnu" : "aarch64_be-linux-gnu",
              "aarch64",
              {ldflags::kAarch64Lib64 | libc6}};
    case elfc::kMachineArm:
      if (h.flags & elfc::kEfArmAbiFloatHard) {
        return {"arm-linux-gnueabihf", "v7l", {libc6, ldflags::kArmLibHf | libc6}};
      }
      return {"arm-linux-gnueabi", "v7l", {libc6, ldflags::kArmLibSf | libc6}};
    case elfc::kMachinePpc64:
      return {le ? "powerpc64le-linux-gnu" : "powerpc64-linux-gnu",
              "",
              {ldflags::kPowerpcLib64 | libc6}};
    case elfc::kMachinePpc:
      return {"powerpc-linux-gnu", "", generic32};
    case elfc::kMachineS390:
      if (h.is_64()) return {"s390x-linux-gnu", "", {ldflags::kS390Lib64 | libc6}};
      return {"s390-linux-gnu", "", generic32};
    case elfc::kMachineRiscv:
      return {"riscv64-linux-gnu", "", {ldflags::kRiscvFloatAbiDouble | libc6}};
    case elfc::kMachineLoongarch:
      return {"loongarch64-linux-gnu", "", {ldflags::kLarchFloatAbiDouble | libc6}};
    case elfc::kMachineMips:
      if (h.is_64()) {
        return {le ? "mips64el-linux-gnuabi64" : "mips64-linux-gnuabi64",
                "",
                {ldflags::kMips64LibN64 | libc6, ldflags::kMips64LibN64Nan2008 | libc6}};
      }
      return {le ? "mipsel-linux-gnu" : "mips-linux-gnu",
              "",
              {ldflags::kElf, libc6, ldflags::kMipsLib32Nan2008 | libc6}};
    case elfc::kMachineSparcv9:
      return {"sparc64-linux-gnu", "", {ldflags::kSparcLib64 | libc6}};
    case elfc::kMachineIa64:
      return {"ia64-linux-gnu", "", {ldflags::kIa64Lib64 | libc6}};
    default:
      return {"", "", h.is_64() ? F{} : generic32};
  }
}

namespace {
// Debian-style when the root has the multiarch directory for this ABI.
bool multiarch_root(const RootFs& fs, const AbiFacts& abi) {
  return !abi.triplet.empty() &&
         (fs.is_directory("/lib/" + abi.triplet) || fs.is_directory("/usr/lib/" + abi.triplet));
}
}  // namespace

std::vector<std::string> default_library_dirs(const RootFs& fs, const ElfHeader& header) {
  const AbiFacts abi = abi_facts(header);
  if (multiarch_root(fs, abi)) {
    return {"/lib/" + abi.triplet, "/usr/lib/" + abi.triplet, "/lib", "/usr/lib"};
  }
  if (header.is_64()) return {"/lib64", "/usr/lib64"};
  return {"/lib", "/usr/lib"};
}

std::string_view to_string(FoundVia via) {
  switch (via) {
    case FoundVia::root:
      return "root";
    case FoundVia::interpreter:
      return "interpreter";
    case FoundVia::path:
      return "path";
    case FoundVia::rpath:
      return "rpath";
    case FoundVia::ld_library_path:
      return "LD_LIBRARY_PATH";
    case FoundVia::runpath:
      return "runpath";
    case FoundVia::cache:
      return "ld.so.cache";
    case FoundVia::default_dirs:
      return "default path";
  }
  return "default path";
}

std::string lib_token(const RootFs& fs, const ElfHeader& header) {
  const AbiFacts abi = abi_facts(header);
  if (multiarch_root(fs, abi)) return "lib/" + abi.triplet;
  return header.is_64() ? "lib64" : "lib";
}

}  // namespace pycheck
