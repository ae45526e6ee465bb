// The tls.ca-certificates check on fixture roots, with real certificates:
// this machine's CA bundle and ones made with the openssl CLI.
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "cert_factory.h"
#include "check_params.h"
#include "checks/check_table.h"
#include "tests/unit/hang_guard.h"
#include "tests/unit/outcome_text.h"

using namespace pycheck;
using namespace pycheck::test::certs;
using pycheck::test::FixtureRoot;

namespace {

constexpr const char* kHostBundle = "/etc/ssl/certs/ca-certificates.crt";
constexpr std::string_view kBundle = "/etc/ssl/certs/ca-certificates.crt";

CheckOutcome run_check(const FixtureRoot& root, const Environment& env = Environment(),
                       std::chrono::system_clock::time_point now = utc(2026, 6, 1),
                       const json& params = json::object()) {
  const RootFs fs = root.fs();
  const CheckInfo check = tls_ca_certificates_check();
  const json merged = test::check_params(check, params);
  const Context ctx{fs, env, merged, now};
  return check.run(ctx);
}

std::string ca_status(std::string_view status) {
  return "Package: ca-certificates\nStatus: " + std::string(status) +
         "\nArchitecture: all\nVersion: 20230311\n\nPackage: dpkg\nStatus: install ok installed\n"
         "Architecture: amd64\nVersion: 1.21.22\n";
}

}  // namespace

TEST_CASE("tls.ca-certificates: this machine's bundle passes", "[tls]") {
  FixtureRoot root;
  root.file(kBundle, read_host_file(kHostBundle));
  const CheckOutcome out = run_check(root, Environment(), std::chrono::system_clock::now());
  INFO(out.summary);
  CHECK(out.status == CheckStatus::pass);
  const std::size_t grep_count =
      std::stoul(run_command(std::string("grep -c 'BEGIN CERTIFICATE' ") + kHostBundle));
  CHECK(out.details["bundle"]["certificate_blocks"] == grep_count);
  CHECK(out.details["bundle"]["origin"] == "default");
  CHECK(out.details["bundle"]["path"] == kBundle);
  CHECK(out.details["package"]["dpkg_database"] == "absent");
  CHECK(out.summary.find(std::string(kBundle)) != std::string::npos);
  CHECK(tls_ca_certificates_check().id == "tls.ca-certificates");
}

TEST_CASE("tls.ca-certificates: expired certificates", "[tls]") {
  CertFactory factory;
  const std::string expired = factory.make("Expired Root", "20100101000000Z", "20200101000000Z");
  const std::string valid = factory.make("Valid Root", "20200101000000Z", "20600101000000Z");
  FixtureRoot root;
  root.file(kBundle, valid + expired);

  CheckOutcome out = run_check(root);
  CHECK(out.status == CheckStatus::pass);
  CHECK(out.summary == "2 CA certificates from " + std::string(kBundle) + ", 1 expired");
  REQUIRE(out.details["expired_certificates"].size() == 1);
  CHECK(out.details["expired_certificates"][0]["subject"] == "CN=Expired Root");
  CHECK(out.details["expired_certificates"][0]["not_after"] == "2020-01-01T00:00:00Z");

  out = run_check(root, Environment(), utc(2026, 6, 1), {{"expired_is", "warn"}});
  CHECK(out.status == CheckStatus::warn);
  CHECK_FALSE(out.remediation().empty());

  out = run_check(root, Environment(), utc(2015, 6, 1));  // the clock is injected
  CHECK(out.status == CheckStatus::pass);
  CHECK(out.details["expired"] == 0);
  REQUIRE(out.details["not_yet_valid_certificates"].size() == 1);
  CHECK(out.details["not_yet_valid_certificates"][0]["subject"] == "CN=Valid Root");

  out = run_check(root, Environment(), utc(2061, 1, 1));
  CHECK(out.status == CheckStatus::fail);
  CHECK(out.summary.find("all 2 CA certificates") != std::string::npos);
}

