// python.bytecode on fixture roots: the official image's stdlib without .pyc,
// the same stdlib compiled by this machine's real `python3 -m compileall`
// (Debian package python3: CI installs it; the test fails when it is missing),
// partial and misnamed bytecode, PYTHONPYCACHEPREFIX and bad folders.
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <string>

#include "host_tools.h"
#include "tests/unit/python_image_fixture.h"

using namespace pycheck;
using test::FixtureRoot;

namespace {

std::string status_of(const CheckOutcome& o) { return std::string(to_string(o.status)); }

constexpr std::string_view kStdlib = "/usr/local/lib/python3.11";

// A small stdlib: top-level modules, packages, and folders that are not packages.
void add_stdlib(FixtureRoot& root, std::string_view stdlib = kStdlib) {
  const std::string lib(stdlib);
  for (const char* module : {"re.py", "abc.py", "json_tool.py", "types.py"}) {
    root.file(lib + "/" + module, "VALUE = 1\n");
  }
  for (const char* package : {"json", "encodings", "email"}) {
    root.file(lib + "/" + package + "/__init__.py", "VALUE = 2\n");
  }
  root.file(lib + "/encodings/utf_8.py", "VALUE = 3\n")
      .mkdir(lib + "/lib-dynload")  // extension modules: no __init__.py
      .mkdir(lib + "/config-3.11-x86_64-linux-gnu")
      .file(lib + "/site-packages/pip/__init__.py", "\n")  // not the stdlib
      .file(lib + "/LICENSE.txt", "PSF\n");
}

// os.py and _sysconfigdata come from add_image_python: 4 + 2 modules, 3 packages.
constexpr int kModules = 9;

std::string shell(const std::string& command) { return test::host::run_trimmed(command); }

}  // namespace

TEST_CASE("python.bytecode: the official image ships none, and that is not a fault", "[bytecode]") {
  FixtureRoot root;
  test::add_image_python(root);
  add_stdlib(root);
  auto out = test::run_check("python.bytecode", root, test::image_env());
  INFO(out.summary);
  CHECK(status_of(out) == "skip");
  CHECK(out.summary == "stdlib not byte-compiled, as in the official image");
  CHECK(out.details["compile_command"] == "python3 -m compileall -q /usr/local/lib/python3.11");
  CHECK(out.remediation().empty());
  CHECK(out.details["modules"] == kModules);
  CHECK(out.details["compiled"] == 0);
  CHECK(out.details["cache_tag"] == "cpython-311");
  CHECK(out.details["stdlib"] == std::string(kStdlib));
  CHECK(out.details["environment"]["PYTHONDONTWRITEBYTECODE"].is_null());
  CHECK(out.details["python_writes_pyc"] == true);
}

TEST_CASE("python.bytecode: a stdlib compiled by the real compileall passes", "[bytecode]") {
  const std::string python = "/usr/bin/python3";
  INFO("needs the Debian package python3");
  REQUIRE(std::filesystem::exists(python));
  const std::string version =
      shell(python + " -c 'import platform; print(platform.python_version())'");
  const std::string tag = shell(python + " -c 'import sys; print(sys.implementation.cache_tag)'");
  const std::string minor = version.substr(0, version.rfind('.'));
  const std::string stdlib = "/usr/local/lib/python" + minor;
  FixtureRoot root;
  test::add_image_python(root, version);
  add_stdlib(root, stdlib);
  shell(python + " -m compileall -q " + root.host_path(stdlib));
  // The same count taken independently of pycheck.
  int expected = 0;
  for (const auto& e : std::filesystem::directory_iterator(root.host_path(stdlib))) {
    const std::string name = e.path().filename().string();
    if (e.is_regular_file() && name.ends_with(".py")) {
      const std::string stem = name.substr(0, name.size() - 3);
      expected += std::filesystem::exists(e.path().parent_path() / "__pycache__" /
                                          (stem + "." + tag + ".pyc"));
    } else if (e.is_directory() && std::filesystem::exists(e.path() / "__init__.py")) {
      expected += std::filesystem::exists(e.path() / "__pycache__" / ("__init__." + tag + ".pyc"));
    }
  }
  REQUIRE(expected == kModules);  // site-packages/pip is compiled too, but not counted
  auto out = test::run_check("python.bytecode", root, test::image_env());
  INFO(out.summary);
  CHECK(status_of(out) == "pass");
  CHECK(out.summary == std::to_string(kModules) + " of " + std::to_string(kModules) +
                           " stdlib modules compiled (" + tag + ")");
  CHECK(out.details["cache_tag"] == tag);
  CHECK(out.details["compiled"] == expected);
}

