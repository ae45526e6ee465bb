// The locale readers (names, aliases, archive, locale data) and the `locale`
// check. Needs the Debian packages `locales` (localedef's sources in
// /usr/share/i18n) and `libc-bin` (/usr/lib/locale/C.utf8, localedef): the
// tests that use them fail, not skip, when they are missing.
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
#include "checks/formats/locale_name.h"
#include "tests/unit/fixture_root.h"
#include "tests/unit/outcome_text.h"

namespace pycheck {
namespace {

namespace fs = std::filesystem;
using test::FixtureRoot;

std::string read_host_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

int run_command(const std::string& command, std::string* output = nullptr) {
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return -1;
  std::string text;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe)) text.append(buf, n);
  int status = ::pclose(pipe);
  if (output) *output = text;
  return status;
}

constexpr const char* kHostCUtf8 = "/usr/lib/locale/C.utf8";

// A real archive made by localedef, generated once per test run.
struct GeneratedArchive {
  FixtureRoot dir;
  std::string bytes;
  std::vector<std::string> listed;  // localedef --list-archive
};

const GeneratedArchive& generated_archive() {
  static GeneratedArchive g;  // its folder is removed at exit
  if (!g.bytes.empty()) return g;
  g.listed.clear();
  g.dir.mkdir("/usr/lib/locale");
  const std::string prefix = "localedef --prefix=" + g.dir.dir() + " ";
  for (const char* spec : {"-i en_US -f UTF-8 en_US.UTF-8", "-i de_DE -f UTF-8 de_DE.UTF-8",
                           "-i de_DE -f ISO-8859-15 de_DE@euro"}) {
    std::string out;
    int rc = run_command(prefix + spec, &out);
    INFO("localedef " << spec << " (needs Debian package `locales`): " << out);
    REQUIRE(rc == 0);
  }
  std::string list;
  REQUIRE(run_command(prefix + "--list-archive", &list) == 0);
  std::istringstream lines(list);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) g.listed.push_back(line);
  }
  std::string bytes = read_host_file(g.dir.host_path("/usr/lib/locale/locale-archive"));
  REQUIRE(bytes.size() > 4096);
  g.bytes = std::move(bytes);
  return g;
}

void copy_host_dir(const FixtureRoot& root, const std::string& from, std::string_view to) {
  INFO("copying " << from << " (Debian package libc-bin)");
  REQUIRE(fs::is_directory(from));
  fs::create_directories(root.host_path(to));
  fs::copy(from, root.host_path(to), fs::copy_options::recursive | fs::copy_options::copy_symlinks);
}

CheckOutcome run_check(const FixtureRoot& root,
                       std::map<std::string, std::string, std::less<>> vars) {
  RootFs rootfs = root.fs();
  Environment env(std::move(vars));
  json params = json::object();
  Context ctx{rootfs, env, params, std::chrono::system_clock::now(), false};
  return locale_check().run(ctx);
}

std::string status_of(const CheckOutcome& o) { return std::string(to_string(o.status)); }

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

// --- the check on fixture roots -------------------------------------------------

void add_c_utf8(FixtureRoot& root) { copy_host_dir(root, kHostCUtf8, "/usr/lib/locale/C.utf8"); }
void add_archive(FixtureRoot& root) {
  root.file("/usr/lib/locale/locale-archive", generated_archive().bytes);
}
void add_aliases(FixtureRoot& root) {
  root.file("/etc/locale.alias",
            "# test aliases\nmyeng en_US.UTF-8\nmyde\tde_DE.ISO-8859-15@euro\n"
            "german de_DE.ISO-8859-1\n");
  root.symlink("/usr/share/locale/locale.alias", "/etc/locale.alias");  // as Debian has it
}
// A Debian image after `apt-get install locales` and locale-gen of three locales.
void debian_with_locales(FixtureRoot& root) {
  add_c_utf8(root);
  add_archive(root);
  add_aliases(root);
}

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