TEST_CASE("tls.ca-certificates: one garbage block fails, as OpenSSL then loads nothing", "[tls]") {
  CertFactory factory;
  const std::string valid = factory.make("Valid Root", "20200101000000Z", "20600101000000Z");
  const std::string leaf_ca = factory.dir().host_path("/c1.pem");
  for (const std::string& garbage : {kNotBase64, kNotDer}) {
    FixtureRoot root;
    root.file(kBundle, valid + garbage);
    const CheckOutcome out = run_check(root);
    INFO(out.summary);
    CHECK(out.status == CheckStatus::fail);
    CHECK(out.summary.find("1 of 2 certificate blocks are garbage") != std::string::npos);
    CHECK(out.details["bundle"]["garbage"][0]["block"] == 1);
    CHECK(out.remediation().find("update-ca-certificates") != std::string::npos);
    // The fact behind the rule: openssl cannot use the bundle at all, though
    // it verifies the same certificate against the clean one.
    const std::string bundle_file = root.host_path(kBundle);
    CHECK(
        run_status("openssl verify -CAfile '" + bundle_file + "' '" + leaf_ca + "' 2>&1").status !=
        0);
    root.file(kBundle, valid);
    CHECK(
        run_status("openssl verify -CAfile '" + bundle_file + "' '" + leaf_ca + "' 2>&1").status ==
        0);
  }
}

TEST_CASE("tls.ca-certificates: empty, FIFO, missing", "[tls]") {
  SECTION("empty bundle") {
    FixtureRoot root;
    root.file(kBundle, "");
    const CheckOutcome out = run_check(root);
    CHECK(out.status == CheckStatus::fail);
    CHECK(out.summary.find("no parseable CA certificate") != std::string::npos);
  }
  SECTION("empty bundle beside a hashed directory: the directory is parsed and serves") {
    CertFactory factory;
    FixtureRoot root;
    root.file(kBundle, "")
        .file("/usr/share/ca-certificates/one.crt",
              factory.make("Dir Root One", "20200101000000Z", "20600101000000Z"))
        .symlink("/etc/ssl/certs/a1b2c3d4.0", "/usr/share/ca-certificates/one.crt");
    const CheckOutcome out = run_check(root);
    INFO(out.details.dump(2));
    CHECK(out.status == CheckStatus::pass);
    CHECK(out.summary ==
          "1 CA certificates from " + std::string(kBundle) + " and /etc/ssl/certs, 0 expired");
    CHECK(out.details["directories"][0]["parsed"] == true);
    CHECK(out.details["directories"][0]["certificates"] == 1);
  }
  SECTION("FIFO in place of the bundle") {
    FixtureRoot root;
    root.fifo(kBundle);
    const auto start = std::chrono::steady_clock::now();
    const CheckOutcome out = run_check(root);
    CHECK(std::chrono::steady_clock::now() - start < test::kHangGuard);
    CHECK(out.status == CheckStatus::fail);
    CHECK(out.summary.find(std::string(kBundle)) != std::string::npos);
    CHECK(out.summary.find("FIFO") != std::string::npos);
  }
  SECTION("nothing at all") {
    FixtureRoot root;
    const CheckOutcome out = run_check(root);
    CHECK(out.status == CheckStatus::fail);
    CHECK(out.summary.find("no CA certificate bundle") != std::string::npos);
    CHECK(out.remediation().find("apt-get install") != std::string::npos);
  }
}

TEST_CASE("tls.ca-certificates: SSL_CERT_FILE and SSL_CERT_DIR", "[tls]") {
  CertFactory factory;
  const std::string valid = factory.make("Custom Root", "20200101000000Z", "20600101000000Z");
  FixtureRoot root;
  root.file(kBundle, valid + valid).file("/opt/corp/ca.pem", valid);

  Environment env;
  env.set("SSL_CERT_FILE", "/opt/corp/missing.pem");
  CheckOutcome out = run_check(root, env);
  CHECK(out.status == CheckStatus::fail);
  CHECK(out.summary == "SSL_CERT_FILE=/opt/corp/missing.pem does not exist");
  CHECK(out.remediation().find("SSL_CERT_FILE") != std::string::npos);

  env.set("SSL_CERT_FILE", "");
  out = run_check(root, env);
  CHECK(out.status == CheckStatus::fail);
  CHECK(out.summary.find("SSL_CERT_FILE is set but empty") != std::string::npos);

  env.set("SSL_CERT_FILE", "/opt/corp/ca.pem");
  out = run_check(root, env);
  CHECK(out.status == CheckStatus::pass);
  CHECK(out.details["bundle"]["origin"] == "SSL_CERT_FILE");
  CHECK(out.details["bundle"]["path"] == "/opt/corp/ca.pem");
  CHECK(out.details["certificates"] == 1);

  root.file("/opt/corp/plain/ca.pem", valid);  // a directory of PEM files without hash links
  env.set("SSL_CERT_DIR", "/opt/corp/plain");
  out = run_check(root, env);
  CHECK(out.status == CheckStatus::warn);
  CHECK(said(out).find("SSL_CERT_DIR entry /opt/corp/plain has no hash links") !=
        std::string::npos);
  CHECK(out.remediation().find("openssl rehash /opt/corp/plain") != std::string::npos);

  env.set("SSL_CERT_DIR", "/opt/corp/certs:/etc/ssl/certs");
  out = run_check(root, env);
  CHECK(out.status == CheckStatus::fail);
  CHECK(out.summary.find("SSL_CERT_DIR entry /opt/corp/certs") != std::string::npos);
}

