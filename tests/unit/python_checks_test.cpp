// python.path and python.installs on fixture roots shaped like the official image.
#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "agent/core/findings.h"
#include "tests/unit/outcome_text.h"
#include "tests/unit/python_image_fixture.h"

using namespace pycheck;
using test::FixtureRoot;

namespace {

std::string status_of(const CheckOutcome& o) { return std::string(to_string(o.status)); }

}  // namespace

TEST_CASE("python.path: the official image passes", "[python]") {
  FixtureRoot root;
  test::add_image_python(root);
  auto out = test::run_check("python.path", root, test::image_env());
  INFO(out.summary);
  CHECK(status_of(out) == "pass");
  CHECK(out.summary == "python3 → /usr/local/bin/python3.11 (3.11.15, /usr/local)");
  CHECK(out.remediation().empty());
  const json& py3 = out.details["commands"]["python3"];
  CHECK(py3["path_entry"] == "/usr/local/bin");
  CHECK(py3["real_path"] == "/usr/local/bin/python3.11");
  CHECK(py3["symlinks"].size() == 1);
  CHECK(py3["python"]["base"]["version"] == "3.11.15");
  const json& pip = out.details["commands"]["pip"];
  CHECK(pip["symlinks"][0]["target"] == "pip3");
  CHECK(pip["shebang"]["python"] == "/usr/local/bin/python3.11");
  CHECK(pip["python"]["real_path"] == "/usr/local/bin/python3.11");
  // The image's duplicate /usr/local/bin and the folders this fixture lacks: information only.
  bool duplicate_noted = false;
  for (const json& problem : out.details["path"]["problems"]) {
    CHECK(problem["severity"] == "info");
    if (problem["kind"] == "duplicate-entry")
      duplicate_noted = problem["entry"] == "/usr/local/bin";
  }
  CHECK(duplicate_noted);
}

TEST_CASE("python.path: fail without python3", "[python]") {
  FixtureRoot root;
  test::add_image_python(root);
  SECTION("PATH without the image's bin folder") {
    auto out =
        test::run_check("python.path", root, test::image_env("/usr/sbin:/usr/bin:/sbin:/bin"));
    CHECK(status_of(out) == "fail");
    CHECK_THAT(said(out), Catch::Contains("python3 not found on PATH /usr/sbin:/usr/bin"));
    CHECK_FALSE(out.remediation().empty());
  }
  SECTION("PATH unset: glibc's default is searched and said so") {
    Environment env;
    auto out = test::run_check("python.path", root, env);
    CHECK(status_of(out) == "fail");
    CHECK_THAT(said(out), Catch::Contains("PATH unset"));
    CHECK(out.details["path"]["value"] == "/bin:/usr/bin");
  }
  SECTION("a dangling python3 link") {
    root.symlink("/usr/local/bin/python3", "python3.12");
    auto out = test::run_check("python.path", root, test::image_env());
    CHECK(status_of(out) == "fail");
    CHECK_THAT(out.details["commands"]["python3"]["skipped"][0]["reason"].get<std::string>(),
               Catch::Contains("dangling"));
  }
  SECTION("a python3 link loop stops the search") {
    root.symlink("/usr/local/bin/python3", "python3");
    auto out = test::run_check("python.path", root, test::image_env());
    CHECK(status_of(out) == "fail");
    CHECK_THAT(said(out), Catch::Contains("stops at /usr/local/bin/python3"));
  }
}

