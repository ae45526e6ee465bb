// dist-info METADATA, dist-info and wheel names, PEP 440 ordering, pip advisories.
#include "checks/formats/dist_info.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "checks/data/pip_advisories.h"
#include "tests/unit/python_image_fixture.h"

using namespace pycheck;

TEST_CASE("METADATA headers: Name and Version", "[pip]") {
  auto meta = parse_dist_metadata(test::pip_metadata("24.0"));
  REQUIRE(meta.ok());
  CHECK(meta->metadata_version == "2.1");
  CHECK(meta->name == "pip");
  CHECK(meta->version == "24.0");
  CHECK(meta->summary == "The PyPA recommended tool for installing Python packages.");

  // Folded lines, CRLF, case-insensitive keys; the body after the blank line is ignored.
  auto folded = parse_dist_metadata(
      "Metadata-Version: 2.1\r\nname: pip\r\nSummary: one\r\n  two\r\nVERSION: 23.0.1\r\n\r\n"
      "Version: 99\r\n");
  REQUIRE(folded.ok());
  CHECK(folded->name == "pip");
  CHECK(folded->version == "23.0.1");
  CHECK(folded->summary == "one two");

  // A repeated single-valued field: the first counts.
  auto twice = parse_dist_metadata("Name: pip\nVersion: 1.0\nVersion: 2.0\n");
  REQUIRE(twice.ok());
  CHECK(twice->version == "1.0");

  struct Bad {
    std::string text;
    std::string says;
  };
  for (const Bad& bad : std::vector<Bad>{
           {"", "Name"},
           {"Name: pip\n", "Version"},
           {"Version: 24.0\n", "Name"},
           {"Name: pip\nVersion:\n", "Version"},
           {"<html><body>404</body></html>\n", "line 1"},
           {"PK\x03\x04 zip data", "line 1"},
           {std::string("Name: pip\0Version: 1", 20), "binary"},
           {"  indented first line\nName: pip\nVersion: 1\n", "line 1"},
           {"\nName: pip\nVersion: 1\n", "Name"},  // headers end at the first blank line
       }) {
    INFO(bad.text);
    auto parsed = parse_dist_metadata(bad.text);
    REQUIRE_FALSE(parsed.ok());
    CHECK_THAT(parsed.error().message, Catch::Contains(bad.says));
  }
}

TEST_CASE("dist-info folder and wheel file names", "[pip]") {
  auto dist = parse_dist_info_dir_name("pip-24.0.dist-info");
  REQUIRE(dist.has_value());
  CHECK(dist->name == "pip");
  CHECK(dist->version == "24.0");
  auto underscored = parse_dist_info_dir_name("typing_extensions-4.15.0.dist-info");
  REQUIRE(underscored.has_value());
  CHECK(underscored->name == "typing_extensions");
  CHECK_FALSE(parse_dist_info_dir_name("pip.dist-info").has_value());
  CHECK_FALSE(parse_dist_info_dir_name("pip-24.0.egg-info").has_value());
  CHECK_FALSE(parse_dist_info_dir_name("-1.0.dist-info").has_value());

  auto wheel = parse_wheel_file_name("pip-24.0-py3-none-any.whl");
  REQUIRE(wheel.has_value());
  CHECK(wheel->name == "pip");
  CHECK(wheel->version == "24.0");
  auto build = parse_wheel_file_name("setuptools-65.5.0-1-py3-none-any.whl");
  REQUIRE(build.has_value());
  CHECK(build->version == "65.5.0");
  CHECK_FALSE(parse_wheel_file_name("pip-24.0.tar.gz").has_value());
  CHECK_FALSE(parse_wheel_file_name("pip-24.0.whl").has_value());
}

TEST_CASE("PEP 440: parsing and normal form", "[pip]") {
  struct Vector {
    std::string text;
    std::string normal;
  };
  for (const Vector& v : std::vector<Vector>{
           {"24.0", "24.0"},
           {"23.0.1", "23.0.1"},
           {"v1.0", "1.0"},
           {"1.0RC1", "1.0rc1"},
           {"1.0-rc.1", "1.0rc1"},
           {"1.0alpha", "1.0a0"},
           {"1.0.preview2", "1.0rc2"},
           {"1.0c3", "1.0rc3"},
           {"1.0-1", "1.0.post1"},
           {"1.0.post", "1.0.post0"},
           {"1.0rev2", "1.0.post2"},
           {"1.0.dev", "1.0.dev0"},
           {"1.0a1.post2.dev3", "1.0a1.post2.dev3"},
           {"2!1.0", "2!1.0"},
           {"1.0+ubuntu-1", "1.0+ubuntu.1"},
           {" 24.1b1 ", "24.1b1"},
       }) {
    INFO(v.text);
    auto parsed = parse_pep440(v.text);
    REQUIRE(parsed.has_value());
    CHECK(parsed->str() == v.normal);
  }
  for (std::string bad : {"", "pip", "1.0-", "1.0+", "1.0+a..b", "1..0", "1.0 beta", "1.0/2",
                          "99999999999999999999999999.0", "1.0.foo"}) {
    INFO(bad);
    CHECK_FALSE(parse_pep440(bad).has_value());
  }
}

