// The Python readers against this machine's real Debian python3, compared with
// what that Python itself says. Needs the Debian packages python3 and
// python3-pip on the test machine (CI installs them); fails when they are missing.
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "checks/facts/dpkg_owner.h"
#include "checks/facts/path_search.h"
#include "checks/facts/python_install.h"
#include "checks/formats/dist_info.h"
#include "host_tools.h"
#include "tests/unit/python_image_fixture.h"

using namespace pycheck;
using test::FixtureRoot;

namespace {

constexpr const char* kHostPython = "/usr/bin/python3";

std::string run(const std::string& command) { return test::host::output_of(command); }

std::string python_says(const std::string& code) {
  return run(std::string(kHostPython) + " -I -c '" + code + "' 2>/dev/null");
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void require_host_python() {
  INFO("these tests need Debian's python3 and python3-pip installed");
  REQUIRE(std::filesystem::exists(kHostPython));
  REQUIRE_FALSE(python_says("import sys; print(sys.version)").empty());
}

}  // namespace

TEST_CASE("host: python3 found and dated like the real interpreter says", "[python][host]") {
  require_host_python();
  auto fs = RootFs::open("/");
  REQUIRE(fs.ok());
  auto lookup = find_command(*fs, make_search_path("/usr/bin:/bin"), "python3");
  REQUIRE(lookup.found());
  CHECK(lookup.real_path == python_says("import os, sys; print(os.path.realpath(sys.executable))"));

  auto install = describe_python_install(*fs, lookup.real_path);
  REQUIRE(install.ok());
  INFO("version from " << install->version_source);
  CHECK(install->version_exact);
  CHECK(install->version == python_says("import platform; print(platform.python_version())"));
  CHECK(install->prefix == python_says("import sys; print(sys.base_prefix)"));
  CHECK(install->stdlib == python_says("import sysconfig; print(sysconfig.get_path(\"stdlib\"))"));
  // Every site folder we report is on the real sys.path, in the same order.
  const std::string sys_path = python_says("import sys; print(\"\\n\".join(sys.path))");
  std::size_t last = 0;
  for (const std::string& site : install->site_packages) {
    std::size_t at = sys_path.find(site);
    INFO(site << " in sys.path:\n" << sys_path);
    REQUIRE(at != std::string::npos);
    CHECK(at >= last);
    last = at;
  }
}

TEST_CASE("host: dpkg's real records date a Debian python without headers", "[python][host]") {
  require_host_python();
  const std::string real = python_says("import os, sys; print(os.path.realpath(sys.executable))");
  const std::string minor = python_says("import sys; print(\"%d.%d\" % sys.version_info[:2])");
  // The owning package as dpkg itself reports it.
  const std::string owner_line = run("dpkg-query -S " + real + " 2>/dev/null");
  REQUIRE_FALSE(owner_line.empty());
  const std::string owner = owner_line.substr(0, owner_line.find(':'));

  // A root with the real list files and status, a stand-in executable, no patchlevel.h.
  FixtureRoot root;
  for (const auto& entry : std::filesystem::directory_iterator("/var/lib/dpkg/info")) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(owner + ".list") || name.starts_with(owner + ":")) {
      if (name.ends_with(".list")) root.file("/var/lib/dpkg/info/" + name, slurp(entry.path()));
    }
  }
  root.file("/var/lib/dpkg/status", slurp("/var/lib/dpkg/status"))
      .file("/etc/debian_version", slurp("/etc/debian_version"))
      .executable(real)
      .mkdir("/usr/lib/python" + minor);
  RootFs fs = root.fs();
  std::vector<std::string> paths{real};
  auto owners = find_dpkg_owners(fs, paths);
  REQUIRE(owners.ok());
  CHECK(owners->owners[real] == std::vector<std::string>{owner});
  auto install = describe_python_install(fs, real);
  REQUIRE(install.ok());
  CHECK_THAT(install->version_source, Catch::StartsWith("dpkg: " + owner + " "));
  CHECK(install->version == python_says("import platform; print(platform.python_version())"));
}

TEST_CASE("host: a venv made by the real python", "[python][host]") {
  require_host_python();
  FixtureRoot root;
  const std::string real = python_says("import os, sys; print(os.path.realpath(sys.executable))");
  REQUIRE(run(std::string(kHostPython) + " -m venv --without-pip " + root.host_path("/opt/venv") +
              " >/dev/null 2>&1; echo $?") == "0");
  // The venv's links point at the host's absolute paths: give the root the same ones.
  root.executable(real).symlink(kHostPython, std::string(path_basename(real)));
  const std::string minor = python_says("import sys; print(\"%d.%d\" % sys.version_info[:2])");
  root.mkdir("/usr/lib/python" + minor);
  RootFs fs = root.fs();
  auto lookup = find_command(fs, make_search_path("/opt/venv/bin:/usr/bin"), "python");
  REQUIRE(lookup.found());
  CHECK(lookup.real_path == real);
  auto rt = describe_python_runtime(fs, lookup.candidate, lookup.real_path);
  REQUIRE(rt.venv.has_value());
  REQUIRE(rt.venv->cfg.has_value());
  CHECK(rt.venv->prefix == "/opt/venv");
  CHECK(rt.venv->cfg->home == std::string(path_dirname(kHostPython)));
  CHECK(rt.venv->cfg->version == python_says("import platform; print(platform.python_version())"));
  CHECK_FALSE(rt.venv->cfg->include_system_site_packages);
  CHECK(rt.site_packages ==
        std::vector<std::string>{"/opt/venv/lib/python" + minor + "/site-packages"});
}

TEST_CASE("host: every real dist-info METADATA reads as importlib.metadata reads it",
          "[pip][host]") {
  require_host_python();
  const std::string dir = "/usr/lib/python3/dist-packages";
  // Name and version of each distribution, as the real Python sees them.
  const std::string listing = python_says(
      "import importlib.metadata as m\n"
      "for d in m.distributions(path=[\"" +
      dir +
      "\"]):\n"
      "    p = getattr(d, \"_path\", None)\n"
      "    if p and str(p).endswith(\".dist-info\"): print(p.name, d.metadata[\"Name\"], "
      "d.version)");
  std::map<std::string, std::pair<std::string, std::string>> expected;
  std::istringstream lines(listing);
  std::string folder, name, version;
  while (lines >> folder >> name >> version) expected[folder] = {name, version};
  INFO("python3-pip provides " << dir << "/pip-*.dist-info");
  REQUIRE_FALSE(expected.empty());
  bool saw_pip = false;
  for (const auto& [folder_name, want] : expected) {
    INFO(folder_name);
    auto meta = parse_dist_metadata(slurp(dir + "/" + folder_name + "/METADATA"));
    REQUIRE(meta.ok());
    CHECK(meta->name == want.first);
    CHECK(meta->version == want.second);
    if (meta->name == "pip") {
      saw_pip = true;
      CHECK(parse_pep440(meta->version).has_value());
    }
  }
  CHECK(saw_pip);
}