TEST_CASE("tls.ca-certificates: hashed directory only (c_rehash layout)", "[tls]") {
  CertFactory factory;
  FixtureRoot root;
  // Links as Debian makes them: NAME.pem -> the package's file, hash -> NAME.pem.
  // Relative here so that the real `openssl rehash` can follow them on the host.
  root.file("/usr/share/ca-certificates/one.crt",
            factory.make("Dir Root One", "20200101000000Z", "20600101000000Z"))
      .file("/usr/share/ca-certificates/two.crt",
            factory.make("Dir Root Two", "20100101000000Z", "20200101000000Z"))
      .file("/usr/share/ca-certificates/three.crt",
            factory.make("Dir Root Three", "20200101000000Z", "20600101000000Z"))
      .symlink("/etc/ssl/certs/one.pem", "../../../usr/share/ca-certificates/one.crt")
      .symlink("/etc/ssl/certs/two.pem", "../../../usr/share/ca-certificates/two.crt");
  run_command("openssl rehash '" + root.host_path("/etc/ssl/certs") + "' 2>&1");
  // An absolute link (re-anchored at the root) and a dangling one.
  root.symlink("/etc/ssl/certs/12345678.0", "/usr/share/ca-certificates/three.crt")
      .symlink("/etc/ssl/certs/0badbeef.0", "/usr/share/ca-certificates/removed.crt");

  const CheckOutcome out = run_check(root);
  INFO(out.details.dump(2));
  CHECK(out.status == CheckStatus::pass);
  CHECK(out.summary == "3 CA certificates from /etc/ssl/certs, 1 expired");
  CHECK(out.details["bundle"]["found"] == false);
  REQUIRE(out.details["directories"].size() == 1);
  CHECK(out.details["directories"][0]["parsed"] == true);  // no bundle: the directory is the store
  CHECK(out.details["directories"][0]["hash_links"] == 4);
  CHECK(out.details["directories"][0]["certificates"] == 3);
  CHECK(out.details["directories"][0]["unreadable_links"][0]["name"] == "0badbeef.0");

  FixtureRoot no_links;  // a certificate directory without hash links is not a store
  no_links.file("/etc/ssl/certs/one.pem",
                read_host_file(root.host_path("/usr/share/ca-certificates/one.crt")));
  CHECK(run_check(no_links).status == CheckStatus::fail);
}

TEST_CASE("tls.ca-certificates: a broken bundle link warns even when the directory works",
          "[tls]") {
  CertFactory factory;
  FixtureRoot root;
  root.file("/usr/share/ca-certificates/one.crt",
            factory.make("Dir Root One", "20200101000000Z", "20600101000000Z"))
      .symlink("/etc/ssl/certs/one.pem", "../../../usr/share/ca-certificates/one.crt");
  run_command("openssl rehash '" + root.host_path("/etc/ssl/certs") + "' 2>&1");
  SECTION("dangling") { root.symlink(kBundle, "/usr/share/ca-certificates/removed.crt"); }
  SECTION("a loop") { root.symlink(kBundle, "ca-certificates.crt"); }
  const CheckOutcome out = run_check(root);
  INFO(out.details.dump(2));
  CHECK(out.status == CheckStatus::warn);
  CHECK(said(out).find("/etc/ssl/certs/ca-certificates.crt is a broken link") !=
        std::string::npos);
  CHECK(out.details["bundle"]["dangling_links"][0] == kBundle);
  CHECK(out.remediation().find("ca-certificates") != std::string::npos);
}