TEST_CASE("locale check: nothing set passes with a note", "[locale]") {
  FixtureRoot root;
  add_c_utf8(root);
  CheckOutcome o = run_check(root, {});
  CHECK(status_of(o) == "pass");
  CHECK(contains(o.summary, "No locale variables set"));
  CHECK(o.details["effective_locale"] == "C");
  CHECK(o.details["effective_source"].is_null());
  CHECK(o.details["python"]["legacy_c_locale"] == true);
  CHECK(o.details["python"]["utf8_mode"] == true);
  CHECK(o.details["python"]["locale_coercion"] == true);
  CHECK(o.details["python"]["coercion_target"] == "C.UTF-8");
  CHECK(o.details["archive"]["present"] == false);

  // Empty values count as unset, as in glibc.
  CheckOutcome e = run_check(root, {{"LANG", ""}, {"LC_ALL", ""}, {"LC_CTYPE", ""}});
  CHECK(status_of(e) == "pass");
  CHECK(e.details["locales"].empty());
  CHECK(e.details["ignored"].size() == 3);
  CHECK(e.details["variables"]["LANG"] == "");
}

TEST_CASE("locale check: LANG=C.UTF-8 passes from Debian's C.utf8 directory", "[locale]") {
  FixtureRoot root;
  add_c_utf8(root);
  for (const char* name : {"C.UTF-8", "C.utf8", "C.UTF8"}) {
    INFO(name);
    CheckOutcome o = run_check(root, {{"LANG", name}});
    CHECK(status_of(o) == "pass");
    const json& l = o.details["locales"][0];
    CHECK(l["variable"] == "LANG");
    CHECK(l["status"] == "found");
    CHECK(l["found_in"] == "directory");
    CHECK(l["path"] == "/usr/lib/locale/C.utf8");
    CHECK(l["entry"] == "C.utf8");
    CHECK(l["codeset"] == "UTF-8");
    CHECK(l["utf8"] == true);
    CHECK(l["categories"].size() == 12);
    CHECK(o.details["effective_locale"] == name);
    CHECK(o.details["python"]["legacy_c_locale"] == false);
    CHECK(o.details["python"]["utf8_mode"] == false);
    CHECK(contains(o.summary, "/usr/lib/locale/C.utf8"));
    CHECK(o.remediation().empty());
  }
  // Without it (a root whose libc-bin lacks C.utf8) the same LANG fails.
  FixtureRoot bare;
  CheckOutcome f = run_check(bare, {{"LANG", "C.UTF-8"}});
  CHECK(status_of(f) == "fail");
  CHECK(contains(f.summary, "LANG=C.UTF-8 is not installed"));
}

TEST_CASE("locale check: locales generated into the archive pass", "[locale]") {
  FixtureRoot root;
  debian_with_locales(root);
  CheckOutcome o = run_check(root, {{"LANG", "en_US.UTF-8"}});
  CHECK(status_of(o) == "pass");
  const json& l = o.details["locales"][0];
  CHECK(l["found_in"] == "archive");
  CHECK(l["path"] == "/usr/lib/locale/locale-archive");
  CHECK(l["entry"] == "en_US.utf8");
  CHECK(l["normalized"] == "en_US.utf8");
  CHECK(l["utf8"] == true);
  CHECK(contains(o.summary, "LANG=en_US.UTF-8"));
  CHECK(contains(o.summary, "locale-archive as en_US.utf8 (UTF-8)"));
  const json& archive = o.details["archive"];
  CHECK(archive["present"] == true);
  CHECK(archive["locale_count"] == 4);
  CHECK(archive["locales"] ==
        json::array({"de_DE.iso885915@euro", "de_DE.utf8", "de_DE@euro", "en_US.utf8"}));
  CHECK(archive["locales_truncated"] == false);

  // A non-UTF-8 locale exists too; the check says so and still passes.
  CheckOutcome euro = run_check(root, {{"LANG", "de_DE@euro"}});
  CHECK(status_of(euro) == "pass");
  CHECK(euro.details["locales"][0]["codeset"] == "ISO-8859-15");
  CHECK(euro.details["locales"][0]["utf8"] == false);
  CHECK(contains(euro.summary, "not UTF-8"));

  // Via locale.alias (case-insensitive), as glibc retries after a miss.
  CheckOutcome alias = run_check(root, {{"LANG", "MyEng"}});
  CHECK(status_of(alias) == "pass");
  CHECK(alias.details["locales"][0]["alias_of"] == "en_US.UTF-8");
  CHECK(alias.details["alias_file"]["present"] == true);
  CHECK(alias.details["alias_file"]["aliases"] == 3);
}

