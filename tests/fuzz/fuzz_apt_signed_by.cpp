// Signed-By values as apt reads them: an inline key block, or keyring paths
// and fingerprints. What is accepted must be what the keyring reader expects.
#include "checks/formats/apt_sources.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = fuzz::as_view(data, size);
  auto parsed = pycheck::parse_signed_by(in);
  if (!parsed) return 0;
  if (!parsed->inline_key.empty()) {
    FUZZ_CHECK(parsed->inline_key == in && parsed->keyrings.empty() && parsed->fingerprints.empty());
    return 0;
  }
  FUZZ_CHECK(!parsed->keyrings.empty() || !parsed->fingerprints.empty());
  for (const std::string& path : parsed->keyrings) FUZZ_CHECK(path.starts_with('/'));
  for (const std::string& fpr : parsed->fingerprints) {
    FUZZ_CHECK(fpr.size() == 40 || (fpr.size() == 41 && fpr.back() == '!'));
    for (char c : fpr.substr(0, 40)) FUZZ_CHECK((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'));
  }
  return 0;
}
