// The `locale` check on fixture roots: its verdicts for LANG/LC_*, archives,
// directories, aliases, LOCPATH and deadlines. Needs the Debian packages
// `locales` (localedef's sources in /usr/share/i18n) and `libc-bin`
// (/usr/lib/locale/C.utf8, localedef): the tests fail, not skip, without them.
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
#include "tests/unit/locale_test_support.h"
#include "tests/unit/outcome_text.h"

namespace pycheck {
namespace {

using namespace locale_test;

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
}  // namespace
}  // namespace pycheck