TEST_CASE("locale check agrees with glibc 2.36 setlocale over the same archive", "[locale]") {
  // Recorded with newlocale() in a chroot holding exactly this archive, C.utf8,
  // and these aliases (glibc 2.36-9+deb12u14).
  struct Row {
    const char* name;
    bool glibc_ok;
    const char* codeset;
  };
  const Row rows[] = {
      {"en_US.UTF-8", true, "UTF-8"},
      {"en_US.utf8", true, "UTF-8"},
      {"en_US.UTF8", true, "UTF-8"},
      {"en_US.u-t-f-8", true, "UTF-8"},
      {"en_us.utf8", false, ""},
      {"EN_US.UTF-8", false, ""},
      {"en_US", false, ""},
      {"en_US.ISO-8859-1", false, ""},
      {"de_DE.UTF-8", true, "UTF-8"},
      {"de_DE", false, ""},
      {"de_DE@euro", true, "ISO-8859-15"},
      {"de_DE.ISO-8859-15@euro", true, "ISO-8859-15"},
      {"de_DE.iso885915@euro", true, "ISO-8859-15"},
      {"de_DE.UTF-8@euro", false, ""},
      {"de_DE.utf8@euro", false, ""},
      {"de_AT.UTF-8", false, ""},
      {"C.UTF-8", true, "UTF-8"},
      {"C.utf8", true, "UTF-8"},
      {"C.UTF8", true, "UTF-8"},
      {"C.u-t-f-8", false, ""},
      {"C_XX.UTF-8", true, "UTF-8"},
      {"C.utf8@x", true, "UTF-8"},
      {"myeng", true, "UTF-8"},
      {"MYENG", true, "UTF-8"},
      {"myde", true, "ISO-8859-15"},
      {"german", false, ""},
      {"fr_FR.UTF-8", false, ""},
      {"xx_YY.UTF-8", false, ""},
  };
  FixtureRoot root;
  debian_with_locales(root);
  for (const Row& r : rows) {
    INFO(r.name);
    CheckOutcome o = run_check(root, {{"LANG", r.name}});
    CHECK((status_of(o) != "fail") == r.glibc_ok);
    if (r.glibc_ok) CHECK(o.details["locales"][0]["codeset"] == r.codeset);
  }
  for (const char* builtin : {"C", "POSIX"}) {
    CheckOutcome o = run_check(root, {{"LANG", builtin}});
    CHECK(status_of(o) == "warn");
  }
}

