// tls.ca-certificates when the bundle and a parsed hashed directory (named by
// SSL_CERT_DIR) overlap: each certificate counted once (equal DER, however its
// PEM is laid out), the expired and not-yet-valid ones listed in fingerprint
// order with the file they were first found in, partially parsed ones named.
// The same layout at the default place is followed, not parsed: the bundle's
// certificates alone are counted.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cctype>
#include <chrono>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "cert_factory.h"
#include "check_params.h"
#include "checks/check_table.h"

using namespace pycheck;
using namespace pycheck::test::certs;
using pycheck::test::FixtureRoot;

namespace {

constexpr std::string_view kBundle = "/etc/ssl/certs/ca-certificates.crt";

// openssl's SHA-256 fingerprint of a PEM certificate, as pycheck writes it.
std::string openssl_fingerprint(FixtureRoot& scratch, const std::string& pem) {
  static int count = 0;
  const std::string file = "/fp" + std::to_string(++count) + ".pem";
  scratch.file(file, pem);
  const std::string out =
      run_command("openssl x509 -noout -fingerprint -sha256 -in '" + scratch.host_path(file) + "'");
  std::string hex;
  for (char c : out.substr(out.find('=') + 1)) {
    if (std::isxdigit(static_cast<unsigned char>(c))) hex += static_cast<char>(std::tolower(c));
  }
  return hex;
}

// The same certificate with its base64 in 76-column CRLF lines.
std::string rewrapped(const std::string& pem) {
  std::string body;
  std::istringstream in(pem);
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with("-----")) body += line;
  }
  std::string out = "-----BEGIN CERTIFICATE-----\r\n";
  for (std::size_t i = 0; i < body.size(); i += 76) out += body.substr(i, 76) + "\r\n";
  return out + "-----END CERTIFICATE-----\r\n";
}

}  // namespace

TEST_CASE("tls.ca-certificates: overlapping bundle and directory, listings in fingerprint order",
          "[tls]") {
  CertFactory factory;
  const std::string valid = factory.make("Valid Root", "20200101000000Z", "20600101000000Z");
  std::vector<std::string> expired;
  for (const char* cn : {"Old One", "Old Two", "Old Three", "Old Four"}) {
    expired.push_back(factory.make(cn, "20000101000000Z", "20100101000000Z"));
  }
  const std::string future_a = factory.make("Future A", "20900101000000Z", "20990101000000Z");
  const std::string future_b = factory.make("Future B", "20900101000000Z", "20990101000000Z");
  const std::string ed = factory.ed25519("Ed Root");  // mbedTLS reads it only partly

  FixtureRoot root;
  // The bundle: one valid, three expired, one future, the partial one.
  root.file(kBundle, valid + expired[0] + expired[1] + expired[2] + future_a + ed);
  // The directory: the bundle's again (one laid out differently), one more
  // expired and one more future certificate of its own.
  const std::vector<std::pair<std::string, std::string>> dir_files = {
      {"valid.pem", rewrapped(valid)}, {"old2.pem", expired[1]}, {"old4.pem", expired[3]},
      {"future_b.pem", future_b},      {"ed.pem", ed},           {"old1.pem", expired[0]},
  };
  int n = 0;
  for (const auto& [name, pem] : dir_files) {
    root.file("/usr/share/ca-certificates/" + name, pem);
    char hash[16];
    std::snprintf(hash, sizeof hash, "%08x.0", 0xa0000000u + static_cast<unsigned>(++n));
    root.symlink("/etc/ssl/certs/" + name, "/usr/share/ca-certificates/" + name)
        .symlink("/etc/ssl/certs/" + std::string(hash), name);
  }

  const auto now = std::chrono::system_clock::now() + std::chrono::hours(24 * 30);
  const RootFs fs = root.fs();
  Environment env;
  // Named explicitly, the directory is always parsed (by default it is only
  // followed next to a sound bundle: see the end).
  env.set("SSL_CERT_DIR", "/etc/ssl/certs");
  const CheckInfo check = tls_ca_certificates_check();
  const json params = test::check_params(check);
  const Context ctx{fs, env, params, now};
  const CheckOutcome out = check.run(ctx);
  INFO(out.details.dump(2));
  CHECK(out.status == CheckStatus::pass);
  CHECK(out.details["certificates"] == 8);  // valid, 4 expired, 2 future, ed
  CHECK(out.details["expired"] == 4);
  CHECK(out.details["directories"][0]["parsed"] == true);
  CHECK(out.details["directories"][0]["hash_links"] == 6);
  CHECK(out.details["directories"][0]["certificates"] == 6);

  // Expired: every one, sorted by fingerprint, with the file it was first seen in.
  FixtureRoot scratch;
  std::vector<std::tuple<std::string, std::string, std::string>> want;  // fingerprint, CN, file
  const char* names[] = {"Old One", "Old Two", "Old Three", "Old Four"};
  for (std::size_t i = 0; i < 4; ++i) {
    want.emplace_back(openssl_fingerprint(scratch, expired[i]), "CN=" + std::string(names[i]),
                      i == 3 ? "/etc/ssl/certs/a0000003.0" : std::string(kBundle));
  }
  std::sort(want.begin(), want.end());
  const json& listed = out.details["expired_certificates"];
  REQUIRE(listed.size() == 4);
  for (std::size_t i = 0; i < 4; ++i) {
    CHECK(listed[i]["sha256"] == std::get<0>(want[i]));
    CHECK(listed[i]["subject"] == std::get<1>(want[i]));
    CHECK(listed[i]["file"] == std::get<2>(want[i]));
    CHECK(listed[i]["not_after"] == "2010-01-01T00:00:00Z");
  }

  // Not yet valid: in fingerprint order too (the listing has no fingerprint).
  const std::string fa = openssl_fingerprint(scratch, future_a);
  const std::string fb = openssl_fingerprint(scratch, future_b);
  const json& future = out.details["not_yet_valid_certificates"];
  REQUIRE(future.size() == 2);
  CHECK(future[0]["subject"] == (fa < fb ? "CN=Future A" : "CN=Future B"));
  CHECK(future[1]["subject"] == (fa < fb ? "CN=Future B" : "CN=Future A"));
  CHECK(future[fa < fb ? 1 : 0]["file"] == "/etc/ssl/certs/a0000004.0");
  CHECK(future[0]["not_before"] == "2090-01-01T00:00:00Z");

  const json& partial = out.details["bundle"]["partially_parsed"];
  REQUIRE(partial.size() == 1);
  CHECK(partial[0]["subject"] == "CN=Ed Root");
  CHECK_FALSE(partial[0]["reason"].get<std::string>().empty());

  // At the default place, six files behind the links and six certificates in
  // the bundle: taken to be the same (update-ca-certificates writes both), so
  // the directory's own expired and future ones are not counted. The product
  // decision of issue 17: a directory that disagrees in number is parsed.
  const Environment defaults;
  const Context default_ctx{fs, defaults, params, now};
  const CheckOutcome followed = check.run(default_ctx);
  INFO(followed.details.dump(2));
  CHECK(followed.status == CheckStatus::pass);
  CHECK(followed.details["directories"][0]["parsed"] == false);
  CHECK(followed.details["directories"][0]["hash_links"] == 6);
  CHECK(followed.details["certificates"] == 6);
  CHECK(followed.details["expired"] == 3);
}
