// glibc locale-archive reader and the per-category locale data check.
// The archive is parsed twice: as a whole file, and as the beginning of a much
// larger file (how pycheck reads a big archive), so truncated seeds still
// reach the tables. A name the hash lookup finds is the name asked for.
#include <cstdint>

#include "checks/formats/locale_archive.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

void check_archive(std::string_view in, std::uint64_t file_size) {
  auto archive = pycheck::parse_locale_archive(in, file_size);
  if (!archive) return;
  std::size_t looked_up = 0;
  for (const std::string& name : archive->names()) {
    if (++looked_up > 32) break;
    // names() is localedef --list-archive (every slot with a record); find() is
    // setlocale's hash probe. In a corrupt archive (a wrong hashval, a name the
    // probe never reaches) a listed name can be missing from find(), as in glibc.
    const pycheck::ArchiveLocale* locale = archive->find(name);
    if (locale == nullptr) continue;
    FUZZ_CHECK(locale->name == name);
    for (const pycheck::LocaleCategory& category : pycheck::locale_categories()) {
      auto slice = pycheck::archive_locale_data(in, *locale, category.id);
      if (slice) (void)pycheck::locale_data_codeset(category, *slice, name);
    }
  }
  (void)archive->find("C.utf8");
  (void)archive->find("en_US.utf8");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in = fuzz::as_view(data, size);
  check_archive(in, in.size());
  check_archive(in, std::uint64_t{1} << 32);
  // The same bytes as a locale data file (C.utf8/LC_CTYPE and its kin).
  for (const pycheck::LocaleCategory& category : pycheck::locale_categories()) {
    auto codeset = pycheck::locale_data_codeset(category, in, category.name);
    if (codeset) (void)pycheck::find_locale_category(category.name);
  }
  return 0;
}