TEST_CASE("locale check: a locale that is not installed fails", "[locale]") {
  FixtureRoot root;
  debian_with_locales(root);
  CheckOutcome o = run_check(root, {{"LANG", "fr_FR.UTF-8"}});
  CHECK(status_of(o) == "fail");
  CHECK(o.summary == "LANG=fr_FR.UTF-8 is not installed");
  CHECK(contains(o.remediation(), "localedef -i fr_FR -f UTF-8 fr_FR.UTF-8"));
  CHECK(contains(o.remediation(), "locale-gen"));
  CHECK(contains(o.remediation(), "C.UTF-8"));
  CHECK(contains(said(o), "locale.Error"));
  const json& l = o.details["locales"][0];
  CHECK(l["status"] == "missing");
  CHECK(l["missing_categories"].size() == 12);
  CHECK(o.details["python"]["legacy_c_locale"] == true);  // LC_CTYPE falls back to C

  // A set LC_* naming a missing locale breaks setlocale(LC_ALL, "") as well.
  CheckOutcome m = run_check(root, {{"LANG", "C.UTF-8"}, {"LC_MESSAGES", "fr_FR.UTF-8"}});
  CHECK(status_of(m) == "fail");
  CHECK(m.summary == "LC_MESSAGES=fr_FR.UTF-8 is not installed");
  REQUIRE(m.details["locales"].size() == 2);
  CHECK(m.details["locales"][0]["variable"] == "LANG");
  CHECK(m.details["locales"][0]["status"] == "found");
  CHECK(m.details["locales"][0]["categories"].size() == 11);
  CHECK(m.details["locales"][1]["variable"] == "LC_MESSAGES");
  CHECK(m.details["locales"][1]["categories"] == json::array({"LC_MESSAGES"}));
  CHECK(m.details["effective_locale"] == "C.UTF-8");

  // LC_ALL overrides every LC_* (and LANG): the missing one no longer matters.
  CheckOutcome a =
      run_check(root, {{"LC_ALL", "C.UTF-8"}, {"LC_MESSAGES", "fr_FR.UTF-8"}, {"LANG", "xx"}});
  CHECK(status_of(a) == "pass");
  CHECK(a.details["locales"].size() == 1);
  CHECK(a.details["ignored"].size() == 2);
  CHECK(a.details["ignored"][0]["variable"] == "LC_MESSAGES");
  CHECK(a.details["ignored"][1]["reason"] == "overridden by LC_ALL");

  // Two at once.
  CheckOutcome two = run_check(root, {{"LANG", "xx_YY.UTF-8"}, {"LC_TIME", "en_GB.UTF-8"}});
  CHECK(two.summary == "2 locale variables name missing locales");
  REQUIRE(two.findings.size() == 2);
  CHECK(two.findings[0].message == "LANG=xx_YY.UTF-8 is not installed");
  CHECK(two.findings[1].message == "LC_TIME=en_GB.UTF-8 is not installed");

  // Not a name glibc accepts at all.
  CheckOutcome bad = run_check(root, {{"LANG", "../../etc/passwd"}});
  CHECK(status_of(bad) == "fail");
  CHECK(contains(bad.summary, "is not a valid locale name"));
}

TEST_CASE("locale check: LANG=C or POSIX warns", "[locale]") {
  FixtureRoot root;
  add_c_utf8(root);
  for (const char* name : {"C", "POSIX"}) {
    CheckOutcome o = run_check(root, {{"LANG", name}});
    CHECK(status_of(o) == "warn");
    CHECK(contains(o.summary, std::string("LANG=") + name));
    CHECK(contains(o.remediation(), "LANG=C.UTF-8"));
    CHECK(o.details["python"]["locale_coercion"] == true);
  }
  CheckOutcome all = run_check(root, {{"LC_ALL", "C"}, {"LANG", "C.UTF-8"}});
  CHECK(status_of(all) == "warn");
  CHECK(contains(all.summary, "LC_ALL turns PEP 538 coercion off"));
  CHECK(contains(all.remediation(), "unset LC_ALL"));
  CHECK(all.details["python"]["locale_coercion"] == false);
  CHECK(all.details["python"]["utf8_mode"] == true);

  CheckOutcome off =
      run_check(root, {{"LANG", "C"}, {"PYTHONCOERCECLOCALE", "0"}, {"PYTHONUTF8", "0"}});
  CHECK(off.details["python"]["locale_coercion"] == false);
  CHECK(off.details["python"]["utf8_mode"] == false);
  CHECK(off.details["variables"]["PYTHONUTF8"] == "0");

  // C for LC_CTYPE only through LC_MESSAGES being set is not "LANG=C".
  CheckOutcome msgs = run_check(root, {{"LC_MESSAGES", "C.UTF-8"}});
  CHECK(status_of(msgs) == "pass");
  CHECK(msgs.details["effective_locale"] == "C");
}

