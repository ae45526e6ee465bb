// Debian versions: dpkg's parse rules and order, checked against the vectors
// of apt's and dpkg's own test suites and against dpkg --compare-versions on
// real versions from this machine's apt lists.
#include "checks/formats/debian_version.h"

#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <set>

#include "tests/unit/apt_test_support.h"

using namespace pycheck;
using pycheck::test::run_command;

namespace {

int sign(int v) { return (v > 0) - (v < 0); }

int compare(std::string_view a, std::string_view b) {
  auto result = compare_debian_versions(a, b);
  REQUIRE(result.ok());
  return sign(*result);
}

}  // namespace

TEST_CASE("version order: apt's and dpkg's test vectors, both directions", "[debversion]") {
  struct Vector {
    const char* a;
    int order;  // -1: a < b, 0: equal, 1: a > b
    const char* b;
  };
  // Every vector of notes/apt-security.md section 4 (apt compareversion_test, dpkg Dpkg_Version.t).
  const Vector vectors[] = {
      {"7.6p2-4", 1, "7.6-0"},
      {"1.0.3-3", 1, "1.0-1"},
      {"1.3", 1, "1.2.2-2"},
      {"0-pre", -1, "0-pree"},
      {"1.1.6r2-2", 1, "1.1.6r-1"},
      {"2.6b2-1", 1, "2.6b-2"},
      {"98.1p5-1", -1, "98.1-pre2-b6-2"},
      {"0.4a6-2", 1, "0.4-1"},
      {"1:3.0.5-2", -1, "1:3.0.5.1"},
      {"1:0.4", 1, "10.3"},
      {"0:1.18.36", 0, "1.18.36"},
      {"9:1.18.36:5.4-20", -1, "10:0.5.1-22"},
      {"1.18.36-0.17.35-18", 1, "1.18.36-19"},
      {"1:1.2.13-3", -1, "1:1.2.13-3.1"},
      {"2.0.7pre1-4", -1, "2.0.7r-1"},
      {"0:0-0-0", 1, "0-0"},
      {"0", 0, "00"},
      {"3.0~rc1-1", -1, "3.0-1"},
      {"1.0", 0, "1.0-0"},
      {"1.0", -1, "1.0-0+b1"},
      {"1.0", 1, "1.0-0~"},
      {"009ab5", 0, "9ab5"},
      {"1.2.3", -1, "1.2.3-1"},
      {"0.10.0", 1, "0.8.7"},
      {"2a", -1, "21"},
      {"1.2a+~bCd3", -1, "1.2a++"},
      {"1.2a+~bCd3", 1, "1.2a+~"},
      {"5:2", 1, "304-2"},
      {"1:2:123", -1, "1:12:3"},
      {"1.2-5", -1, "1.2-3-5"},
      {"5.10.0", 1, "5.005"},
      {"3a9.8", -1, "3.10.2"},
      {"3a9.8", 1, "3~10"},
      {"1.4+OOo3.0.0~", -1, "1.4+OOo3.0.0-4"},
      {"2.2~rc-4", -1, "2.2-1"},
      {"1.0000-1", 0, "1.0-1"},
      {"1:0foo", 1, "0foo"},
      {"0foo~foo+Bar", -1, "0foo~foo+bar"},
      {"0foo~~", -1, "0foo~"},
      {"1~", -1, "1"},
      {"0foo.bar", 1, "0foo1bar"},
      {"0foo2.0", -1, "0foo2.0.0"},
      {"1.09", 0, "1.9"},
      {"3.11", 1, "3.10+nmu1"},
      {"2:2.3.2-2+lenny2", 1, "2:2.3.2-2"},
      {"1:3.8.1-1", 1, "3.8.GA-1"},
      {"1a", -1, "1000a"},
  };
  STATIC_REQUIRE(sizeof(vectors) / sizeof(vectors[0]) == 47);
  for (const Vector& v : vectors) {
    INFO(v.a << " vs " << v.b);
    CHECK(compare(v.a, v.b) == v.order);
    CHECK(compare(v.b, v.a) == -v.order);
    CHECK(compare(v.a, v.a) == 0);
  }
}