TEST_CASE("PEP 440: ordering", "[pip]") {
  // Each is strictly lower than the next (packaging's documented order).
  const std::vector<std::string> ascending = {
      "1.0.dev0", "1.0a1.dev1", "1.0a1",     "1.0a1.post1",    "1.0a2",     "1.0b1",
      "1.0rc1",   "1.0",        "1.0+local", "1.0.post1.dev1", "1.0.post1", "1.0.1",
      "1.1.dev1", "2.0",        "10.0",      "1!0.1"};
  for (std::size_t i = 0; i + 1 < ascending.size(); ++i) {
    INFO(ascending[i] << " < " << ascending[i + 1]);
    CHECK(compare_pep440(ascending[i], ascending[i + 1]) == -1);
    CHECK(compare_pep440(ascending[i + 1], ascending[i]) == 1);
  }
  CHECK(compare_pep440("1.0", "1.0.0") == 0);
  CHECK(compare_pep440("23.3", "23.3.0") == 0);
  CHECK(compare_pep440("1.0+abc.5", "1.0+abc.10") == -1);
  CHECK(compare_pep440("1.0+5", "1.0+abc") == 1);
  CHECK_FALSE(compare_pep440("pip", "1.0").has_value());
}

TEST_CASE("pip advisories: which fixes a version lacks", "[pip]") {
  auto ids_for = [](std::string_view version) {
    std::vector<std::string> ids;
    auto v = parse_pep440(version);
    REQUIRE(v.has_value());
    for (const PipAdvisory* a : pip_advisories_for(*v)) ids.emplace_back(a->ids);
    return ids;
  };
  auto has = [](const std::vector<std::string>& ids, std::string_view id) {
    for (const std::string& i : ids) {
      if (i.find(id) != std::string::npos) return true;
    }
    return false;
  };
  // 3.10 images shipped pip 23.0.1: CVE-2023-5752 and later, not the 2019/2021 ones.
  auto old = ids_for("23.0.1");
  CHECK(has(old, "CVE-2023-5752"));
  CHECK(has(old, "CVE-2025-8869"));
  CHECK(has(old, "CVE-2026-1703"));
  CHECK_FALSE(has(old, "CVE-2021-3572"));
  CHECK_FALSE(has(old, "pip#13079"));  // introduced in 24.1b1
  CHECK(has(ids_for("24.1"), "pip#13079"));
  CHECK_FALSE(has(ids_for("24.0"), "pip#13079"));
  CHECK_FALSE(has(ids_for("25.0"), "pip#13079"));
  CHECK(has(ids_for("19.1"), "CVE-2019-20916"));
  CHECK(has(ids_for("21.0.1"), "CVE-2021-3572"));
  CHECK_FALSE(has(ids_for("23.3"), "CVE-2023-5752"));
  CHECK(has(ids_for("23.3b1"), "CVE-2023-5752"));  // a pre-release of the fix lacks it
  CHECK(has(ids_for("26.0.1"), "CVE-2026-3219"));
  CHECK(has(ids_for("26.0.1"), "CVE-2026-6357"));
  CHECK(has(ids_for("26.1.1"), "pip#14000"));
  CHECK(has(ids_for("26.1.2"), "CVE-2026-13346"));
  CHECK(ids_for("26.2").empty());
  CHECK(ids_for("26.2.1").empty());
  // The table stays ordered by fix, and every version in it parses.
  std::optional<Pep440Version> previous;
  for (const PipAdvisory& a : pip_advisories()) {
    auto fixed = parse_pep440(a.fixed_in);
    REQUIRE(fixed.has_value());
    if (previous) CHECK(compare_pep440(*previous, *fixed) <= 0);
    previous = fixed;
  }
}
