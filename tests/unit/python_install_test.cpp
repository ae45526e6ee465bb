// Installation facts read from fixture layouts: the image's /usr/local,
// Debian's /usr, venvs, and discovery of all of them.
#include "checks/facts/dpkg_owner.h"
#include "checks/facts/python_discovery.h"
#include "checks/facts/python_install.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "tests/unit/python_image_fixture.h"

using namespace pycheck;
using test::FixtureRoot;

TEST_CASE("install: the image's /usr/local", "[python]") {
  FixtureRoot root;
  test::add_image_python(root);
  RootFs fs = root.fs();
  auto install = describe_python_install(fs, "/usr/local/bin/python3.11");
  REQUIRE(install.ok());
  CHECK(install->prefix == "/usr/local");
  CHECK(install->minor == "3.11");
  CHECK(install->version == "3.11.15");
  CHECK(install->version_exact);
  CHECK(install->version_source == "/usr/local/include/python3.11/patchlevel.h");
  CHECK(install->stdlib == "/usr/local/lib/python3.11");
  CHECK(install->site_packages ==
        std::vector<std::string>{"/usr/local/lib/python3.11/site-packages"});
  CHECK(install->libpython == "/usr/local/lib/libpython3.11.so.1.0");
  CHECK(install->sysconfigdata ==
        "/usr/local/lib/python3.11/_sysconfigdata__linux_x86_64-linux-gnu.py");
  CHECK(install->ensurepip_pip_wheel ==
        "/usr/local/lib/python3.11/ensurepip/_bundled/pip-24.0-py3-none-any.whl");
  CHECK_FALSE(install->debian_layout);
  CHECK(install->problems.empty());
}

TEST_CASE("install: Debian's /usr python dated by dpkg", "[python]") {
  FixtureRoot root;
  test::add_debian_python(root);
  root.file("/etc/debian_version", "12.11\n")
      .mkdir("/usr/local/lib/python3.11/dist-packages")
      .file("/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0",
            "\x7f"
            "ELF");
  RootFs fs = root.fs();
  auto install = describe_python_install(fs, "/usr/bin/python3.11");
  REQUIRE(install.ok());
  CHECK(install->prefix == "/usr");
  CHECK(install->version == "3.11.2");
  CHECK(install->version_exact);
  CHECK(install->version_source == "dpkg: python3.11-minimal 3.11.2-6+deb12u6");
  CHECK(install->debian_layout);
  CHECK(install->site_packages ==
        std::vector<std::string>{"/usr/local/lib/python3.11/dist-packages",
                                 "/usr/lib/python3/dist-packages"});
  CHECK(install->libpython == "/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0");

  SECTION("with python3.11-dev, patchlevel.h wins") {
    root.file("/usr/include/python3.11/patchlevel.h", test::patchlevel_h("3.11.2", 3, 11));
    auto with_dev = describe_python_install(fs, "/usr/bin/python3.11");
    REQUIRE(with_dev.ok());
    CHECK(with_dev->version_source == "/usr/include/python3.11/patchlevel.h");
  }
  SECTION("without dpkg records, only the minor is known") {
    std::filesystem::remove_all(root.host_path("/var/lib/dpkg"));
    auto bare = describe_python_install(fs, "/usr/bin/python3.11");
    REQUIRE(bare.ok());
    CHECK(bare->version == "3.11");
    CHECK_FALSE(bare->version_exact);
    CHECK(bare->version_source == "/usr/lib/python3.11/_sysconfigdata__x86_64-linux-gnu.py");
  }
}

