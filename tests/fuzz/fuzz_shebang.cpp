// Interpreter line ("#!") parser, with distlib's /bin/sh wrapper.
#include "checks/formats/shebang.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in = fuzz::as_view(data, size);
  auto shebang = pycheck::parse_shebang(in);
  if (!shebang) {
    FUZZ_CHECK(!shebang.error().message.empty());
    return 0;
  }
  FUZZ_CHECK(in.starts_with("#!"));
  FUZZ_CHECK(!shebang->interpreter.empty());
  (void)pycheck::to_string(shebang->form);
  return 0;
}
