// The parts of LibraryResolver that need no state: reading an object's
// headers through RootFs, ld.so's verdict on a candidate's header, and the
// per-ABI facts (multiarch triplet, $PLATFORM, cache flags, system dirs).
#include <cerrno>

#include "checks/library_resolver.h"

namespace pycheck {
namespace {
constexpr std::size_t kFirstRead = 64 * 1024;  // most extension modules fit whole
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
  std::size_t want = kFirstRead;
  for (int round = 0; round < 8; ++round) {
    auto data = fs.read_head(path, want);
    if (!data) return data.error();
    const bool whole_file = data->size() < want;
    auto need = elf_prefix_needed(*data);
    if (!need) return Error{std::string(path) + ": " + need.error().message};
    if (*need <= data->size() || whole_file) {
      auto elf = parse_elf(*data);
      if (!elf) return Error{std::string(path) + ": " + elf.error().message};
      return std::move(*elf);
    }
    if (*need > RootFs::kDefaultMaxRead) {
      return Error{std::string(path) + ": the dynamic section lies past the first " +
                   std::to_string(RootFs::kDefaultMaxRead >> 20) + " MiB"};
    }
    want = static_cast<std::size_t>(*need);
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
