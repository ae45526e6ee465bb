// pip.version on fixture roots: the image's pip, old pips, venvs, Debian's pip, broken metadata.
#include <catch2/catch.hpp>
#include <string>

#include "tests/unit/outcome_text.h"
#include "tests/unit/python_image_fixture.h"

using namespace pycheck;
using test::FixtureRoot;

namespace {

std::string status_of(const CheckOutcome& o) { return std::string(to_string(o.status)); }

const std::string kSite = "/usr/local/lib/python3.11/site-packages";

}  // namespace

TEST_CASE("pip.version: a current pip passes", "[pip]") {
  FixtureRoot root;
  test::add_image_python(root, "3.11.15", "26.2.1");
  auto out = test::run_check("pip.version", root, test::image_env());
  INFO(out.summary);
  CHECK(status_of(out) == "pass");
  CHECK(out.summary == "pip 26.2.1 in " + kSite + "; no known pip advisory applies");
  CHECK(out.details["pip"]["version"] == "26.2.1");
  CHECK(out.details["pip"]["version_source"] == kSite + "/pip-26.2.1.dist-info/METADATA");
  CHECK(out.details["pip"]["advisories"].empty());
  CHECK(out.details["pip"]["code_version"] == "26.2.1");
  CHECK(out.details["ensurepip_bundled"]["version"] == "26.2.1");
  CHECK(out.details["pip_commands_starting_python3"] == json::array({"pip", "pip3", "pip3.11"}));
  CHECK(out.details["commands"][0]["shebang"]["python"] == "/usr/local/bin/python3.11");
  CHECK_THAT(out.details["index_comparison"].get<std::string>(), Catch::Contains("network"));
}

TEST_CASE("pip.version: old pips name the advisories they lack", "[pip]") {
  FixtureRoot root;
  test::add_image_python(root, "3.10.14", "23.0.1");  // the 3.10 images until 2024-09
  auto out = test::run_check("pip.version", root, test::image_env(test::kImagePath, "3.10.14"));
  INFO(out.summary);
  CHECK(status_of(out) == "warn");
  CHECK_THAT(said(out), Catch::Contains("pip 23.0.1 lacks fixes for 7 advisories "
                                            "(CVE-2023-5752, CVE-2025-8869, CVE-2026-1703 and 4 "
                                            "more; all fixed in 26.2)"));
  const json& advisories = out.details["pip"]["advisories"];
  REQUIRE(advisories.size() == 7);
  CHECK(advisories[2]["id"] == "CVE-2026-1703 / GHSA-6vgw-5pg2-w6jp");
  CHECK(advisories[6]["id"] == "CVE-2026-13346");
  CHECK(advisories[6]["fixed_in"] == "26.2");
  CHECK_THAT(out.summary, Catch::Contains("/usr/local/lib/python3.10/site-packages"));
  CHECK_THAT(out.remediation(), Catch::Contains("python3 -m pip install --upgrade pip"));
  CHECK(out.details["pip"]["advisories"][0]["id"] == "CVE-2023-5752");
  CHECK(out.details["pip"]["advisories"][0]["fixed_in"] == "23.3");

  FixtureRoot image_24;
  test::add_image_python(image_24, "3.11.10", "24.0");  // 3.11.10 shipped pip 24.0
  auto out24 = test::run_check("pip.version", image_24, test::image_env());
  CHECK(status_of(out24) == "warn");
  CHECK_THAT(said(out24), Catch::Contains("pip 24.0 lacks fixes for 6 advisories (CVE-2025-8869,"));
  CHECK_THAT(out24.summary, !Catch::Contains("CVE-2023-5752"));
}