TEST_CASE("version parts: epoch before the first colon, revision after the last hyphen",
          "[debversion]") {
  struct Case {
    const char* text;
    unsigned epoch;
    const char* upstream;
    const char* revision;
  };
  const Case cases[] = {
      {"1.0", 0, "1.0", ""},
      {"1.0-1", 0, "1.0", "1"},
      {"2:1.0-1", 2, "1.0", "1"},
      {"1:2:3-4-5", 1, "2:3-4", "5"},  // colons and hyphens in the upstream part
      {"0:1.18.36", 0, "1.18.36", ""},
      {"  1.2.3-1+deb12u1\t", 0, "1.2.3", "1+deb12u1"},  // surrounding blanks trimmed
      {"2147483647:1", 2147483647u, "1", ""},
      {"1.0~rc1-0ubuntu0.22.04.1", 0, "1.0~rc1", "0ubuntu0.22.04.1"},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    auto v = parse_debian_version(c.text);
    REQUIRE(v.ok());
    CHECK(v->epoch == c.epoch);
    CHECK(v->upstream == c.upstream);
    CHECK(v->revision == c.revision);
  }
  CHECK(parse_debian_version("0:1.0-0")->to_string() == "1.0-0");
  CHECK(parse_debian_version("3:1.0")->to_string() == "3:1.0");
  CHECK(compare_debian_versions(*parse_debian_version("1.0"), *parse_debian_version("1.0-0")) == 0);
  CHECK(compare_debian_versions(*parse_debian_version("1:1"), *parse_debian_version("2")) > 0);
}

TEST_CASE("version errors: dpkg's hard errors fail in both modes", "[debversion]") {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {"", "version string is empty"},
      {" \t ", "version string is empty"},
      {"1.0 1", "version string has embedded spaces"},
      {":1.0", "epoch in version is empty"},
      {"a:1.0", "epoch in version is empty"},
      {"1a:1.0", "epoch in version is not number"},
      {"-1:1.0", "epoch in version is negative"},
      {"2147483648:1.0", "epoch in version is too big"},
      {"99999999999999999999999:1.0", "epoch in version is too big"},
      {"1:", "nothing after colon in version number"},
      {"1.0-", "revision number is empty"},
      {"-1", "upstream version is empty"},
      {"1:-1", "upstream version is empty"},
  };
  for (const Case& c : cases) {
    INFO("'" << c.text << "'");
    for (VersionSyntax syntax : {VersionSyntax::strict, VersionSyntax::lenient}) {
      auto v = parse_debian_version(c.text, syntax);
      REQUIRE_FALSE(v.ok());
      CHECK(v.error().message.find(c.message) != std::string::npos);
    }
    CHECK_FALSE(compare_debian_versions(c.text, "1.0").ok());
    CHECK_FALSE(compare_debian_versions("1.0", c.text).ok());
  }
  // strtol accepts a sign: dpkg takes "+1:" as epoch 1 and "-0:" as epoch 0.
  CHECK(parse_debian_version("+1:2.0")->epoch == 1);
  CHECK(parse_debian_version("-0:2.0")->epoch == 0);
}

TEST_CASE("version syntax warnings: errors when strict, accepted when lenient", "[debversion]") {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {"a1.0", "version number does not start with digit"},
      {"~1", "version number does not start with digit"},
      {"1.0_1", "invalid character in version number"},
      {"1.0!", "invalid character in version number"},
      {"1.0-a_b", "invalid character in revision number"},
      {"1.0-1=2", "invalid character in revision number"},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    auto strict = parse_debian_version(c.text, VersionSyntax::strict);
    REQUIRE_FALSE(strict.ok());
    CHECK(strict.error().message.find(c.message) != std::string::npos);
    CHECK(strict.error().message.find(c.text) != std::string::npos);  // quotes the version
    CHECK(parse_debian_version(c.text, VersionSyntax::lenient).ok());
  }
  // As dpkg --compare-versions, which only warns about these.
  CHECK(compare("a1.0", "b1.0") < 0);
  CHECK(compare("1.0_1", "1.0+1") > 0);  // both "others": '_' (95) sorts after '+' (43)
}