TEST_CASE("python.bytecode: partial, misnamed and relocated bytecode", "[bytecode]") {
  FixtureRoot root;
  test::add_image_python(root);
  add_stdlib(root);
  const std::string cache = std::string(kStdlib) + "/__pycache__";
  SECTION("written on first import by a root process: pass, partly") {
    root.file(cache + "/re.cpython-311.pyc", "pyc")
        .file(std::string(kStdlib) + "/json/__pycache__/__init__.cpython-311.pyc", "pyc");
    auto out = test::run_check("python.bytecode", root, test::image_env());
    CHECK(status_of(out) == "pass");
    CHECK(out.summary ==
          "2 of 9 stdlib modules compiled (cpython-311): the rest is compiled in "
          "memory at each start (or written on first import)");
    CHECK(out.details["not_compiled_sample"].size() == 7);
    Environment env = test::image_env();
    env.set("PYTHONDONTWRITEBYTECODE", "1");
    out = test::run_check("python.bytecode", root, env);
    CHECK(out.summary ==
          "2 of 9 stdlib modules compiled (cpython-311): the rest is compiled in "
          "memory at each start");
    CHECK(out.details["environment"]["PYTHONDONTWRITEBYTECODE"] == "1");
    CHECK(out.details["python_writes_pyc"] == false);
  }
  SECTION("another interpreter's tag and -O files do not count") {
    root.file(cache + "/re.cpython-310.pyc", "old")
        .file(cache + "/abc.cpython-311.opt-1.pyc", "optimised")
        .file(cache + "/types.cpython-311.pyc.12345", "half written");
    auto out = test::run_check("python.bytecode", root, test::image_env());
    CHECK(status_of(out) == "skip");
    CHECK(out.details["compiled"] == 0);
  }
  SECTION("PYTHONPYCACHEPREFIX: Python looks only under the prefix") {
    root.file(cache + "/re.cpython-311.pyc", "ignored when the prefix is set")
        .file("/var/cache/pyc" + std::string(kStdlib) + "/abc.cpython-311.pyc", "pyc")
        .file("/var/cache/pyc" + std::string(kStdlib) + "/email/__init__.cpython-311.pyc", "pyc");
    Environment env = test::image_env();
    env.set("PYTHONPYCACHEPREFIX", "/var/cache/pyc");
    auto out = test::run_check("python.bytecode", root, env);
    CHECK(status_of(out) == "pass");
    CHECK(out.details["compiled"] == 2);
    CHECK(out.details["cache_location"] == "under PYTHONPYCACHEPREFIX /var/cache/pyc");
    env.set("PYTHONPYCACHEPREFIX", "pyc");  // relative: depends on the working directory
    out = test::run_check("python.bytecode", root, env);
    CHECK(out.details["compiled"] == 1);
    CHECK(out.details["notes"].size() == 1);
  }
}

TEST_CASE("python.bytecode: nothing to judge, and folders that cannot be read", "[bytecode]") {
  FixtureRoot root;
  test::add_image_python(root);
  add_stdlib(root);
  SECTION("no python3 on PATH") {
    auto out = test::run_check("python.bytecode", root, test::image_env("/usr/bin:/bin"));
    CHECK(status_of(out) == "skip");
    CHECK_THAT(out.summary, Catch::Contains("python3 not found on PATH"));
  }
  SECTION("python3 in a venv: the base's stdlib is judged") {
    root.symlink("/opt/venv/bin/python3", "/usr/local/bin/python3")
        .file("/opt/venv/pyvenv.cfg", "home = /usr/local/bin\nversion = 3.11.15\n")
        .file(std::string(kStdlib) + "/__pycache__/re.cpython-311.pyc", "pyc");
    auto out = test::run_check("python.bytecode", root,
                               test::image_env("/opt/venv/bin:/usr/local/bin:/usr/bin:/bin"));
    CHECK(status_of(out) == "pass");
    CHECK(out.details["stdlib"] == std::string(kStdlib));
  }
  SECTION("the stdlib folder is missing") {
    std::filesystem::remove_all(root.host_path(kStdlib));
    auto out = test::run_check("python.bytecode", root, test::image_env());
    CHECK(status_of(out) == "skip");
    CHECK_THAT(out.summary, Catch::Contains("/usr/local/lib/python3.11 is missing"));
  }
  SECTION("a FIFO in place of the stdlib folder is refused") {
    std::filesystem::remove_all(root.host_path(kStdlib));
    root.fifo(kStdlib);
    auto out = test::run_check("python.bytecode", root, test::image_env());
    CHECK(status_of(out) == "error");
    CHECK_THAT(out.summary, Catch::Contains("/usr/local/lib/python3.11"));
  }
  SECTION("a FIFO in place of __pycache__ is a problem, not a hang") {
    root.fifo(std::string(kStdlib) + "/__pycache__");
    auto out = test::run_check("python.bytecode", root, test::image_env());
    CHECK(status_of(out) == "skip");
    REQUIRE(out.details["problems"].size() == 1);
    CHECK_THAT(out.details["problems"][0].get<std::string>(), Catch::Contains("__pycache__"));
  }
}