TEST_CASE("tls.ca-certificates: the ca-certificates package per dpkg", "[tls]") {
  CertFactory factory;
  const std::string valid = factory.make("Valid Root", "20200101000000Z", "20600101000000Z");
  SECTION("installed: pass, version reported") {
    FixtureRoot root;
    root.file(kBundle, valid).file("/var/lib/dpkg/status", ca_status("install ok installed"));
    const CheckOutcome out = run_check(root);
    CHECK(out.status == CheckStatus::pass);
    CHECK(out.details["package"]["installed"] == true);
    CHECK(out.details["package"]["version"] == "20230311");
  }
  for (std::string_view status : {"deinstall ok config-files", "purge ok not-installed"}) {
    SECTION("removed but a bundle is there: warn (" + std::string(status) + ")") {
      FixtureRoot root;
      root.file(kBundle, valid).file("/var/lib/dpkg/status", ca_status(status));
      const CheckOutcome out = run_check(root);
      CHECK(out.status == CheckStatus::warn);
      CHECK(said(out).find("not installed") != std::string::npos);
      CHECK(out.remediation().find("apt-get install") != std::string::npos);
    }
  }
  SECTION("never installed (distroless status.d without it): warn") {
    FixtureRoot root;
    root.file(kBundle, valid)
        .file("/var/lib/dpkg/status.d/base-files", "Package: base-files\nVersion: 12\n");
    CHECK(run_check(root).status == CheckStatus::warn);
  }
  SECTION("a bundle of the user's own through SSL_CERT_FILE: no warning") {
    FixtureRoot root;
    root.file("/opt/ca.pem", valid)
        .file("/var/lib/dpkg/status", ca_status("purge ok not-installed"));
    Environment env;
    env.set("SSL_CERT_FILE", "/opt/ca.pem");
    CHECK(run_check(root, env).status == CheckStatus::pass);
  }
}

TEST_CASE("tls.ca-certificates: OpenSSL's /usr/lib/ssl/cert.pem link", "[tls]") {
  CertFactory factory;
  const std::string valid = factory.make("Valid Root", "20200101000000Z", "20600101000000Z");
  FixtureRoot root;
  root.file(kBundle, valid).symlink("/usr/lib/ssl/cert.pem", std::string(kBundle));
  CheckOutcome out = run_check(root);
  CHECK(out.details["openssl_dir_cert_pem"]["resolves"] == true);
  CHECK(out.details["openssl_dir_cert_pem"]["link_target"] == kBundle);

  root.symlink("/usr/lib/ssl/cert.pem", "/etc/ssl/certs/gone.crt");
  out = run_check(root);
  CHECK(out.details["openssl_dir_cert_pem"]["resolves"] == false);
  CHECK(out.status == CheckStatus::pass);  // noted, not judged

  FixtureRoot plain;
  plain.file(kBundle, valid);
  CHECK(run_check(plain).details["openssl_dir_cert_pem"]["present"] == false);
}