TEST_CASE("python.path: warnings", "[python]") {
  FixtureRoot root;
  test::add_image_python(root);
  SECTION("python missing") {
    std::filesystem::remove(root.host_path("/usr/local/bin/python"));
    auto out = test::run_check("python.path", root, test::image_env());
    CHECK(status_of(out) == "warn");
    CHECK_THAT(said(out), Catch::Contains("python is not on PATH"));
    CHECK_THAT(out.remediation(), Catch::Contains("ln -s python3"));
  }
  SECTION("python is Debian's, python3 the image's") {
    test::add_debian_python(root);
    std::filesystem::remove(root.host_path("/usr/local/bin/python"));
    root.symlink("/usr/bin/python", "python3");  // python-is-python3
    auto out = test::run_check("python.path", root, test::image_env());
    CHECK(status_of(out) == "warn");
    CHECK_THAT(said(out), Catch::Contains("python (/usr/bin/python) runs /usr/bin/python3.11 "
                                            "(3.11.2, /usr)"));
  }
  SECTION("pip bound by shebang to Debian's python") {
    test::add_debian_python(root, true);
    root.file("/usr/local/bin/pip3", test::pip_script("#!/usr/bin/python3"), 0755);
    auto out = test::run_check("python.path", root, test::image_env());
    CHECK(status_of(out) == "warn");
    CHECK_THAT(said(out), Catch::Contains("pip (/usr/local/bin/pip) installs into "
                                            "/usr/bin/python3.11 (3.11.2, /usr)"));
    CHECK_THAT(said(out), Catch::Contains("pip3 (/usr/local/bin/pip3)"));
    CHECK_THAT(out.remediation(), Catch::Contains("python3 -m pip"));
    CHECK(out.details["commands"]["pip"]["interpreter"]["real_path"] == "/usr/bin/python3.11");
  }
  SECTION("pip through env and distlib's sh wrapper, same python: pass") {
    std::filesystem::remove(root.host_path("/usr/local/bin/pip"));  // was a link to pip3
    root.file("/usr/local/bin/pip3", test::pip_script("#!/usr/bin/env python3"), 0755)
        .file("/usr/local/bin/pip",
              "#!/bin/sh\n'''exec' \"/usr/local/bin/python3.11\" \"$0\" \"$@\"\n' '''\n", 0755);
    auto out = test::run_check("python.path", root, test::image_env());
    INFO(out.summary);
    CHECK(status_of(out) == "pass");
    CHECK(out.details["commands"]["pip3"]["shebang"]["form"] == "env");
    CHECK(out.details["commands"]["pip"]["shebang"]["form"] == "sh-exec");
  }
  SECTION("pip's interpreter is gone") {
    root.file("/usr/local/bin/pip3", test::pip_script("#!/usr/local/bin/python3.10"), 0755);
    auto out = test::run_check("python.path", root, test::image_env());
    CHECK(status_of(out) == "warn");
    CHECK_THAT(said(out),
               Catch::Contains("starts /usr/local/bin/python3.10, which does not exist"));
  }
  SECTION("pip is not a script") {
    root.executable("/usr/local/bin/pip3",
                    "\x7f"
                    "ELF\x02\x01");
    auto out = test::run_check("python.path", root, test::image_env());
    CHECK(status_of(out) == "warn");
    CHECK_THAT(said(out), Catch::Contains("/usr/local/bin/pip3: no \"#!\" line"));
  }
  SECTION("empty and relative PATH entries") {
    auto out = test::run_check("python.path", root,
                               test::image_env("/usr/local/bin:/usr/bin::node_modules/.bin"));
    CHECK(status_of(out) == "warn");
    CHECK_THAT(said(out), Catch::Contains("PATH entry 3 is empty"));
    CHECK_THAT(said(out), Catch::Contains("\"node_modules/.bin\" is relative"));
  }
  SECTION("a venv first on PATH: python3 is the venv, pip of the base differs") {
    root.file("/opt/venv/pyvenv.cfg", "home = /usr/local/bin\nversion = 3.11.15\n")
        .symlink("/opt/venv/bin/python3", "/usr/local/bin/python3")
        .symlink("/opt/venv/bin/python", "python3")
        .file("/opt/venv/bin/pip", test::pip_script("#!/opt/venv/bin/python"), 0755)
        .file("/opt/venv/bin/pip3", test::pip_script("#!/opt/venv/bin/python"), 0755);
    auto venv_first = test::run_check(
        "python.path", root, test::image_env("/opt/venv/bin:" + std::string(test::kImagePath)));
    INFO(venv_first.summary);
    CHECK(status_of(venv_first) == "pass");
    CHECK(venv_first.summary ==
          "python3 → /usr/local/bin/python3.11 (3.11.15, venv /opt/venv on /usr/local)");
    // The venv has no python3 of its own: python3 is the base, but the venv's pip runs the
    // same executable with the venv's sys.prefix, so it installs elsewhere.
    std::filesystem::remove(root.host_path("/opt/venv/bin/python3"));
    root.symlink("/opt/venv/bin/python", "/usr/local/bin/python3");
    auto mixed = test::run_check("python.path", root,
                                 test::image_env("/opt/venv/bin:" + std::string(test::kImagePath)));
    CHECK(status_of(mixed) == "warn");
    CHECK_THAT(said(mixed),
               Catch::Contains("pip (/opt/venv/bin/pip) installs into /usr/local/bin/python3.11 "
                               "(3.11.15, venv /opt/venv on /usr/local), python3 runs "
                               "/usr/local/bin/python3.11 (3.11.15, /usr/local)"));
    CHECK_THAT(said(mixed), Catch::Contains("python (/opt/venv/bin/python) runs"));
  }
}

