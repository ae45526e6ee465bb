// Packages indexes: the fields a security comparison needs, keyed by
// package + architecture; checked on tables and on this machine's real lists
// against what awk reads from the same files.
#include "checks/formats/apt_packages.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <random>
#include <set>
#include <tuple>

#include "checks/formats/decompress.h"
#include "tests/unit/apt_test_support.h"

using namespace pycheck;

TEST_CASE("packages: records, Source with and without version", "[apt][packages]") {
  const std::string text =
      "Package: libssl3\n"
      "Source: openssl (3.0.15-1~deb12u1)\n"
      "Version: 3.0.17-1~deb12u2\n"
      "Architecture: amd64\n"
      "Description: Secure Sockets Layer toolkit\n"
      " multi-line description\n"
      "\n"
      "Package: openssl\n"
      "Version: 3.0.17-1~deb12u2\n"
      "Architecture: amd64\n"
      "\n"
      "Package: tzdata\n"
      "Source: tzdata\n"
      "Version: 2025b-0+deb12u1\n"
      "Architecture: all\n";
  AptPackagesIndex index = parse_apt_packages(text);
  CHECK(index.problems().empty());
  REQUIRE(index.packages().size() == 3);
  const AptPackage* ssl = index.newest("libssl3", "amd64");
  REQUIRE(ssl != nullptr);
  CHECK(ssl->version == "3.0.17-1~deb12u2");
  CHECK(ssl->source_name == "openssl");
  CHECK(ssl->source_version == "3.0.15-1~deb12u1");
  CHECK(ssl->effective_source_version() == "3.0.15-1~deb12u1");
  CHECK(ssl->line == 1);
  const AptPackage* openssl = index.newest("openssl", "amd64");
  REQUIRE(openssl != nullptr);
  CHECK(openssl->effective_source_name() == "openssl");
  CHECK(openssl->effective_source_version() == "3.0.17-1~deb12u2");
  CHECK(openssl->line == 8);
  const AptPackage* tz = index.newest("tzdata", "all");
  REQUIRE(tz != nullptr);
  CHECK(tz->source_name == "tzdata");
  CHECK(tz->source_version.empty());
  CHECK(index.newest("tzdata", "amd64") == nullptr);  // keyed by architecture
  CHECK(index.newest("absent", "amd64") == nullptr);
}

TEST_CASE("packages: several versions and architectures of one package", "[apt][packages]") {
  const std::string text =
      "Package: nodejs\nVersion: 20.9.0-1nodesource1\nArchitecture: amd64\n\n"
      "Package: nodejs\nVersion: 20.10.0-1nodesource1\nArchitecture: amd64\n\n"
      "Package: nodejs\nVersion: 20.10.0~rc1-1nodesource1\nArchitecture: amd64\n\n"
      "Package: nodejs\nVersion: 1:1.0\nArchitecture: i386\n\n";
  AptPackagesIndex index = parse_apt_packages(text);
  CHECK(index.problems().empty());
  CHECK(index.find("nodejs", "amd64").size() == 3);
  CHECK(index.find("nodejs", "i386").size() == 1);
  REQUIRE(index.newest("nodejs", "amd64") != nullptr);
  CHECK(index.newest("nodejs", "amd64")->version == "20.10.0-1nodesource1");  // not text order
  CHECK(index.newest("nodejs", "i386")->version == "1:1.0");
}

TEST_CASE("packages: incomplete or malformed stanzas are counted problems", "[apt][packages]") {
  struct Case {
    const char* stanza;
    const char* message;
    bool kept;
  };
  const Case cases[] = {
      {"Version: 1.0\nArchitecture: amd64\n", "without a Package field", false},
      {"Package: a\nArchitecture: amd64\n", "package a: no Version field", false},
      {"Package: a\nVersion: 1.0\n", "package a: no Architecture field", false},
      {"Package: a\nVersion: 1.0-\nArchitecture: amd64\n", "revision number is empty", false},
      {"Package: a\nVersion: 1 0\nArchitecture: amd64\n", "embedded spaces", false},
      {"Package: a\nSource: b (1.0\nVersion: 1.0\nArchitecture: amd64\n", "malformed Source", true},
      {"Package: a\nSource: b extra\nVersion: 1.0\nArchitecture: amd64\n", "malformed Source",
       true},
      {"Package: a\nVersion: 1.0\nArchitecture: amd64\nno colon\n", "not a 'Field: value' line",
       true},
  };
  for (const Case& c : cases) {
    INFO(c.stanza);
    const std::string text =
        std::string("Package: ok\nVersion: 1\nArchitecture: all\n\n") + c.stanza;
    AptPackagesIndex index = parse_apt_packages(text);
    CHECK(index.packages().size() == (c.kept ? 2u : 1u));
    REQUIRE(index.problems().size() == 1);
    CHECK(index.problems()[0].message.find(c.message) != std::string::npos);
    CHECK(index.problems()[0].line >= 5);
  }
  // Lenient like dpkg: a version with an underscore still compares.
  CHECK(parse_apt_packages("Package: a\nVersion: 1.0_1\nArchitecture: all\n").problems().empty());
  CHECK(parse_apt_packages("").packages().empty());
}

