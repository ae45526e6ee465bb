// apt list file names: URItoFileName vectors, apt itself as the oracle for
// tricky URIs (apt-get indextargets on a throwaway sources.list: read-only,
// no network, every apt directory pointed into a temp folder), and this
// machine's real /var/lib/apt/lists for its real sources.
#include "checks/formats/apt_list_files.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <random>
#include <set>

#include "checks/formats/apt_sources.h"
#include "tests/unit/apt_test_support.h"

using namespace pycheck;

TEST_CASE("list files: URItoFileName", "[apt][listfiles]") {
  struct Case {
    const char* uri;
    const char* file;
  };
  const Case cases[] = {
      {"http://mirror.example/debian/dists/bookworm/InRelease",
       "mirror.example_debian_dists_bookworm_InRelease"},
      {"https://user:secret@mirror.example:8080/debian/", "mirror.example:8080_debian_"},
      {"http://user@mirror.example/x", "mirror.example_x"},
      {"http://mirror.example:80/x", "mirror.example:80_x"},  // the port is kept as given
      {"http://mirror.example:0/x", "mirror.example_x"},      // port 0 is no port
      {"http://[2001:db8::1]:3142/debian/", "2001:db8::1:3142_debian_"},
      {"http://[2001:db8::1]/debian/", "2001:db8::1_debian_"},
      {"http://mirror.example", "mirror.example_"},
      {"file:/srv/repo/./Packages", "_srv_repo_._Packages"},
      {"file:///srv/repo/", "_srv_repo_"},
      {"http://mirror.example/a_b~c=d!e@f#g$h%i^j&k*l|m{n}o[p]q<r>s\"t\\u v",
       "mirror.example_a%5fb%7ec%3dd%21e%40f%23g%24h%25i%5ej%26k%2al%7cm%7bn%7do%5bp%5dq%3cr%3es%"
       "22t%"
       "5cu%20v"},
      {"http://mirror.example/caf\xc3\xa9/\x01\x7f", "mirror.example_caf%c3%a9_%01%7f"},
      {"http://mirror.example/keep+these-chars.,;:()'", "mirror.example_keep+these-chars.,;:()'"},
  };
  for (const Case& c : cases) {
    INFO(c.uri);
    CHECK(uri_to_file_name(c.uri) == c.file);
  }
}

TEST_CASE("list files: Release and Packages names, flat repositories", "[apt][listfiles]") {
  const std::string uri = "http://mirror.example/debian-security/";
  CHECK(release_file_uri(uri, "bookworm-security", "InRelease") ==
        "http://mirror.example/debian-security/dists/bookworm-security/InRelease");
  CHECK(release_list_file(uri, "bookworm-security", "InRelease") ==
        "mirror.example_debian-security_dists_bookworm-security_InRelease");
  CHECK(release_list_file(uri, "bookworm-security", "Release") ==
        "mirror.example_debian-security_dists_bookworm-security_Release");
  CHECK(packages_list_file(uri, "bookworm-security", "main", "amd64") ==
        "mirror.example_debian-security_dists_bookworm-security_main_binary-amd64_Packages");
  // Old Debian security layout: suite "<codename>/updates".
  CHECK(packages_list_file("http://mirror.example/", "buster/updates", "main", "arm64") ==
        "mirror.example_dists_buster_updates_main_binary-arm64_Packages");
  // Flat repositories: no dists/, no component, no architecture.
  CHECK(packages_index_uri("http://r.example/repo/", "./", "ignored", "amd64") ==
        "http://r.example/repo/./Packages");
  CHECK(packages_list_file("http://r.example/repo/", "./", "", "amd64") ==
        "r.example_repo_._Packages");
  CHECK(release_list_file("http://r.example/repo/", "./", "InRelease") ==
        "r.example_repo_._InRelease");
  CHECK(release_list_file("http://r.example/repo/", "/", "InRelease") ==
        "r.example_repo_InRelease");
  CHECK(release_list_file("http://r.example/repo/", "sub/", "Release") ==
        "r.example_repo_sub_Release");

  auto candidates = packages_list_candidates(uri, "bookworm-security", "main", "amd64");
  REQUIRE(candidates.size() == 6);
  const std::string base =
      "mirror.example_debian-security_dists_bookworm-security_main_binary-amd64_Packages";
  CHECK(candidates[0].name == base);
  CHECK(candidates[0].compression == Compression::none);
  CHECK(candidates[1].name == base + ".lz4");
  CHECK(candidates[1].compression == Compression::lz4);
  CHECK(candidates[2].name == base + ".zst");
  CHECK(candidates[3].name == base + ".gz");
  CHECK(candidates[4].name == base + ".xz");
  CHECK(candidates[5].name == base + ".bz2");
  for (const ListFileCandidate& c : candidates)
    CHECK(compression_from_file_name(c.name) == c.compression);
}