TEST_CASE("python.path: a PATH of 10,000 entries gives a report of kilobytes", "[python]") {
  FixtureRoot root;
  test::add_image_python(root);
  std::string path;
  for (int i = 0; i < 9960; ++i) path += "/nonexistent/" + std::to_string(i) + ":";
  for (int i = 0; i < 30; ++i) path += ":";  // 30 empty entries
  path += "relative/bin:";
  path += test::kImagePath;
  auto out = test::run_check("python.path", root, test::image_env(path));
  INFO(out.summary.substr(0, 600));
  // The image's own PATH has folders this fixture lacks; they are missing too.
  const auto image_missing = test::run_check("python.path", root, test::image_env())
                                 .details["path"]["missing_path_entries_total"]
                                 .get<std::size_t>();
  CHECK(status_of(out) == "warn");  // empty and relative entries still warn
  const json& details = out.details["path"];
  CHECK(details["value"] == path);  // the PATH judged stays whole
  CHECK(details["entries_total"] == 9960 + 30 + 1 + 7);
  CHECK(details["entries"].size() == 100);
  CHECK(details["missing_path_entries_total"] == 9960 + image_missing);
  std::map<std::string, int> listed;
  for (const json& p : details["problems"]) ++listed[p["kind"].get<std::string>()];
  CHECK(listed["missing-directory"] == 20);
  CHECK(listed["empty-entry"] == 20);
  CHECK(listed["relative-entry"] == 1);
  CHECK(details["problems"][0]["kind"] == "empty-entry");      // lexical problems come first
  CHECK(details["problems_total"].get<std::size_t>() > 9990);  // all counted
  CHECK(details["problems_listed"] == "the first 20 of each kind");
  bool first_missing_listed = false;
  for (const json& p : details["problems"]) {
    if (p["kind"] == "missing-directory") {
      first_missing_listed = p["entry"] == "/nonexistent/0";
      break;
    }
  }
  CHECK(first_missing_listed);
  // The summary names 3 PATH warnings and counts the rest; it stays one short line.
  CHECK_THAT(said(out), Catch::Contains("PATH entry 9961 is empty"));
  CHECK_THAT(said(out), Catch::Contains("28 more empty or relative PATH entries"));
  CHECK(out.summary.size() < 600);
  CHECK(out.details["warnings"].size() == 4);
  CHECK(out.details.dump().size() < path.size() + 32 * 1024);  // was 2 MB
}

TEST_CASE("python.path: a short PATH is listed whole", "[python]") {
  FixtureRoot root;
  test::add_image_python(root);
  auto out =
      test::run_check("python.path", root, test::image_env("/usr/local/bin:/opt/a:/usr/local/bin"));
  const json& details = out.details["path"];
  CHECK(details["entries"].size() == 3);
  CHECK(details["entries_total"] == 3);
  CHECK(details["missing_path_entries_total"] == 1);
  CHECK(details["problems"].size() == 2);  // /opt/a missing, /usr/local/bin repeated
  CHECK_FALSE(details.contains("problems_listed"));
}

TEST_CASE("python.installs: one image python passes", "[python]") {
  FixtureRoot root;
  test::add_image_python(root);
  auto out = test::run_check("python.installs", root, test::image_env());
  INFO(out.summary);
  CHECK(status_of(out) == "pass");
  CHECK(out.summary ==
        "1 base Python: /usr/local/bin/python3.11 (3.11.15, PATH's python3), 0 venvs");
  CHECK(out.details["installations"][0]["runs_as_python3"] == true);
  CHECK(out.details["installations"][0]["owner_package"].is_null());
  CHECK(out.details["python_version_matches"] == true);
}

