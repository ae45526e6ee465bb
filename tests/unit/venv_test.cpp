// python.venv on fixture roots: a venv on the official image, healthy and broken
// in the ways Dockerfiles break them, plus venvs made by this machine's real
// `python3 -m venv` (Debian packages python3 and python3-venv: CI installs them;
// the tests fail when they are missing).
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <string>

#include "host_tools.h"
#include "tests/unit/outcome_text.h"
#include "tests/unit/python_image_fixture.h"

using namespace pycheck;
using test::FixtureRoot;

namespace {

std::string status_of(const CheckOutcome& o) { return std::string(to_string(o.status)); }

constexpr std::string_view kVenvPath =
    "/opt/venv/bin:/usr/local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::string pyvenv_cfg(std::string_view version, std::string_view home = "/usr/local/bin",
                       std::string_view system_site = "false") {
  return "home = " + std::string(home) +
         "\ninclude-system-site-packages = " + std::string(system_site) +
         "\nversion = " + std::string(version) + "\nexecutable = " + std::string(home) +
         "/python3.11\ncommand = /usr/local/bin/python3 -m venv /opt/venv\n";
}

// What `python3 -m venv /opt/venv` leaves on the image (3.11): links to the
// base, pyvenv.cfg, and pip scripts bound to the venv's python.
void add_venv(FixtureRoot& root, std::string_view cfg_version = "3.11.15") {
  const std::string script = test::pip_script("#!/opt/venv/bin/python3");
  root.symlink("/opt/venv/bin/python3", "/usr/local/bin/python3")
      .symlink("/opt/venv/bin/python", "python3")
      .symlink("/opt/venv/bin/python3.11", "python3")
      .file("/opt/venv/pyvenv.cfg", pyvenv_cfg(cfg_version))
      .file("/opt/venv/bin/pip", script, 0755)
      .file("/opt/venv/bin/pip3", script, 0755)
      .file("/opt/venv/bin/activate", "# This file must be used with \"source bin/activate\"\n")
      .file("/opt/venv/lib/python3.11/site-packages/pip-24.0.dist-info/METADATA",
            test::pip_metadata("24.0"));
}

Environment venv_env(bool with_virtual_env = true, std::string_view path = kVenvPath) {
  Environment env = test::image_env(path);
  if (with_virtual_env) env.set("VIRTUAL_ENV", "/opt/venv");
  return env;
}

std::string joined(const json& list) {
  std::string out;
  for (const json& item : list) out += item.get<std::string>() + "\n";
  return out;
}

std::string shell(const std::string& command) { return test::host::run_trimmed(command); }

}  // namespace

