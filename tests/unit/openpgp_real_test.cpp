// The OpenPGP verifier on real Debian InRelease files (fetched once, in
// tests/unit/data) with Debian's archive keyring: bookworm-security (RSA
// subkeys of the security keys) and trixie's main suite (two RSA archive
// keys and the Ed25519 release key).
#include <catch2/catch.hpp>
#include <chrono>

#include "checks/formats/apt_release.h"
#include "checks/formats/openpgp_verify.h"
#include "tests/unit/host_tools.h"

using namespace pycheck;

namespace {

std::string data_file(const std::string& name) {
  return test::host::read_host_file(std::string(PYCHECK_SOURCE_DIR) + "/tests/unit/data/" + name);
}

TrustedKeys debian_keyring(std::vector<std::string> fingerprints = {}) {
  return TrustedKeys{{OpenPgpKeyring{"/usr/share/keyrings/debian-archive-keyring.gpg",
                                     data_file("debian-archive-keyring.gpg")}},
                     std::move(fingerprints)};
}

// The file's Date + 1 day: when apt would have fetched it.
std::chrono::sys_seconds day_after(const std::string& inrelease) {
  auto release = parse_apt_release(inrelease);
  REQUIRE(release.ok());
  REQUIRE(release->date.has_value());
  return *release->date + std::chrono::hours(24);
}

}  // namespace

TEST_CASE("openpgp: bookworm-security's InRelease verifies with Debian's keyring", "[openpgp]") {
  const std::string text = data_file("bookworm-security-InRelease");
  const auto now = day_after(text);
  const SignatureCheck c = verify_clearsigned(text, debian_keyring(), now);
  INFO(c.reason << " / " << c.rule);
  REQUIRE(c.ok());
  CHECK(c.issuers.size() == 2);
  CHECK(c.user_id.find("Debian Security Archive Automatic Signing Key") == 0);
  CHECK(c.signing_key_fingerprint != c.signer_fingerprint);  // a subkey signs
  CHECK(c.keyring == "/usr/share/keyrings/debian-archive-keyring.gpg");
  CHECK(c.message == *clearsigned_body(text));

  // One byte of the body changed: refused as a bad signature.
  std::string changed = text;
  const std::size_t at = changed.find("Suite: ");
  REQUIRE(at != std::string::npos);
  changed[at + 7] ^= 1;
  const SignatureCheck bad = verify_clearsigned(changed, debian_keyring(), now);
  CHECK(bad.verdict == SignatureVerdict::bad_signature);
  CHECK(bad.reason.starts_with("BADSIG "));
  // Without the keyring, apt's NO_PUBKEY with the first key id.
  const SignatureCheck none = verify_clearsigned(text, TrustedKeys{}, now);
  CHECK(none.verdict == SignatureVerdict::no_public_key);
  CHECK(none.reason == "NO_PUBKEY " + none.issuers.at(0));
}

TEST_CASE("openpgp: trixie's InRelease verifies, the Ed25519 release key too", "[openpgp]") {
  const std::string text = data_file("trixie-InRelease");
  const auto now = day_after(text);
  const SignatureCheck any = verify_clearsigned(text, debian_keyring(), now);
  INFO(any.reason << " / " << any.rule);
  REQUIRE(any.ok());
  CHECK(any.issuers.size() == 3);
  // Only Debian Stable Release Key (13/trixie), Ed25519, may sign.
  const std::string release_key = "41587F7DB8C774BCCF131416762F67A0B2C39DE4";
  const SignatureCheck ed = verify_clearsigned(text, debian_keyring({release_key}), now);
  INFO(ed.reason << " / " << ed.rule);
  REQUIRE(ed.ok());
  CHECK(ed.signing_key_fingerprint == release_key);
  CHECK(ed.rule.find("EdDSA") != std::string::npos);
  CHECK(ed.user_id == "Debian Stable Release Key (13/trixie) <debian-release@lists.debian.org>");

  std::string changed = text;
  changed[changed.find("Codename: ") + 10] ^= 1;
  CHECK(verify_clearsigned(changed, debian_keyring({release_key}), now).verdict ==
        SignatureVerdict::bad_signature);
}

// Timing for reports: 1000 verifications of bookworm-security's InRelease.
TEST_CASE("openpgp: verification time of a real InRelease", "[.][openpgp-bench]") {
  const std::string text = data_file("bookworm-security-InRelease");
  const TrustedKeys keys = debian_keyring();
  const auto now = day_after(text);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 1000; ++i) REQUIRE(verify_clearsigned(text, keys, now).ok());
  const auto spent = std::chrono::steady_clock::now() - start;
  WARN("1000 verifications: "
       << std::chrono::duration_cast<std::chrono::milliseconds>(spent).count() << " ms");
}
