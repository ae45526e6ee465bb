// Decompression of apt indexes and feeds: every format on the input (a wrong
// magic must fail fast), by detected magic, and against a small output cap.
// No result may exceed its cap.
#include "checks/formats/decompress.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

constexpr std::size_t kCap = 1 << 20;
constexpr std::size_t kSmallCap = 1000;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in = fuzz::as_view(data, size);
  using pycheck::Compression;
  for (Compression format :
       {Compression::none, Compression::gzip, Compression::xz, Compression::lz4, Compression::zstd,
        Compression::zlib, Compression::bzip2}) {
    auto out = pycheck::decompress(in, format, kCap);
    if (out)
      FUZZ_CHECK(out->size() <= kCap);
    else
      FUZZ_CHECK(!out.error().message.empty());
    (void)pycheck::to_string(format);
    (void)pycheck::file_suffix(format);
  }
  Compression detected = pycheck::detect_compression(in);
  auto full = pycheck::decompress_detected(in, kCap);
  auto small = pycheck::decompress_detected(in, kSmallCap);
  if (small) {
    FUZZ_CHECK(small->size() <= kSmallCap);
    // What fits under the small cap decompresses the same under the large one.
    FUZZ_CHECK(full.ok() && *full == *small);
  }
  if (full && full->size() <= kSmallCap) FUZZ_CHECK(small.ok());
  if (detected == Compression::none && full) FUZZ_CHECK(*full == in);
  (void)pycheck::compression_from_file_name(in.substr(0, 64));
  return 0;
}
