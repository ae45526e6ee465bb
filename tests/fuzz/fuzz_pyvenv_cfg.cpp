// pyvenv.cfg reader.
#include "checks/formats/pyvenv_cfg.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in = fuzz::as_view(data, size);
  auto cfg = pycheck::parse_pyvenv_cfg(in);
  if (!cfg) {
    FUZZ_CHECK(!cfg.error().message.empty());
    return 0;
  }
  FUZZ_CHECK(cfg->values.count("home") == 1);
  for (const auto& [key, value] : cfg->values) {
    for (char c : key) FUZZ_CHECK(!(c >= 'A' && c <= 'Z'));  // keys are lower-cased
  }
  return 0;
}