TEST_CASE("python.venv: a healthy venv on the official image passes", "[venv]") {
  FixtureRoot root;
  test::add_image_python(root, "3.11.15");
  add_venv(root);
  SECTION("activated: VIRTUAL_ENV and PATH") {
    auto out = test::run_check("python.venv", root, venv_env());
    INFO(out.summary);
    CHECK(status_of(out) == "pass");
    CHECK(out.summary ==
          "venv /opt/venv on /usr/local/bin/python3.11 (3.11.15): links resolve, pip is bound to "
          "it");
    CHECK(out.remediation().empty());
    CHECK(out.details["found_by"] == "VIRTUAL_ENV");
    CHECK(out.details["pyvenv_cfg"]["home"] == "/usr/local/bin");
    CHECK(out.details["pyvenv_cfg"]["made_by"] == "venv");
    CHECK(out.details["home_interpreter"]["version"] == "3.11.15");
    CHECK(out.details["links"].size() == 3);
    CHECK(out.details["links"][0]["real_path"] == "/usr/local/bin/python3.11");
    REQUIRE(out.details["pip"].size() == 2);
    CHECK(out.details["pip"][0]["bound_to_venv"] == true);
    CHECK(out.details["path_commands"]["python3"]["venv"] == "/opt/venv");
    CHECK(out.details["venv_interpreter"]["site_packages"][0] ==
          "/opt/venv/lib/python3.11/site-packages");
  }
  SECTION("PATH only, as many Dockerfiles do it") {
    auto out = test::run_check("python.venv", root, venv_env(false));
    CHECK(status_of(out) == "pass");
    CHECK(out.details["found_by"] == "python3 on PATH");
    CHECK(out.details["virtual_env"].is_null());
    CHECK_THAT(joined(out.details["notes"]), Catch::Contains("VIRTUAL_ENV is not set"));
  }
  SECTION("made on 3.11.2, the image now has 3.11.15: a patch upgrade is noted") {
    root.file("/opt/venv/pyvenv.cfg", pyvenv_cfg("3.11.2"));
    auto out = test::run_check("python.venv", root, venv_env());
    CHECK(status_of(out) == "pass");
    CHECK_THAT(joined(out.details["notes"]),
               Catch::Contains("made with 3.11.2, home's python3 is now 3.11.15 (a patch release"));
  }
  SECTION("include-system-site-packages = true is reported, not judged") {
    root.file("/opt/venv/pyvenv.cfg", pyvenv_cfg("3.11.15", "/usr/local/bin", "true"));
    auto out = test::run_check("python.venv", root, venv_env());
    CHECK(status_of(out) == "pass");
    CHECK(out.details["pyvenv_cfg"]["include_system_site_packages"] == true);
    CHECK_THAT(joined(out.details["notes"]),
               Catch::Contains("(/usr/local/lib/python3.11/site-packages) are importable too"));
  }
  SECTION("made by virtualenv") {
    root.file("/opt/venv/pyvenv.cfg",
              "home = /usr/local/bin\nimplementation = CPython\nversion_info = 3.11.15.final.0\n"
              "virtualenv = 20.26.6\ninclude-system-site-packages = false\n"
              "base-prefix = /usr/local\nbase-exec-prefix = /usr/local\n"
              "base-executable = /usr/local/bin/python3.11\n");
    auto out = test::run_check("python.venv", root, venv_env());
    CHECK(status_of(out) == "pass");
    CHECK(out.details["pyvenv_cfg"]["made_by"] == "virtualenv 20.26.6");
    CHECK(out.details["pyvenv_cfg"]["version"] == "3.11.15");
  }
  SECTION("made with --copies") {
    // Remove the links first: writing through them would follow /usr/local/bin/python3 on
    // the machine running the tests.
    for (const char* name : {"python", "python3", "python3.11"}) {
      std::filesystem::remove(root.host_path(std::string("/opt/venv/bin/") + name));
    }
    root.executable("/opt/venv/bin/python3.11")
        .symlink("/opt/venv/bin/python3", "python3.11")
        .symlink("/opt/venv/bin/python", "python3.11");
    auto out = test::run_check("python.venv", root, venv_env());
    INFO(out.summary);
    CHECK(status_of(out) == "pass");
    CHECK(out.details["links"][0]["real_path"] == "/opt/venv/bin/python3.11");
  }
}

TEST_CASE("python.venv: skipped without a venv", "[venv]") {
  FixtureRoot root;
  test::add_image_python(root);
  auto out = test::run_check("python.venv", root, test::image_env());
  CHECK(status_of(out) == "skip");
  CHECK(out.summary == "no virtual environment in use");
  // A venv lying around but not in use is not judged (python.installs lists it).
  add_venv(root);
  CHECK(status_of(test::run_check("python.venv", root, test::image_env())) == "skip");
}