TEST_CASE("verrevcmp on parts: tilde, end, letters, others", "[debversion]") {
  CHECK(compare_version_part("~", "") < 0);
  CHECK(compare_version_part("", "a") < 0);
  CHECK(compare_version_part("a", "+") < 0);
  CHECK(compare_version_part("Z", "a") < 0);  // ASCII order among letters
  CHECK(compare_version_part("+", ".") < 0);
  CHECK(compare_version_part("10", "9") > 0);
  CHECK(compare_version_part("000", "") == 0);
  CHECK(compare_version_part("", "") == 0);
  // Arbitrarily long digit runs compare by length, never overflow.
  CHECK(compare_version_part("123456789012345678901234567890", "99999999999999999999999999999") >
        0);
}

// Reads "Package:" and "Version:" lines of every Packages list on this machine
// (decompressed with the real tools), or of the dpkg status file when there
// are no lists, and returns package -> versions.
static std::map<std::string, std::set<std::string>> real_versions_by_package() {
  const auto lists = run_command(
      "for f in /var/lib/apt/lists/*_Packages*; do [ -f \"$f\" ] || continue; case \"$f\" in "
      "*.lz4) lz4 -dc \"$f\";; *.gz) gzip -dc \"$f\";; *.xz) xz -dc \"$f\";; "
      "*.zst) zstd -qdc \"$f\";; *) cat \"$f\";; esac; done | grep -E '^(Package|Version):'");
  std::string text = lists.output;
  if (text.empty()) {
    text = run_command("grep -E '^(Package|Version):' /var/lib/dpkg/status").output;
  }
  std::map<std::string, std::set<std::string>> versions;
  std::string package;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Package: ", 0) == 0) package = line.substr(9);
    if (line.rfind("Version: ", 0) == 0 && !package.empty())
      versions[package].insert(line.substr(9));
  }
  return versions;
}

TEST_CASE("real versions: every comparison agrees with dpkg --compare-versions", "[debversion]") {
  // This test needs dpkg; it fails (never skips) without it.
  REQUIRE(pycheck::test::have_command("dpkg"));
  const auto by_package = real_versions_by_package();
  REQUIRE(by_package.size() > 50);

  std::vector<std::pair<std::string, std::string>> pairs;
  // 1. Versions of the same package (stable vs -security vs -updates).
  for (const auto& [name, versions] : by_package) {
    if (versions.size() < 2 || pairs.size() >= 1200) continue;
    std::vector<std::string> list(versions.begin(), versions.end());
    for (std::size_t i = 0; i + 1 < list.size() && i < 4; ++i)
      pairs.emplace_back(list[i], list[i + 1]);
  }
  // 2. Neighbours in text order: near-identical strings, the hardest cases.
  std::vector<std::string> all;
  for (const auto& [name, versions] : by_package) {
    for (const auto& v : versions) {
      if (parse_debian_version(v, VersionSyntax::strict).ok()) all.push_back(v);
    }
  }
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  REQUIRE(all.size() > 100);
  const std::size_t step = std::max<std::size_t>(1, all.size() / 1200);
  for (std::size_t i = 0; i + 1 < all.size(); i += step) pairs.emplace_back(all[i], all[i + 1]);
  // 3. Random pairs across packages (fixed seed: reproducible).
  std::mt19937 random(20261128);
  std::uniform_int_distribution<std::size_t> pick(0, all.size() - 1);
  for (int i = 0; i < 1000; ++i) pairs.emplace_back(all[pick(random)], all[pick(random)]);
  // Equal-but-differently-written pairs, if the data has any ("1.0" vs "1.0-0").
  pairs.emplace_back(all.front(), all.front());

  // Four chunks checked by four shell loops in parallel; one dpkg call per
  // pair, printing ok or the pair dpkg disagrees with.
  pycheck::test::TempDir dir;
  std::vector<std::string> chunks(4);
  std::size_t checked = 0;
  for (const auto& [a, b] : pairs) {
    if (!parse_debian_version(a).ok() || !parse_debian_version(b).ok()) continue;
    auto ours = compare_debian_versions(a, b);
    auto reverse = compare_debian_versions(b, a);
    REQUIRE(ours.ok());
    REQUIRE(reverse.ok());
    CHECK(sign(*ours) == -sign(*reverse));
    const char* op = *ours < 0 ? "lt" : *ours > 0 ? "gt" : "eq";
    chunks[checked++ % chunks.size()] += a + " " + op + " " + b + "\n";
  }
  REQUIRE(checked > 2000);
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    pycheck::test::write_host_file(dir.file("pairs." + std::to_string(i)), chunks[i]);
  }
  const auto result =
      run_command("cd " + dir.path() +
                  " && for part in pairs.*; do ( while read -r a op b; do "
                  "if dpkg --compare-versions \"$a\" \"$op\" \"$b\" 2>/dev/null; then echo ok; "
                  "else echo \"DISAGREE: $a $op $b\"; fi; done < \"$part\" ) & done; wait");
  REQUIRE(result.exit_code == 0);
  std::size_t ok = 0;
  std::istringstream out(result.output);
  std::string line;
  while (std::getline(out, line)) {
    if (line == "ok") {
      ++ok;
    } else {
      FAIL_CHECK(line);
    }
  }
  CHECK(ok == checked);
}

