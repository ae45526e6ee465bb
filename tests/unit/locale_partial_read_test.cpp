// The locale check reads a category's header, string index and codeset string,
// not its whole data (LC_CTYPE is 353 KB), and an archive's header and tables,
// not its locales: these tests pin that the answers and the error messages are
// those of the whole-data readers. Needs the Debian package `libc-bin`
// (/usr/lib/locale/C.utf8) and `locales` (localedef): fails when they are missing.
#include <stdio.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "checks/check_table.h"
#include "checks/formats/locale_archive.h"
#include "tests/unit/fixture_root.h"

namespace pycheck {
namespace {

namespace fs = std::filesystem;
using test::FixtureRoot;

constexpr const char* kHostCUtf8 = "/usr/lib/locale/C.utf8";

std::string read_host_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string host_ctype() {
  INFO("/usr/lib/locale/C.utf8/LC_CTYPE (Debian package libc-bin)");
  std::string data = read_host_file(std::string(kHostCUtf8) + "/LC_CTYPE");
  REQUIRE(data.size() > 100000);
  return data;
}

void put_u32(std::string& s, std::size_t at, std::uint32_t v) { std::memcpy(&s[at], &v, 4); }

// LC_CTYPE-shaped data: `nstrings` index entries all pointing at `codeset`,
// which is written at `codeset_at` (after padding), NUL-terminated or not.
std::string synthetic_ctype(std::uint32_t nstrings, std::size_t codeset_at,
                            const std::string& codeset, bool terminated = true) {
  const LocaleCategory& ctype = *find_locale_category("LC_CTYPE");
  std::string s(codeset_at, 'x');
  put_u32(s, 0, ctype.magic);
  put_u32(s, 4, nstrings);
  for (std::uint32_t i = 0; i < nstrings; ++i) put_u32(s, 8 + 4 * i, codeset_at);
  s += codeset;
  if (terminated) s += '\0';
  return s;
}

// What the stepped functions give when fed only the parts a reader reads.
Result<std::string> stepped(const LocaleCategory& cat, std::string_view data,
                            std::string_view what) {
  const std::string_view head = data.substr(0, std::min<std::size_t>(data.size(), 8));
  const std::uint64_t index_end = std::min<std::uint64_t>(data.size(), locale_data_index_end(head));
  auto at = locale_data_codeset_offset(cat, data.substr(0, index_end), data.size(), what);
  if (!at) return at.error();
  return locale_data_codeset_string(data.substr(*at), what);
}

std::string message_of(const Result<std::string>& r) { return r ? *r : r.error().message; }

TEST_CASE("locale data codeset in steps gives what the whole-data reader gives", "[locale]") {
  const LocaleCategory& ctype = *find_locale_category("LC_CTYPE");
  const std::string real = host_ctype();
  std::string bad_magic = real;
  bad_magic[0] ^= 1;
  std::string huge_index = real;
  put_u32(huge_index, 4, 0x7fffffff);
  std::string no_codeset = real;
  put_u32(no_codeset, 4, 3);
  std::string index_past_end = real;
  put_u32(index_past_end, 8 + 4 * 20, static_cast<std::uint32_t>(real.size() + 1));
  const std::vector<std::pair<std::string, std::string>> vectors = {
      {"real", real},
      {"cut to 7", real.substr(0, 7)},
      {"cut to 8", real.substr(0, 8)},
      {"cut in the index", real.substr(0, 100)},
      {"cut before the codeset", real.substr(0, 1000)},
      {"bad magic", bad_magic},
      {"huge index", huge_index},
      {"no codeset item", no_codeset},
      {"index points past the end", index_past_end},
      {"index of 2000 entries", synthetic_ctype(2000, 9000, "WEIRD-SET")},
      {"unterminated codeset", synthetic_ctype(89, 5000, "UTF-8", false)},
      {"long codeset", synthetic_ctype(89, 5000, std::string(600, 'C'))},
      {"garbage", "garbage garbage garbage"},
  };
  for (const auto& [name, data] : vectors) {
    INFO(name);
    CHECK(message_of(stepped(ctype, data, "/x/LC_CTYPE")) ==
          message_of(locale_data_codeset(ctype, data, "/x/LC_CTYPE")));
  }
  CHECK(message_of(locale_data_codeset(ctype, real, "/x")) == "UTF-8");
  CHECK(locale_data_index_end("") == 8);
  CHECK(locale_data_index_end(real.substr(0, 8)) == 8 + 4 * 89);
}

CheckOutcome run_check(const FixtureRoot& root, const std::string& lang) {
  RootFs rootfs = root.fs();
  Environment env(std::map<std::string, std::string, std::less<>>{{"LANG", lang}});
  json params = json::object();
  Context ctx{rootfs, env, params, std::chrono::system_clock::now(), false};
  return locale_check().run(ctx);
}

// A directory locale `dir` made of the host's C.utf8 with `ctype` as its LC_CTYPE.
void locale_dir_with_ctype(FixtureRoot& root, const std::string& dir, const std::string& ctype,
                           bool sys_dir = false) {
  INFO("copying /usr/lib/locale/C.utf8 (Debian package libc-bin)");
  REQUIRE(fs::is_directory(kHostCUtf8));
  fs::create_directories(root.host_path(dir));
  fs::copy(kHostCUtf8, root.host_path(dir), fs::copy_options::recursive);
  fs::remove(root.host_path(dir + "/LC_CTYPE"));
  if (sys_dir) {
    root.file(dir + "/LC_CTYPE/SYS_LC_CTYPE", ctype);
  } else {
    root.file(dir + "/LC_CTYPE", ctype);
  }
}

TEST_CASE("locale check reads a codeset deep in large data as a whole read would", "[locale]") {
  const LocaleCategory& ctype = *find_locale_category("LC_CTYPE");
  struct Case {
    std::string name;
    std::string data;
    bool sys_dir;
  };
  const std::vector<Case> cases = {
      {"real", host_ctype(), false},
      {"real in SYS_LC_CTYPE", host_ctype(), true},
      {"index past the first read", synthetic_ctype(2000, 9000, "UTF-8"), false},
      {"index past the first read, SYS_", synthetic_ctype(2000, 9000, "UTF-8"), true},
      {"codeset longer than the small read", synthetic_ctype(89, 50000, std::string(600, 'C')),
       false},
      {"unterminated codeset", synthetic_ctype(89, 50000, "UTF-8", false), false},
      {"unterminated after 200 bytes", synthetic_ctype(89, 50000, std::string(200, 'U'), false),
       true},
      {"cut before the codeset", host_ctype().substr(0, 20000), false},
      {"exactly one first read", synthetic_ctype(89, 4096 - 6, "UTF-8"), false},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    FixtureRoot root;
    locale_dir_with_ctype(root, "/usr/lib/locale/qz_ZZ", c.data, c.sys_dir);
    const std::string file = c.sys_dir ? "/usr/lib/locale/qz_ZZ/LC_CTYPE/SYS_LC_CTYPE"
                                       : "/usr/lib/locale/qz_ZZ/LC_CTYPE";
    auto whole = locale_data_codeset(ctype, c.data, file);
    CheckOutcome o = run_check(root, "qz_ZZ");
    const json& entry = o.details["locales"][0];
    INFO(entry.dump());
    if (whole) {
      CHECK(entry.value("codeset", std::string()) == *whole);
    } else {
      REQUIRE(entry.contains("problems"));
      CHECK(entry["problems"][0] == whole.error().message);
    }
  }
}

TEST_CASE("locale check reads an archive's tables and only the data it needs", "[locale]") {
  INFO("localedef (Debian package locales)");
  FixtureRoot gen;
  gen.mkdir("/usr/lib/locale");
  REQUIRE(std::system(("localedef --prefix=" + gen.dir() +
                       " -i de_DE -f ISO-8859-15 de_DE@euro >/dev/null 2>&1")
                          .c_str()) == 0);
  const std::string archive = read_host_file(gen.host_path("/usr/lib/locale/locale-archive"));
  REQUIRE(archive.size() > 100000);
  const std::uint64_t tables_end = locale_archive_tables_end(archive);
  CHECK(tables_end < archive.size());
  CHECK(locale_archive_tables_end("short") == 56);
  auto from_tables =
      parse_locale_archive(std::string_view(archive).substr(0, tables_end), archive.size());
  REQUIRE(from_tables.ok());
  CHECK(from_tables->names() == parse_locale_archive(archive)->names());

  FixtureRoot root;
  root.file("/usr/lib/locale/locale-archive", archive);
  CheckOutcome o = run_check(root, "de_DE@euro");
  CHECK(o.details["locales"][0]["codeset"] == "ISO-8859-15");
  CHECK(o.details["locales"][0]["found_in"] == "archive");
  CHECK(o.details["locales"][0]["status"] == "found");  // all 12 categories: window and ranges

  // A name pointing past the tables (but inside the file): the whole-file parse decides.
  std::string moved = archive;
  const std::uint32_t namehash = 56;  // the name table follows the header
  std::uint32_t used_slot = 0;
  for (std::uint32_t i = 0; i < 907; ++i) {
    std::uint32_t name_offset = 0;
    std::memcpy(&name_offset, &archive[namehash + 12 * i + 4], 4);
    if (name_offset != 0) {
      used_slot = i;
      break;
    }
  }
  put_u32(moved, namehash + 12 * used_slot + 4, static_cast<std::uint32_t>(archive.size() - 1));
  root.file("/usr/lib/locale/locale-archive", moved);
  auto whole = parse_locale_archive(moved);
  CheckOutcome m = run_check(root, "de_DE@euro");
  if (whole) {
    CHECK_FALSE(m.details["archive"].contains("error"));
  } else {
    CHECK(m.details["archive"]["error"] ==
          "/usr/lib/locale/locale-archive: " + whole.error().message);
  }
}

}  // namespace
}  // namespace pycheck