TEST_CASE("python.installs: Debian's python3 next to the image's", "[python]") {
  FixtureRoot root;
  test::add_image_python(root);
  test::add_debian_python(root);
  auto out = test::run_check("python.installs", root, test::image_env());
  INFO(out.summary);
  CHECK(status_of(out) == "warn");
  CHECK(out.summary == "2 base Pythons: Debian's python3 beside the image's");
  REQUIRE(out.findings.size() == 1);
  CHECK(out.findings[0].message ==
        "2 base Python installations: /usr/local/bin/python3.11 (3.11.15, PATH's python3) and "
        "/usr/bin/python3.11 (3.11.2, Debian package python3.11-minimal)");
  CHECK_THAT(out.remediation(), Catch::Contains("apt-get purge --auto-remove python3.11-minimal"));
  CHECK_THAT(said(out), Catch::Contains("#610"));
  const json& debian = out.details["installations"][1];
  CHECK(debian["owner_package"] == "python3.11-minimal");
  CHECK(debian["python3_link_owner_package"] == "python3-minimal");
  CHECK(debian["version_source"] == "dpkg: python3.11-minimal 3.11.2-6+deb12u6");
  CHECK(debian["runs_as_python3"] == false);
  CHECK(out.details["dpkg_database"] == true);

  SECTION("PATH without /usr/local/bin flips it, and PYTHON_VERSION says so") {
    auto flipped = test::run_check("python.installs", root, test::image_env("/usr/bin:/bin"));
    CHECK(status_of(flipped) == "warn");
    CHECK_THAT(said(flipped), Catch::Contains("/usr/bin/python3.11 (3.11.2, PATH's python3"));
    CHECK_THAT(
        said(flipped),
        Catch::Contains("PYTHON_VERSION=3.11.15 but python3 runs 3.11.2 (/usr/bin/python3.11)"));
    // One cause, one fix: the drift is Debian's python3 again, not a second remedy.
    REQUIRE(flipped.findings.size() == 2);
    CHECK(flipped.findings[0].cause == flipped.findings[1].cause);
    CHECK(fix_block(flipped.findings).advice.size() == 1);
    CHECK(flipped.details["python_version_matches"] == false);
  }
}

TEST_CASE("python.installs: venvs are listed, not counted", "[python]") {
  FixtureRoot root;
  test::add_image_python(root);
  root.file("/opt/venv/pyvenv.cfg", "home = /usr/local/bin\nversion = 3.11.15\n")
      .symlink("/opt/venv/bin/python3", "/usr/local/bin/python3");
  Environment env = test::image_env("/opt/venv/bin:" + std::string(test::kImagePath));
  env.set("VIRTUAL_ENV", "/opt/venv");
  auto out = test::run_check("python.installs", root, env);
  INFO(out.summary);
  CHECK(status_of(out) == "pass");
  CHECK(out.summary ==
        "1 base Python: /usr/local/bin/python3.11 (3.11.15, PATH's python3), 1 venv");
  CHECK(out.details["venvs"][0]["venv"]["prefix"] == "/opt/venv");
  CHECK(out.details["venvs"][0]["runs_as_python3"] == true);
}

TEST_CASE("python.installs: PYTHON_VERSION mismatch, garbage, nothing", "[python]") {
  FixtureRoot root;
  test::add_image_python(root);
  SECTION("the ENV says another version") {
    auto out =
        test::run_check("python.installs", root, test::image_env(test::kImagePath, "3.11.14"));
    CHECK(status_of(out) == "warn");
    CHECK(out.summary ==
          "PYTHON_VERSION=3.11.14 but python3 runs 3.11.15 (/usr/local/bin/python3.11)");
    CHECK_FALSE(out.remediation().empty());
  }
  SECTION("a pre-release spelled differently is the same version") {
    root.file("/usr/local/include/python3.11/patchlevel.h", test::patchlevel_h("3.11.0rc1", 3, 11));
    auto out =
        test::run_check("python.installs", root, test::image_env(test::kImagePath, "3.11.0-rc.1"));
    CHECK(status_of(out) == "pass");
  }
  SECTION("garbage patchlevel.h is named") {
    root.file("/usr/local/include/python3.11/patchlevel.h", "garbage\n");
    auto out = test::run_check("python.installs", root, test::image_env());
    CHECK(status_of(out) == "warn");
    CHECK_THAT(
        out.summary,
        Catch::Contains("/usr/local/include/python3.11/patchlevel.h: no #define PY_VERSION"));
  }
  SECTION("no installation at all") {
    FixtureRoot empty;
    empty.mkdir("/usr/bin");
    auto out = test::run_check("python.installs", empty, test::image_env());
    CHECK(status_of(out) == "fail");
    CHECK_THAT(out.summary, Catch::StartsWith("no CPython installation found"));
  }
}
