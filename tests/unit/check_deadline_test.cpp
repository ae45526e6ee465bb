// The run's deadline, as each of these checks reports it: `error` with "timed
// out" in the headline and no findings. A read the deadline stopped is not a
// missing file, so no verdict is drawn from it (net.services used to fail with
// "install netbase"). Each root gets a verdict in time, to show what the
// deadline would otherwise have turned into.
#include <catch2/catch.hpp>
#include <chrono>
#include <string>

#include "agent/http/http_client.h"
#include "check_params.h"
#include "checks/check_table.h"
#include "checks/facts/dpkg_database.h"
#include "fixture_root.h"

namespace pycheck {
namespace {

using test::FixtureRoot;

constexpr std::string_view kDpkgStatus =
    "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2.36-9\n\n"
    "Package: netbase\nStatus: install ok installed\nArchitecture: all\nVersion: 6.4\n\n";

CheckOutcome run_check(const CheckInfo& check, const FixtureRoot& root, bool past_deadline,
                       const Environment& env = Environment()) {
  RootFs fs = root.fs();
  if (past_deadline) fs.set_deadline(std::chrono::steady_clock::now() - std::chrono::seconds(1));
  const json params = test::check_params(check);
  const Context ctx{fs, env, params, std::chrono::system_clock::now()};
  return check.run(ctx);
}

void check_timed_out(const CheckOutcome& o) {
  CHECK(o.status == CheckStatus::error);
  CHECK(o.summary.find("timed out") != std::string::npos);
  CHECK(o.findings.empty());
}

TEST_CASE("deadline: net.services is an error, not a missing /etc/services", "[deadline]") {
  FixtureRoot empty;
  CHECK(run_check(net_services_check(), empty, false).status == CheckStatus::fail);
  check_timed_out(run_check(net_services_check(), empty, true));

  FixtureRoot netbase;
  netbase.file("/etc/services", "http 80/tcp\nhttps 443/tcp\n")
      .file("/etc/protocols", "tcp 6 TCP\nudp 17 UDP\n")
      .file("/var/lib/dpkg/status", kDpkgStatus);
  CHECK(run_check(net_services_check(), netbase, false).status == CheckStatus::pass);
  check_timed_out(run_check(net_services_check(), netbase, true));
}

TEST_CASE("deadline: tls.ca-certificates is an error, not a missing bundle", "[deadline]") {
  FixtureRoot empty;
  CHECK(run_check(tls_ca_certificates_check(), empty, false).status == CheckStatus::fail);
  check_timed_out(run_check(tls_ca_certificates_check(), empty, true));
  Environment env;
  env.set("SSL_CERT_FILE", "/etc/custom.pem");
  CHECK(run_check(tls_ca_certificates_check(), empty, false, env).status == CheckStatus::fail);
  check_timed_out(run_check(tls_ca_certificates_check(), empty, true, env));
}

TEST_CASE("deadline: locale is an error, not a missing locale", "[deadline][locale]") {
  FixtureRoot empty;
  Environment env;
  env.set("LANG", "de_DE.UTF-8");
  CHECK(run_check(locale_check(), empty, false, env).status == CheckStatus::fail);
  check_timed_out(run_check(locale_check(), empty, true, env));
}

TEST_CASE("deadline: apt.security-updates is an error, not a skip", "[deadline]") {
  FixtureRoot root;
  root.file("/var/lib/dpkg/status", kDpkgStatus)
      .file("/etc/apt/sources.list",
            "deb http://deb.debian.org/debian-security bookworm-security main\n");
  CHECK(run_check(apt_security_updates_check(), root, false).status == CheckStatus::skip);
  check_timed_out(run_check(apt_security_updates_check(), root, true));
}

TEST_CASE("deadline: apt.security-updates online is an error, not an unreadable index",
          "[deadline]") {
  FixtureRoot root;
  root.file("/var/lib/dpkg/status", kDpkgStatus)
      .file("/etc/apt/sources.list",
            "deb http://127.0.0.1:9/debian-security bookworm-security main\n");
  HttpClient::Options options;
  options.deadline = std::chrono::steady_clock::now() - std::chrono::seconds(1);
  const HttpClient http(options);
  const RootFs fs = root.fs();
  const Environment env;
  const json params = test::check_params(apt_security_updates_check());
  const Context ctx{fs, env, params, std::chrono::system_clock::now(), true, &http};
  check_timed_out(apt_security_updates_check().run(ctx));
}

TEST_CASE("deadline: os.eol is an error, not an unknown OS", "[deadline]") {
  FixtureRoot root;
  root.file("/etc/os-release", "ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n")
      .file("/etc/debian_version", "12.8\n")
      .file("/var/lib/dpkg/status", kDpkgStatus);
  CHECK(run_check(os_eol_check(), root, false).status != CheckStatus::error);
  check_timed_out(run_check(os_eol_check(), root, true));
  FixtureRoot empty;
  CHECK(run_check(os_eol_check(), empty, false).status == CheckStatus::skip);
  check_timed_out(run_check(os_eol_check(), empty, true));
}

TEST_CASE("deadline: the dpkg database reader returns the timeout", "[deadline][dpkg]") {
  FixtureRoot root;
  root.file("/var/lib/dpkg/status", kDpkgStatus)
      .file("/var/lib/dpkg/status.d/extra", "Package: extra\nVersion: 1\nArchitecture: all\n");
  RootFs fs = root.fs();
  REQUIRE(read_dpkg_database(fs).ok());
  fs.set_deadline(std::chrono::steady_clock::now() - std::chrono::seconds(1));
  const Result<DpkgDatabase> db = read_dpkg_database(fs);
  CHECK(db.timed_out());
  CHECK(!db.missing());
}

}  // namespace
}  // namespace pycheck
