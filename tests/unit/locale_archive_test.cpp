// The locale data readers: the category table, locale data files (the real
// C.utf8 of Debian package `libc-bin`) and locale-archive, checked against an
// archive made by localedef (Debian package `locales`). The tests that use
// them fail, not skip, when they are missing.
#include "checks/formats/locale_archive.h"

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
#include "checks/formats/locale_name.h"
#include "tests/unit/fixture_root.h"
#include "tests/unit/locale_test_support.h"
#include "tests/unit/outcome_text.h"

namespace pycheck {
namespace {

using namespace locale_test;

// --- locale data and archive ---------------------------------------------------

TEST_CASE("locale category table agrees with <locale.h> and <langinfo.h>", "[locale]") {
  const std::pair<int, const char*> ids[] = {
      {LC_CTYPE, "LC_CTYPE"},
      {LC_NUMERIC, "LC_NUMERIC"},
      {LC_TIME, "LC_TIME"},
      {LC_COLLATE, "LC_COLLATE"},
      {LC_MONETARY, "LC_MONETARY"},
      {LC_MESSAGES, "LC_MESSAGES"},
      {LC_PAPER, "LC_PAPER"},
      {LC_NAME, "LC_NAME"},
      {LC_ADDRESS, "LC_ADDRESS"},
      {LC_TELEPHONE, "LC_TELEPHONE"},
      {LC_MEASUREMENT, "LC_MEASUREMENT"},
      {LC_IDENTIFICATION, "LC_IDENTIFICATION"},
  };
  REQUIRE(locale_categories().size() == 12);
  for (auto [id, name] : ids) {
    const LocaleCategory* c = find_locale_category(name);
    REQUIRE(c != nullptr);
    CHECK(c->id == id);
  }
  CHECK(LC_ALL == kLcAll);
  const std::pair<int, const char*> codeset_items[] = {
      {CODESET, "LC_CTYPE"},
      {_NL_NUMERIC_CODESET, "LC_NUMERIC"},
      {_NL_TIME_CODESET, "LC_TIME"},
      {_NL_COLLATE_CODESET, "LC_COLLATE"},
      {_NL_MONETARY_CODESET, "LC_MONETARY"},
      {_NL_MESSAGES_CODESET, "LC_MESSAGES"},
      {_NL_PAPER_CODESET, "LC_PAPER"},
      {_NL_NAME_CODESET, "LC_NAME"},
      {_NL_ADDRESS_CODESET, "LC_ADDRESS"},
      {_NL_TELEPHONE_CODESET, "LC_TELEPHONE"},
      {_NL_MEASUREMENT_CODESET, "LC_MEASUREMENT"},
      {_NL_IDENTIFICATION_CODESET, "LC_IDENTIFICATION"},
  };
  for (auto [item, name] : codeset_items) {
    INFO(name);
    CHECK(find_locale_category(name)->codeset_item == static_cast<std::uint32_t>(item & 0xffff));
  }
}

TEST_CASE("locale_data_codeset reads the real C.utf8 files", "[locale]") {
  for (const LocaleCategory& cat : locale_categories()) {
    std::string path = std::string(kHostCUtf8) + "/" + std::string(cat.name);
    if (fs::is_directory(path)) path += "/SYS_" + std::string(cat.name);
    INFO(path << " (Debian package libc-bin)");
    const std::string data = read_host_file(path);
    REQUIRE(!data.empty());
    auto codeset = locale_data_codeset(cat, data, path);
    REQUIRE(codeset.ok());
    CHECK(*codeset == "UTF-8");
    // The same bytes are not another category's data.
    const LocaleCategory& other = locale_categories()[cat.id == 0 ? 0 : 11];
    CHECK_FALSE(locale_data_codeset(other, data, path).ok());
    // Truncated: the index or the codeset no longer fits.
    for (std::size_t len : {std::size_t{0}, std::size_t{7}, std::size_t{8}, std::size_t{12}}) {
      CHECK_FALSE(locale_data_codeset(cat, data.substr(0, len), path).ok());
    }
  }
  const LocaleCategory& ctype = *find_locale_category("LC_CTYPE");
  auto err = locale_data_codeset(ctype, "garbage garbage garbage", "/x/LC_CTYPE");
  REQUIRE_FALSE(err.ok());
  CHECK(err.error().message.find("/x/LC_CTYPE") != std::string::npos);
}

TEST_CASE("parse_locale_archive lists what localedef --list-archive lists", "[locale]") {
  const GeneratedArchive& g = generated_archive();
  auto archive = parse_locale_archive(g.bytes);
  REQUIRE(archive.ok());
  CHECK(archive->names() == g.listed);
  CHECK(g.listed ==
        std::vector<std::string>{"de_DE.iso885915@euro", "de_DE.utf8", "de_DE@euro", "en_US.utf8"});
  // Every listed name is found by glibc's hash probe (so hash and probe agree with localedef).
  for (const std::string& name : g.listed) {
    INFO(name);
    CHECK(archive->find(name) != nullptr);
  }
  CHECK(archive->find("en_US.UTF-8") == nullptr);  // callers normalise first
  CHECK(archive->find("fr_FR.utf8") == nullptr);
  CHECK(archive->find("") == nullptr);
  // Two names, one record: localedef adds the codeset-qualified name.
  CHECK(archive->find("de_DE@euro")->locrec_offset ==
        archive->find("de_DE.iso885915@euro")->locrec_offset);

  const std::pair<const char*, const char*> codesets[] = {
      {"en_US.utf8", "UTF-8"}, {"de_DE.utf8", "UTF-8"}, {"de_DE@euro", "ISO-8859-15"}};
  for (auto [name, codeset] : codesets) {
    const ArchiveLocale* l = archive->find(name);
    REQUIRE(l != nullptr);
    for (const LocaleCategory& cat : locale_categories()) {
      INFO(name << " " << cat.name);
      auto data = archive_locale_data(g.bytes, *l, cat.id);
      REQUIRE(data.has_value());
      auto cs = locale_data_codeset(cat, *data, name);
      REQUIRE(cs.ok());
      CHECK(*cs == codeset);
    }
  }
}

TEST_CASE("parse_locale_archive turns truncated and corrupt archives into errors", "[locale]") {
  const std::string& good = generated_archive().bytes;
  auto parsed = parse_locale_archive(good);
  REQUIRE(parsed.ok());
  // Where the last locale data ends: cutting there loses data.
  std::uint64_t data_end = 0;
  for (const std::string& name : parsed->names()) {
    const ArchiveLocale* l = parsed->find(name);
    for (const LocaleCategory& cat : locale_categories()) {
      data_end = std::max<std::uint64_t>(
          data_end, std::uint64_t{l->records[cat.id].offset} + l->records[cat.id].length);
    }
  }
  REQUIRE(data_end <= good.size());
  for (std::size_t len :
       {std::size_t{0}, std::size_t{3}, std::size_t{55}, std::size_t{56}, std::size_t{100},
        std::size_t{4096}, good.size() / 2, static_cast<std::size_t>(data_end - 1)}) {
    INFO("truncated to " << len);
    auto r = parse_locale_archive(std::string_view(good).substr(0, len));
    REQUIRE_FALSE(r.ok());
    CHECK_FALSE(r.error().message.empty());
  }
  // A prefix is fine when the caller says how large the whole file is.
  CHECK(parse_locale_archive(std::string_view(good).substr(0, good.size() / 2), good.size()).ok());

  auto patched = [&](std::size_t offset, std::uint32_t value) {
    std::string copy = good;
    std::memcpy(copy.data() + offset, &value, sizeof value);
    return copy;
  };
  auto u32 = [&](std::size_t offset) {
    std::uint32_t v;
    std::memcpy(&v, good.data() + offset, sizeof v);
    return v;
  };
  const std::uint32_t namehash_offset = u32(8);
  const std::uint32_t namehash_size = u32(16);
  std::size_t used_slot = 0;  // byte offset of a used name table entry
  for (std::uint32_t i = 0; i < namehash_size; ++i) {
    if (u32(namehash_offset + 12 * i + 8) != 0) used_slot = namehash_offset + 12 * i;
  }
  REQUIRE(used_slot != 0);
  struct Corruption {
    const char* what;
    std::string bytes;
    const char* message_part;
  };
  const Corruption corruptions[] = {
      {"magic", patched(0, 0x12345678), "not a locale archive"},
      {"byte order", patched(0, 0x090102de), "byte order"},
      {"tiny name table", patched(16, 2), "slots"},
      {"empty name table", patched(16, 0), "slots"},
      {"more used than slots", patched(12, namehash_size + 1), "slots"},
      {"name table offset", patched(8, 0xfffffff0), "name table"},
      {"name table size", patched(16, 0x7fffffff), "name table"},
      {"string table", patched(24, 0xffffffff), "string table"},
      {"record table", patched(36, 0x00ffffff), "record table"},
      {"name offset", patched(used_slot + 4, static_cast<std::uint32_t>(good.size() + 10)), "name"},
      {"record offset", patched(used_slot + 8, static_cast<std::uint32_t>(good.size() - 8)),
       "record"},
      {"data offset", patched(u32(used_slot + 8) + 4, 0xfffffff0), "data"},
      {"data length", patched(u32(used_slot + 8) + 8, 0xfffffff0), "data"},
  };
  for (const Corruption& c : corruptions) {
    INFO(c.what);
    auto r = parse_locale_archive(c.bytes);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find(c.message_part) != std::string::npos);
  }
  // A name without its terminating NUL at the very end of the file.
  std::string unterminated = patched(used_slot + 4, static_cast<std::uint32_t>(good.size() - 1));
  unterminated.back() = 'x';
  auto u = parse_locale_archive(unterminated);
  REQUIRE_FALSE(u.ok());
  CHECK(u.error().message.find("not terminated") != std::string::npos);
  // Garbage of many shapes never crashes; random bytes are never an archive.
  std::mt19937 rng(1234);
  std::string garbage(8192, '\0');
  for (char& c : garbage) c = static_cast<char>(rng());
  CHECK_FALSE(parse_locale_archive(garbage).ok());
  for (int round = 0; round < 3000; ++round) {
    std::string copy = good.substr(0, 0x20000);
    for (int flips = 0; flips < 4; ++flips) {
      std::size_t at = rng() % (round % 2 ? 64 : 0x20000);
      copy[at] = static_cast<char>(rng());
    }
    auto m = parse_locale_archive(copy, good.size());
    if (m.ok()) {
      for (const std::string& name : m->names()) (void)m->find(name);
      (void)m->find("en_US.utf8");
    }
  }
}
}  // namespace
}  // namespace pycheck
