#include "checks/formats/ld_so_cache.h"

#include <cstdio>

namespace pycheck {
namespace {

constexpr std::string_view kOldMagic = "ld.so-1.7.0";
constexpr std::string_view kNewMagic = "glibc-ld.so.cache1.1";  // magic and version
constexpr std::uint64_t kOldHeaderSize = 16;                    // char[11], pad, uint32 nlibs
constexpr std::uint64_t kOldEntrySize = 12;
constexpr std::uint64_t kNewHeaderSize = 48;
constexpr std::uint64_t kNewEntrySize = 24;
constexpr std::uint32_t kExtensionMagic = 0xeaa42174;  // (uint32_t) -358342284
constexpr std::uint32_t kTagGenerator = 0;
constexpr std::uint32_t kTagGlibcHwcaps = 1;
constexpr std::uint64_t kHwcapExtension = 1ULL << 62;
constexpr std::uint64_t kHwcapIsaLevelMask = (1u << 10) - 1;

// Bounds-checked reads of fixed-width integers in the cache's byte order.
class Reader {
 public:
  Reader(std::string_view data, bool big) : data_(data), big_(big) {}
  std::uint64_t size() const { return data_.size(); }
  bool fits(std::uint64_t offset, std::uint64_t length) const {
    return offset <= data_.size() && length <= data_.size() - offset;
  }
  bool read(std::uint64_t offset, int width, std::uint64_t* out) const {
    if (!fits(offset, static_cast<std::uint64_t>(width))) return false;
    std::uint64_t v = 0;
    for (int i = 0; i < width; ++i) {
      v = (v << 8) | static_cast<unsigned char>(data_[offset + (big_ ? i : width - 1 - i)]);
    }
    *out = v;
    return true;
  }
  std::uint32_t u32(std::uint64_t offset) const {  // caller checked fits()
    std::uint64_t v = 0;
    read(offset, 4, &v);
    return static_cast<std::uint32_t>(v);
  }
  // NUL-terminated string at `offset`, at most kLdCacheMaxString bytes long.
  std::optional<std::string> string_at(std::uint64_t offset) const {
    if (offset >= data_.size()) return std::nullopt;
    std::string_view rest = data_.substr(offset, kLdCacheMaxString + 1);
    std::size_t nul = rest.find('\0');
    if (nul == std::string_view::npos) return std::nullopt;
    return std::string(rest.substr(0, nul));
  }

