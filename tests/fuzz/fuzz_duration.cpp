// Durations ("800ms", "1.5s", "5m"): a parsed duration is in range and its
// formatted text parses back to the same duration.
#include "agent/core/duration.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in = fuzz::as_view(data, size);
  auto d = pycheck::parse_duration(in);
  if (!d) return 0;
  FUZZ_CHECK(d->count() >= 1);
  FUZZ_CHECK(d->count() <= 365LL * 24 * 3'600'000);
  std::string text = pycheck::format_duration(*d);
  auto again = pycheck::parse_duration(text);
  FUZZ_CHECK(again.ok() && *again == *d);
  return 0;
}