TEST_CASE("python.venv: broken venvs fail with the reason", "[venv]") {
  FixtureRoot root;
  test::add_image_python(root, "3.11.15");
  add_venv(root);
  auto fails_with = [&](const Environment& env, const std::string& text) {
    auto out = test::run_check("python.venv", root, env);
    INFO(out.summary);
    CHECK(status_of(out) == "fail");
    CHECK_THAT(said(out), Catch::Contains(text));
    CHECK_THAT(out.remediation(), Catch::Contains("python3 -m venv --clear"));
    return out;
  };
  SECTION("VIRTUAL_ENV names a folder that is not a venv") {
    Environment env = venv_env();
    env.set("VIRTUAL_ENV", "/usr/local");
    auto out = fails_with(env, "/usr/local is not a virtual environment: no pyvenv.cfg");
    CHECK_THAT(joined(out.details["warnings"]), Catch::Contains("activation half done"));
  }
  SECTION("VIRTUAL_ENV names nothing, or a relative path") {
    Environment env = venv_env();
    env.set("VIRTUAL_ENV", "/srv/venv");
    fails_with(env, "VIRTUAL_ENV names /srv/venv, which is not a directory");
    env.set("VIRTUAL_ENV", "venv");
    fails_with(env, "VIRTUAL_ENV=venv is not an absolute path");
  }
  SECTION("pyvenv.cfg deleted") {
    std::filesystem::remove(root.host_path("/opt/venv/pyvenv.cfg"));
    fails_with(venv_env(), "/opt/venv is not a virtual environment: no pyvenv.cfg");
  }
  SECTION("pyvenv.cfg is garbage") {
    root.file("/opt/venv/pyvenv.cfg", std::string("\x89PNG\r\n\x1a\n\0\0", 10));
    fails_with(venv_env(), "/opt/venv/pyvenv.cfg: binary data");
  }
  SECTION("pyvenv.cfg without home") {
    root.file("/opt/venv/pyvenv.cfg", "version = 3.11.15\n");
    fails_with(venv_env(), "/opt/venv/pyvenv.cfg: no \"home = <dir>\" line");
  }
  SECTION("a FIFO in place of pyvenv.cfg is refused, not read") {
    std::filesystem::remove(root.host_path("/opt/venv/pyvenv.cfg"));
    root.fifo("/opt/venv/pyvenv.cfg");
    fails_with(venv_env(), "/opt/venv/pyvenv.cfg");
  }
  SECTION("home is gone (base stage's Python not copied)") {
    root.file("/opt/venv/pyvenv.cfg", pyvenv_cfg("3.11.15", "/opt/python/bin"));
    fails_with(venv_env(), "home /opt/python/bin (pyvenv.cfg) does not exist");
  }
  SECTION("home holds no python3") {
    root.file("/opt/venv/pyvenv.cfg", pyvenv_cfg("3.11.15", "/usr/sbin"));
    root.mkdir("/usr/sbin");
    fails_with(venv_env(), "home /usr/sbin (pyvenv.cfg) holds no python3");
  }
  SECTION("a dangling link in bin") {
    root.symlink("/opt/venv/bin/python3.11", "/usr/local/bin/python3.10");
    fails_with(venv_env(), "/opt/venv/bin/python3.11 does not resolve");
  }
  SECTION("no python in bin at all") {
    for (const char* name : {"python", "python3", "python3.11"}) {
      std::filesystem::remove(root.host_path(std::string("/opt/venv/bin/") + name));
    }
    fails_with(venv_env(), "/opt/venv/bin has no python3 or python");
  }
  SECTION("copied from another path in a multi-stage build: pip's python is missing") {
    root.file("/opt/venv/bin/pip", test::pip_script("#!/build/venv/bin/python3"), 0755);
    auto out = fails_with(venv_env(),
                          "/opt/venv/bin/pip starts /build/venv/bin/python3, which "
                          "does not exist: the venv was moved or copied");
    CHECK_THAT(out.summary, !Catch::Contains("pip3 start"));  // pip3 is still fine
    CHECK(out.details["pip"][0]["bound_to_venv"] == false);
  }
}

TEST_CASE("python.venv: the base image upgraded 3.11 -> 3.12 under an old venv", "[venv]") {
  FixtureRoot root;
  test::add_image_python(root, "3.12.13");  // FROM python:3.12 now; the venv was made on 3.11
  add_venv(root, "3.11.15");
  root.file("/opt/venv/pyvenv.cfg", pyvenv_cfg("3.11.15"));
  auto out = test::run_check("python.venv", root, venv_env());
  INFO(out.summary);
  CHECK(status_of(out) == "fail");
  CHECK_THAT(
      said(out),
      Catch::Contains("pyvenv.cfg says version 3.11.15 but home's python3 is Python 3.12.13 "
                      "(/usr/local/bin/python3.12): the base Python changed under the venv"));
  CHECK(out.details["home_interpreter"]["real_path"] == "/usr/local/bin/python3.12");
}

