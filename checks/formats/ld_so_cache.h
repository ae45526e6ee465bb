// Pure parser of glibc's /etc/ld.so.cache, the list ldconfig writes of which
// file provides each soname, in all three layouts ldconfig can write (-c):
//
//   old     "ld.so-1.7.0", nlibs, struct file_entry {int32 flags; uint32 key, value}[nlibs],
//           strings; key/value are offsets from the end of the entries.
//   new     "glibc-ld.so.cache" "1.1", nlibs, len_strings, flags (byte order),
//           extension_offset, then struct file_entry_new {int32 flags; uint32 key, value;
//           uint32 osversion; uint64 hwcap}[nlibs]; key/value are offsets from the
//           start of this header; the extension directory (at a file offset) names
//           the generator and the glibc-hwcaps subdirectories.
//   compat  old followed by new (at the next 8-byte boundary); readers use the new part.
//
// Layout as in glibc's sysdeps/generic/dl-cache.h and elf/cache.c (2.36). No I/O,
// no exceptions; every offset is checked, corrupt input is an Error.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/result.h"

namespace pycheck {

// The flags of an entry: an ELF/libc type in the low byte and the ABI a
// loader requires in the high byte (glibc's sysdeps/generic/ldconfig.h).
namespace ldflags {
inline constexpr std::int32_t kTypeMask = 0x00ff;
inline constexpr std::int32_t kLibc4 = 0x0000;
inline constexpr std::int32_t kElf = 0x0001;
inline constexpr std::int32_t kElfLibc5 = 0x0002;
inline constexpr std::int32_t kElfLibc6 = 0x0003;
inline constexpr std::int32_t kRequiredMask = 0xff00;
inline constexpr std::int32_t kSparcLib64 = 0x0100;
inline constexpr std::int32_t kIa64Lib64 = 0x0200;
inline constexpr std::int32_t kX8664Lib64 = 0x0300;
inline constexpr std::int32_t kS390Lib64 = 0x0400;
inline constexpr std::int32_t kPowerpcLib64 = 0x0500;
inline constexpr std::int32_t kMips64LibN32 = 0x0600;
inline constexpr std::int32_t kMips64LibN64 = 0x0700;
inline constexpr std::int32_t kX8664LibX32 = 0x0800;
inline constexpr std::int32_t kArmLibHf = 0x0900;
inline constexpr std::int32_t kAarch64Lib64 = 0x0a00;
inline constexpr std::int32_t kArmLibSf = 0x0b00;
inline constexpr std::int32_t kMipsLib32Nan2008 = 0x0c00;
inline constexpr std::int32_t kMips64LibN32Nan2008 = 0x0d00;
inline constexpr std::int32_t kMips64LibN64Nan2008 = 0x0e00;
inline constexpr std::int32_t kRiscvFloatAbiSoft = 0x0f00;
inline constexpr std::int32_t kRiscvFloatAbiDouble = 0x1000;
inline constexpr std::int32_t kLarchFloatAbiSoft = 0x1100;
inline constexpr std::int32_t kLarchFloatAbiDouble = 0x1200;
}  // namespace ldflags

enum class LdCacheFormat { old_format, compat, new_format };
std::string_view to_string(LdCacheFormat format);

struct LdCacheEntry {
  std::int32_t flags = 0;  // ldflags: type | required ABI (0x0303 = libc6, x86-64)
  std::string name;        // the soname looked up ("libc.so.6")
  std::string path;        // the file ldconfig found it in
  std::uint32_t osversion = 0;
  std::uint64_t hwcap = 0;
  // Set when hwcap marks a glibc-hwcaps entry: the subdirectory ("x86-64-v3").
  std::optional<std::string> hwcaps_subdir;
};

struct LdSoCache {
  LdCacheFormat format = LdCacheFormat::new_format;
  bool big_endian = false;
  // The entries a loader uses: the new part's when there is one, else the old part's.
  std::vector<LdCacheEntry> entries;
  std::optional<std::string> generator;  // "ldconfig (Debian GLIBC 2.36-9) release version 2.36"
};

// Limits that keep hostile input cheap.
inline constexpr std::size_t kLdCacheMaxString = 4096;  // PATH_MAX

// Parses a whole cache file. An empty or unrecognised file, entries or
// strings past the end, a bad extension directory or an "invalid" byte-order
// flag are Errors.
Result<LdSoCache> parse_ld_so_cache(std::string_view bytes);

// What `ldconfig -p` prints in parentheses for these flags: "libc6,x86-64".
std::string ld_cache_flags_description(std::int32_t flags);
// The ABI the flags require, as a short name: "x86-64", "x32", "aarch64",
// "armhf", "armel", "ia64", "sparc64", "s390x", "ppc64", "mips64-n32", ...;
// "32-bit" when no ABI bits are set (what a 32-bit i386/arm/ppc library gets).
std::string ld_cache_architecture(std::int32_t flags);
// One entry as `ldconfig -p` prints it (without the leading tab):
// "libc.so.6 (libc6,x86-64) => /lib/x86_64-linux-gnu/libc.so.6".
std::string format_ld_cache_entry(const LdCacheEntry& entry);

}  // namespace pycheck
