// apt.security-updates trusts only what apt would trust: the Release of each
// security source is verified with the keys apt picks for it (Signed-By file,
// inline key or fingerprints, else trusted.gpg.d), offline and online, and a
// refusal is an error with apt's reason and no pending count.
#include <catch2/catch.hpp>
#include <filesystem>

#include "agent/core/text.h"
#include "agent/http/http_client.h"
#include "tests/unit/apt_security_fixture.h"

namespace pycheck::test {
namespace {

namespace fs = std::filesystem;

// An offline root whose lists are the archive's, read back as InRelease.
struct OfflineCase {
  TempDir archive;
  FixtureRoot root;
  std::string uri = base_uri(8080);
  std::string suite_dir;

  OfflineCase() {
    build_security_archive(archive.path(), kFuture);
    suite_dir = archive.path() + kSuiteDir;
    write_system(root, archive.path(), uri);
    write_lists(root, archive.path(), uri, "", "");
  }
  void sources(const std::string& deb822_trust) {
    root.file("/etc/apt/sources.list.d/debian.sources",
              "Types: deb\nURIs: " + uri + "\nSuites: bookworm-security\nComponents: main\n" +
                  deb822_trust);
  }
  std::string host(const std::string& name) const { return read_host_file(suite_dir + "/" + name); }
};

void check_refused(const CheckOutcome& out, const std::string& reason) {
  INFO(out.summary << "\n" << out.details.dump(2));
  CHECK(out.status == CheckStatus::error);
  CHECK(out.summary.find("apt would refuse") != std::string::npos);
  CHECK(out.summary.find(reason) != std::string::npos);
  CHECK(out.details["signature_verified"] == false);
  CHECK_FALSE(out.details.contains("pending_count"));
  CHECK(!out.remediation().empty());
}

void check_verified(const CheckOutcome& out) {
  INFO(out.summary << "\n" << out.details.dump(2));
  CHECK(out.status == CheckStatus::warn);
  CHECK(pending_set(out) == kExpectedPending);
  CHECK(out.details["signature_verified"] == true);
}

TEST_CASE("apt.security-updates: the lists' signature decides", "[aptsec][signature]") {
  OfflineCase c;
  const std::string fpr = key_fingerprint(c.archive.path(), "archive");
  SECTION("InRelease signed by the Signed-By key: verified") { check_verified(run_check(c.root)); }
  SECTION("signed by another key: NO_PUBKEY") {
    c.root.file(release_list(c.uri, "InRelease"), c.host("InRelease.other"));
    const std::string other = key_fingerprint(c.archive.path(), "other");
    check_refused(run_check(c.root), "NO_PUBKEY " + other.substr(24));
  }
  SECTION("one byte of the text changed: bad signature") {
    std::string text = c.host("InRelease");
    const std::size_t at = text.find("Codename: bookworm-security");
    REQUIRE(at != std::string::npos);
    text[at + 10] = 'c';
    c.root.file(release_list(c.uri, "InRelease"), text);
    check_refused(run_check(c.root), "BADSIG");
  }
  SECTION("the signature block stripped") {
    std::string text = c.host("InRelease");
    text.erase(text.find("-----BEGIN PGP SIGNATURE-----"));
    c.root.file(release_list(c.uri, "InRelease"), text);
    const CheckOutcome out = run_check(c.root);
    check_refused(out, "no signature block");
    CHECK(out.details["sources"][0]["signature"]["verdict"] == "malformed");
  }
  SECTION("Release with its Release.gpg, no InRelease: verified") {
    fs::remove(c.root.host_path(release_list(c.uri, "InRelease")));
    c.root.file(release_list(c.uri, "Release"), c.host("Release"));
    c.root.file(release_list(c.uri, "Release.gpg"), c.host("Release.gpg"));
    check_verified(run_check(c.root));
  }
  SECTION("Release without Release.gpg: not signed") {
    fs::remove(c.root.host_path(release_list(c.uri, "InRelease")));
    c.root.file(release_list(c.uri, "Release"), c.host("Release"));
    check_refused(run_check(c.root), "not signed");
  }
  SECTION("the Signed-By keyring missing: apt does not fall back") {
    fs::remove(c.root.host_path(kFixtureKeyring));
    c.root.file("/etc/apt/trusted.gpg.d/archive.gpg",
                read_host_file(c.archive.path() + "/keys/archive.gpg"));
    check_refused(run_check(c.root), "Signed-By");
  }
  SECTION("no Signed-By: trusted.gpg.d, armored") {
    c.sources("");
    c.root.file("/etc/apt/trusted.gpg.d/fixture.asc",
                read_host_file(c.archive.path() + "/keys/archive.asc"));
    const CheckOutcome out = run_check(c.root);
    check_verified(out);
    CHECK(out.details["sources"][0]["signature"]["keyring"] == "/etc/apt/trusted.gpg.d/fixture.asc");
    CHECK(out.details["sources"][0]["signature"]["keyrings_from"] == "trusted.gpg.d");
  }
  SECTION("no Signed-By and no key in trusted.gpg.d: NO_PUBKEY") {
    c.sources("");
    c.root.file("/etc/apt/trusted.gpg.d/other.gpg",
                read_host_file(c.archive.path() + "/keys/other.gpg"));
    check_refused(run_check(c.root), "NO_PUBKEY");
  }
  SECTION("an inline Signed-By key") {
    std::string block;
    const std::string armored = read_host_file(c.archive.path() + "/keys/archive.asc");
    for (std::string_view line : split_lines(armored)) {
      block += " " + (line.empty() ? std::string(".") : std::string(line)) + "\n";
    }
    c.sources("Signed-By:\n" + block);
    check_verified(run_check(c.root));
  }
  SECTION("Signed-By fingerprints restrict trusted.gpg.d's keys") {
    c.root.file("/etc/apt/trusted.gpg.d/fixture.gpg",
                read_host_file(c.archive.path() + "/keys/archive.gpg"));
    c.sources("Signed-By: " + fpr + "\n");
    check_verified(run_check(c.root));
    c.sources("Signed-By: " + key_fingerprint(c.archive.path(), "other") + "\n");
    check_refused(run_check(c.root), "NO_PUBKEY");
  }
  SECTION("Signed-By that is neither a path nor a fingerprint") {
    c.sources("Signed-By: debian-archive-keyring\n");
    check_refused(run_check(c.root), "neither an absolute keyring path nor a 40-digit fingerprint");
  }
  SECTION("trusted=yes: unverified, with a warning and no count") {
    c.root.file(release_list(c.uri, "InRelease"), c.host("InRelease.other"));
    c.sources("Trusted: yes\n");
    const CheckOutcome out = run_check(c.root);
    INFO(out.summary);
    CHECK(out.status == CheckStatus::warn);
    CHECK(out.summary.find("unverified") != std::string::npos);
    CHECK(out.summary.find("trusted=yes") != std::string::npos);
    CHECK(out.details["signature_verified"] == false);
    CHECK_FALSE(out.details.contains("pending_count"));
  }
}

TEST_CASE("apt.security-updates online: only a verified InRelease counts",
          "[aptsec][signature]") {
  OnlineArchive online(kFuture);
  FixtureRoot& root = online.root;
  const std::string& suite = online.suite;

  SECTION("signed by the trusted key: verified, pending counted") {
    check_verified(online.run());
  }
  SECTION("InRelease signed by another key: refused") {
    fs::copy_file(suite + "/InRelease.other", suite + "/InRelease",
                  fs::copy_options::overwrite_existing);
    check_refused(online.run(), "NO_PUBKEY");
  }
  SECTION("signature stripped: refused") {
    write_host_file(suite + "/InRelease", read_host_file(suite + "/Release"));
    const CheckOutcome out = online.run();
    check_refused(out, "not signed");
    CHECK(out.details["sources"][0]["signature"]["verdict"] == "unsigned_file");
  }
  SECTION("trusted=yes: unverified, no count") {
    fs::copy_file(suite + "/InRelease.other", suite + "/InRelease",
                  fs::copy_options::overwrite_existing);
    root.file("/etc/apt/sources.list.d/debian.sources",
              "Types: deb\nURIs: " + online.uri +
                  "\nSuites: bookworm-security\nComponents: main\nTrusted: yes\n");
    const CheckOutcome out = online.run();
    CHECK(out.status == CheckStatus::warn);
    CHECK(out.summary.find("unverified") != std::string::npos);
    CHECK_FALSE(out.details.contains("pending_count"));
  }
}

}  // namespace
}  // namespace pycheck::test
