// /etc/services and /etc/protocols: parser vectors, this machine's real files
// (checked against getent), and the net.services check on fixture roots.
#include "checks/formats/netdb.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "check_params.h"
#include "checks/check_table.h"
#include "fixture_root.h"
#include "host_tools.h"
#include "tests/unit/hang_guard.h"
#include "tests/unit/outcome_text.h"

using namespace pycheck;
using pycheck::test::FixtureRoot;
using namespace pycheck::test::host;

namespace {

// The first two words of each line: "name port/proto" or "name number".
std::multiset<std::string> first_two_words(const std::string& text) {
  std::multiset<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string a, b;
    if (words >> a >> b) out.insert(a + " " + b);
  }
  return out;
}

FixtureRoot& real_netbase(FixtureRoot& root) {
  root.file("/etc/services", read_host_file("/etc/services"))
      .file("/etc/protocols", read_host_file("/etc/protocols"));
  return root;
}

CheckOutcome run_check(const FixtureRoot& root, const json& params = json::object()) {
  const RootFs fs = root.fs();
  const Environment env;
  const CheckInfo check = net_services_check();
  const json merged = test::check_params(check, params);
  const Context ctx{fs, env, merged, std::chrono::system_clock::now()};
  return check.run(ctx);
}

const std::string kMinimalServices =
    "http\t\t80/tcp\t\twww\t\t# WorldWideWeb HTTP\nhttps\t\t443/tcp\nhttps 443/udp\n";
const std::string kMinimalProtocols =
    "tcp\t6\tTCP\t\t# transmission control protocol\n"
    "udp\t17\tUDP\n";

}  // namespace

TEST_CASE("services lines", "[netdb]") {
  const ServicesTable t = parse_services(
      "# comment line\n"
      "\n"
      "   \t\n"
      "http\t\t80/tcp\t\twww www-http\t# WorldWideWeb HTTP\n"
      "domain 53/udp\r\n"
      "kerberos\t88/tcp\t\tkerberos5 krb5 kerberos-sec\t# Kerberos v5\n"
      "https 443/tcp#no blank before the comment\n"
      "nopport /tcp\n"
      "noproto 80/\n"
      "noslash 80\n"
      "toobig 65536/tcp\n"
      "negative -1/tcp\n"
      "hexport 0x50/tcp\n"
      "lonely\n"
      "max 65535/sctp\n");
  REQUIRE(t.entries.size() == 5);
  CHECK(t.entries[0].name == "http");
  CHECK(t.entries[0].port == 80);
  CHECK(t.entries[0].protocol == "tcp");
  CHECK(t.entries[0].aliases == std::vector<std::string>{"www", "www-http"});
  CHECK(t.entries[0].line == 4);
  CHECK(t.entries[1].protocol == "udp");  // \r is a blank
  CHECK(t.entries[2].aliases.size() == 3);
  CHECK(t.entries[3].name == "https");
  CHECK(t.entries[3].aliases.empty());
  CHECK(t.entries[4].port == 65535);
  CHECK(t.malformed_count == 7);
  REQUIRE(t.malformed.size() == 7);
  CHECK(t.malformed[0].line == 8);
  CHECK(t.malformed[0].text == "nopport /tcp");
  CHECK(t.malformed[6].text == "lonely");

  CHECK(t.find("www", "tcp") == &t.entries[0]);  // alias
  CHECK(t.find("http", "udp") == nullptr);
  CHECK(t.find("HTTP", "tcp") == nullptr);  // case-sensitive, as glibc
  CHECK(t.find("krb5", "tcp")->port == 88);
}

TEST_CASE("services: first match wins, malformed list is capped", "[netdb]") {
  std::string text = "http 80/tcp\nhttp 8080/tcp\n";
  for (int i = 0; i < 30; ++i) text += "garbage line " + std::to_string(i) + "\n";
  const ServicesTable t = parse_services(text);
  CHECK(t.find("http", "tcp")->port == 80);
  CHECK(t.malformed_count == 30);
  CHECK(t.malformed.size() == kMaxMalformedKept);
}

TEST_CASE("protocols lines", "[netdb]") {
  const ProtocolsTable t = parse_protocols(
      "ip\t0\tIP\t\t# internet protocol, pseudo protocol number\n"
      "tcp 6 TCP\n"
      "ipv6-icmp 58 IPv6-ICMP\n"
      "bad x\n"
      "mptcp 262 MPTCP\n"  // above 255, and valid: glibc reads an int
      "big 99999999999\n"
      "noname\n"
      "udp\t17\t# no alias\n");
  REQUIRE(t.entries.size() == 5);
  CHECK(t.find("mptcp")->number == 262);
  CHECK(t.find("tcp")->number == 6);
  CHECK(t.find("TCP")->number == 6);  // alias
  CHECK(t.find("udp")->aliases.empty());
  CHECK(t.find("ip")->number == 0);
  CHECK(t.find("sctp") == nullptr);
  CHECK(t.malformed_count == 3);
}

TEST_CASE("This machine's /etc/services and /etc/protocols parse as getent reads them", "[netdb]") {
  const std::string services = read_host_file("/etc/services");
  const std::string protocols = read_host_file("/etc/protocols");
  const ServicesTable st = parse_services(services);
  const ProtocolsTable pt = parse_protocols(protocols);
  CHECK(st.malformed_count == 0);
  CHECK(pt.malformed_count == 0);

  std::multiset<std::string> ours_services;
  for (const ServiceEntry& e : st.entries) {
    ours_services.insert(e.name + " " + std::to_string(e.port) + "/" + e.protocol);
  }
  std::multiset<std::string> ours_protocols;
  for (const ProtocolEntry& e : pt.entries) {
    ours_protocols.insert(e.name + " " + std::to_string(e.number));
  }
  const auto getent_services = first_two_words(run_command("getent services"));
  const auto getent_protocols = first_two_words(run_command("getent protocols"));
  REQUIRE(getent_services.size() > 100);
  CHECK(ours_services == getent_services);
  CHECK(ours_protocols == getent_protocols);
}