TEST_CASE("python.venv: half-used venvs warn", "[venv]") {
  FixtureRoot root;
  test::add_image_python(root, "3.11.15");
  add_venv(root);
  SECTION("VIRTUAL_ENV set, but PATH does not start with the venv (activation half done)") {
    auto out = test::run_check("python.venv", root, venv_env(true, test::kImagePath));
    CHECK(status_of(out) == "warn");
    CHECK_THAT(said(out),
               Catch::Contains("VIRTUAL_ENV=/opt/venv but PATH's python3 is /usr/local/bin/python3 "
                               "(activation half done"));
    CHECK_THAT(out.remediation(), Catch::Contains("ENV PATH=/opt/venv/bin:$PATH"));
  }
  SECTION("python in the venv, python3 outside it") {
    std::filesystem::remove(root.host_path("/opt/venv/bin/python3.11"));
    std::filesystem::remove(root.host_path("/opt/venv/bin/python3"));
    root.symlink("/opt/venv/bin/python", "/usr/local/bin/python3.11")
        .file("/opt/venv/bin/pip", test::pip_script("#!/opt/venv/bin/python"), 0755)
        .file("/opt/venv/bin/pip3", test::pip_script("#!/opt/venv/bin/python"), 0755);
    auto out = test::run_check("python.venv", root, venv_env(false));
    CHECK(status_of(out) == "warn");
    CHECK(out.details["found_by"] == "python on PATH");
    CHECK_THAT(said(out), Catch::Contains("python runs /opt/venv/bin/python (venv /opt/venv) but "
                                            "python3 runs /usr/local/bin/python3 (no venv)"));
  }
  SECTION("the venv's pip starts the base Python") {
    root.file("/opt/venv/bin/pip", test::pip_script("#!/usr/local/bin/python3.11"), 0755);
    auto out = test::run_check("python.venv", root, venv_env());
    CHECK(status_of(out) == "warn");
    CHECK_THAT(said(out), Catch::Contains("/opt/venv/bin/pip starts /usr/local/bin/python3.11 "
                                            "(3.11.15, /usr/local), not this venv's python"));
  }
}

// A venv made by the real venv module, on a root that mirrors this machine's
// Debian python3 where the venv's links point.
TEST_CASE("python.venv: venvs made by this machine's python3 -m venv", "[venv]") {
  const std::string python = "/usr/bin/python3";
  INFO("needs the Debian packages python3 and python3-venv");
  REQUIRE(std::filesystem::exists(python));
  const std::string real =
      shell(python + " -c 'import os,sys; print(os.path.realpath(sys.executable))'");
  const std::string version =
      shell(python + " -c 'import platform; print(platform.python_version())'");
  const std::string minor = version.substr(0, version.rfind('.'));
  FixtureRoot root;
  root.executable(real)
      .symlink("/usr/bin/python3", std::string(path_basename(real)))
      .file("/usr/lib/python" + minor + "/os.py", "# stdlib\n")
      .file("/usr/include/python" + minor + "/patchlevel.h",
            test::patchlevel_h(version, 3, std::stoi(minor.substr(2))));
  Environment env = venv_env();

  SECTION("--without-pip: healthy") {
    shell(python + " -m venv --without-pip " + root.host_path("/opt/venv"));
    auto out = test::run_check("python.venv", root, env);
    INFO(out.summary);
    CHECK(status_of(out) == "pass");
    CHECK(out.details["pyvenv_cfg"]["version"] == version);
    CHECK(out.details["pyvenv_cfg"]["home"] == "/usr/bin");
    CHECK(out.details["home_interpreter"]["version"] == version);
    CHECK(out.details["links"][0]["real_path"] == real);
    CHECK_THAT(out.summary, Catch::EndsWith("links resolve, no pip"));
  }
  SECTION("with pip, made at another path than where it is used: pip cannot start") {
    // The venv was made at <tmp>/opt/venv on this machine; inside the root it is /opt/venv,
    // exactly what COPY --from=build /build/venv /opt/venv does.
    shell(python + " -m venv " + root.host_path("/opt/venv"));
    auto out = test::run_check("python.venv", root, env);
    INFO(out.summary);
    CHECK(status_of(out) == "fail");
    CHECK_THAT(said(out), Catch::Contains("/opt/venv/bin/pip and pip3 start " + root.dir()));
    CHECK_THAT(said(out), Catch::Contains("the venv was moved or copied after it was made"));
  }
}