TEST_CASE("locale check: an invalid PYTHONUTF8 fails", "[locale]") {
  FixtureRoot root;
  add_c_utf8(root);
  CheckOutcome o = run_check(root, {{"LANG", "C.UTF-8"}, {"PYTHONUTF8", "yes"}});
  CHECK(status_of(o) == "fail");
  CHECK(contains(o.summary, "PYTHONUTF8=yes"));
  CHECK_FALSE(o.remediation().empty());
  CHECK(status_of(run_check(root, {{"LANG", "C.UTF-8"}, {"PYTHONUTF8", "1"}})) == "pass");
  CHECK(status_of(run_check(root, {{"LANG", "C.UTF-8"}, {"PYTHONUTF8", ""}})) == "pass");
}

TEST_CASE("locale check: LOCPATH replaces the archive with its directories", "[locale]") {
  FixtureRoot root;
  debian_with_locales(root);
  CheckOutcome o = run_check(root, {{"LANG", "en_US.UTF-8"}, {"LOCPATH", "/opt/locales"}});
  CHECK(status_of(o) == "fail");
  CHECK(contains(said(o), "LOCPATH is set"));
  CHECK(contains(o.remediation(), "LOCPATH"));
  CHECK(o.details["archive"]["searched"] == false);
  CHECK(o.details["locpath"] == json::array({"/opt/locales", "/usr/lib/locale"}));

  copy_host_dir(root, kHostCUtf8, "/opt/locales/qq_QQ.utf8");
  CheckOutcome q = run_check(root, {{"LANG", "qq_QQ.UTF-8"}, {"LOCPATH", "::/opt/locales:"}});
  CHECK(status_of(q) == "pass");
  CHECK(q.details["locales"][0]["path"] == "/opt/locales/qq_QQ.utf8");
  CHECK(contains(q.summary, "LOCPATH is set"));
  // /usr/lib/locale is still searched after LOCPATH.
  CHECK(status_of(run_check(root, {{"LANG", "C.UTF-8"}, {"LOCPATH", "/opt/locales"}})) == "pass");
}

TEST_CASE("locale check: a corrupt or unreadable archive is reported and skipped", "[locale]") {
  FixtureRoot root;
  add_c_utf8(root);
  std::string truncated = generated_archive().bytes.substr(0, 20000);
  root.file("/usr/lib/locale/locale-archive", truncated);
  CheckOutcome o = run_check(root, {{"LANG", "C.UTF-8"}});
  CHECK(status_of(o) == "warn");
  CHECK(contains(said(o), "/usr/lib/locale/locale-archive"));
  CHECK(contains(o.remediation(), "locale-gen"));
  CHECK(contains(o.details["archive"]["error"].get<std::string>(), "truncated or corrupt"));

  CheckOutcome f = run_check(root, {{"LANG", "en_US.UTF-8"}});
  CHECK(status_of(f) == "fail");
  CHECK(contains(said(f), "the locale archive is unreadable"));
  CHECK(contains(f.remediation(), "rm /usr/lib/locale/locale-archive"));

  root.file("/usr/lib/locale/locale-archive", "just some text\n");
  CheckOutcome g = run_check(root, {{"LANG", "C.UTF-8"}});
  CHECK(status_of(g) == "warn");
  CHECK(contains(g.details["archive"]["error"].get<std::string>(), "too short"));

  std::filesystem::remove(root.host_path("/usr/lib/locale/locale-archive"));
  root.fifo("/usr/lib/locale/locale-archive");
  CheckOutcome fifo = run_check(root, {{"LANG", "C.UTF-8"}});
  CHECK(status_of(fifo) == "warn");
  CHECK(contains(fifo.details["archive"]["error"].get<std::string>(), "FIFO"));

  // A FIFO as locale.alias is skipped too.
  root.fifo("/usr/share/locale/locale.alias");
  CheckOutcome alias = run_check(root, {{"LANG", "C.UTF-8"}});
  CHECK(alias.details["alias_file"]["present"] == false);
  CHECK(alias.details["alias_file"].contains("error"));
}