 private:
  std::string_view data_;
  bool big_;
};

Error corrupt(std::string_view why) { return Error{"corrupt ld.so.cache: " + std::string(why)}; }

Result<std::string> entry_string(const Reader& r, std::uint64_t base, std::uint32_t index,
                                 std::size_t entry, const char* field) {
  auto s = r.string_at(base + index);
  if (!s) {
    return corrupt("entry " + std::to_string(entry) + ": " + field + " string at offset " +
                   std::to_string(base + index) + " is outside the file or not NUL-terminated");
  }
  return std::move(*s);
}

// Whether `nlibs` entries of `entry_size` bytes fit after `start` in `r`.
bool entries_fit(const Reader& r, std::uint64_t start, std::uint64_t nlibs,
                 std::uint64_t entry_size) {
  return r.fits(start, 0) && (r.size() - start) / entry_size >= nlibs;
}

struct Extensions {
  std::optional<std::string> generator;
  std::vector<std::uint32_t> hwcaps;  // string offsets (from the file start)
};

Result<Extensions> read_extensions(const Reader& r, std::uint32_t offset) {
  Extensions ext;
  if (offset == 0) return ext;
  if (offset % 4 != 0) return corrupt("extension directory offset is not 4-byte aligned");
  if (!r.fits(offset, 8)) return corrupt("extension directory lies past the end of the file");
  if (r.u32(offset) != kExtensionMagic) return corrupt("extension directory has a bad magic");
  const std::uint32_t count = r.u32(offset + 4);
  if ((r.size() - offset - 8) / 16 < count) {
    return corrupt("extension directory's sections lie past the end of the file");
  }
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::uint64_t at = offset + 8 + std::uint64_t{i} * 16;
    const std::uint32_t tag = r.u32(at);
    const std::uint32_t sec_offset = r.u32(at + 8);
    const std::uint32_t sec_size = r.u32(at + 12);
    if (!r.fits(sec_offset, sec_size)) {
      return corrupt("extension section " + std::to_string(i) + " lies past the end of the file");
    }
    if (tag == kTagGenerator) {
      std::string text(sec_size, '\0');
      for (std::uint32_t k = 0; k < sec_size; ++k) {
        std::uint64_t c = 0;
        r.read(sec_offset + k, 1, &c);
        text[k] = static_cast<char>(c);
      }
      ext.generator = std::move(text);
    } else if (tag == kTagGlibcHwcaps && sec_size != 0 && sec_offset % 4 == 0 &&
               sec_size % 4 == 0) {
      ext.hwcaps.clear();
      for (std::uint32_t k = 0; k < sec_size / 4; ++k)
        ext.hwcaps.push_back(r.u32(sec_offset + 4 * k));
    }
  }
  return ext;
}

// Parses the new-format part that starts at `start` (0, or after the old part).
Result<LdSoCache> parse_new(std::string_view bytes, std::uint64_t start) {
  if (bytes.size() - start < kNewHeaderSize) return corrupt("new-format header is truncated");
  const auto endian = static_cast<unsigned char>(bytes[start + 28]) & 3;
  if (endian == 1) return corrupt("byte order is marked invalid");
  LdSoCache cache;
  cache.format = start == 0 ? LdCacheFormat::new_format : LdCacheFormat::compat;
  cache.big_endian = endian == 3;
  Reader r(bytes, cache.big_endian);
  std::uint32_t nlibs = r.u32(start + 20);
  if (endian == 0 && !entries_fit(r, start + kNewHeaderSize, nlibs, kNewEntrySize)) {
    // Written by an ldconfig that did not record the byte order: try the other one.
    cache.big_endian = !cache.big_endian;
    r = Reader(bytes, cache.big_endian);
    nlibs = r.u32(start + 20);
  }
  if (!entries_fit(r, start + kNewHeaderSize, nlibs, kNewEntrySize)) {
    return corrupt(std::to_string(nlibs) + " entries do not fit in " +
                   std::to_string(bytes.size()) + " bytes");
  }
  auto ext = read_extensions(r, r.u32(start + 32));
  if (!ext) return ext.error();
  cache.generator = std::move(ext->generator);
  cache.entries.reserve(nlibs);
  for (std::uint32_t i = 0; i < nlibs; ++i) {
    const std::uint64_t at = start + kNewHeaderSize + std::uint64_t{i} * kNewEntrySize;
    LdCacheEntry e;
    std::uint64_t hwcap = 0;
    r.read(at + 16, 8, &hwcap);
    e.flags = static_cast<std::int32_t>(r.u32(at));
    e.osversion = r.u32(at + 12);
    e.hwcap = hwcap;
    auto name = entry_string(r, start, r.u32(at + 4), i, "name");
    if (!name) return name.error();
    auto path = entry_string(r, start, r.u32(at + 8), i, "path");
    if (!path) return path.error();
    e.name = std::move(*name);
    e.path = std::move(*path);
    if (((hwcap >> 32) & ~kHwcapIsaLevelMask) == (kHwcapExtension >> 32)) {
      const auto index = static_cast<std::uint32_t>(hwcap);
      // As ldconfig -p: the array holds string offsets from the start of the file.
      if (index < ext->hwcaps.size()) e.hwcaps_subdir = r.string_at(ext->hwcaps[index]);
    }
    cache.entries.push_back(std::move(e));
  }
  return cache;
}

Result<LdSoCache> parse_old(std::string_view bytes) {
  if (bytes.size() < kOldHeaderSize) return corrupt("old-format header is truncated");
  // The old format records no byte order: take the one under which the entries fit.
  bool big = false;
  Reader r(bytes, big);
  std::uint32_t nlibs = r.u32(12);
  if (!entries_fit(r, kOldHeaderSize, nlibs, kOldEntrySize)) {
    big = true;
    r = Reader(bytes, big);
    nlibs = r.u32(12);
    if (!entries_fit(r, kOldHeaderSize, nlibs, kOldEntrySize)) {
      return corrupt(std::to_string(Reader(bytes, false).u32(12)) + " entries do not fit in " +
                     std::to_string(bytes.size()) + " bytes");
    }
  }
  const std::uint64_t strings = kOldHeaderSize + std::uint64_t{nlibs} * kOldEntrySize;
  // A new-format cache may follow at the next 8-byte boundary (format "compat").
  const std::uint64_t new_start = (strings + 7) & ~std::uint64_t{7};
  if (bytes.size() > new_start + kNewHeaderSize &&
      bytes.substr(new_start, kNewMagic.size()) == kNewMagic) {
    return parse_new(bytes, new_start);
  }
  LdSoCache cache;
  cache.format = LdCacheFormat::old_format;
  cache.big_endian = big;
  cache.entries.reserve(nlibs);
  for (std::uint32_t i = 0; i < nlibs; ++i) {
    const std::uint64_t at = kOldHeaderSize + std::uint64_t{i} * kOldEntrySize;
    LdCacheEntry e;
    e.flags = static_cast<std::int32_t>(r.u32(at));
    auto name = entry_string(r, strings, r.u32(at + 4), i, "name");
    if (!name) return name.error();
    auto path = entry_string(r, strings, r.u32(at + 8), i, "path");
    if (!path) return path.error();
    e.name = std::move(*name);
    e.path = std::move(*path);
    cache.entries.push_back(std::move(e));
  }
  return cache;
}

}  // namespace

std::string_view to_string(LdCacheFormat format) {
  switch (format) {
    case LdCacheFormat::old_format:
      return "old";
    case LdCacheFormat::compat:
      return "compat";
    case LdCacheFormat::new_format:
      return "new";
  }
  return "new";
}

