// The `locale` check compared with this process's own glibc (setlocale) on
// LOCPATH directories ([glibc-live]: not in the static build). Needs the
// Debian package `libc-bin` (/usr/lib/locale/C.utf8).
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
