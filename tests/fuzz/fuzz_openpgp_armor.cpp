// OpenPGP ASCII armor: whole texts (.asc keyrings, Release.gpg) and single
// blocks given as lines, with the CRC24 check.
#include "checks/formats/openpgp_armor.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in = fuzz::as_view(data, size);
  for (std::string_view label : {"SIGNATURE", "PUBLIC KEY BLOCK"}) {
    auto all = pycheck::dearmor_all(in, label);
    if (!all) FUZZ_CHECK(all.error().message.starts_with("armor: "));
  }
  std::vector<std::string_view> lines;
  std::size_t pos = 0;
  while (pos <= in.size() && lines.size() < 4096) {
    std::size_t end = in.find('\n', pos);
    if (end == std::string_view::npos) end = in.size();
    lines.push_back(in.substr(pos, end - pos));
    pos = end + 1;
  }
  auto block = pycheck::dearmor_block(lines);
  if (block) FUZZ_CHECK(block->size() <= in.size());
  (void)pycheck::openpgp_crc24(in);
  return 0;
}