TEST_CASE("install: dpkg's file lists are not read for /usr/local", "[python]") {
  FixtureRoot root;
  test::add_image_python(root);
  test::add_debian_python(root);
  // A package that broke policy by listing the image's interpreter, and a list
  // that cannot be read: both show whether any list was opened.
  root.file("/var/lib/dpkg/info/rogue.list", "/.\n/usr/local/bin/python3.11\n")
      .fifo("/var/lib/dpkg/info/stuck.list");
  RootFs fs = root.fs();
  CHECK(dpkg_never_installs("/usr/local/bin/python3.11"));
  CHECK(dpkg_never_installs("/usr/bin/../local/bin/python3"));
  CHECK_FALSE(dpkg_never_installs("/usr/bin/python3.11"));
  CHECK_FALSE(dpkg_never_installs("/usr/localbin/python3"));
  CHECK_FALSE(dpkg_never_installs("/usr/local"));  // the directory itself: base-files has it

  const std::vector<std::string> local{"/usr/local/bin/python3.11", "/usr/local/bin/python3"};
  auto owners = find_dpkg_owners(fs, local);
  REQUIRE(owners.ok());
  CHECK(owners->have_database);
  CHECK(owners->owners.at("/usr/local/bin/python3.11").empty());
  CHECK(owners->owners.at("/usr/local/bin/python3").empty());
  CHECK(owners->unreadable.empty());  // no list opened, not even the FIFO

  // Debian's interpreter still reads every list (the FIFO is named), and asked
  // beside it the /usr/local one still gets no owner from the rogue list.
  const std::vector<std::string> both{"/usr/bin/python3.11", "/usr/local/bin/python3.11"};
  auto read = find_dpkg_owners(fs, both);
  REQUIRE(read.ok());
  CHECK(read->owners.at("/usr/bin/python3.11") == std::vector<std::string>{"python3.11-minimal"});
  CHECK(read->owners.at("/usr/local/bin/python3.11").empty());
  REQUIRE(read->unreadable.size() == 1);
  CHECK_THAT(read->unreadable[0], Catch::Contains("stuck.list"));

  // python.installs: the image's interpreter is said not to be looked up; Debian's is.
  auto out = test::run_check("python.installs", root, test::image_env());
  INFO(out.details.dump(2));
  const json& image = out.details["installations"][0];
  CHECK(image["interpreter"] == "/usr/local/bin/python3.11");
  CHECK(image["owner_package"].is_null());
  CHECK(image["owner_package_note"] ==
        "not looked up: Debian packages never install under /usr/local");
  const json& debian = out.details["installations"][1];
  CHECK(debian["owner_package"] == "python3.11-minimal");
  CHECK_FALSE(debian.contains("owner_package_note"));
}

TEST_CASE("install: unusable files are named, not fatal", "[python]") {
  FixtureRoot root;
  test::add_image_python(root);
  RootFs fs = root.fs();
  SECTION("garbage patchlevel.h") {
    root.file("/usr/local/include/python3.11/patchlevel.h", "\x89PNG garbage");
    auto install = describe_python_install(fs, "/usr/local/bin/python3.11");
    REQUIRE(install.ok());
    CHECK(install->version == "3.11");  // from _sysconfigdata
    CHECK_FALSE(install->version_exact);
    REQUIRE(install->problems.size() == 1);
    CHECK_THAT(
        install->problems[0],
        Catch::Contains("/usr/local/include/python3.11/patchlevel.h: no #define PY_VERSION"));
  }
  SECTION("a FIFO in place of patchlevel.h") {
    std::filesystem::remove(root.host_path("/usr/local/include/python3.11/patchlevel.h"));
    root.fifo("/usr/local/include/python3.11/patchlevel.h");
    auto install = describe_python_install(fs, "/usr/local/bin/python3.11");
    REQUIRE(install.ok());
    REQUIRE(install->problems.size() == 1);
    CHECK_THAT(install->problems[0], Catch::Contains("patchlevel.h: is a FIFO"));
  }
  SECTION("patchlevel.h of another minor") {
    root.file("/usr/local/include/python3.11/patchlevel.h", test::patchlevel_h("3.12.1", 3, 12));
    auto install = describe_python_install(fs, "/usr/local/bin/python3.11");
    REQUIRE(install.ok());
    CHECK_FALSE(install->version_exact);
    CHECK_THAT(install->problems.at(0), Catch::Contains("says 3.12.1"));
  }
  SECTION("names that are not an interpreter") {
    CHECK_FALSE(describe_python_install(fs, "/usr/bin/bash").ok());
    CHECK_FALSE(describe_python_install(fs, "/python3.11").ok());
    root.executable("/opt/x/bin/python3");  // no version in the name and no lib/pythonX.Y
    CHECK_THAT(describe_python_install(fs, "/opt/x/bin/python3").error().message,
               Catch::Contains("cannot tell its Python version"));
  }
}