// Found by tests/fuzz/fuzz_debian_version.cpp: with epoch 0 omitted, "0:1.2:3"
// printed as "1.2:3", which reads as epoch "1.2" (an error); the same for a
// ':' in the revision ("0:1-2:3" printed as "1-2:3").
TEST_CASE("canonical text parses back to the same version, colons in upstream included",
          "[debversion]") {
  for (const char* text : {"0:1.2:3", "0:1.2:3-1", "0:1.2.3a~b.c+d-:1.2.3a~b.c+d-1.2~3",
                           "2:1:0-1", "1.0", "0:1.0-0", "0:1-2:3", "0:1.2.3e~b.c+d-1.2\x06" "38:",
                           "0:1-:"}) {
    INFO(text);
    for (VersionSyntax syntax : {VersionSyntax::strict, VersionSyntax::lenient}) {
      auto v = parse_debian_version(text, syntax);
      if (!v) continue;  // strict refuses some of them; lenient takes all
      auto again = parse_debian_version(v->to_string(), syntax);
      REQUIRE(again.ok());
      CHECK(again->epoch == v->epoch);
      CHECK(again->upstream == v->upstream);
      CHECK(again->revision == v->revision);
    }
  }
  CHECK(parse_debian_version("0:1.2:3")->to_string() == "0:1.2:3");
  CHECK(parse_debian_version("0:1.2-3")->to_string() == "1.2-3");
  CHECK(parse_debian_version("0:1-2:3", VersionSyntax::lenient)->to_string() == "0:1-2:3");
}

// Found by tests/fuzz/fuzz_debian_version.cpp: a NUL inside a part was weighed
// like the end of the string but did not end it, so it stepped over a digit of
// the other part and the order was not transitive ("11" > "\0t" by the digit
// it skipped, yet "\0t" > "2-..." > "11"). dpkg's C strings end at a NUL.
TEST_CASE("NUL bytes: a version with one is an error, a part ends at one", "[debversion]") {
  using namespace std::string_literals;
  for (VersionSyntax syntax : {VersionSyntax::strict, VersionSyntax::lenient}) {
    for (const std::string& text : {"\0t"s, "1.0\0"s, "3.0.\0\0\0" "11-1"s, "1:2\0-1"s}) {
      auto v = parse_debian_version(text, syntax);
      REQUIRE_FALSE(v.ok());
      CHECK(v.error().message.find("embedded NUL byte") != std::string::npos);
    }
  }
  CHECK_FALSE(compare_debian_versions("11"s, "\0t"s).ok());
  CHECK(compare_version_part("1.0\0zzz"s, "1.0") == 0);
  CHECK(compare_version_part("\0t"s, "") == 0);
  CHECK(compare_version_part("11", "\0t"s) > 0);
  CHECK(compare_version_part("\0t"s, "11") < 0);
  // The fuzzer's input, as three versions: every comparison that parses is consistent.
  const std::string three[] = {"11", "2-00.-A1ubuntfsg\x82" "1`b", "\0t"s};
  for (const auto& a : three) {
    for (const auto& b : three) {
      CHECK((compare_version_part(a, b) > 0) == (compare_version_part(b, a) < 0));
    }
  }
}
