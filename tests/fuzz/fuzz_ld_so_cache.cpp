// ld.so.cache reader (old, new and compat layouts) and the ldconfig -p style
// formatting of what it returns.
#include "checks/formats/ld_so_cache.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in = fuzz::as_view(data, size);
  auto cache = pycheck::parse_ld_so_cache(in);
  if (!cache) {
    FUZZ_CHECK(!cache.error().message.empty());
    return 0;
  }
  (void)pycheck::to_string(cache->format);
  for (const pycheck::LdCacheEntry& e : cache->entries) {
    FUZZ_CHECK(e.name.size() <= pycheck::kLdCacheMaxString);
    FUZZ_CHECK(e.path.size() <= pycheck::kLdCacheMaxString);
    FUZZ_CHECK(!pycheck::format_ld_cache_entry(e).empty());
    (void)pycheck::ld_cache_architecture(e.flags);
    (void)pycheck::ld_cache_flags_description(e.flags);
  }
  return 0;
}
