// The Python checks on the real root filesystems of tests/integration/build-roots.sh,
// compared with what the Python inside says when run under chroot. Hidden (needs
// the roots and root privileges): tests/run-all.sh runs it with
// `pycheck_tests "[.python-integration]"` once the roots are built.
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "host_tools.h"
#include "tests/unit/check_params.h"
#include "tests/unit/python_image_fixture.h"

using namespace pycheck;

namespace {

// As tests/integration/roots.sh has it: $PYCHECK_CACHE_DIR/roots.
std::string roots_dir() {
  const char* cache = std::getenv("PYCHECK_CACHE_DIR");
  return std::string(cache != nullptr && *cache != '\0' ? cache : "/var/cache/pycheck") + "/roots";
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs `python3 -c code` inside the root with the root's own environment; -B: no
// .pyc files are left in the cached roots (they would change python.bytecode).
std::string inside(const std::string& root, const Environment& env, const std::string& code) {
  std::string command = "env -i";
  for (const auto& [key, value] : env.vars()) command += " '" + key + "=" + value + "'";
  command += " /usr/sbin/chroot " + root + " python3 -I -B -c '" + code + "' 2>/dev/null";
  return test::host::output_of(command);
}

}  // namespace

TEST_CASE("roots: python checks agree with the Python inside", "[.python-integration]") {
  for (const char* name : {"base", "debian-python3", "venv", "trixie"}) {
    const std::string root = roots_dir() + "/" + name;
    INFO("root " << root);
    REQUIRE(std::filesystem::exists(root + "/usr/local/bin/python3"));
    auto env = Environment::parse_env_file(slurp(root + ".env"));
    REQUIRE(env.ok());
    auto fs = RootFs::open(root);
    REQUIRE(fs.ok());
    json params = json::object();  // the three checks' defaults: no name is shared
    for (const char* id : {"python.path", "pip.version", "python.installs"}) {
      params.update(test::check_params(*find_check(id)));
    }
    Context ctx{*fs, *env, params, std::chrono::system_clock::now(), false};

    const CheckOutcome path = find_check("python.path")->run(ctx);
    CHECK(path.status == CheckStatus::pass);
    const json& py3 = path.details["commands"]["python3"];
    CHECK(py3["real_path"] ==
          inside(root, *env, "import os, sys; print(os.path.realpath(sys.executable))"));
    CHECK(py3["python"]["version"] ==
          inside(root, *env, "import platform; print(platform.python_version())"));
    const json venv = py3["python"]["venv"];
    CHECK((venv.is_null() ? py3["python"]["base"]["prefix"] : venv["prefix"]) ==
          inside(root, *env, "import sys; print(sys.prefix)"));

    const CheckOutcome pip = find_check("pip.version")->run(ctx);
    CHECK(pip.details["pip"]["version"] ==
          inside(root, *env, "import importlib.metadata as m; print(m.version(\"pip\"))"));
    CHECK(pip.details["pip"]["site_packages"].get<std::string>() + "/pip" ==
          inside(root, *env, "import os, pip; print(os.path.dirname(pip.__file__))"));

    const CheckOutcome installs = find_check("python.installs")->run(ctx);
    CHECK(installs.details["installations"].size() ==
          (std::string(name) == "debian-python3" ? 2u : 1u));
  }
}