Result<LdSoCache> parse_ld_so_cache(std::string_view bytes) {
  if (bytes.empty()) return Error{"ld.so.cache is empty"};
  if (bytes.starts_with(kOldMagic)) return parse_old(bytes);
  if (bytes.starts_with(kNewMagic)) return parse_new(bytes, 0);
  return Error{"not an ld.so.cache file (no \"ld.so-1.7.0\" or \"glibc-ld.so.cache1.1\" magic)"};
}

std::string ld_cache_flags_description(std::int32_t flags) {
  static const char* const kTypes[] = {"libc4", "ELF", "libc5", "libc6"};
  const std::int32_t type = flags & ldflags::kTypeMask;
  std::string out = type <= ldflags::kElfLibc6 ? kTypes[type] : "unknown";
  switch (flags & ldflags::kRequiredMask) {
    case 0:
      break;
    case ldflags::kSparcLib64:
      out += ",64bit";
      break;
    case ldflags::kIa64Lib64:
      out += ",IA-64";
      break;
    case ldflags::kX8664Lib64:
      out += ",x86-64";
      break;
    case ldflags::kS390Lib64:
      out += ",64bit";
      break;
    case ldflags::kPowerpcLib64:
      out += ",64bit";
      break;
    case ldflags::kMips64LibN32:
      out += ",N32";
      break;
    case ldflags::kMips64LibN64:
      out += ",64bit";
      break;
    case ldflags::kX8664LibX32:
      out += ",x32";
      break;
    case ldflags::kArmLibHf:
      out += ",hard-float";
      break;
    case ldflags::kAarch64Lib64:
      out += ",AArch64";
      break;
    case ldflags::kArmLibSf:
      out += ",soft-float";
      break;
    case ldflags::kMipsLib32Nan2008:
      out += ",nan2008";
      break;
    case ldflags::kMips64LibN32Nan2008:
      out += ",N32,nan2008";
      break;
    case ldflags::kMips64LibN64Nan2008:
      out += ",64bit,nan2008";
      break;
    case ldflags::kRiscvFloatAbiSoft:
      out += ",soft-float";
      break;
    case ldflags::kRiscvFloatAbiDouble:
      out += ",double-float";
      break;
    case ldflags::kLarchFloatAbiSoft:
      out += ",soft-float";
      break;
    case ldflags::kLarchFloatAbiDouble:
      out += ",double-float";
      break;
    default:
      out += "," + std::to_string(flags & ldflags::kRequiredMask);
      break;
  }
  return out;
}

std::string ld_cache_architecture(std::int32_t flags) {
  switch (flags & ldflags::kRequiredMask) {
    case 0:
      return "32-bit";
    case ldflags::kSparcLib64:
      return "sparc64";
    case ldflags::kIa64Lib64:
      return "ia64";
    case ldflags::kX8664Lib64:
      return "x86-64";
    case ldflags::kS390Lib64:
      return "s390x";
    case ldflags::kPowerpcLib64:
      return "ppc64";
    case ldflags::kMips64LibN32:
      return "mips64-n32";
    case ldflags::kMips64LibN64:
      return "mips64";
    case ldflags::kX8664LibX32:
      return "x32";
    case ldflags::kArmLibHf:
      return "armhf";
    case ldflags::kAarch64Lib64:
      return "aarch64";
    case ldflags::kArmLibSf:
      return "armel";
    case ldflags::kMipsLib32Nan2008:
      return "mips-nan2008";
    case ldflags::kMips64LibN32Nan2008:
      return "mips64-n32-nan2008";
    case ldflags::kMips64LibN64Nan2008:
      return "mips64-nan2008";
    case ldflags::kRiscvFloatAbiSoft:
      return "riscv64-soft-float";
    case ldflags::kRiscvFloatAbiDouble:
      return "riscv64";
    case ldflags::kLarchFloatAbiSoft:
      return "loongarch64-soft-float";
    case ldflags::kLarchFloatAbiDouble:
      return "loongarch64";
    default:
      return "unknown (" + std::to_string(flags & ldflags::kRequiredMask) + ")";
  }
}

std::string format_ld_cache_entry(const LdCacheEntry& e) {
  std::string out = e.name + " (" + ld_cache_flags_description(e.flags);
  if (e.hwcaps_subdir) {
    out += ", hwcap: \"" + *e.hwcaps_subdir + "\"";
  } else if (e.hwcap != 0) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%#.16llx", static_cast<unsigned long long>(e.hwcap));
    out += ", hwcap: " + std::string(buf);
  }
  if (e.osversion != 0) {
    static const char* const kOs[] = {"Linux",   "Hurd",     "Solaris",   "FreeBSD",
                                      "kNetBSD", "Syllable", "Unknown OS"};
    const std::uint32_t os = e.osversion >> 24;
    out += ", OS ABI: " + std::string(kOs[os > 6 ? 6 : os]) + " " +
           std::to_string((e.osversion >> 16) & 0xff) + "." +
           std::to_string((e.osversion >> 8) & 0xff) + "." + std::to_string(e.osversion & 0xff);
  }
  return out + ") => " + e.path;
}

}  // namespace pycheck