TEST_CASE("pip.version: missing, doubled, broken", "[pip]") {
  FixtureRoot root;
  test::add_image_python(root, "3.11.15", "26.2.1");
  SECTION("no pip for python3") {
    std::filesystem::remove_all(root.host_path(kSite));
    root.mkdir(kSite);
    auto out = test::run_check("pip.version", root, test::image_env());
    CHECK(status_of(out) == "warn");
    CHECK_THAT(said(out), Catch::Contains("has no pip in " + kSite));
    CHECK_THAT(out.remediation(), Catch::Contains("ensurepip"));
  }
  SECTION("two dist-infos side by side: the code's version counts") {
    root.file(kSite + "/pip-23.0.1.dist-info/METADATA", test::pip_metadata("23.0.1"));
    auto out = test::run_check("pip.version", root, test::image_env());
    CHECK(status_of(out) == "warn");
    CHECK_THAT(said(out), Catch::Contains("2 pip dist-info folders in " + kSite));
    CHECK(out.details["pip"]["version"] == "26.2.1");
    CHECK(out.details["pip"]["version_source"] == kSite + "/pip/__init__.py");
  }
  SECTION("garbage METADATA is an error naming the file") {
    root.file(kSite + "/pip-26.2.1.dist-info/METADATA", "\x89PNG\r\n\x1a\n");
    auto out = test::run_check("pip.version", root, test::image_env());
    CHECK(status_of(out) == "error");
    CHECK_THAT(said(out), Catch::Contains(kSite + "/pip-26.2.1.dist-info/METADATA: line 1"));
    CHECK_FALSE(out.remediation().empty());
  }
  SECTION("a FIFO in place of METADATA") {
    std::filesystem::remove(root.host_path(kSite + "/pip-26.2.1.dist-info/METADATA"));
    root.fifo(kSite + "/pip-26.2.1.dist-info/METADATA");
    auto out = test::run_check("pip.version", root, test::image_env());
    CHECK(status_of(out) == "error");
    CHECK_THAT(said(out), Catch::Contains("METADATA: is a FIFO"));
  }
  SECTION("a version that is not PEP 440") {
    root.file(kSite + "/pip-26.2.1.dist-info/METADATA", "Name: pip\nVersion: banana\n");
    auto out = test::run_check("pip.version", root, test::image_env());
    CHECK(status_of(out) == "error");
    CHECK_THAT(said(out), Catch::Contains("\"banana\" is not a PEP 440 version"));
  }
  SECTION("no dist-info: the pip package still says its version") {
    std::filesystem::remove_all(root.host_path(kSite + "/pip-26.2.1.dist-info"));
    auto out = test::run_check("pip.version", root, test::image_env());
    CHECK(status_of(out) == "pass");
    CHECK(out.details["pip"]["version_source"] == kSite + "/pip/__init__.py");
  }
  SECTION("dist-info without the package") {
    std::filesystem::remove_all(root.host_path(kSite + "/pip"));
    auto out = test::run_check("pip.version", root, test::image_env());
    CHECK(status_of(out) == "warn");
    CHECK_THAT(said(out), Catch::Contains("has pip's dist-info but no pip package"));
  }
  SECTION("no python3: skip") {
    auto out = test::run_check("pip.version", root, test::image_env("/usr/bin"));
    CHECK(status_of(out) == "skip");
    CHECK_THAT(out.summary, Catch::Contains("python.path"));
  }
}

TEST_CASE("pip.version: venvs use their own pip first", "[pip]") {
  FixtureRoot root;
  test::add_image_python(root, "3.11.15", "24.0");
  root.symlink("/opt/venv/bin/python3", "/usr/local/bin/python3")
      .file("/opt/venv/bin/pip", test::pip_script("#!/opt/venv/bin/python3"), 0755);
  const Environment env = test::image_env("/opt/venv/bin:" + std::string(test::kImagePath));
  SECTION("the venv's own pip") {
    root.file("/opt/venv/pyvenv.cfg", "home = /usr/local/bin\nversion = 3.11.15\n")
        .file("/opt/venv/lib/python3.11/site-packages/pip-26.2.dist-info/METADATA",
              test::pip_metadata("26.2"))
        .mkdir("/opt/venv/lib/python3.11/site-packages/pip");
    auto out = test::run_check("pip.version", root, env);
    INFO(out.summary);
    CHECK(status_of(out) == "pass");
    CHECK(out.details["pip"]["site_packages"] == "/opt/venv/lib/python3.11/site-packages");
    // The venv's pip starts the venv's python; the base's pip3 does not.
    CHECK(out.details["pip_commands_starting_python3"] == json::array({"pip"}));
  }
  SECTION("--without-pip and no system site-packages: no pip") {
    root.file("/opt/venv/pyvenv.cfg",
              "home = /usr/local/bin\ninclude-system-site-packages = false\n")
        .mkdir("/opt/venv/lib/python3.11/site-packages");
    auto out = test::run_check("pip.version", root, env);
    CHECK(status_of(out) == "warn");
    CHECK_THAT(said(out), Catch::Contains("venv /opt/venv on /usr/local) has no pip"));
  }
  SECTION("--without-pip with system site-packages: the base's pip is imported") {
    root.file("/opt/venv/pyvenv.cfg",
              "home = /usr/local/bin\ninclude-system-site-packages = true\n")
        .mkdir("/opt/venv/lib/python3.11/site-packages");
    auto out = test::run_check("pip.version", root, env);
    CHECK(status_of(out) == "warn");  // 24.0 lacks later fixes
    CHECK(out.details["pip"]["site_packages"] == kSite);
  }
}

TEST_CASE("pip.version: Debian's python3-pip when /usr/bin comes first", "[pip]") {
  FixtureRoot root;
  test::add_image_python(root, "3.11.15", "26.2.1");
  test::add_debian_python(root, true);
  auto out = test::run_check("pip.version", root, test::image_env("/usr/bin:/usr/local/bin"));
  INFO(out.summary);
  CHECK(status_of(out) == "warn");
  CHECK_THAT(out.summary,
             Catch::Contains("pip 23.0.1 in /usr/lib/python3/dist-packages"));
  CHECK(out.details["python3"]["real_path"] == "/usr/bin/python3.11");
  CHECK(out.details["pip"]["managed_by_apt"] == true);
  CHECK_THAT(out.remediation(), Catch::Contains("python3-pip"));
  // /usr/bin/pip3 starts Debian's python; /usr/local/bin/pip the image's.
  CHECK(out.details["pip_commands_starting_python3"] == json::array({"pip3"}));
}