TEST_CASE(
    "tls.ca-certificates: beside a sound bundle the default directory is followed, not parsed",
    "[tls]") {
  CertFactory factory;
  const std::string one = factory.make("Root One", "20200101000000Z", "20600101000000Z");
  const std::string two = factory.make("Root Two", "20100101000000Z", "20200101000000Z");
  const std::string three = factory.make("Root Three", "20200101000000Z", "20600101000000Z");
  FixtureRoot outside;  // a real certificate outside the root: no link may reach it
  outside.file("/escape.pem", three);
  FixtureRoot root;
  root.file(kBundle, one + two + three)
      .file("/usr/share/ca-certificates/one.crt", one)
      .file("/usr/share/ca-certificates/garbage.crt", "not a certificate\n")
      .file("/usr/share/ca-certificates/empty.crt", "")
      .symlink("/etc/ssl/certs/one.pem", "../../../usr/share/ca-certificates/one.crt")
      .symlink("/etc/ssl/certs/0000000a.0", "one.pem")  // Debian's two hops
      .symlink("/etc/ssl/certs/1111111b.0", "/usr/share/ca-certificates/removed.crt")
      .symlink("/etc/ssl/certs/2222222c.0",
               "../../../../../../../../../.." + outside.host_path("/escape.pem"))
      .symlink("/etc/ssl/certs/3333333d.0", outside.host_path("/escape.pem"))
      .symlink("/etc/ssl/certs/4444444e.0", "/usr/share")
      .symlink("/etc/ssl/certs/5555555f.0", "/usr/share/ca-certificates/empty.crt")
      .symlink("/etc/ssl/certs/66666660.0", "/usr/share/ca-certificates/garbage.crt");
  REQUIRE(read_host_file(outside.host_path("/escape.pem")) == three);
  const std::vector<std::string> unusable = {"1111111b.0", "2222222c.0", "3333333d.0",
                                             "4444444e.0"};
  auto names = [](const json& list) {
    std::vector<std::string> out;
    for (const json& item : list) out.push_back(item["name"].get<std::string>());
    return out;
  };

  const CheckOutcome out = run_check(root);
  INFO(out.details.dump(2));
  // The verdict and headline are the bundle's, as when the directory was parsed.
  CHECK(out.status == CheckStatus::pass);
  CHECK(out.summary ==
        "3 CA certificates from " + std::string(kBundle) + " and /etc/ssl/certs, 1 expired");
  REQUIRE(out.details["directories"].size() == 1);
  const json& dir = out.details["directories"][0];
  CHECK(dir["parsed"] == false);
  CHECK(dir["hash_links"] == 7);
  CHECK(dir["resolved_links"] == 3);
  CHECK(dir["files"] == 3);
  CHECK(dir["note"] ==
        "hashed directory: 3 links resolved, not parsed (the bundle holds its "
        "certificates)");
  CHECK_FALSE(dir.contains("certificates"));
  // Dangling, escaping (clamped at the root, as inside the container) and a
  // directory: each named, none read from outside the root.
  CHECK(names(dir["unreadable_links"]) == unusable);
  CHECK_THAT(dir["unreadable_links"][3]["error"].get<std::string>(),
             Catch::Contains("/usr/share: is a directory, not a regular file"));
  // An empty file is seen from its size; garbage inside a file is not read.
  REQUIRE(dir["garbage_files"].size() == 1);
  CHECK(dir["garbage_files"][0]["name"] == "5555555f.0");

  // An explicit SSL_CERT_DIR is parsed, and names the same unusable links.
  Environment env;
  env.set("SSL_CERT_DIR", "/etc/ssl/certs");
  const CheckOutcome parsed = run_check(root, env);
  INFO(parsed.details.dump(2));
  CHECK(parsed.status == CheckStatus::pass);
  const json& full = parsed.details["directories"][0];
  CHECK(full["parsed"] == true);
  CHECK(full["hash_links"] == 7);
  CHECK(full["certificates"] == 1);
  CHECK(names(full["unreadable_links"]) == unusable);
  CHECK(names(full["garbage_files"]) == std::vector<std::string>{"5555555f.0", "66666660.0"});
}

TEST_CASE("tls.ca-certificates: the default directory is parsed when the bundle may not hold it",
          "[tls]") {
  CertFactory factory;
  const std::string valid = factory.make("Valid Root", "20200101000000Z", "20600101000000Z");
  const std::string expired = factory.make("Old Root", "20100101000000Z", "20200101000000Z");
  FixtureRoot root;
  root.file("/usr/share/ca-certificates/valid.crt", valid)
      .file("/usr/share/ca-certificates/old.crt", expired)
      .symlink("/etc/ssl/certs/aaaaaaa1.0", "/usr/share/ca-certificates/valid.crt");
  SECTION("the links reach more files than the bundle has certificates") {
    root.file(kBundle, valid)
        .symlink("/etc/ssl/certs/aaaaaaa2.0", "/usr/share/ca-certificates/old.crt");
    const CheckOutcome out = run_check(root);
    INFO(out.details.dump(2));
    CHECK(out.status == CheckStatus::pass);
    const json& dir = out.details["directories"][0];
    CHECK(dir["parsed"] == true);
    CHECK(dir["parsed_because"] == "the links reach 2 files, the bundle holds 1 certificates");
    CHECK(dir["certificates"] == 2);
    CHECK(out.details["certificates"] == 2);  // the directory's own one counted
    CHECK(out.details["expired"] == 1);
  }
  SECTION("every certificate of the bundle has expired: the directory's valid one counts") {
    root.file(kBundle, expired);
    const CheckOutcome out = run_check(root);
    INFO(out.details.dump(2));
    CHECK(out.status == CheckStatus::pass);
    CHECK(out.details["directories"][0]["parsed"] == true);
    CHECK(out.details["certificates"] == 2);
    CHECK(out.details["expired"] == 1);
  }
  SECTION("a garbage block in the bundle: it fails, and the directory is still parsed") {
    root.file(kBundle, valid + kNotBase64);
    const CheckOutcome out = run_check(root);
    CHECK(out.status == CheckStatus::fail);
    CHECK(out.details["directories"][0]["parsed"] == true);
    CHECK(out.details["directories"][0]["certificates"] == 1);
  }
}
