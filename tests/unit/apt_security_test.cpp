// apt.security-updates against a security archive built with real Debian
// tools (tests/unit/apt_security_fixture.h): offline lists in every
// compression apt keeps, and online through a local HTTP server
// (python3 -m http.server on 127.0.0.1).
#include <catch2/catch.hpp>
#include <filesystem>

#include "agent/http/http_client.h"
#include "checks/formats/apt_list_files.h"
#include "tests/unit/apt_security_fixture.h"

namespace pycheck::test {
namespace {

namespace fs = std::filesystem;

TEST_CASE("apt.security-updates offline: lists in every compression", "[aptsec]") {
  TempDir archive;
  build_security_archive(archive.path(), kFuture);
  const std::string uri = base_uri(8080);
  for (auto [tool, ext] : std::vector<std::pair<std::string, std::string>>{
           {"", ""}, {"gzip -9n", ".gz"}, {"xz", ".xz"}, {"lz4 -q", ".lz4"}, {"zstd -q", ".zst"}}) {
    DYNAMIC_SECTION("compression '" << ext << "'") {
      FixtureRoot root;
      write_system(root, archive.path(), uri);
      write_lists(root, archive.path(), uri, tool, ext);
      const CheckOutcome out = run_check(root);
      INFO(out.summary << "\n" << out.details.dump(2));
      CHECK(out.status == CheckStatus::warn);
      CHECK(pending_set(out) == kExpectedPending);
      CHECK(out.details["pending_count"] == 3);
      CHECK(out.details["sources"][0]["indexes"][0]["verified"] == "sha256");
      CHECK(out.details["signature_verified"] == true);
      const json& signature = out.details["sources"][0]["signature"];
      CHECK(signature["signer_fingerprint"] == key_fingerprint(archive.path(), "archive"));
      CHECK(signature["keyring"] == kFixtureKeyring);
      CHECK(signature["keyrings_from"] == "Signed-By");
      CHECK(out.summary.find("3 pending security updates") == 0);
      CHECK(!out.remediation().empty());
      for (const auto& p : out.details["pending"]) {
        if (p["package"] == "libfoo") CHECK(p["source"] == "foo");
        CHECK(p["suite"] == "bookworm-security");
      }
    }
  }
}

TEST_CASE("apt.security-updates offline: statuses", "[aptsec]") {
  TempDir archive;
  build_security_archive(archive.path(), kFuture);
  const std::string uri = base_uri(8080);
  FixtureRoot root;
  write_system(root, archive.path(), uri);

  SECTION("no lists: skip, saying how to find out") {
    const CheckOutcome out = run_check(root);
    CHECK(out.status == CheckStatus::skip);
    CHECK(out.summary.find("--online") != std::string::npos);
  }
  SECTION("up to date: pass") {
    write_lists(root, archive.path(), uri, "lz4 -q", ".lz4");
    root.file("/var/lib/dpkg/status",
              "Package: libfoo\nStatus: install ok installed\nArchitecture: amd64\n"
              "Version: 1:2.0-1+deb12u1\n\n"
              "Package: bar\nStatus: install ok installed\nArchitecture: all\nVersion: 1.0-1\n");
    const CheckOutcome out = run_check(root);
    CHECK(out.status == CheckStatus::pass);
    CHECK(out.details["pending_count"] == 0);
  }
  SECTION("fail_above and pending_is") {
    write_lists(root, archive.path(), uri, "lz4 -q", ".lz4");
    CHECK(run_check(root, {{"fail_above", 2}}).status == CheckStatus::fail);
    CHECK(run_check(root, {{"fail_above", 3}}).status == CheckStatus::warn);
    CHECK(run_check(root, {{"pending_is", "fail"}}).status == CheckStatus::fail);
    // Bad values never reach the check: the config refuses them (config_params_test.cpp).
  }
  SECTION("a list that does not match Release: error, not 0 pending") {
    write_lists(root, archive.path(), uri, "", "");
    root.file(
        "/var/lib/apt/lists/" + packages_list_file(uri + "/", "bookworm-security", "main", "amd64"),
        "Package: baz\nVersion: 3.0-1\nArchitecture: amd64\n");
    const CheckOutcome out = run_check(root);
    CHECK(out.status == CheckStatus::error);
    CHECK(out.summary.find("SHA256") != std::string::npos);
  }
  SECTION("the Release kept, every Packages list gone (apt-get dist-clean): no lists, skip") {
    write_lists(root, archive.path(), uri, "", "");
    for (std::string arch : {"amd64", "i386"}) {
      fs::remove(root.host_path(
          "/var/lib/apt/lists/" + packages_list_file(uri + "/", "bookworm-security", "main", arch)));
    }
    const CheckOutcome out = run_check(root);
    INFO(out.summary);
    CHECK(out.status == CheckStatus::skip);
    CHECK(out.summary.find("Release file only") != std::string::npos);
  }
  SECTION("one architecture's list gone: error") {
    write_lists(root, archive.path(), uri, "", "");
    fs::remove(root.host_path(
        "/var/lib/apt/lists/" + packages_list_file(uri + "/", "bookworm-security", "main", "i386")));
    const CheckOutcome out = run_check(root);
    CHECK(out.status == CheckStatus::error);
    CHECK(out.summary.find("no Packages list for main/binary-i386/") != std::string::npos);
  }
  SECTION("a FIFO in place of a list: error") {
    write_lists(root, archive.path(), uri, "", "");
    const std::string name = packages_list_file(uri + "/", "bookworm-security", "main", "i386");
    fs::remove(root.host_path("/var/lib/apt/lists/" + name));
    root.fifo("/var/lib/apt/lists/" + name);
    CHECK(run_check(root).status == CheckStatus::error);
  }
  SECTION("garbage InRelease: error naming the file") {
    write_lists(root, archive.path(), uri, "", "");
    root.file(
        "/var/lib/apt/lists/" + release_list_file(uri + "/", "bookworm-security", "InRelease"),
        "-----BEGIN PGP SIGNED MESSAGE-----\ngarbage");
    const CheckOutcome out = run_check(root);
    CHECK(out.status == CheckStatus::error);
    CHECK(out.summary.find("InRelease") != std::string::npos);
  }
  SECTION("no dpkg database: skip") {
    fs::remove(root.host_path("/var/lib/dpkg/status"));
    CHECK(run_check(root).status == CheckStatus::skip);
  }
  SECTION("no security source: skip") {
    fs::remove(root.host_path("/etc/apt/sources.list.d/debian.sources"));
    root.file("/etc/apt/sources.list", "deb " + uri + " bookworm main\n");
    CHECK(run_check(root).status == CheckStatus::skip);
  }
}

TEST_CASE("apt.security-updates offline: Valid-Until in the past warns", "[aptsec]") {
  TempDir archive;
  build_security_archive(archive.path(), kPast);
  const std::string uri = base_uri(8080);
  FixtureRoot root;
  write_system(root, archive.path(), uri);
  write_lists(root, archive.path(), uri, "xz", ".xz");
  root.file("/var/lib/dpkg/status",
            "Package: baz\nStatus: install ok installed\nArchitecture: amd64\nVersion: 3.0-1\n");
  const CheckOutcome out = run_check(root);
  CHECK(out.status == CheckStatus::warn);
  CHECK(out.summary.find("Valid-Until") != std::string::npos);
  CHECK(out.details["stale_release"].size() == 1);
}

TEST_CASE("apt.security-updates online", "[aptsec]") {
  OnlineArchive online(kFuture);
  FixtureRoot& root = online.root;
  const std::string& suite = online.suite;

  SECTION("pending, fetched by hash and verified") {
    const CheckOutcome out = online.run();
    INFO(out.summary << "\n" << out.details.dump(2));
    CHECK(out.status == CheckStatus::warn);
    CHECK(pending_set(out) == kExpectedPending);
    CHECK(out.details["mode"] == "online");
    const std::string url = out.details["sources"][0]["indexes"][0]["url"];
    CHECK(url.find("/by-hash/SHA256/") != std::string::npos);
  }
  SECTION("not pending") {
    root.file("/var/lib/dpkg/status",
              "Package: baz\nStatus: install ok installed\nArchitecture: amd64\nVersion: 3.0-1\n");
    CHECK(online.run().status == CheckStatus::pass);
  }
  SECTION("offline run ignores the network") { CHECK(run_check(root).status == CheckStatus::skip); }
  auto by_hash_file = [&](const std::string& arch) {
    for (const auto& e :
         fs::directory_iterator(suite + "/main/binary-" + arch + "/by-hash/SHA256")) {
      return e.path().string();
    }
    throw std::runtime_error("no by-hash file");
  };
  SECTION("a wrong hash: error") {
    const std::string f = by_hash_file("amd64");
    std::string data = read_host_file(f);
    data[data.size() / 2] ^= 0x55;
    write_host_file(f, data);
    const CheckOutcome out = online.run();
    CHECK(out.status == CheckStatus::error);
    CHECK(out.summary.find("SHA-256") != std::string::npos);
    CHECK(out.summary.find("127.0.0.1") != std::string::npos);
  }
  SECTION("a truncated .xz: error") {
    const std::string f = by_hash_file("amd64");
    const std::string data = read_host_file(f);
    write_host_file(f, data.substr(0, data.size() - 20));
    CHECK(online.run().status == CheckStatus::error);
  }
  SECTION("a 404 for one architecture's index: error") {
    fs::remove(by_hash_file("i386"));
    const CheckOutcome out = online.run();
    CHECK(out.status == CheckStatus::error);
    CHECK(out.summary.find("404") != std::string::npos);
  }
  SECTION("no InRelease: error naming the URL") {
    fs::remove(suite + "/InRelease");
    const CheckOutcome out = online.run();
    CHECK(out.status == CheckStatus::error);
    CHECK(out.summary.find("InRelease") != std::string::npos);
  }
}

TEST_CASE("apt.security-updates online: Valid-Until in the past is refused, as apt does",
          "[aptsec]") {
  OnlineArchive online(kPast);
  FixtureRoot& root = online.root;
  const CheckOutcome out = online.run();
  INFO(out.summary);
  CHECK(out.status == CheckStatus::error);
  CHECK(out.summary.find("expired (Valid-Until " + kPast + ")") != std::string::npos);
  CHECK_FALSE(out.details.contains("pending_count"));
  SECTION("unless the source says check-valid-until: no") {
    root.file("/etc/apt/sources.list",
              "deb [check-valid-until=no signed-by=" + std::string(kFixtureKeyring) + "] " +
                  online.uri + " bookworm-security main\n");
    fs::remove(root.host_path("/etc/apt/sources.list.d/debian.sources"));
    CHECK(online.run().status == CheckStatus::warn);
  }
}

}  // namespace
}  // namespace pycheck::test
