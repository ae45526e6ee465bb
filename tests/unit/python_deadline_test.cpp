// The run's deadline in the Python checks: once RootFs stops reading, each
// check ends as an error that says "timed out", never as a verdict drawn from
// files it could not read (a missing python3, no venv, no pip, no bytecode).
#include <catch2/catch.hpp>
#include <chrono>
#include <string>

#include "tests/unit/python_image_fixture.h"

using namespace pycheck;
using test::FixtureRoot;

namespace {

const auto kPassed = std::chrono::steady_clock::now() - std::chrono::seconds(1);

void check_timed_out(const CheckOutcome& out) {
  INFO(out.summary);
  CHECK(to_string(out.status) == std::string_view("error"));
  CHECK_THAT(out.summary, Catch::Contains("timed out"));
  CHECK(out.findings.empty());
}

// The image's Python with a venv in /opt/venv first on PATH: every check has
// something to read.
void add_image_with_venv(FixtureRoot& root) {
  test::add_image_python(root);
  root.file("/opt/venv/pyvenv.cfg",
            "home = /usr/local/bin\ninclude-system-site-packages = false\nversion = 3.11.15\n")
      .symlink("/opt/venv/bin/python3", "/usr/local/bin/python3")
      .symlink("/opt/venv/bin/python", "python3")
      .file("/opt/venv/bin/pip", test::pip_script("#!/opt/venv/bin/python3"), 0755)
      .mkdir("/opt/venv/lib/python3.11/site-packages");
}

}  // namespace

TEST_CASE("python checks: a passed deadline is an error, not a verdict", "[python][deadline]") {
  FixtureRoot root;
  add_image_with_venv(root);
  Environment venv_env = test::image_env("/opt/venv/bin:" + std::string(test::kImagePath));
  venv_env.set("VIRTUAL_ENV", "/opt/venv");
  const Environment env = test::image_env();

  for (const char* id : {"python.path", "python.installs", "python.bytecode", "pip.version",
                         "python.eol", "python.shared-libraries"}) {
    SECTION(id) {
      // The same root within the deadline gives a verdict.
      CHECK(test::run_check(id, root, env).status != CheckStatus::error);
      check_timed_out(test::run_check(id, root, env, json::object(), kPassed));
    }
  }
  SECTION("python.venv") {
    CHECK(test::run_check("python.venv", root, venv_env).status != CheckStatus::error);
    check_timed_out(test::run_check("python.venv", root, venv_env, json::object(), kPassed));
  }
  SECTION("python.venv without a venv: not a skip") {
    check_timed_out(test::run_check("python.venv", root, env, json::object(), kPassed));
  }
}

TEST_CASE("python checks: a root without python3 is still a verdict in time",
          "[python][deadline]") {
  FixtureRoot root;
  root.mkdir("/usr/local/bin");
  const Environment env = test::image_env();
  CHECK(to_string(test::run_check("python.path", root, env).status) == std::string_view("fail"));
  CHECK(to_string(test::run_check("pip.version", root, env).status) == std::string_view("skip"));
  check_timed_out(test::run_check("python.path", root, env, json::object(), kPassed));
  check_timed_out(test::run_check("pip.version", root, env, json::object(), kPassed));
  check_timed_out(test::run_check("python.installs", root, env, json::object(), kPassed));
}