TEST_CASE("locale check: directory locales are validated like glibc loads them", "[locale]") {
  FixtureRoot root;
  add_c_utf8(root);
  // Only LC_CTYPE: Python's LC_CTYPE works, setlocale(LC_ALL, "") does not.
  root.file("/usr/lib/locale/qt_TT.utf8/LC_CTYPE",
            read_host_file(std::string(kHostCUtf8) + "/LC_CTYPE"));
  CheckOutcome o = run_check(root, {{"LANG", "qt_TT.UTF-8"}});
  CHECK(status_of(o) == "fail");
  CHECK(o.summary == "LANG=qt_TT.UTF-8 is incomplete (only LC_CTYPE)");
  CHECK(o.details["locales"][0]["status"] == "incomplete");
  CHECK(o.details["locales"][0]["found_in"] == "directory");
  CHECK(o.details["locales"][0]["missing_categories"].size() == 11);
  CHECK(o.details["python"]["legacy_c_locale"] == false);

  copy_host_dir(root, kHostCUtf8, "/usr/lib/locale/qm_MM.utf8");
  fs::remove_all(root.host_path("/usr/lib/locale/qm_MM.utf8/LC_MESSAGES"));
  CheckOutcome m = run_check(root, {{"LANG", "qm_MM.UTF-8"}});
  CHECK(m.summary == "LANG=qm_MM.UTF-8 is incomplete (no LC_MESSAGES)");
  CHECK(m.details["locales"][0]["missing_categories"] == json::array({"LC_MESSAGES"}));

  // Garbage data is skipped and named.
  copy_host_dir(root, kHostCUtf8, "/usr/lib/locale/qg_GG.utf8");
  root.file("/usr/lib/locale/qg_GG.utf8/LC_CTYPE", "garbage");
  CheckOutcome g = run_check(root, {{"LANG", "qg_GG.UTF-8"}});
  CHECK(status_of(g) == "fail");
  CHECK(contains(g.details["locales"][0]["problems"][0].get<std::string>(),
                 "/usr/lib/locale/qg_GG.utf8/LC_CTYPE"));
  // A FIFO in place of a data file is not opened.
  std::filesystem::remove(root.host_path("/usr/lib/locale/qg_GG.utf8/LC_CTYPE"));
  root.fifo("/usr/lib/locale/qg_GG.utf8/LC_CTYPE");
  CHECK(status_of(run_check(root, {{"LANG", "qg_GG.UTF-8"}})) == "fail");
}

TEST_CASE("locale check: skips musl roots", "[locale]") {
  FixtureRoot root;
  root.executable("/lib/ld-musl-x86_64.so.1");
  CheckOutcome o = run_check(root, {{"LANG", "en_US.UTF-8"}});
  CHECK(status_of(o) == "skip");
  CHECK(o.details["libc"] == "musl");
}

TEST_CASE("locale check: a passed deadline is an error, not a missing locale", "[locale]") {
  FixtureRoot root;
  add_c_utf8(root);
  RootFs rootfs = root.fs();
  rootfs.set_deadline(std::chrono::steady_clock::now() - std::chrono::seconds(1));
  Environment env;
  env.set("LANG", "C.UTF-8");
  json params = json::object();
  Context ctx{rootfs, env, params, std::chrono::system_clock::now(), false};
  CheckOutcome o = locale_check().run(ctx);
  CHECK(status_of(o) == "error");
  CHECK(contains(o.summary, "timed out"));
  CHECK(o.findings.empty());
}

// Sets an environment variable of this process for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = ::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// What this process's glibc makes of `name`. setlocale, not newlocale: glibc 2.36's
// newlocale leaks its copy of LOCPATH when it fails. The process locale is restored.
struct GlibcVerdict {
  bool all = false;    // setlocale(LC_ALL, name) succeeds
  bool ctype = false;  // setlocale(LC_CTYPE, name) succeeds
  std::string codeset;
};
GlibcVerdict ask_glibc(const char* name) {
  const std::string saved = ::setlocale(LC_ALL, nullptr);
  GlibcVerdict v;
  v.all = ::setlocale(LC_ALL, name) != nullptr;
  ::setlocale(LC_ALL, saved.c_str());
  v.ctype = ::setlocale(LC_CTYPE, name) != nullptr;
  if (v.ctype) v.codeset = ::nl_langinfo(CODESET);
  ::setlocale(LC_ALL, saved.c_str());
  return v;
}

