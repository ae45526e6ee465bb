// apt.security-updates against a security archive built with real Debian
// tools (tests/unit/apt_security_fixture.h): offline lists in every
// compression apt keeps, and online through a local HTTP server
// (python3 -m http.server on 127.0.0.1).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <set>

#include "agent/core/check.h"
#include "agent/http/http_client.h"
#include "checks/check_table.h"
#include "checks/formats/apt_list_files.h"
#include "tests/unit/apt_security_fixture.h"
#include "tests/unit/check_params.h"
#include "tests/unit/fixture_root.h"
#include "tests/unit/local_server.h"

namespace pycheck {
namespace {

using test::FixtureRoot;
using test::TempDir;
namespace fs = std::filesystem;

const std::string kSuiteDir = "/debian-security/dists/bookworm-security";

const char* kStatus =
    "Package: libfoo\nStatus: install ok installed\nArchitecture: amd64\nMulti-Arch: same\n"
    "Version: 1:2.0-1\nSource: foo\n\n"
    "Package: libfoo\nStatus: install ok installed\nArchitecture: i386\nMulti-Arch: same\n"
    "Version: 1:2.0-1\nSource: foo\n\n"
    "Package: bar\nStatus: install ok installed\nArchitecture: all\nVersion: 1.0~rc1-1\n\n"
    "Package: baz\nStatus: install ok installed\nArchitecture: amd64\nVersion: 3.0-1\n\n"
    "Package: qux\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2:1.0-1\n\n"
    "Package: gone\nStatus: deinstall ok config-files\nArchitecture: amd64\nVersion: 0.1\n\n";

std::string base_uri(int port) {
  return "http://127.0.0.1:" + std::to_string(port) + "/debian-security";
}

// A root with the dpkg database and a deb822 source pointing at `uri`.
void write_system(FixtureRoot& root, const std::string& uri) {
  root.file("/var/lib/dpkg/status", kStatus).file("/var/lib/dpkg/arch", "amd64\ni386\n");
  root.file("/etc/apt/sources.list.d/debian.sources",
            "Types: deb\nURIs: " + uri +
                "\nSuites: bookworm-security\nComponents: main\n\n"
                "Types: deb\nURIs: " +
                uri +
                "\nSuites: bookworm-proposed-security\n"
                "Components: main\nEnabled: no\n");
}

// Copies InRelease and each Packages list (compressed with `tool`, suffix `ext`) into lists.
void write_lists(FixtureRoot& root, const std::string& archive, const std::string& uri,
                 const std::string& tool, const std::string& ext) {
  const std::string u = uri + "/";
  root.file("/var/lib/apt/lists/" + release_list_file(u, "bookworm-security", "InRelease"),
            test::read_host_file(archive + kSuiteDir + "/InRelease"));
  for (std::string arch : {"amd64", "i386"}) {
    const std::string src = archive + kSuiteDir + "/main/binary-" + arch + "/Packages";
    const std::string dst = root.host_path(
        "/var/lib/apt/lists/" + packages_list_file(u, "bookworm-security", "main", arch) + ext);
    const std::string cmd =
        tool.empty() ? "cp '" + src + "' '" + dst + "'" : tool + " < '" + src + "' > '" + dst + "'";
    REQUIRE(test::run_command(cmd + " && echo OK").output == "OK\n");
  }
}

CheckOutcome run_check(const FixtureRoot& root, const json& params = json::object(),
                       const HttpClient* http = nullptr) {
  const CheckInfo* info = find_check("apt.security-updates");
  REQUIRE(info != nullptr);
  RootFs rootfs = root.fs();
  Environment env;
  const json merged = test::check_params(*info, params);
  Context ctx{rootfs, env, merged, std::chrono::system_clock::now(), http != nullptr, http};
  return info->run(ctx);
}

std::set<std::string> pending_set(const CheckOutcome& out) {
  std::set<std::string> s;
  for (const auto& p : out.details["pending"]) {
    s.insert(p["package"].get<std::string>() + ":" + p["architecture"].get<std::string>() + "=" +
             p["candidate"].get<std::string>());
  }
  return s;
}

const std::set<std::string> kExpectedPending = {"libfoo:amd64=1:2.0-1+deb12u1",
                                                "libfoo:i386=1:2.0-1+deb12u1", "bar:all=1.0~rc2-1"};

// A file server on 127.0.0.1 serving `dir`; stopped when this goes away.
class FileServer : public test::LocalServer {
 public:
  explicit FileServer(const std::string& dir)
      : test::LocalServer(
            {python3(), "-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", dir},
            " port ") {}
};

const std::string kFuture = "Sat, 01 Nov 2036 10:00:00 UTC";
const std::string kPast = "Sat, 01 Nov 2025 17:00:00 UTC";

TEST_CASE("apt.security-updates offline: lists in every compression", "[aptsec]") {
  TempDir archive;
  test::build_security_archive(archive.path(), kFuture);
  const std::string uri = base_uri(8080);
  for (auto [tool, ext] : std::vector<std::pair<std::string, std::string>>{
           {"", ""}, {"gzip -9n", ".gz"}, {"xz", ".xz"}, {"lz4 -q", ".lz4"}, {"zstd -q", ".zst"}}) {
    DYNAMIC_SECTION("compression '" << ext << "'") {
      FixtureRoot root;
      write_system(root, uri);
      write_lists(root, archive.path(), uri, tool, ext);
      const CheckOutcome out = run_check(root);
      INFO(out.summary << "\n" << out.details.dump(2));
      CHECK(out.status == CheckStatus::warn);
      CHECK(pending_set(out) == kExpectedPending);
      CHECK(out.details["pending_count"] == 3);
      CHECK(out.details["sources"][0]["indexes"][0]["verified"] == "sha256");
      CHECK(out.details["signature_verified"] == false);
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
  test::build_security_archive(archive.path(), kFuture);
  const std::string uri = base_uri(8080);
  FixtureRoot root;
  write_system(root, uri);

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
  test::build_security_archive(archive.path(), kPast);
  const std::string uri = base_uri(8080);
  FixtureRoot root;
  write_system(root, uri);
  write_lists(root, archive.path(), uri, "xz", ".xz");
  root.file("/var/lib/dpkg/status",
            "Package: baz\nStatus: install ok installed\nArchitecture: amd64\nVersion: 3.0-1\n");
  const CheckOutcome out = run_check(root);
  CHECK(out.status == CheckStatus::warn);
  CHECK(out.summary.find("Valid-Until") != std::string::npos);
  CHECK(out.details["stale_release"].size() == 1);
}

TEST_CASE("apt.security-updates online", "[aptsec]") {
  TempDir archive;
  test::build_security_archive(archive.path(), kFuture);
  FileServer server(archive.path());
  HttpClient http;
  FixtureRoot root;
  write_system(root, base_uri(server.port()));
  const std::string suite = archive.path() + kSuiteDir;

  SECTION("pending, fetched by hash and verified") {
    const CheckOutcome out = run_check(root, json::object(), &http);
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
    CHECK(run_check(root, json::object(), &http).status == CheckStatus::pass);
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
    std::string data = test::read_host_file(f);
    data[data.size() / 2] ^= 0x55;
    test::write_host_file(f, data);
    const CheckOutcome out = run_check(root, json::object(), &http);
    CHECK(out.status == CheckStatus::error);
    CHECK(out.summary.find("SHA-256") != std::string::npos);
    CHECK(out.summary.find("127.0.0.1") != std::string::npos);
  }
  SECTION("a truncated .xz: error") {
    const std::string f = by_hash_file("amd64");
    const std::string data = test::read_host_file(f);
    test::write_host_file(f, data.substr(0, data.size() - 20));
    CHECK(run_check(root, json::object(), &http).status == CheckStatus::error);
  }
  SECTION("a 404 for one architecture's index: error") {
    fs::remove(by_hash_file("i386"));
    const CheckOutcome out = run_check(root, json::object(), &http);
    CHECK(out.status == CheckStatus::error);
    CHECK(out.summary.find("404") != std::string::npos);
  }
  SECTION("no InRelease: error naming the URL") {
    fs::remove(suite + "/InRelease");
    const CheckOutcome out = run_check(root, json::object(), &http);
    CHECK(out.status == CheckStatus::error);
    CHECK(out.summary.find("InRelease") != std::string::npos);
  }
}

TEST_CASE("apt.security-updates online: Valid-Until in the past warns", "[aptsec]") {
  TempDir archive;
  test::build_security_archive(archive.path(), kPast);
  FileServer server(archive.path());
  HttpClient http;
  FixtureRoot root;
  write_system(root, base_uri(server.port()));
  root.file("/var/lib/dpkg/status",
            "Package: baz\nStatus: install ok installed\nArchitecture: amd64\nVersion: 3.0-1\n");
  const CheckOutcome out = run_check(root, json::object(), &http);
  CHECK(out.status == CheckStatus::warn);
  CHECK(out.summary.find("Valid-Until") != std::string::npos);
  CHECK(out.details["pending_count"] == 0);
}

}  // namespace
}  // namespace pycheck