TEST_CASE("list files: the names apt itself computes for tricky sources", "[apt][listfiles]") {
  REQUIRE(pycheck::test::have_command("apt-get"));
  pycheck::test::TempDir dir;
  const std::string sources =
      "deb http://user:pa%40ss@mirror.example:8080/deb_ian/ bookworm main\n"
      "deb http://[2001:db8::1]:3142/debian bookworm-security main contrib\n"
      "deb \"http://mirror.example/a b~c=d!e&f*g|h{i}j^k$l\" stable/updates main\n"
      "deb [arch=amd64] http://mirror.example:80/debian sid main non-free-firmware\n"
      "deb file:/srv/repo ./\n"
      "deb https://mirror.example/flat sub/dir/\n";
  pycheck::test::write_host_file(dir.file("sources.list"), sources);
  std::filesystem::create_directories(dir.file("lists"));
  const auto apt = pycheck::test::run_command(
      "apt-get indextargets --no-release-info -o Dir::Etc::SourceList=" + dir.file("sources.list") +
      " -o Dir::Etc::SourceParts=" + dir.file("parts") +
      " -o Dir::State::Lists=" + dir.file("lists") + " -o Dir::Cache=" + dir.file("cache") +
      " -o APT::Architecture=amd64 -o APT::Architectures::=amd64"
      " --format '$(CREATED_BY) $(FILENAME)' 2>&1");
  REQUIRE(apt.exit_code == 0);
  std::set<std::string> theirs;
  std::istringstream in(apt.output);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("Packages ", 0) != 0) continue;
    theirs.insert(std::filesystem::path(line.substr(9)).filename().string());
  }

  AptSources parsed = parse_sources_list(sources, "sources.list");
  REQUIRE(parsed.problems.empty());
  REQUIRE(parsed.entries.size() == 6);
  std::set<std::string> ours;
  for (const AptSourceEntry& e : parsed.entries) {
    // Without Release files apt also assumes a binary-all index.
    for (const char* arch : {"amd64", "all"}) {
      if (e.flat()) {
        ours.insert(packages_list_file(e.uri, e.suite, "", arch));
        continue;
      }
      for (const std::string& component : e.components) {
        ours.insert(packages_list_file(e.uri, e.suite, component, arch));
      }
    }
  }
  CHECK(theirs.size() >= 10);
  CHECK(ours == theirs);
}

TEST_CASE("list files: this machine's sources have their lists under those names",
          "[apt][listfiles]") {
  REQUIRE(pycheck::test::have_command("dpkg"));
  const std::string native = [] {
    std::string arch = pycheck::test::run_command("dpkg --print-architecture").output;
    while (!arch.empty() && arch.back() == '\n') arch.pop_back();
    return arch;
  }();
  REQUIRE_FALSE(native.empty());
  std::vector<AptSourceEntry> entries;
  std::vector<std::string> files;
  if (std::filesystem::exists("/etc/apt/sources.list")) files.push_back("/etc/apt/sources.list");
  for (const std::string& path :
       pycheck::test::host_files_containing("/etc/apt/sources.list.d", ".")) {
    if (path.ends_with(".list") || path.ends_with(".sources")) files.push_back(path);
  }
  for (const std::string& path : files) {
    AptSources parsed = parse_apt_sources_file(pycheck::test::read_host_file(path), path);
    for (AptSourceEntry& e : parsed.entries) {
      if (e.type != AptSourceType::deb || !e.enabled) continue;
      if (!e.architectures.empty() && std::find(e.architectures.begin(), e.architectures.end(),
                                                native) == e.architectures.end()) {
        continue;
      }
      entries.push_back(std::move(e));
    }
  }
  INFO("needs /etc/apt sources and their lists: run apt-get update before the tests");
  REQUIRE_FALSE(entries.empty());
  const std::string lists = pycheck::test::kAptListsDir;
  for (const AptSourceEntry& e : entries) {
    INFO(e.origin << ":" << e.line << " " << e.uri << " " << e.suite);
    const std::string in_release = release_list_file(e.uri, e.suite, "InRelease");
    const std::string release = release_list_file(e.uri, e.suite, "Release");
    CHECK((std::filesystem::exists(lists + "/" + in_release) ||
           std::filesystem::exists(lists + "/" + release)));
    const std::vector<std::string> components =
        e.flat() ? std::vector<std::string>{""} : e.components;
    for (const std::string& component : components) {
      int present = 0;
      for (const ListFileCandidate& c :
           packages_list_candidates(e.uri, e.suite, component, native)) {
        if (std::filesystem::exists(lists + "/" + c.name)) ++present;
      }
      INFO(component);
      CHECK(present == 1);
    }
  }
}

TEST_CASE("list files: random URIs never crash", "[apt][listfiles]") {
  std::mt19937 random(13);
  const std::string pieces[] = {"http", ":", "/", "//", "[",    "]",    "@",  "h.example",
                                "80",   "%", "_", " ",  "\x80", "file", "::1"};
  for (int round = 0; round < 5000; ++round) {
    std::string uri;
    const int count = static_cast<int>(random() % 12);
    for (int i = 0; i < count; ++i) uri += pieces[random() % std::size(pieces)];
    const std::string name = uri_to_file_name(uri);
    CHECK(name.find('/') == std::string::npos);
    CHECK_FALSE(name.empty());
  }
}