TEST_CASE("locale check agrees with this machine's glibc on LOCPATH directories",
          "[locale][glibc-live]") {
  // glibc reads LOCPATH on every setlocale(), then the host's /usr/lib/locale and
  // /usr/share/locale/locale.alias; the fixture mirrors those.
  FixtureRoot root;
  for (const auto& entry : fs::directory_iterator("/usr/lib/locale")) {
    if (entry.is_directory()) {
      copy_host_dir(root, entry.path().string(),
                    "/usr/lib/locale/" + entry.path().filename().string());
    }
  }
  if (fs::exists("/usr/share/locale/locale.alias")) {
    root.file("/usr/share/locale/locale.alias", read_host_file("/usr/share/locale/locale.alias"));
  }
  if (!fs::exists(root.host_path("/usr/lib/locale/C.utf8"))) add_c_utf8(root);
  const std::string loc = "/opt/loc";
  for (const char* dir : {"qq_QQ.utf8", "qr@mod", "qs_SS", "qu"}) {
    copy_host_dir(root, kHostCUtf8, loc + "/" + dir);
  }
  root.file(loc + "/qt_TT.utf8/LC_CTYPE", read_host_file(std::string(kHostCUtf8) + "/LC_CTYPE"));
  for (const LocaleCategory& cat : locale_categories()) {
    root.file(loc + "/qu.utf8/" + std::string(cat.name), "garbage, not locale data");
  }
  copy_host_dir(root, kHostCUtf8, loc + "/qv_VV.utf8");
  fs::remove(root.host_path(loc + "/qv_VV.utf8/LC_CTYPE"));
  root.file(loc + "/qv_VV.utf8/LC_CTYPE/SYS_LC_CTYPE",
            read_host_file(std::string(kHostCUtf8) + "/LC_CTYPE"));
  root.symlink(loc + "/qw_WW.utf8", "qq_QQ.utf8");

  // clang-format off
  const char* names[] = {
      "qq_QQ.UTF-8", "qq_QQ.utf8", "qq_QQ.UTF8", "qq_QQ.u-t-f-8", "qq_QQ.ISO-8859-1", "qq_QQ",
      "qq_QQ@mod", "qq_RR.UTF-8", "qq.UTF-8", "qr@mod", "qr_XX@mod", "qr_XX.UTF-8@mod", "qr",
      "qs_SS", "qs_SS.UTF-8", "qs_SS.ISO-8859-1", "qs_SS.utf8@x", "qt_TT.UTF-8", "qu.UTF-8",
      "qu_UU.utf8", "qv_VV.UTF-8", "qw_WW.UTF-8", "/qq_QQ.utf8", "C.UTF-8", "C.utf8", "C.u-t-f-8",
      "C_XX.UTF-8", "xx_YY.UTF-8", "a/b", "C", "POSIX",
  };
  // clang-format on

  ScopedEnv locpath("LOCPATH", root.host_path(loc));
  int glibc_accepted = 0;
  for (const char* name : names) {
    INFO(name);
    const GlibcVerdict glibc = ask_glibc(name);
    CheckOutcome o = run_check(root, {{"LANG", name}, {"LOCPATH", loc}});
    CHECK((status_of(o) != "fail") == glibc.all);
    const json& l = o.details["locales"][0];
    const json missing = l.value("missing_categories", json::array());
    const bool ctype_found = std::find(missing.begin(), missing.end(), "LC_CTYPE") == missing.end();
    CHECK(ctype_found == glibc.ctype);
    if (glibc.ctype && l.contains("codeset")) CHECK(l["codeset"] == glibc.codeset);
    glibc_accepted += glibc.all ? 1 : 0;
  }
  CHECK(glibc_accepted >= 15);  // the comparison covered both outcomes
}

}  // namespace
}  // namespace pycheck
