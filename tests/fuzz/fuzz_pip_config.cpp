// pip.conf (INI) reader and the index-url resolution over parsed files. The
// input holds up to three config files separated by NUL bytes.
#include <cctype>

#include "checks/formats/pip_config.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in = fuzz::as_view(data, size);
  std::vector<pycheck::LoadedPipConfig> loaded;
  const char* const kinds[] = {"global", "user", "site"};
  int n = 0;
  for (std::string_view text : fuzz::split_nul(in, 3)) {
    auto sections = pycheck::parse_pip_config(text);
    if (!sections) {
      FUZZ_CHECK(!sections.error().message.empty());
      continue;
    }
    for (const auto& [section, keys] : *sections) {
      for (const auto& [key, value] : keys) {
        FUZZ_CHECK(key.find('_') == std::string::npos);
        for (char c : key) FUZZ_CHECK(!std::isupper(static_cast<unsigned char>(c)));
      }
    }
    loaded.push_back({{"/etc/pip" + std::to_string(n) + ".conf", kinds[n]}, std::move(*sections)});
    ++n;
  }
  pycheck::Environment env;
  pycheck::PipIndexSetting setting = pycheck::resolve_pip_index(env, loaded);
  FUZZ_CHECK(!setting.source.empty());  // a file's, or pip's default
  if (setting.source == pycheck::kPipDefaultIndexSource) {
    FUZZ_CHECK(setting.index_url == pycheck::kPipDefaultIndexUrl);
  }
  env.set("PIP_INDEX_URL", "https://pypi.example/simple");
  setting = pycheck::resolve_pip_index(env, loaded);
  FUZZ_CHECK(setting.index_url == "https://pypi.example/simple");
  return 0;
}
