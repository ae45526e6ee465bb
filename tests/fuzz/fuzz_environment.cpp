// The environment readers: /proc/PID/environ blocks and KEY=VALUE env files.
#include "agent/core/environment.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in = fuzz::as_view(data, size);
  pycheck::Environment block = pycheck::Environment::parse_environ_block(in);
  for (const auto& [key, value] : block.vars()) FUZZ_CHECK(block.get(key) == value);
  auto file = pycheck::Environment::parse_env_file(in);
  if (file) {
    for (const auto& [key, value] : file->vars()) {
      FUZZ_CHECK(!key.empty());
      FUZZ_CHECK(file->has(key));
    }
  } else {
    FUZZ_CHECK(!file.error().message.empty());
  }
  return 0;
}
