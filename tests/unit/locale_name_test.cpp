// The locale name readers: glibc's name splitting and normalization, the
// directory names it opens, valid names, codesets, and locale.alias. One test
// reads this machine's /etc/locale.alias: it fails, not skips, without it.
#include "checks/formats/locale_name.h"

#include <langinfo.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "checks/check_table.h"
#include "checks/formats/locale_archive.h"
#include "tests/unit/fixture_root.h"
#include "tests/unit/locale_test_support.h"
#include "tests/unit/outcome_text.h"

namespace pycheck {
namespace {

using namespace locale_test;

// --- names -------------------------------------------------------------------

TEST_CASE("split_locale_name splits as glibc's _nl_explode_name", "[locale]") {
  struct Row {
    const char* name;
    const char* language;
    const char* territory;
    const char* codeset;
    const char* normalized;
    const char* modifier;
  };
  const Row rows[] = {
      {"en_US.UTF-8", "en", "US", "UTF-8", "utf8", nullptr},
      {"en_US.utf8", "en", "US", "utf8", nullptr, nullptr},
      {"de_DE.ISO-8859-15@euro", "de", "DE", "ISO-8859-15", "iso885915", "euro"},
      // glibc compares "utf8@euro" with "utf8": a modifier always adds the normalised variant.
      {"de_DE.utf8@euro", "de", "DE", "utf8", "utf8", "euro"},
      {"de_DE@euro", "de", "DE", nullptr, nullptr, "euro"},
      {"C.UTF-8", "C", nullptr, "UTF-8", "utf8", nullptr},
      {"C", "C", nullptr, nullptr, nullptr, nullptr},
      {"en_", "en", nullptr, nullptr, nullptr, nullptr},
      {"en_US.", "en", "US", nullptr, nullptr, nullptr},
      {"en@", "en", nullptr, nullptr, nullptr, nullptr},
      {"en.88591", "en", nullptr, "88591", "iso88591", nullptr},
      {".utf8", ".utf8", nullptr, nullptr, nullptr, nullptr},
      {"_US.UTF-8", "_US.UTF-8", nullptr, nullptr, nullptr, nullptr},
      {"@euro", "@euro", nullptr, nullptr, nullptr, nullptr},
      {"", "", nullptr, nullptr, nullptr, nullptr},
  };
  auto opt = [](const char* s) { return s ? std::optional<std::string>(s) : std::nullopt; };
  for (const Row& r : rows) {
    INFO(r.name);
    LocaleNameParts p = split_locale_name(r.name);
    CHECK(p.language == r.language);
    CHECK(p.territory == opt(r.territory));
    CHECK(p.codeset == opt(r.codeset));
    CHECK(p.normalized_codeset == opt(r.normalized));
    CHECK(p.modifier == opt(r.modifier));
  }
}

TEST_CASE("normalize_codeset and archive_lookup_name follow glibc", "[locale]") {
  const std::pair<const char*, const char*> codesets[] = {
      {"UTF-8", "utf8"},      {"utf8", "utf8"},      {"ISO-8859-1", "iso88591"},
      {"8859-1", "iso88591"}, {"88591", "iso88591"}, {"eucJP", "eucjp"},
      {"U T F_8!", "utf8"},   {"KOI8-R", "koi8r"},   {"", "iso"},
  };
  for (auto [in, want] : codesets) {
    INFO(in);
    CHECK(normalize_codeset(in) == want);
  }
  const std::pair<const char*, const char*> names[] = {
      {"en_US.UTF-8", "en_US.utf8"}, {"de_DE.ISO-8859-15@euro", "de_DE.iso885915@euro"},
      {"de_DE@euro", "de_DE@euro"},  {"en_US", "en_US"},
      {"en_US.", "en_US."},          {"en_US.@x", "en_US.@x"},
      {"C.UTF-8", "C.utf8"},         {"en_US.u-t-f-8", "en_US.utf8"},
  };
  for (auto [in, want] : names) {
    INFO(in);
    CHECK(archive_lookup_name(in) == want);
  }
}

TEST_CASE("locale_directory_variants lists the names glibc opens, in order", "[locale]") {
  // Orders as seen with strace on glibc 2.36 (LANG=... setlocale(LC_ALL, "")).
  using V = std::vector<std::string>;
  CHECK(locale_directory_variants("xx_YY.UTF-8") ==
        V{"xx_YY.UTF-8", "xx_YY.utf8", "xx_YY", "xx.UTF-8", "xx.utf8", "xx"});
  CHECK(locale_directory_variants("xx_YY.UTF-8@m") ==
        V{"xx_YY.UTF-8@m", "xx_YY.utf8@m", "xx_YY@m", "xx.UTF-8@m", "xx.utf8@m", "xx@m",
          "xx_YY.UTF-8", "xx_YY.utf8", "xx_YY", "xx.UTF-8", "xx.utf8", "xx"});
  CHECK(locale_directory_variants("en_US.utf8") == V{"en_US.utf8", "en_US", "en.utf8", "en"});
  CHECK(locale_directory_variants("C.UTF-8") == V{"C.UTF-8", "C.utf8", "C"});
  CHECK(locale_directory_variants("de_DE.utf8@euro") == V{"de_DE.utf8@euro", "de_DE@euro",
                                                          "de.utf8@euro", "de@euro", "de_DE.utf8",
                                                          "de_DE", "de.utf8", "de"});
  CHECK(locale_directory_variants("german") == V{"german"});
  CHECK(locale_directory_variants(".utf8") == V{".utf8"});
}

TEST_CASE("is_valid_locale_name matches glibc's valid_locale_name", "[locale]") {
  CHECK(is_valid_locale_name("en_US.UTF-8"));
  CHECK(is_valid_locale_name("/opt/locales/x"));
  CHECK(is_valid_locale_name(std::string(255, 'a')));
  CHECK_FALSE(is_valid_locale_name(std::string(256, 'a')));
  CHECK_FALSE(is_valid_locale_name(".."));
  CHECK_FALSE(is_valid_locale_name("../etc"));
  CHECK_FALSE(is_valid_locale_name("/x/.."));
  CHECK_FALSE(is_valid_locale_name("/x/../y"));
  CHECK_FALSE(is_valid_locale_name("en/US"));
  CHECK(is_builtin_locale("C"));
  CHECK(is_builtin_locale("POSIX"));
  CHECK_FALSE(is_builtin_locale("C.UTF-8"));
  CHECK_FALSE(is_builtin_locale("posix"));
}

TEST_CASE("codesets_match compares like glibc's check after a directory lookup", "[locale]") {
  CHECK(codesets_match("UTF-8", "UTF-8"));
  CHECK(codesets_match("utf8", "UTF-8"));
  CHECK(codesets_match("UTF8", "UTF-8"));
  CHECK(codesets_match("ISO-10646/UTF8", "UTF-8"));
  CHECK_FALSE(codesets_match("u-t-f-8", "UTF-8"));  // glibc rejects C.u-t-f-8 (verified)
  CHECK_FALSE(codesets_match("ISO-8859-1", "UTF-8"));
  CHECK(codesets_match("ascii", "ANSI_X3.4-1968"));
  CHECK(codesets_match("iso88591", "ISO-8859-1"));
  CHECK_FALSE(codesets_match("ISO-8859-15", "ISO-8859-1"));
  CHECK(is_utf8_codeset("UTF-8"));
  CHECK(is_utf8_codeset("utf8"));
  CHECK_FALSE(is_utf8_codeset("ISO-8859-1"));
}

TEST_CASE("parse_locale_alias reads locale.alias as glibc does", "[locale]") {
  const std::string text =
      "# comment line\n"
      "\n"
      "   # indented comment\n"
      "french\t\tfr_FR.ISO-8859-1\n"
      "  spaced    de_DE.UTF-8   trailing words\r\n"
      "novalue\n"
      "french other\n"
      "nul\0hidden x\n" +
      std::string(398, 'a') +
      " cut_value\n"
      "last en_US.UTF-8";
  const std::string full(text.data(), text.size());
  LocaleAliases a = parse_locale_alias(full);
  CHECK(a.expand("french") == "fr_FR.ISO-8859-1");  // the first of duplicates
  CHECK(a.expand("FRENCH") == "fr_FR.ISO-8859-1");  // case-insensitive
  CHECK(a.expand("spaced") == "de_DE.UTF-8");
  CHECK_FALSE(a.expand("novalue"));
  CHECK_FALSE(a.expand("nul"));                  // the line ends at its NUL
  CHECK_FALSE(a.expand(std::string(398, 'a')));  // value beyond the 399-byte buffer
  CHECK(a.expand("last") == "en_US.UTF-8");      // no final newline
  CHECK_FALSE(a.expand("fr_FR.ISO-8859-1"));     // one step only
  CHECK(a.size() == 4);
  CHECK(parse_locale_alias("").size() == 0);
  CHECK(parse_locale_alias(std::string("\x7f\x45LF\0\0\x01", 7)).size() == 0);
}

TEST_CASE("parse_locale_alias reads the real Debian locale.alias", "[locale]") {
  const std::string text = read_host_file("/etc/locale.alias");
  INFO("/etc/locale.alias comes with Debian package `locales`");
  REQUIRE(!text.empty());
  LocaleAliases a = parse_locale_alias(text);
  CHECK(a.size() > 30);
  CHECK(a.expand("german") == "de_DE.ISO-8859-1");
  CHECK(a.expand("Japanese") == "ja_JP.eucJP");
}
}  // namespace
}  // namespace pycheck