TEST_CASE("venv: pyvenv.cfg next to bin/, base through the link", "[python]") {
  FixtureRoot root;
  test::add_image_python(root);
  root.file("/opt/venv/pyvenv.cfg",
            "home = /usr/local/bin\ninclude-system-site-packages = false\nversion = 3.11.15\n"
            "executable = /usr/local/bin/python3.11\n"
            "command = /usr/local/bin/python3 -m venv /opt/venv\n")
      .symlink("/opt/venv/bin/python", "python3")
      .symlink("/opt/venv/bin/python3", "/usr/local/bin/python3")
      .symlink("/opt/venv/bin/python3.11", "python3")
      .file("/opt/venv/lib/python3.11/site-packages/pip-26.2.1.dist-info/METADATA",
            test::pip_metadata("26.2.1"));
  RootFs fs = root.fs();
  auto rt = describe_python_runtime(fs, "/opt/venv/bin/python", "/usr/local/bin/python3.11");
  REQUIRE(rt.venv.has_value());
  CHECK(rt.venv->prefix == "/opt/venv");
  REQUIRE(rt.venv->cfg.has_value());
  CHECK(rt.venv->cfg->home == "/usr/local/bin");
  REQUIRE(rt.base.has_value());
  CHECK(rt.base->prefix == "/usr/local");
  CHECK(rt.site_packages == std::vector<std::string>{"/opt/venv/lib/python3.11/site-packages"});
  CHECK(rt.describe() == "/usr/local/bin/python3.11 (3.11.15, venv /opt/venv on /usr/local)");
  CHECK(rt.problems.empty());

  auto plain = describe_python_runtime(fs, "/usr/local/bin/python3", "/usr/local/bin/python3.11");
  CHECK_FALSE(plain.venv.has_value());
  CHECK(plain.identity() != rt.identity());
  CHECK(plain.describe() == "/usr/local/bin/python3.11 (3.11.15, /usr/local)");

  SECTION("system site-packages follow the venv's own") {
    root.file("/opt/venv/pyvenv.cfg",
              "home = /usr/local/bin\ninclude-system-site-packages = true\n");
    auto shared = describe_python_runtime(fs, "/opt/venv/bin/python", "/usr/local/bin/python3.11");
    CHECK(shared.site_packages ==
          std::vector<std::string>{"/opt/venv/lib/python3.11/site-packages",
                                   "/usr/local/lib/python3.11/site-packages"});
  }
  SECTION("a broken pyvenv.cfg is named") {
    root.file("/opt/venv/pyvenv.cfg", "this is not a config\n");
    auto broken = describe_python_runtime(fs, "/opt/venv/bin/python", "/usr/local/bin/python3.11");
    REQUIRE(broken.venv.has_value());
    CHECK_FALSE(broken.venv->cfg.has_value());
    CHECK_THAT(broken.problems.at(0), Catch::Contains("/opt/venv/pyvenv.cfg: no \"home"));
  }
  SECTION("a venv whose base is gone, or of another minor") {
    root.file("/opt/venv/pyvenv.cfg", "home = /usr/local/python3.9/bin\nversion = 3.9.18\n");
    auto stale = describe_python_runtime(fs, "/opt/venv/bin/python", "/usr/local/bin/python3.11");
    REQUIRE(stale.problems.size() == 2);
    CHECK_THAT(stale.problems[0], Catch::Contains("does not exist"));
    CHECK_THAT(stale.problems[1], Catch::Contains("made by Python 3.9.18"));
  }
}

