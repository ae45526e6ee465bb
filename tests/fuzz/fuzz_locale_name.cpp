// locale.alias reader and glibc's locale name handling: the input is an alias
// file; its first line (and each alias value) is also taken as a locale name.
#include "checks/formats/locale_name.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

void check_name(std::string_view name) {
  pycheck::LocaleNameParts parts = pycheck::split_locale_name(name);
  if (parts.territory) FUZZ_CHECK(!parts.territory->empty());
  if (parts.codeset) FUZZ_CHECK(!parts.codeset->empty());
  if (parts.modifier) FUZZ_CHECK(!parts.modifier->empty());
  std::string normalized = pycheck::normalize_codeset(name);
  // Normalising is idempotent.
  FUZZ_CHECK(pycheck::normalize_codeset(normalized) == normalized);
  (void)pycheck::archive_lookup_name(name);
  auto variants = pycheck::locale_directory_variants(name);
  for (std::size_t i = 0; i < variants.size(); ++i) {
    for (std::size_t j = i + 1; j < variants.size(); ++j) FUZZ_CHECK(variants[i] != variants[j]);
  }
  (void)pycheck::is_builtin_locale(name);
  (void)pycheck::is_valid_locale_name(name);
  (void)pycheck::is_utf8_codeset(name);
  (void)pycheck::codesets_match(name, name);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in = fuzz::as_view(data, size);
  pycheck::LocaleAliases aliases = pycheck::parse_locale_alias(in);
  std::size_t checked = 0;
  for (const auto& [alias, value] : aliases.entries()) {
    FUZZ_CHECK(!alias.empty() && !value.empty());
    FUZZ_CHECK(aliases.expand(alias).has_value());
    if (++checked <= 16) check_name(value);
  }
  std::string_view first_line = in.substr(0, in.find('\n'));
  check_name(first_line);
  auto [a, b] = fuzz::split_two(first_line);
  (void)pycheck::codesets_match(a, b);
  return 0;
}
