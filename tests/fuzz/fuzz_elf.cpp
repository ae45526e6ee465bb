// ELF reader: the header, and parse_elf() both on the whole input and on the
// prefix elf_prefix_needed() asks for, as the library resolver reads big files.
// A prefix that is long enough must give the same answer as the whole file.
#include "checks/formats/elf.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

bool same(const pycheck::ElfFile& a, const pycheck::ElfFile& b) {
  return a.interpreter == b.interpreter && a.has_dynamic == b.has_dynamic &&
         a.program_headers.size() == b.program_headers.size() &&
         a.dynamic.needed == b.dynamic.needed && a.dynamic.soname == b.dynamic.soname &&
         a.dynamic.rpath == b.dynamic.rpath && a.dynamic.runpath == b.dynamic.runpath &&
         a.dynamic.flags == b.dynamic.flags && a.dynamic.flags_1 == b.dynamic.flags_1;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in = fuzz::as_view(data, size);
  (void)pycheck::looks_like_elf(in);

  auto header = pycheck::parse_elf_header(in);
  if (header) {
    (void)pycheck::describe_elf(*header);
    (void)pycheck::elf_machine_name(header->machine);
  }

  auto whole = pycheck::parse_elf(in);
  if (whole) {
    FUZZ_CHECK(header.ok());
    FUZZ_CHECK(whole->dynamic.needed.size() <= pycheck::kElfMaxNeeded);
    for (const std::string& n : whole->dynamic.needed)
      FUZZ_CHECK(n.size() <= pycheck::kElfMaxString);
  }

  // The resolver's incremental read: header, program headers, dynamic, strings.
  std::size_t have = std::min(in.size(), pycheck::kElfHeadBytes);
  for (int round = 0; round < 4; ++round) {
    auto needed = pycheck::elf_prefix_needed(in.substr(0, have));
    if (!needed || *needed <= have) break;
    if (*needed > in.size()) {
      have = in.size();
      break;
    }
    have = static_cast<std::size_t>(*needed);
  }
  auto needed = pycheck::elf_prefix_needed(in.substr(0, have));
  if (needed && *needed <= have) {
    auto prefix = pycheck::parse_elf(in.substr(0, have));
    // Enough bytes by the reader's own account: the answer cannot depend on the rest.
    FUZZ_CHECK(prefix.ok() == whole.ok());
    if (prefix && whole) FUZZ_CHECK(same(*prefix, *whole));
  }
  return 0;
}