TEST_CASE("net.services: real files pass", "[netdb]") {
  FixtureRoot root;
  real_netbase(root);
  const CheckOutcome out = run_check(root);
  INFO(out.summary);
  CHECK(out.status == CheckStatus::pass);
  CHECK(out.details["services"]["entries"].get<std::size_t>() ==
        parse_services(read_host_file("/etc/services")).entries.size());
  CHECK(out.details["found"].size() == 4);
  CHECK(out.remediation().empty());
  CHECK(net_services_check().id == "net.services");
}

TEST_CASE("net.services: a missing file fails", "[netdb]") {
  FixtureRoot root;
  root.file("/etc/protocols", kMinimalProtocols);
  CheckOutcome out = run_check(root);
  CHECK(out.status == CheckStatus::fail);
  CHECK(out.summary.find("/etc/services is missing") != std::string::npos);
  CHECK(out.remediation().find("apt-get install") != std::string::npos);
  CHECK(out.remediation().find("netbase") != std::string::npos);

  FixtureRoot bare;
  out = run_check(bare);
  CHECK(out.status == CheckStatus::fail);
  REQUIRE(out.findings.size() == 2);
  CHECK(out.findings[0].message == "/etc/services is missing");
  CHECK(out.findings[1].message == "/etc/protocols is missing");
}

TEST_CASE("net.services: netbase installed but file deleted suggests force-confmiss", "[netdb]") {
  FixtureRoot root;
  root.file("/etc/services", kMinimalServices)
      .file("/var/lib/dpkg/status",
            "Package: netbase\nStatus: install ok installed\nArchitecture: all\nVersion: 6.4\n");
  const CheckOutcome out = run_check(root);
  CHECK(out.status == CheckStatus::fail);
  CHECK(out.remediation().find("--force-confmiss") != std::string::npos);
  CHECK(out.details["netbase"]["version"] == "6.4");
}

TEST_CASE("net.services: FIFO or directory in place of a file fails promptly, naming it",
          "[netdb]") {
  FixtureRoot root;
  root.fifo("/etc/services").file("/etc/protocols", kMinimalProtocols);
  const auto start = std::chrono::steady_clock::now();
  CheckOutcome out = run_check(root);
  CHECK(std::chrono::steady_clock::now() - start < test::kHangGuard);
  CHECK(out.status == CheckStatus::fail);
  CHECK(out.summary.find("/etc/services") != std::string::npos);
  CHECK(out.summary.find("FIFO") != std::string::npos);

  FixtureRoot dir;
  dir.file("/etc/services", kMinimalServices).mkdir("/etc/protocols");
  out = run_check(dir);
  CHECK(out.status == CheckStatus::fail);
  CHECK(out.summary.find("/etc/protocols") != std::string::npos);
}

TEST_CASE("net.services: an empty or all-garbage file fails, naming it", "[netdb]") {
  FixtureRoot root;
  std::string garbage;
  for (int i = 0; i < 2048; ++i) garbage.push_back(static_cast<char>(i % 256));
  root.file("/etc/services", garbage).file("/etc/protocols", "");
  const CheckOutcome out = run_check(root);
  CHECK(out.status == CheckStatus::fail);
  CHECK(said(out).find("/etc/services has no entries (") != std::string::npos);
  CHECK(said(out).find("/etc/protocols has no entries") != std::string::npos);
  CHECK(out.details["services"]["malformed_lines"].get<std::size_t>() > 0);
}

TEST_CASE("net.services: missing or wrong entries warn", "[netdb]") {
  FixtureRoot root;
  root.file("/etc/services", "http 8080/tcp\n# https removed\n")
      .file("/etc/protocols", "tcp 6 TCP\n");
  const CheckOutcome out = run_check(root);
  CHECK(out.status == CheckStatus::warn);
  CHECK(said(out).find("http 80/tcp (line 1 says 8080/tcp)") != std::string::npos);
  CHECK(said(out).find("https 443/tcp (missing)") != std::string::npos);
  CHECK(said(out).find("udp 17 (missing)") != std::string::npos);
  CHECK(out.details["problems"].size() == 3);
  CHECK(out.details["found"].size() == 1);
  CHECK_FALSE(out.remediation().empty());
}

TEST_CASE("net.services: garbage lines are counted, not fatal", "[netdb]") {
  FixtureRoot root;
  root.file("/etc/services", kMinimalServices + "\x01\x02 garbage\nfoo bar/baz\n")
      .file("/etc/protocols", kMinimalProtocols + "@@@\n");
  const CheckOutcome out = run_check(root);
  CHECK(out.status == CheckStatus::pass);
  CHECK(out.details["services"]["malformed_lines"] == 2);
  CHECK(out.details["protocols"]["malformed_lines"] == 1);
  CHECK(out.details["services"]["malformed"][1]["text"] == "foo bar/baz");
}

TEST_CASE("net.services: required entries are parameters", "[netdb]") {
  FixtureRoot root;
  root.file("/etc/services", kMinimalServices).file("/etc/protocols", kMinimalProtocols);
  CheckOutcome out = run_check(root, {{"required_services", {"postgresql 5432/tcp"}},
                                      {"required_protocols", json::array()}});
  CHECK(out.status == CheckStatus::warn);
  CHECK(said(out).find("postgresql 5432/tcp (missing)") != std::string::npos);
  // Malformed entries never reach the check: the config refuses them
  // (config_params_test.cpp).
}