// Found by tests/fuzz/fuzz_apt_packages.cpp: a Version with NUL bytes
// ("3.0.\0...11-1~deb12u2") was kept, and NULs made dpkg's order intransitive,
// so newest() could return a version older than another record's. Such a
// version is now an unparseable one: the stanza is a problem, not a record.
TEST_CASE("packages: a version with a NUL byte is a problem, newest() stays the maximum",
          "[apt][packages]") {
  using namespace std::string_literals;
  const std::string text =
      "Package: libssl3\nVersion: 3.0.13-1~deb12u1\nArchitecture: amd64\n\n"
      "Package: libssl3\nVersion: 3.0.\0\0\0\0""11-1~deb12u2\nArchitecture: amd64\n\n"
      "Package: libssl3\nVersion: 3.0.11-1~deb12u2\nArchitecture: amd64\n"s;
  AptPackagesIndex index = parse_apt_packages(text);
  REQUIRE(index.packages().size() == 2);
  REQUIRE(index.problems().size() == 1);
  CHECK(index.problems()[0].line == 5);
  const AptPackage* newest = index.newest("libssl3", "amd64");
  REQUIRE(newest != nullptr);
  CHECK(newest->version == "3.0.13-1~deb12u1");
}

TEST_CASE("packages: random garbage never crashes", "[apt][packages]") {
  std::mt19937 random(5);
  const std::string pieces[] = {"Package: a\n",
                                "Version: 1.0\n",
                                "Version: :\n",
                                "Architecture: all\n",
                                "Source: s (2)\n",
                                "Source: (\n",
                                "\n",
                                " x\n",
                                "junk\n",
                                "\r\n"};
  for (int round = 0; round < 3000; ++round) {
    std::string text;
    const int count = static_cast<int>(random() % 16);
    for (int i = 0; i < count; ++i) text += pieces[random() % std::size(pieces)];
    AptPackagesIndex index = parse_apt_packages(text);
    for (const AptPackage& p : index.packages()) {
      CHECK_FALSE(p.package.empty());
      CHECK_FALSE(p.version.empty());
    }
  }
}

TEST_CASE("packages: this machine's Packages lists, checked against awk", "[apt][packages]") {
  const auto lists = pycheck::test::host_files_containing(pycheck::test::kAptListsDir, "_Packages");
  INFO("needs apt lists: run apt-get update before the tests");
  REQUIRE_FALSE(lists.empty());
  std::size_t checked = 0;
  for (const std::string& path : lists) {
    // Debian's main index (50 MB) would take seconds in a debug build; the
    // security and updates indexes are the ones that matter and are small.
    if (std::filesystem::file_size(path) > (4u << 20)) continue;
    ++checked;
    INFO(path);
    auto text = decompress(pycheck::test::read_host_file(path), compression_from_file_name(path),
                           512u << 20);
    REQUIRE(text.ok());
    AptPackagesIndex index = parse_apt_packages(*text);
    CHECK(index.problems().empty());
    std::size_t stanzas = text->starts_with("Package: ") ? 1 : 0;
    for (std::size_t at = text->find("\nPackage: "); at != std::string::npos;
         at = text->find("\nPackage: ", at + 1)) {
      ++stanzas;
    }
    CHECK(index.packages().size() == stanzas);

    // The same file read by awk (decompressed by the real tool): one line per stanza.
    const char* tool = path.ends_with(".lz4")   ? "lz4 -dc"
                       : path.ends_with(".gz")  ? "gzip -dc"
                       : path.ends_with(".xz")  ? "xz -dc"
                       : path.ends_with(".zst") ? "zstd -qdc"
                                                : "cat";
    const auto awk = pycheck::test::run_command(
        std::string(tool) + " '" + path +
        "' | awk '"
        "/^Package: /{p=$2} /^Version: /{v=$2} /^Architecture: /{a=$2} /^Source: /{s=$0} "
        "/^$/{if(p!=\"\")print p\"|\"v\"|\"a\"|\"s; p=v=a=s=\"\"} "
        "END{if(p!=\"\")print p\"|\"v\"|\"a\"|\"s}'");
    REQUIRE(awk.exit_code == 0);
    std::multiset<std::string> theirs;
    std::istringstream in(awk.output);
    for (std::string line; std::getline(in, line);) theirs.insert(line);
    std::multiset<std::string> ours;
    for (const AptPackage& p : index.packages()) {
      std::string source;
      if (!p.source_name.empty()) {
        source = "Source: " + p.source_name;
        if (!p.source_version.empty()) source += " (" + p.source_version + ")";
      }
      ours.insert(p.package + "|" + p.version + "|" + p.architecture + "|" + source);
    }
    CHECK(ours.size() > 10);
    CHECK(ours == theirs);
  }
  CHECK(checked > 0);
}