TEST_CASE("venv made with --copies: the base comes from home", "[python]") {
  FixtureRoot root;
  test::add_image_python(root);
  root.file("/app/.venv/pyvenv.cfg", "home = /usr/local/bin\nversion = 3.11.15\n")
      .executable("/app/.venv/bin/python3.11")
      .symlink("/app/.venv/bin/python3", "python3.11");
  RootFs fs = root.fs();
  auto rt = describe_python_runtime(fs, "/app/.venv/bin/python3", "/app/.venv/bin/python3.11");
  REQUIRE(rt.base.has_value());
  CHECK(rt.base->interpreter == "/usr/local/bin/python3.11");
  CHECK(rt.venv->prefix == "/app/.venv");
}

TEST_CASE("discovery: bases, venvs, aliases and incomplete installs", "[python]") {
  FixtureRoot root;
  test::add_image_python(root);
  test::add_debian_python(root);
  root.file("/opt/venv/pyvenv.cfg", "home = /usr/local/bin\nversion = 3.11.15\n")
      .symlink("/opt/venv/bin/python3", "/usr/local/bin/python3")
      .symlink("/opt/venv/bin/python", "python3")
      // An alias of Debian's python in another prefix is not another installation.
      .symlink("/opt/tools/bin/python3.11", "/usr/bin/python3.11")
      // A python3.X without its lib/ folder is noted, not counted.
      .executable("/opt/broken/bin/python3.12")
      // pyenv layout; found through the PATH entry of a custom prefix too.
      .executable("/root/.pyenv/versions/3.12.1/bin/python3.12")
      .mkdir("/root/.pyenv/versions/3.12.1/lib/python3.12")
      .executable("/srv/py/bin/python3.13")
      .mkdir("/srv/py/lib/python3.13");
  RootFs fs = root.fs();
  Environment env = test::image_env(std::string(test::kImagePath) + ":/srv/py/bin");
  auto found = discover_python_installs(fs, env, {});
  std::vector<std::string> bases;
  for (const PythonInstall& b : found.bases) bases.push_back(b.interpreter);
  CHECK(bases == std::vector<std::string>{"/usr/local/bin/python3.11", "/usr/bin/python3.11",
                                          "/root/.pyenv/versions/3.12.1/bin/python3.12",
                                          "/srv/py/bin/python3.13"});
  REQUIRE(found.venvs.size() == 1);
  CHECK(found.venvs[0].venv->prefix == "/opt/venv");
  CHECK(found.venvs[0].invoked == "/opt/venv/bin/python3");
  REQUIRE(found.problems.size() == 1);
  CHECK_THAT(found.problems[0], Catch::Contains("/opt/broken/bin/python3.12 has no"));

  // extra_prefixes reach places nobody looks.
  root.executable("/weird/place/bin/python3.10").mkdir("/weird/place/lib/python3.10");
  auto extra = discover_python_installs(fs, env, {"/weird/place"});
  CHECK(extra.bases.back().interpreter == "/weird/place/bin/python3.10");
}

TEST_CASE("discovery: hard-linked python3.Xm counts once", "[python]") {
  FixtureRoot root;
  root.executable("/opt/py37/bin/python3.7").mkdir("/opt/py37/lib/python3.7");
  std::filesystem::create_hard_link(root.host_path("/opt/py37/bin/python3.7"),
                                    root.host_path("/opt/py37/bin/python3.7m"));
  RootFs fs = root.fs();
  auto found = discover_python_installs(fs, Environment(), {});
  REQUIRE(found.bases.size() == 1);
  CHECK(found.bases[0].minor == "3.7");
}
